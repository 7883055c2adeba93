// part_supervisor.hpp — keeps one of the daemon's parts (the config handler, the reporter)
// running, or says why it is not.
//
// It spawns the part from its factory and monitors it. When the part stops for any reason but
// a requested shutdown (an exception that escaped a handler, a bug), the supervisor marks it
// down in `part_health` with the reason — `/readyz` then answers 503 naming it —, logs one
// line, and spawns it again after `causeway::restart_backoff`'s delay (at once the first time,
// then growing while it keeps failing soon after its start). Once it runs again it is marked
// up. The current handle is kept in an `actor_slot` that callers such as the HTTP API read.
//
// (shutdown_atom) asks the part to shut down (it must answer the same message with `true` and
// quit, as the config actor and the reporter do), answers `true` once it did, and quits.
#pragma once

#include "telluride/daemon/config_actor.hpp"
#include "telluride/daemon/part_health.hpp"

#include <causeway/restart_backoff.hpp>

#include <caf/actor.hpp>
#include <caf/event_based_actor.hpp>

#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace telluride {

/// The current actor of a supervised part; empty while it is restarting. Thread-safe.
class actor_slot {
public:
  caf::actor get() const {
    std::lock_guard guard{mutex_};
    return actor_;
  }
  void set(caf::actor a) {
    std::lock_guard guard{mutex_};
    actor_ = std::move(a);
  }

private:
  mutable std::mutex mutex_;
  caf::actor actor_;
};

struct part_spec {
  std::string name;                                      ///< "config handler", in logs and /readyz
  std::function<caf::actor(caf::actor_system&)> spawn;   ///< starts a fresh instance
  std::shared_ptr<part_health> health;
  std::shared_ptr<actor_slot> slot;                      ///< optional: where callers find it
  causeway::restart_backoff::options backoff{};
};

class part_supervisor : public caf::event_based_actor {
public:
  part_supervisor(caf::actor_config& cfg, part_spec spec);

  caf::behavior make_behavior() override;

private:
  void start_part();
  void on_part_down(const caf::down_msg& down);

  part_spec spec_;
  causeway::restart_backoff backoff_;
  caf::actor part_;
  std::uint64_t restarts_ = 0;
  bool stopping_ = false;
};

} // namespace telluride
