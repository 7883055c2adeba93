// shard_tag.hpp — which shard queue a reading was delivered on, known without reading it.
//
// With K > 1 shards each owned shard queue is consumed by its own queue_source (one channel),
// and the acknowledger its messages carry is wrapped in a shard_tagged_acknowledger that
// knows the shard. The readings handler asks a message's acknowledger for its shard: one
// pointer comparison per reading (a batch's readings mostly share a channel, so shard_lookup
// keeps the last acknowledger it saw) and a dynamic_cast only when the channel changes. No
// header lookup, no string map and no allocation per reading; the consistent hash of the
// broker is never computed here (the queue a reading lands in is the broker's decision).
#pragma once

#include <causeway/acknowledger.hpp>
#include <causeway/message.hpp>

#include <cstdint>
#include <functional>
#include <memory>

namespace telluride {

class shard_tagged_acknowledger final : public causeway::acknowledger {
public:
  shard_tagged_acknowledger(std::uint32_t shard, std::shared_ptr<causeway::acknowledger> inner)
    : shard_(shard), inner_(std::move(inner)) {}

  void ack(std::span<causeway::message> successful, std::span<causeway::message> failed) override {
    inner_->ack(successful, failed);
  }
  void ack_refs(std::span<const causeway::delivery_ref> successful) override { inner_->ack_refs(successful); }
  void recycle(std::span<causeway::message> done) override { inner_->recycle(done); }
  std::uint32_t shard() const noexcept { return shard_; }

private:
  std::uint32_t shard_;
  std::shared_ptr<causeway::acknowledger> inner_;
};

/// How queue_source_options::acknowledge_through is typed.
using acknowledge_through_fn =
  std::function<std::shared_ptr<causeway::acknowledger>(std::shared_ptr<causeway::acknowledger>)>;

/// `through` (may be empty: the channel's own acknowledger), then tagged with `shard`.
acknowledge_through_fn tag_with_shard(std::uint32_t shard, acknowledge_through_fn through);

/// The shard of messages, by their acknowledger; remembers the last one (use one per batch).
class shard_lookup {
public:
  /// The shard `msg` was delivered from; 0 when its acknowledger carries no tag.
  std::uint32_t of(const causeway::message& msg) noexcept {
    const auto* to = msg.ack.to.get();
    if (to != last_) {
      last_ = to;
      const auto* tagged = dynamic_cast<const shard_tagged_acknowledger*>(to);
      shard_ = tagged != nullptr ? tagged->shard() : 0;
    }
    return shard_;
  }

private:
  const causeway::acknowledger* last_ = nullptr;
  std::uint32_t shard_ = 0;
};

} // namespace telluride
