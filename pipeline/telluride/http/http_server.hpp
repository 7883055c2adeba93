// http_server.hpp — the daemon's small HTTP/1.1 server (metrics, health, API, dashboard).
//
// One libuv loop on its own thread serves every connection; the owner supplies one handler
// (a `router` fits) that turns a request into a response. Keep-alive and pipelining follow
// HTTP/1.1; bad input gets a clear 4xx and a closed connection, never a crash. Errors at
// start-up are values: `cannot listen on 127.0.0.1:9464: address already in use`.
//
//   telluride::http::router routes;
//   routes.add("GET", "/healthz", [](const auto&, const auto&) { return response::text(200, "ok\n"); });
//   telluride::http::http_server server{{.listen = "127.0.0.1:9464"}, routes};
//   if (auto err = server.start()) { /* print err->message, exit 1 */ }
//   ...
//   server.stop();
//
// Thread rule: the handler runs on the server's thread (see request_handler.hpp). `start`,
// `stop` and the destructor are called from the owner's thread, never from the handler.
#pragma once

#include "telluride/http/error.hpp"
#include "telluride/http/request_handler.hpp"
#include "telluride/http/server_options.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

namespace telluride::http {

class http_server {
public:
  /// Stores the options and the handler; opens nothing.
  http_server(server_options options, request_handler handler);
  /// Stops the server if it runs (see `stop`).
  ~http_server();
  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Binds and listens on `options.listen`, then starts the loop thread. Returns nullopt on
  /// success, else one line naming the address and the reason (bad address, address in use,
  /// permission denied, already started); on error nothing is left open. Call at most once.
  [[nodiscard]] std::optional<error> start();

  /// Closes the listener and every connection (responses not yet written are dropped), joins
  /// the loop thread and closes the loop. Returns true when the loop closed cleanly
  /// (uv_loop_close returned 0), or when the server never ran. Idempotent and blocking.
  bool stop();

  /// The bound port (the kernel's choice when the options said port 0); 0 before `start`.
  std::uint16_t port() const noexcept;

  /// Open client connections, including ones being closed. Any thread.
  std::size_t connection_count() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace telluride::http
