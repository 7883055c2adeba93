#include "causeway/sharding/shard_handover.hpp"

#include "causeway/detail/overloaded.hpp"

#include <algorithm>
#include <utility>

namespace causeway::sharding {

namespace {

std::chrono::milliseconds between(handover_clock::time_point from, handover_clock::time_point to) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(to - from);
}

} // namespace

std::string_view name_of(const handover_phase& phase) noexcept {
  return std::visit(detail::overloaded{
                      [](const standby&) { return std::string_view{"standby"}; },
                      [](const awaiting_release&) { return std::string_view{"awaiting_release"}; },
                      [](const restoring&) { return std::string_view{"restoring"}; },
                      [](const active&) { return std::string_view{"active"}; },
                      [](const draining&) { return std::string_view{"draining"}; },
                      [](const checkpointing&) { return std::string_view{"checkpointing"}; },
                      [](const releasing&) { return std::string_view{"releasing"}; },
                      [](const retrying&) { return std::string_view{"retrying"}; },
                    },
                    phase);
}

shard_handover::shard_handover(std::string self, restart_backoff::options retry)
  : self_(std::move(self)), backoff_(retry) {}

std::string_view shard_handover::reported_state() const noexcept {
  return std::visit(
    detail::overloaded{
      [](const standby&) { return std::string_view{"standby"}; },
      [](const awaiting_release&) { return std::string_view{"standby"}; },
      [](const restoring&) { return std::string_view{"restoring"}; },
      [](const active&) { return std::string_view{"active"}; },
      [this](const retrying&) {
        return is_assigned_ ? std::string_view{"restoring"} : std::string_view{"handing_over"};
      },
      [](const auto&) { return std::string_view{"handing_over"}; },  // draining .. releasing
    },
    phase_);
}

// --- the assignment ---------------------------------------------------------------------------

handover_steps shard_handover::on_assigned(handover_clock::time_point now) {
  is_assigned_ = true;
  handover_steps out;
  if (std::holds_alternative<standby>(phase_))
    pursue(now, out);
  return out;
}

handover_steps shard_handover::on_unassigned() {
  is_assigned_ = false;
  if (std::holds_alternative<awaiting_release>(phase_)) {
    phase_ = standby{};
    return {};
  }
  if (auto* r = std::get_if<restoring>(&phase_)) {
    // Our takeover may be in the stream: others wait for our release.
    const auto epoch = r->epoch;
    phase_ = releasing{epoch};
    return {cancel_restore{}, write_release{epoch}};
  }
  if (auto* a = std::get_if<active>(&phase_)) {
    phase_ = draining{a->epoch};
    return {cancel_consumer{}};
  }
  return {};  // a step under way reads the verdict when it ends
}

// --- what the stream and the membership say ---------------------------------------------------

handover_steps shard_handover::on_takeover_seen(std::string_view node, std::uint64_t epoch,
                                                handover_clock::time_point now) {
  if (epoch <= holder_.epoch)
    return {};  // a claim that lost, or one already known
  holder_ = {epoch, std::string{node}, true};
  handover_steps out;
  if (node != self_ && held_epoch() != 0 && epoch > held_epoch())
    fence(node, epoch, now, out);
  else if (std::holds_alternative<awaiting_release>(phase_) && can_claim())
    claim(now, out);
  return out;
}

handover_steps shard_handover::on_release_seen(std::string_view node, std::uint64_t epoch,
                                               handover_clock::time_point now) {
  const bool releases_holder = epoch == holder_.epoch && node == holder_.name;
  if (epoch < holder_.epoch || (epoch == holder_.epoch && !releases_holder))
    return {};
  holder_ = {epoch, std::string{node}, false};
  handover_steps out;
  if (node != self_ && held_epoch() != 0 && epoch > held_epoch())
    fence(node, epoch, now, out);  // it took the shard over (we missed the takeover) and let go
  else if (std::holds_alternative<awaiting_release>(phase_))
    claim(now, out);
  return out;
}

handover_steps shard_handover::on_node_gone(std::string_view node, handover_clock::time_point now) {
  if (node == self_ || !holder_.is_held || holder_.name != node)
    return {};
  holder_.is_held = false;
  handover_steps out;
  if (std::holds_alternative<awaiting_release>(phase_))
    claim(now, out);
  return out;
}

// --- outcomes of the steps --------------------------------------------------------------------

handover_steps shard_handover::on_restored(handover_clock::time_point now) {
  auto* r = std::get_if<restoring>(&phase_);
  if (r == nullptr)
    return {};  // a restore cancelled meanwhile
  const auto [epoch, since] = *r;
  if (epoch >= holder_.epoch)
    holder_ = {epoch, self_, true};
  phase_ = active{epoch};
  return {subscribe{}, announce{handover_news::taken, epoch, {}, between(since, now)}};
}

handover_steps shard_handover::on_claim_lost(std::string_view winner, std::uint64_t epoch,
                                             handover_clock::time_point now) {
  auto* r = std::get_if<restoring>(&phase_);
  if (r == nullptr)
    return {};
  const auto ours = r->epoch;
  if (epoch >= holder_.epoch)
    holder_ = {epoch, std::string{winner}, true};
  handover_steps out{announce{handover_news::claim_lost, ours,
                              std::string{winner} + " claimed it first, with epoch " +
                                std::to_string(epoch)}};
  pursue(now, out);
  return out;
}

handover_steps shard_handover::on_drained() {
  auto* d = std::get_if<draining>(&phase_);
  if (d == nullptr)
    return {};
  const auto epoch = d->epoch;
  if (is_assigned_) {
    // Assigned back before the drain ended: nobody else may have it (we never released), so
    // the state in memory is still the shard's whole state.
    phase_ = active{epoch};
    return {subscribe{}, announce{handover_news::resumed, epoch, {}}};
  }
  phase_ = checkpointing{epoch};
  return {write_final_checkpoint{epoch}};
}

handover_steps shard_handover::on_final_checkpoint_confirmed() {
  auto* c = std::get_if<checkpointing>(&phase_);
  if (c == nullptr)
    return {};
  const auto epoch = c->epoch;
  if (is_assigned_) {
    phase_ = active{epoch};
    return {acknowledge_taken{}, subscribe{}, announce{handover_news::resumed, epoch, {}}};
  }
  phase_ = releasing{epoch};
  return {acknowledge_taken{}, write_release{epoch}, drop_state{}};
}

handover_steps shard_handover::on_release_confirmed(handover_clock::time_point now) {
  auto* r = std::get_if<releasing>(&phase_);
  if (r == nullptr)
    return {};
  const auto epoch = r->epoch;
  if (epoch >= holder_.epoch)
    holder_ = {epoch, self_, false};
  handover_steps out{announce{handover_news::released, epoch, {}}};
  pursue(now, out);
  return out;
}

handover_steps shard_handover::on_failed(std::string_view reason, handover_clock::time_point now) {
  handover_steps out;
  // What was applied but not confirmed is in no checkpoint: the readings go back to the queue.
  auto abandon = [&](std::uint64_t epoch) {
    out.push_back(close_consumer{});
    out.push_back(drop_state{});
    retry(epoch, reason, now, out);
  };
  std::visit(detail::overloaded{
               [&](const restoring& r) {
                 out.push_back(cancel_restore{});
                 retry(r.epoch, reason, now, out);
               },
               [&](const active& a) { abandon(a.epoch); },
               [&](const draining& d) { abandon(d.epoch); },
               [&](const checkpointing& c) { abandon(c.epoch); },
               [&](const releasing& r) { retry(r.epoch, reason, now, out); },
               [](const auto&) {},  // nothing held, or already waiting to retry
             },
             phase_);
  return out;
}

handover_steps shard_handover::on_retry_timer(std::uint64_t attempt, handover_clock::time_point now) {
  auto* r = std::get_if<retrying>(&phase_);
  if (r == nullptr || r->attempt != attempt)
    return {};
  handover_steps out;
  if (is_assigned_) {
    claim(now, out);
  } else {
    const auto epoch = r->epoch;
    phase_ = releasing{epoch};
    out.push_back(write_release{epoch});
  }
  return out;
}

// --- helpers ----------------------------------------------------------------------------------

std::uint64_t shard_handover::held_epoch() const noexcept {
  return std::visit(detail::overloaded{
                      [](const restoring& p) { return p.epoch; },
                      [](const active& p) { return p.epoch; },
                      [](const draining& p) { return p.epoch; },
                      [](const checkpointing& p) { return p.epoch; },
                      [](const retrying& p) { return p.epoch; },
                      [](const auto&) { return std::uint64_t{0}; },  // releasing: let go already
                    },
                    phase_);
}

bool shard_handover::can_claim() const noexcept {
  // A claim under our own name that this process does not act on is an earlier life's.
  return !holder_.is_held || holder_.name == self_;
}

void shard_handover::pursue(handover_clock::time_point now, handover_steps& out) {
  if (!is_assigned_)
    phase_ = standby{};
  else if (can_claim())
    claim(now, out);
  else
    phase_ = awaiting_release{};
}

void shard_handover::claim(handover_clock::time_point now, handover_steps& out) {
  own_epoch_ = std::max(holder_.epoch, own_epoch_) + 1;
  backoff_.started(now);
  phase_ = restoring{own_epoch_, now};
  out.push_back(write_takeover{own_epoch_});
  out.push_back(restore{own_epoch_});
}

void shard_handover::fence(std::string_view node, std::uint64_t epoch,
                           handover_clock::time_point now, handover_steps& out) {
  const auto ours = held_epoch();
  std::visit(detail::overloaded{
               [&](const restoring&) { out.push_back(cancel_restore{}); },
               [&](const retrying&) { ++attempt_; },  // the armed timer is stale now
               [&](const auto&) {                     // active, draining, checkpointing
                 out.push_back(close_consumer{});
                 out.push_back(drop_state{});
               },
             },
             phase_);
  out.push_back(announce{handover_news::fenced, ours,
                         "taken over by " + std::string{node} + " with epoch " +
                           std::to_string(epoch)});
  pursue(now, out);
}

void shard_handover::retry(std::uint64_t epoch, std::string_view reason,
                           handover_clock::time_point now, handover_steps& out) {
  const auto delay = backoff_.failed(now);
  phase_ = retrying{epoch, ++attempt_};
  out.push_back(announce{handover_news::failed, epoch,
                         std::string{reason} + "; retrying in " + std::to_string(delay.count()) +
                           " ms"});
  out.push_back(arm_retry_timer{delay, attempt_});
}

} // namespace causeway::sharding
