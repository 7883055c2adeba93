// standby.hpp — a daemon with shards 1 before it serves (docs/sharding.md, One shard, several
// daemons): it waits for the readings lock while another daemon holds it, and one HTTP server
// answers on its address meanwhile and while it restores its state (docs/http.md, While
// standing by).
#pragma once

#include "telluride/daemon/http_api.hpp"
#include "telluride/daemon/readings_lock.hpp"
#include "telluride/domain/config.hpp"
#include "telluride/domain/expected.hpp"
#include "telluride/http/http_server.hpp"

#include <causeway/amqp/connection.hpp>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

namespace telluride {

/// The HTTP server of a daemon with shards 1 before its own opens (make_standby_api): while it
/// stands by, then while it restores its state. It answers on the daemon's address, then hands its
/// listening socket to the daemon's own server.
class start_server {
public:
  /// Standing by until set_restoring.
  void set_restoring() { step_->store(start_step::restoring); }
  /// Opens it (at most once); a one-line error when the address is taken.
  expected<void> open(const config& cfg, const std::string& lock_queue);
  /// Closes it, if open, and returns its listening socket for the daemon's own server to
  /// accept on (none if it was not open): no client is refused in between.
  http::listening_socket hand_over();

private:
  std::shared_ptr<std::atomic<start_step>> step_ = std::make_shared<std::atomic<start_step>>(start_step::standing_by);
  std::unique_ptr<http::http_server> server_;
};

/// Takes the readings lock on the readings connection, waiting while another daemon holds it
/// (standby). While it waits, `starting` is open on the daemon's address; it stays open after
/// this returns. True once the lock is held; false when `stop_requested` says so (a
/// termination signal) meanwhile.
expected<bool> take_readings_lock(readings_lock& lock, causeway::amqp::connection& readings, const config& cfg,
                                  start_server& starting, const std::function<bool()>& stop_requested);

} // namespace telluride
