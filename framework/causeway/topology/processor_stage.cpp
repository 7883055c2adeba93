#include "causeway/topology/processor_stage.hpp"

#include "causeway/topology/messages.hpp"
#include "causeway/topology/user_callback.hpp"

#include <algorithm>
#include <iterator>
#include <utility>
#include <numeric>
#include <string>

namespace causeway::topology {

processor_stage::processor_stage(caf::actor_config& cfg, std::shared_ptr<plan> p,
                                 std::size_t index, std::vector<caf::actor> batchers,
                                 std::shared_ptr<stage_counters> counters)
  : caf::event_based_actor(cfg),
    plan_(std::move(p)),
    index_(index),
    batchers_(std::move(batchers)),
    counters_(std::move(counters)),
    batcher_demand_(batchers_.size(), 0),
    outbound_(batchers_.size()),
    stall_owed_(batchers_.size(), false) {
  ctx_ = causeway::context{plan_->options.processors.name, index_, &plan_->options.context};
}

caf::behavior processor_stage::make_behavior() {
  return {
    [this](subscribe_atom, std::vector<caf::actor>& producers) { on_subscribe(producers); },
    [this](msgs_atom, std::uint32_t from, std::vector<message>& messages) {
      on_messages(from, messages);
    },
    [this](demand_atom, std::uint32_t batcher, std::uint64_t n) { on_demand(batcher, n); },
    [this](done_atom, std::uint32_t from) { on_upstream_done(from); },
    [this](stalled_atom, std::uint32_t from) { on_stalled(from); },
  };
}

void processor_stage::on_subscribe(std::vector<caf::actor>& producers) {
  producers_ = std::move(producers);
  outstanding_.assign(producers_.size(), 0);
  producer_done_.assign(producers_.size(), false);
  ask_upstream();
}

void processor_stage::on_messages(std::uint32_t from, std::vector<message>& messages) {
  if (from >= outstanding_.size())
    return;
  auto n = messages.size();
  outstanding_[from] -= std::min<std::uint64_t>(outstanding_[from], n);
  counters_->received.fetch_add(n, std::memory_order_relaxed);
  handle(messages);
  route(messages);
  flush_outbound();
  ask_upstream();
  update_counters();
  finish_if_done();
}

void processor_stage::handle(std::vector<message>& messages) {
  auto& user = *plan_->handler;
  telemetry_span span{*plan_, *counters_, messages.size()};
  bool threw = false;
  if (auto why = call_user("prepare_messages", [&] { user.prepare_messages(messages, ctx_); })) {
    threw = true;
    for (auto& msg : messages)
      msg.fail(*why);
  }
  for (auto& msg : messages) {
    if (msg.is_failed())
      continue;
    if (auto why = call_user("handle_message", [&] { user.handle_message(msg, ctx_); })) {
      threw = true;
      msg.fail(std::move(*why));
    }
  }
  span.stop(threw ? telemetry_phase::exception : telemetry_phase::stop);
}

void processor_stage::route(std::vector<message>& messages) {
  std::vector<message> now_ok;
  std::vector<message> now_failed;
  std::vector<message> stubs_ok;
  std::vector<message> stubs_failed;
  // Where each ok message goes, counted first so each batcher's vector grows once.
  destination_.resize(messages.size());
  if (!batchers_.empty()) {
    incoming_per_batcher_.assign(outbound_.size(), 0);
    for (std::size_t i = 0; i < messages.size(); ++i) {
      auto& msg = messages[i];
      if (msg.is_failed())
        continue;
      auto b = batcher_index(msg);
      if (!b) {
        if (auto at = msg.batcher_position())
          msg.fail("no batcher at position " + std::to_string(static_cast<std::uint32_t>(*at)) + " (the pipeline has " +
                   std::to_string(plan_->options.batchers.size()) + ")");
        else
          msg.fail("unknown batcher \"" + std::string(msg.batcher()) + "\"");
        continue;
      }
      destination_[i] = static_cast<std::uint32_t>(*b);
      ++incoming_per_batcher_[*b];
    }
    // Only an empty vector is sized: one still waiting for batcher demand grows geometrically, as
    // sizing it exactly on every call would move its messages every time.
    for (std::size_t b = 0; b < outbound_.size(); ++b)
      if (outbound_[b].empty())
        outbound_[b].reserve(incoming_per_batcher_[b]);
  }
  for (std::size_t i = 0; i < messages.size(); ++i) {
    auto& msg = messages[i];
    if (msg.wants_immediate_ack() && msg.ack.to) {
      // Acknowledge a stub now; the message itself travels on without an acknowledger.
      message stub;
      stub.ack = std::exchange(msg.ack, ack_ref{});
      if (msg.is_failed())
        stub.fail(msg.failure_reason());
      (stub.is_failed() ? stubs_failed : stubs_ok).push_back(std::move(stub));
    }
    if (msg.is_failed()) {
      now_failed.push_back(std::move(msg));
      continue;
    }
    if (batchers_.empty()) {
      now_ok.push_back(std::move(msg));
      continue;
    }
    outbound_[destination_[i]].push_back(std::move(msg));
    ++pending_;
  }
  if (!now_failed.empty())
    plan_->handle_failed(now_failed, ctx_);
  std::move(stubs_ok.begin(), stubs_ok.end(), std::back_inserter(now_ok));
  std::move(stubs_failed.begin(), stubs_failed.end(), std::back_inserter(now_failed));
  if (!now_ok.empty() || !now_failed.empty())
    plan_->acknowledge(now_ok, now_failed);
}

std::optional<std::size_t> processor_stage::batcher_index(const message& msg) const {
  const auto& batchers = plan_->options.batchers;
  if (auto at = msg.batcher_position()) {
    auto b = static_cast<std::size_t>(*at);
    return b < batchers.size() ? std::optional{b} : std::nullopt;
  }
  const auto name = msg.batcher();
  for (std::size_t i = 0; i < batchers.size(); ++i)
    if (batchers[i].name == name)
      return i;
  if (name == default_batcher && batchers.size() == 1)
    return 0;
  return std::nullopt;
}

void processor_stage::on_demand(std::uint32_t batcher, std::uint64_t n) {
  if (batcher >= batcher_demand_.size())
    return;
  batcher_demand_[batcher] += n;
  flush_outbound();
  ask_upstream();
  update_counters();
  finish_if_done();
}

void processor_stage::flush_outbound() {
  for (std::size_t b = 0; b < outbound_.size(); ++b) {
    auto& out = outbound_[b];
    auto n = std::min<std::uint64_t>(batcher_demand_[b], out.size());
    if (n == 0)
      continue;
    std::vector<message> chunk;
    if (n == out.size()) {
      chunk = std::move(out);
      out = {};
    } else {
      chunk.reserve(n);
      std::move(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n), std::back_inserter(chunk));
      out.erase(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(n));
    }
    batcher_demand_[b] -= n;
    pending_ -= n;
    send(batchers_[b], msgs_atom::value, static_cast<std::uint32_t>(index_), std::move(chunk));
  }
  pass_on_stalls();
}

void processor_stage::on_stalled(std::uint32_t from) {
  if (from >= producers_.size())
    return;
  stall_owed_.assign(batchers_.size(), true);
  pass_on_stalls();
}

void processor_stage::pass_on_stalls() {
  for (std::size_t b = 0; b < batchers_.size(); ++b) {
    if (!stall_owed_[b] || !outbound_[b].empty())
      continue;
    stall_owed_[b] = false;
    send(batchers_[b], stalled_atom::value, static_cast<std::uint32_t>(index_));
  }
}

void processor_stage::ask_upstream() {
  const auto& o = plan_->options.processors;
  auto held = std::accumulate(outstanding_.begin(), outstanding_.end(), std::uint64_t{0}) + pending_;
  auto budget = producers_.size() * o.max_demand;
  auto available = budget > held ? budget - held : 0;
  auto threshold = std::max<std::uint64_t>(1, o.max_demand - o.min_demand);
  for (std::size_t i = 0; i < producers_.size() && available > 0; ++i) {
    if (producer_done_[i])
      continue;
    auto want = o.max_demand - std::min<std::uint64_t>(o.max_demand, outstanding_[i]);
    auto give = std::min<std::uint64_t>(want, available);
    // Ask in steps of at least max_demand - min_demand, unless the producer would starve.
    if (give == 0 || (give < threshold && outstanding_[i] > 0))
      continue;
    outstanding_[i] += give;
    available -= give;
    send(producers_[i], demand_atom::value, static_cast<std::uint32_t>(index_), give);
  }
}

void processor_stage::on_upstream_done(std::uint32_t from) {
  if (from >= producer_done_.size() || producer_done_[from])
    return;
  producer_done_[from] = true;
  outstanding_[from] = 0;
  ++producers_done_;
  finish_if_done();
}

void processor_stage::finish_if_done() {
  if (producers_.empty() || producers_done_ < producers_.size() || pending_ > 0)
    return;
  for (const auto& batcher : batchers_)
    send(batcher, done_atom::value, static_cast<std::uint32_t>(index_));
  quit();
}

void processor_stage::update_counters() {
  counters_->in_flight.store(pending_, std::memory_order_relaxed);
  counters_->outstanding_demand.store(
    std::accumulate(outstanding_.begin(), outstanding_.end(), std::uint64_t{0}),
    std::memory_order_relaxed);
}

void processor_stage::on_exit() {
  // Stages hold handles to each other both ways: break the cycles when this one ends.
  producers_.clear();
  batchers_.clear();
  outbound_.clear();
}

} // namespace causeway::topology
