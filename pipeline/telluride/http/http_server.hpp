// http_server.hpp — the daemon's small HTTP/1.1 server (metrics, health, API, dashboard).
//
// One libuv loop on its own thread serves every connection; the owner supplies a `router` (or
// one handler function) that turns a request into a response. Keep-alive and pipelining follow
// HTTP/1.1. Errors at start-up are values: `cannot listen on 127.0.0.1:9464: address already
// in use`.
//
//   telluride::http::router routes;
//   routes.add("GET", "/healthz", [](const auto&, const auto&) { return response::text(200, "ok\n"); });
//   routes.add("POST", "/api/config", apply_config, handler_thread::worker);  // waits on an actor
//   telluride::http::http_server server{{.listen = "127.0.0.1:9464"}, std::move(routes)};
//   if (auto err = server.start()) { /* print err->message, exit 1 */ }
//   ...
//   server.stop();
//
// No client can blind it (docs/http.md, Limits; set in server_options.hpp):
// - bad input of any kind gets a one-line 4xx (400, 413 body, 414 request line, 431 header
//   block) and a closed connection, never a crash; a throwing handler gets 500 and the server
//   goes on;
// - a request must be complete within `request_timeout` of its first byte (else 408 and close),
//   and a connection that sends and reads nothing for `idle_timeout` is closed;
// - at `max_connections` a new connection is still accepted: the most expendable open one is
//   closed instead (see connection_timeline.hpp);
// - live streams (response::event_stream) have their own cap (`max_streams`), are never
//   evicted for ordinary connections and never evict them, and a viewer that falls
//   `max_stream_buffer_bytes` behind is closed;
// - handlers that wait run on workers (`handler_thread::worker`, at most
//   `max_worker_handlers` at once, 503 beyond), so the loop answers /healthz meanwhile.
//
// Thread rule: handlers run where request_handler.hpp says. `start`, `stop` and the destructor
// are called from the owner's thread, never from a handler.
#pragma once

#include "telluride/http/error.hpp"
#include "telluride/http/listening_socket.hpp"
#include "telluride/http/request_handler.hpp"
#include "telluride/http/router.hpp"
#include "telluride/http/server_options.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

namespace telluride::http {

class http_server {
public:
  /// Stores the options and the handler; opens nothing. `where` says which requests run on a
  /// worker; empty: every request runs on the loop.
  http_server(server_options options, request_handler handler, handler_placement where = {});
  /// Serves `routes`, each on the thread its route names.
  http_server(server_options options, router routes);
  /// Stops the server if it runs (see `stop`).
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Binds and listens on `options.listen`, then starts the loop thread. Returns nullopt on
  /// success, else one line naming the address and the reason (bad address, address in use,
  /// permission denied, max_connections 0, already started); on error nothing is left open.
  /// Call at most once. Given `adopted` (a socket another server stopped with
  /// `stop_keeping_listener`), it accepts on that socket instead of binding `options.listen`
  /// (which then only names the address in messages).
  [[nodiscard]] std::optional<error> start(listening_socket adopted = {});

  /// Closes the listener and every connection (responses not yet written are dropped), waits
  /// for running worker handlers to return, joins the loop and worker threads and closes the
  /// loop. Returns true when the loop closed cleanly (uv_loop_close
  /// returned 0), or when the server never ran. Idempotent and blocking.
  bool stop();

  /// Like `stop`, but the listening socket stays open and is returned (none when the server
  /// did not run): connections that arrive from now on wait in its backlog until a server
  /// started with it accepts them. Connections already accepted are closed as by `stop`.
  listening_socket stop_keeping_listener();

  /// The bound port (the kernel's choice when the options said port 0); 0 before `start`.
  std::uint16_t port() const noexcept;

  /// Open client connections, including ones being closed and live streams. Any thread.
  std::size_t connection_count() const noexcept;

  /// Live streams open now. Any thread.
  std::size_t stream_count() const noexcept;

  /// Viewers of live streams closed so far because they fell too far behind. Any thread.
  std::uint64_t slow_viewers_dropped() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace telluride::http
