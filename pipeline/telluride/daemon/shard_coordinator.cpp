#include "telluride/daemon/shard_coordinator.hpp"

#include "telluride/daemon/broker_topology.hpp"
#include "telluride/daemon/heartbeat_sender.hpp"
#include "telluride/daemon/member_heartbeat.hpp"
#include "telluride/daemon/reading_handler.hpp"
#include "telluride/daemon/claims_tail.hpp"
#include "telluride/daemon/shard_plan.hpp"
#include "telluride/tools/queue_tap.hpp"

#include <causeway/sharding/membership.hpp>
#include <causeway/sharding/shard_assignment.hpp>
#include <causeway/thread_name.hpp>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <csignal>
#include <map>
#include <random>
#include <set>
#include <thread>

namespace telluride {

namespace sharding = causeway::sharding;
using clock = std::chrono::steady_clock;

namespace {

constexpr auto tick = std::chrono::milliseconds(100);
// Heard for this long before the first assignment, so that daemons started together see each
// other before any of them claims (otherwise the first would claim every shard and hand most
// back a moment later).
constexpr auto settle = std::chrono::milliseconds(2500);
constexpr auto retry_after = std::chrono::seconds(1);
constexpr auto lapse = std::chrono::seconds(5);  // membership_options' default

std::uint64_t random_start_id() {
  std::random_device device;
  return (std::uint64_t{device()} << 32) ^ device() ^
         static_cast<std::uint64_t>(clock::now().time_since_epoch().count());
}

} // namespace

struct shard_coordinator::impl {
  shard_coordinator_parts parts;
  std::uint64_t start_id = random_start_id();
  clock::time_point started = clock::now();
  std::unique_ptr<tools::queue_tap> members;   // this node's queue of heartbeats
  std::unique_ptr<claims_tail> tail;            // durable: who claimed and released each shard
  std::optional<sharding::membership> view;
  std::map<std::string, std::set<std::uint32_t>, std::less<>> held_by;  // memory: others' heartbeats
  std::map<std::string, clock::time_point, std::less<>> other_layouts;  // nodes heard with another K
  std::vector<std::uint32_t> owned;                  // consumed now, ascending
  std::map<std::uint32_t, std::uint64_t> epochs;     // durable: the claim of each owned shard
  std::map<std::uint32_t, clock::time_point> retry_at;
  std::optional<clock::time_point> last_deaf;        // when this node last heard no heartbeat at all
  bool is_refusing = false;                          // another K is live: logged once
  std::set<std::uint32_t> waiting_for_lock;          // free shards whose lock is still held: logged once

  std::mutex stop_mutex;
  std::condition_variable stopping;
  bool is_stopping = false;
  std::thread loop_thread;
  std::unique_ptr<heartbeat_sender> heartbeats;

  const config& cfg() const { return parts.cfg; }

  void set_held(std::uint32_t shard, std::optional<std::string> state) {
    heartbeats->set_held(shard, std::move(state));
  }

  bool wait_stop(std::chrono::milliseconds d) {
    std::unique_lock lock(stop_mutex);
    return stopping.wait_for(lock, d, [this] { return is_stopping; });
  }

  void hear(const std::string& bytes, clock::time_point now) {
    auto hb = decode_heartbeat(bytes);
    if (!hb)
      return;  // not ours to judge: a bad heartbeat changes nothing
    if (hb->shards != cfg().shards) {
      if (other_layouts.find(hb->node) == other_layouts.end())
        spdlog::error("node {} runs with shards {}, this one with {}: this node takes no shard while it is heard",
                      hb->node, hb->shards, cfg().shards);
      other_layouts[hb->node] = now;
      return;
    }
    auto changes = view->heard(hb->node, hb->start_id, now);
    if (!changes)
      return;
    for (const auto& c : *changes) {
      if (c.what == sharding::member_event::clashed && c.name == cfg().node_name) {
        spdlog::error("another daemon runs with the node name {} (start ids differ): stopping; node names must be "
                      "unique",
                      c.name);
        std::raise(SIGTERM);
      }
      if (c.what == sharding::member_event::left)
        held_by.erase(c.name);
      if (c.what != sharding::member_event::clashed && c.name != cfg().node_name)
        spdlog::info("node {} {}", c.name, c.what == sharding::member_event::joined ? "joined" : "left");
    }
    auto& shards = held_by[hb->node];
    shards.clear();
    for (const auto& h : hb->held)
      shards.insert(h.shard);
  }

  /// A newer claim by another node on a shard held here fences it.
  void on_claim(const record_header& h) {
    auto held_epoch = epochs.find(h.shard);
    if (h.owner != cfg().node_name && held_epoch != epochs.end() && h.epoch > held_epoch->second)
      fence(h.shard, h.owner, h.epoch);
  }

  bool is_free(std::uint32_t shard, clock::time_point now) const {
    if (!parts.durable)
      return is_unheld(shard, cfg().node_name, held_by, [this](std::string_view n) { return view->is_live(n); });
    return is_claim_free(tail->claims().of(shard), cfg().node_name,
                         [this, now](std::string_view n) { return view->is_gone(n, now); });
  }

  std::vector<std::uint32_t> target(clock::time_point now) {
    for (auto it = other_layouts.begin(); it != other_layouts.end();)
      it = now - it->second > std::chrono::seconds(5) ? other_layouts.erase(it) : std::next(it);
    if (!other_layouts.empty()) {
      is_refusing = true;
      return {};
    }
    if (is_refusing)
      spdlog::info("no node with another shards value is heard any more: taking part again");
    is_refusing = false;
    auto assignment = sharding::shard_assignment::compute(cfg().shards, view->live());
    if (!assignment)
      return owned;
    return assignment->shards_of(cfg().node_name);
  }

  void fence(std::uint32_t shard, const std::string& node, std::uint64_t epoch) {
    spdlog::warn("shard {} was claimed by {} with epoch {} above ours ({}): this node was taken for gone; "
                 "it stops consuming the shard and drops its state",
                 shard, node, epoch, epochs[shard]);
    if (parts.durable)
      parts.durable->drop_shard(shard);
    std::vector<std::uint32_t> next;
    std::copy_if(owned.begin(), owned.end(), std::back_inserter(next), [&](std::uint32_t s) { return s != shard; });
    if (parts.intake->set_shards(next))
      parts.restart_pipeline();
    parts.tracker->clear_shard(shard);
    owned = std::move(next);
    epochs.erase(shard);
    set_held(shard, std::nullopt);
    release_lock(shard);
  }

  void rebalance(clock::time_point now) {
    const auto moves = plan_moves(owned, target(now), [&](std::uint32_t s) {
      return is_free(s, now) && (retry_at.count(s) == 0 || retry_at[s] <= now);
    });
    if (moves.empty())
      return;
    const auto& lost = moves.lost;
    const auto& gained = moves.gained;

    std::vector<std::pair<std::uint32_t, std::chrono::milliseconds>> taken;
    for (std::uint32_t s : gained) {
      if (!take_lock(s, now))
        continue;
      set_held(s, "restoring");
      std::chrono::milliseconds took{0};
      if (parts.durable) {
        auto t = parts.durable->take_shard(parts.base, *parts.tracker, parts.rules, s);
        if (!t) {
          spdlog::error("cannot take shard {}: {}; retrying in {} s", s, t.err().message, retry_after.count());
          retry_at[s] = now + retry_after;
          set_held(s, std::nullopt);
          release_lock(s);
          continue;
        }
        epochs[s] = t->epoch;
        took = t->took;
      }
      taken.emplace_back(s, took);
    }
    for (std::uint32_t s : lost)
      set_held(s, "handing_over");
    std::vector<std::uint32_t> next;
    std::set_difference(owned.begin(), owned.end(), lost.begin(), lost.end(), std::back_inserter(next));
    for (const auto& t : taken)
      next.push_back(t.first);
    std::sort(next.begin(), next.end());
    if (auto set = parts.intake->set_shards(next); !set) {
      spdlog::error("cannot consume the shards {}: {}", fmt::join(next, ","), set.err().message);
      for (const auto& t : taken)
        give_up(t.first);
      for (std::uint32_t s : lost)
        set_held(s, "active");
      return;
    }
    const auto drain_started = clock::now();
    if (!parts.restart_pipeline())
      spdlog::error("the readings pipeline did not restart for shards {}", fmt::join(next, ","));
    const auto drained = std::chrono::duration_cast<std::chrono::milliseconds>(clock::now() - drain_started);
    for (std::uint32_t s : lost) {
      give_up(s);
      spdlog::info("shard {} released (drained and checkpointed in {} ms)", s, drained.count());
    }
    for (const auto& [s, took] : taken) {
      set_held(s, "active");
      if (parts.durable)
        spdlog::info("shard {} taken with epoch {}: restored in {} ms", s, epochs[s], took.count());
      else
        spdlog::info("shard {} taken (state in memory: nothing to restore)", s);
    }
    owned = std::move(next);
  }

  /// Writes the release of a shard this node holds (durable), drops its state and lets its
  /// lock go.
  void give_up(std::uint32_t s) {
    if (parts.durable)
      if (auto released = parts.durable->release_shard(s); !released)
        spdlog::error("cannot release shard {}: {} (others take it once this node is gone)", s,
                      released.err().message);
    parts.tracker->clear_shard(s);
    epochs.erase(s);
    set_held(s, std::nullopt);
    release_lock(s);
  }

  /// Takes shard `s`'s lock before its takeover: false while the previous holder's connection
  /// still holds it (it drains, or it lives though it was taken for gone), or on an error.
  bool take_lock(std::uint32_t s, clock::time_point now) {
    auto taken = parts.locks->try_take(s, *parts.intake->current()->connection());
    if (!taken) {
      spdlog::error("cannot take shard {}: {}; retrying in {} s", s, taken.err().message, retry_after.count());
      retry_at[s] = now + retry_after;
      return false;
    }
    if (!*taken) {
      if (waiting_for_lock.insert(s).second)
        spdlog::info("shard {}: free by the membership, but its lock is still held by the previous holder's "
                     "connection; waiting for it",
                     s);
      return false;
    }
    waiting_for_lock.erase(s);
    return true;
  }

  void release_lock(std::uint32_t s) {
    if (auto released = parts.locks->release(s, *parts.intake->current()->connection()); !released)
      spdlog::warn("shard {}: {} (it goes with the connection)", s, released.err().message);
  }

  void publish_board(clock::time_point now) {
    shard_board_view v;
    v.node = cfg().node_name;
    v.layout = cfg().shards;
    v.members = view->live();
    auto assignment = sharding::shard_assignment::compute(cfg().shards, v.members);
    const auto states = heartbeats->held();
    const std::int64_t lag =
      parts.durable ? checkpoint_lag_ms(parts.durable->figures().checkpoints.last_confirmed_ms, now_ms()) : 0;
    for (std::uint32_t s = 0; s < cfg().shards; ++s) {
      shard_row row;
      row.shard = s;
      row.queue = shard_queue(cfg().routes, s);
      if (auto it = states.find(s); it != states.end()) {
        row.owner = cfg().node_name;
        row.state = it->second;
        row.sensors = parts.tracker->sensors_in(s);
        row.checkpoint_lag_ms = row.state == "active" ? lag : 0;
      } else {
        row.owner = known_owner(s, assignment ? std::string(assignment->owner_of(s)) : std::string{}, now);
      }
      v.shards.push_back(std::move(row));
    }
    parts.board->publish(std::move(v));
  }

  std::string known_owner(std::uint32_t s, std::string assigned, clock::time_point now) const {
    if (parts.durable)
      return owner_by_claim(tail->claims().of(s), std::move(assigned),
                            [this, now](std::string_view n) { return view->is_gone(n, now); });
    return owner_by_heartbeat(s, std::move(assigned), held_by,
                              [this](std::string_view n) { return view->is_live(n); });
  }

  /// Members not heard for a lapse leave, unless this node was deaf within the last lapse: its
  /// own heartbeats may come back before the others' do (after a broker restart, say), and those
  /// others were not silent, this node could not hear them. Judging them at once would take their
  /// shards while they still consume them.
  void expire_members(clock::time_point now) {
    if (view->is_deaf(now))
      last_deaf = now;
    if (last_deaf && now - *last_deaf < lapse)
      return;
    for (const auto& c : view->expire(now))
      spdlog::info("node {} left (not heard for 5 s)", c.name);
  }

  void run() {
    causeway::name_this_thread("shard-coord");
    while (!wait_stop(tick)) {
      const auto now = clock::now();
      for (int burst = 0; burst < 16; ++burst) {
        auto heard = members->take(std::chrono::milliseconds(1));
        if (heard.empty())
          break;
        for (const auto& m : heard)
          hear(m.data, now);
        members->acknowledge(heard);
      }
      if (tail)
        tail->read(now, [this](const record_header& h) { on_claim(h); });
      expire_members(now);
      if (now - started >= settle)
        rebalance(now);
      publish_board(now);
    }
  }
};

shard_coordinator::shard_coordinator(std::unique_ptr<impl> state) : impl_(std::move(state)) {}

shard_coordinator::~shard_coordinator() {
  stop();
}

expected<std::unique_ptr<shard_coordinator>> shard_coordinator::start(shard_coordinator_parts parts) {
  auto state = std::make_unique<impl>();
  state->parts = std::move(parts);
  const config& cfg = state->parts.cfg;
  auto view = sharding::membership::create(cfg.node_name, state->start_id, state->started);
  if (!view)
    return error{"node_name " + cfg.node_name + ": " + view.err().message};
  state->view = std::move(*view);
  state->heartbeats = std::make_unique<heartbeat_sender>(
    state->parts.publisher, members_exchange(cfg), member_heartbeat{cfg.node_name, state->start_id, cfg.shards, {}});
  tools::tap_options tap;
  tap.connection = state->parts.base;
  tap.connection.name = "telluride-members";
  tap.exchange = members_exchange(cfg);
  tap.private_queue = members_queue(cfg);
  tap.declare_exchange = false;  // declared with the topology (fanout)
  auto members = tools::queue_tap::open(std::move(tap));
  if (!members) {
    const auto& why = members.err().message;
    if (why.find("RESOURCE_LOCKED") != std::string::npos)
      return error{"another daemon runs with the node name " + cfg.node_name + " (its queue " + members_queue(cfg) +
                   " is in use); node names must be unique"};
    return error{"cannot listen to the members exchange " + members_exchange(cfg) + ": " + why};
  }
  state->members = std::move(*members);
  if (state->parts.durable) {
    auto tail = claims_tail::open(state->parts.base, cfg.state_stream, cfg.shards);
    if (!tail)
      return tail.err();
    state->tail = std::move(*tail);
  }
  auto* s = state.get();
  s->publish_board(clock::now());  // every shard standby until the first assignment
  s->heartbeats->start();
  s->loop_thread = std::thread([s] { s->run(); });
  return std::make_unique<shard_coordinator>(std::move(state));
}

void shard_coordinator::stop() {
  {
    std::lock_guard lock(impl_->stop_mutex);
    impl_->is_stopping = true;
  }
  impl_->stopping.notify_all();
  if (impl_->loop_thread.joinable())
    impl_->loop_thread.join();
  impl_->heartbeats->stop();
}

void shard_coordinator::release_all() {
  stop();
  for (std::uint32_t s : impl_->owned) {
    impl_->give_up(s);
    spdlog::info("shard {} released (shutting down)", s);
  }
  impl_->owned.clear();
}

} // namespace telluride
