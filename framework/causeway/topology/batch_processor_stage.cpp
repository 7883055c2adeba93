#include "causeway/topology/batch_processor_stage.hpp"

#include "causeway/topology/messages.hpp"
#include "causeway/topology/user_callback.hpp"

#include <algorithm>
#include <iterator>
#include <string>

namespace causeway::topology {

batch_processor_stage::batch_processor_stage(caf::actor_config& cfg, std::shared_ptr<plan> p,
                                             std::size_t batcher_index, std::size_t index,
                                             std::shared_ptr<stage_counters> counters)
  : caf::event_based_actor(cfg), plan_(std::move(p)), index_(index), counters_(std::move(counters)) {
  ctx_ = causeway::context{plan_->options.batchers.at(batcher_index).name, index_, &plan_->options.context};
}

caf::behavior batch_processor_stage::make_behavior() {
  return {
    [this](subscribe_atom, caf::actor& batcher) { on_subscribe(batcher); },
    [this](batch_atom, detail::batch& b) { on_batch(b); },
    [this](done_atom, std::uint32_t) { quit(); },
  };
}

void batch_processor_stage::on_subscribe(caf::actor& batcher) {
  batcher_ = std::move(batcher);
  send(batcher_, demand_atom::value, static_cast<std::uint32_t>(index_),
       static_cast<std::uint64_t>(batch_processor_demand));
}

void batch_processor_stage::on_batch(detail::batch& b) {
  auto& messages = b.messages;
  counters_->received.fetch_add(messages.size(), std::memory_order_relaxed);
  counters_->in_flight.store(messages.size(), std::memory_order_relaxed);
  telemetry_span span{*plan_, *counters_, messages.size()};
  auto why = call_user("handle_batch", [&] { plan_->handler->handle_batch(messages, b.info, ctx_); });
  if (why)
    for (auto& msg : messages)
      msg.fail(*why);
  span.stop(why ? telemetry_phase::exception : telemetry_phase::stop);

  auto first_failed = std::stable_partition(messages.begin(), messages.end(),
                                            [](const message& m) { return !m.is_failed(); });
  std::vector<message> failed(std::make_move_iterator(first_failed),
                              std::make_move_iterator(messages.end()));
  messages.erase(first_failed, messages.end());
  if (!failed.empty())
    plan_->handle_failed(failed, ctx_);
  // Out of this stage once handed to the acknowledger: whoever sees the acks sees 0 here.
  counters_->in_flight.store(0, std::memory_order_relaxed);
  plan_->acknowledge(messages, failed);
  send(batcher_, demand_atom::value, static_cast<std::uint32_t>(index_), std::uint64_t{1});
}

void batch_processor_stage::on_exit() {
  batcher_ = nullptr;
}

} // namespace causeway::topology
