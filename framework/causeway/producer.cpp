#include "causeway/producer.hpp"

#include "causeway/atoms.hpp"

#include <caf/send.hpp>

namespace causeway {

void producer_sink::deliver(std::vector<message> messages) const {
  if (messages.empty() || !stage_)
    return;
  caf::anon_send(stage_, deliver_atom::value, std::move(messages));
}

void producer_sink::drained() const {
  if (stage_)
    caf::anon_send(stage_, drained_atom::value);
}

void producer_sink::stalled() const {
  if (stage_)
    caf::anon_send(stage_, stalled_atom::value);
}

} // namespace causeway
