#include "telluride/daemon/standby.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <thread>

namespace telluride {

expected<void> start_server::open(const config& cfg, const std::string& lock_queue) {
  if (server_)
    return {};
  http::server_options options;
  options.listen = to_string(cfg.http_listen);
  server_ = std::make_unique<http::http_server>(
    options,
    make_standby_api(standby_api_parts{cfg.node_name, cfg.routes.readings_queue, lock_queue, cfg.state_stream, step_}));
  if (auto err = server_->start()) {
    server_.reset();
    return causeway::error{err->message};
  }
  return {};
}

http::listening_socket start_server::hand_over() {
  http::listening_socket kept;
  if (server_)
    kept = server_->stop_keeping_listener();
  server_.reset();
  return kept;
}

expected<bool> take_readings_lock(readings_lock& lock, causeway::amqp::connection& readings, const config& cfg,
                                  start_server& starting, const std::function<bool()>& stop_requested) {
  const auto started = std::chrono::steady_clock::now();
  bool stood_by = false;
  for (;;) {
    auto taken = lock.try_take(readings);
    if (!taken)
      return taken.err();
    if (*taken) {
      if (stood_by)
        spdlog::info("node {}: took the readings lock {} after {} s of standby; restoring and consuming",
                     cfg.node_name, lock.queue(),
                     std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started)
                       .count());
      return true;
    }
    if (!stood_by) {
      stood_by = true;
      spdlog::info("node {}: another daemon consumes {} (shards 1; lock {}): standing by until its connection "
                   "closes (run several daemons with shards > 1 to share the readings); HTTP on http://{}/ "
                   "answers /healthz, /readyz (503) and /api/shards meanwhile",
                   cfg.node_name, cfg.routes.readings_queue, lock.queue(), to_string(cfg.http_listen));
      if (auto opened = starting.open(cfg, lock.queue()); !opened)
        return opened.err();
    }
    if (stop_requested())
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
}

} // namespace telluride
