#include "telluride/daemon/part_supervisor.hpp"

#include <causeway/utf8.hpp>

#include <spdlog/spdlog.h>

namespace telluride {

namespace {

using respawn_atom = caf::atom_constant<caf::atom("tl_respawn")>;

} // namespace

part_supervisor::part_supervisor(caf::actor_config& cfg, part_spec spec)
  : caf::event_based_actor(cfg), spec_(std::move(spec)), backoff_(spec_.backoff) {}

caf::behavior part_supervisor::make_behavior() {
  set_down_handler([this](caf::down_msg& down) { on_part_down(down); });
  start_part();
  return {
    [this](respawn_atom) {
      if (!stopping_)
        start_part();
    },
    [this](shutdown_atom) -> caf::result<bool> {
      stopping_ = true;
      if (spec_.slot)
        spec_.slot->set(caf::actor{});  // nobody sends it work any more
      if (!part_) {
        quit();
        return true;
      }
      auto done = make_response_promise<bool>();
      request(part_, caf::infinite, shutdown_atom::value)
        .then(
          [this, done](bool) mutable {
            done.deliver(true);
            quit();
          },
          [this, done](caf::error&) mutable {
            done.deliver(true);  // it is gone either way
            quit();
          });
      return done;
    },
  };
}

void part_supervisor::start_part() {
  backoff_.started(causeway::restart_backoff::clock::now());
  try {
    part_ = spec_.spawn(system());
  } catch (const std::exception& e) {
    part_ = caf::actor{};
    auto delay = backoff_.failed(causeway::restart_backoff::clock::now());
    auto reason = causeway::one_line_utf8(std::string{"cannot start: "} + e.what());
    spec_.health->set_down(spec_.name, reason);
    spdlog::error("{} {}; retrying in {} ms", spec_.name, reason, delay.count());
    delayed_send(this, delay, respawn_atom::value);
    return;
  }
  monitor(part_);
  if (spec_.slot)
    spec_.slot->set(part_);
  spec_.health->set_up(spec_.name);
  if (restarts_ > 0)
    spdlog::info("{} restarted (restart {})", spec_.name, restarts_);
}

void part_supervisor::on_part_down(const caf::down_msg& down) {
  if (down.source != part_.address())
    return;
  part_ = caf::actor{};
  if (spec_.slot)
    spec_.slot->set(caf::actor{});
  if (stopping_)
    return;
  ++restarts_;
  auto delay = backoff_.failed(causeway::restart_backoff::clock::now());
  auto reason = causeway::one_line_utf8("stopped (" + to_string(down.reason) + ")");
  spec_.health->set_down(spec_.name, reason + ", restarting");
  spdlog::error("{} {}; restarting in {} ms", spec_.name, reason, delay.count());
  delayed_send(this, delay, respawn_atom::value);
}

} // namespace telluride
