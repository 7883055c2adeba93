#include "telluride/domain/control_ledger.hpp"

#include "telluride/domain/hash.hpp"

namespace telluride {

control_ledger::control_ledger(std::size_t capacity) : seen_(capacity) {}

bool control_ledger::is_copy(std::string_view message_id, std::string_view body, bool redelivered) const {
  return redelivered && !message_id.empty() && seen_.contains(identity(message_id, body));
}

void control_ledger::handled(std::string_view message_id, std::string_view body) {
  if (!message_id.empty())
    seen_.first_time(identity(message_id, body));
}

// The id's fingerprint combined with the body's hash: a publisher that reuses an id for another
// change is not mistaken for a copy.
std::uint64_t control_ledger::identity(std::string_view message_id, std::string_view body) noexcept {
  return hash_combine(message_id_fingerprint(message_id), hash_bytes(body));
}

} // namespace telluride
