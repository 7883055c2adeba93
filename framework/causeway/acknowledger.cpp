#include "causeway/acknowledger.hpp"

#include <algorithm>

namespace causeway {

namespace {

bool same_target(const message& a, const message& b) { return a.ack.to == b.ack.to; }

// Moves the messages of `target` to the front of `msgs`; returns how many there are.
std::size_t gather(std::vector<message>& msgs, std::size_t from, const acknowledger* target) {
  auto mid = std::stable_partition(msgs.begin() + static_cast<std::ptrdiff_t>(from), msgs.end(),
                                   [target](const message& m) { return m.ack.to.get() == target; });
  return static_cast<std::size_t>(mid - msgs.begin()) - from;
}

} // namespace

void acknowledger::ack_refs(std::span<const delivery_ref> successful) {
  std::vector<message> stubs(successful.size());
  for (std::size_t i = 0; i < successful.size(); ++i) {
    stubs[i].ack.tag = successful[i].tag;
    stubs[i].ack.epoch = successful[i].epoch;
  }
  ack(stubs, {});
}

void acknowledge(std::vector<message>& successful, std::vector<message>& failed) {
  // The common case: one acknowledger for everything, nothing to regroup.
  const auto* first = !successful.empty() ? &successful.front() : failed.empty() ? nullptr : &failed.front();
  if (first == nullptr)
    return;
  auto uniform = [first](const std::vector<message>& msgs) {
    return std::all_of(msgs.begin(), msgs.end(),
                       [first](const message& m) { return same_target(m, *first); });
  };
  if (uniform(successful) && uniform(failed)) {
    if (first->ack.to)
      first->ack.to->ack(successful, failed);
    return;
  }
  std::size_t s = 0;
  std::size_t f = 0;
  while (s < successful.size() || f < failed.size()) {
    auto* target = s < successful.size() ? successful[s].ack.to.get() : failed[f].ack.to.get();
    auto ns = gather(successful, s, target);
    auto nf = gather(failed, f, target);
    if (target != nullptr)
      target->ack(std::span<message>{successful.data() + s, ns}, std::span<message>{failed.data() + f, nf});
    s += ns;
    f += nf;
  }
}

} // namespace causeway
