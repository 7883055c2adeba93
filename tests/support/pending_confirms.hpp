// pending_confirms.hpp — which of a confirm-mode channel's publishes the broker has not yet
// confirmed, for the end-to-end tests' plain publisher (amqp_session).
//
// RabbitMQ confirms out of order: messages confirmed above the lowest unconfirmed one go out as
// single acks, and a multiple ack later covers everything below its tag. A persistent body large
// enough for the message store (over 4 KiB) is confirmed later than the small ones around it,
// and a message a consumer took and acknowledged early sooner. Counting "tag minus the highest
// tag seen" loses the messages below a single ack: the publisher then waits for confirms that
// already came. So every publish is tracked by its tag until an ack or nack covers it.
#pragma once

#include <cstdint>
#include <set>

namespace telluride::test {

class pending_confirms {
public:
  /// A publish went out: it gets the channel's next delivery tag (1, 2, 3...), returned.
  std::uint64_t published() {
    pending_.insert(++last_tag_);
    return last_tag_;
  }
  /// A basic.ack or basic.nack for `tag`, or, if `multiple`, for every tag up to it. Returns how
  /// many pending publishes it settled (a repeated or unknown tag settles none).
  std::size_t settle(std::uint64_t tag, bool multiple) {
    if (!multiple)
      return pending_.erase(tag);
    auto end = pending_.upper_bound(tag);
    std::size_t n = 0;
    for (auto it = pending_.begin(); it != end; ++n)
      it = pending_.erase(it);
    return n;
  }
  std::size_t count() const noexcept { return pending_.size(); }
  bool empty() const noexcept { return pending_.empty(); }

private:
  std::uint64_t last_tag_ = 0;
  std::set<std::uint64_t> pending_;
};

} // namespace telluride::test
