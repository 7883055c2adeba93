// test_server.hpp — a started server on 127.0.0.1:0 with the routes the server tests use.
#pragma once

#include "telluride/http/bearer_token.hpp"
#include "telluride/http/http_server.hpp"
#include "telluride/http/router.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>

namespace telluride::http::testing {

/// Holds worker handlers until the test opens it (or 5 s pass, so a failing test cannot hang),
/// and counts who waits: a test proves the loop answered while a handler was still running.
class gate {
public:
  /// Waits until `open()`; false when 5 s passed first.
  bool wait() {
    std::unique_lock lock{mutex_};
    ++waiting_;
    changed_.notify_all();
    bool opened = changed_.wait_for(lock, std::chrono::seconds{5}, [this] { return is_open_; });
    --waiting_;
    return opened;
  }
  void open() {
    std::lock_guard lock{mutex_};
    is_open_ = true;
    changed_.notify_all();
  }
  /// Waits up to 5 s until `n` handlers wait; true when they do.
  bool await_waiting(int n) {
    std::unique_lock lock{mutex_};
    return changed_.wait_for(lock, std::chrono::seconds{5}, [&] { return waiting_ >= n; });
  }

private:
  std::mutex mutex_;
  std::condition_variable changed_;
  int waiting_ = 0;
  bool is_open_ = false;
};

/// GET /hello, GET /healthz, GET /api/sensors/{line}/{device}/{sensor}, GET /query,
/// GET /throw, GET /big (64 KiB of 'b'), POST /echo (body back), POST /api/config (bearer
/// "s3cret"); on workers: GET /gated (waits for `held`, then 200 "released"), GET /gated-throw
/// (waits, then throws).
inline router test_routes(std::shared_ptr<gate> held = std::make_shared<gate>()) {
  router routes;
  routes.add("GET", "/hello", [](const request&, const route_params&) {
    return response::text(200, "hello world\n");
  });
  routes.add("GET", "/healthz", [](const request&, const route_params&) {
    return response::json(200, "{\"status\":\"ok\"}\n");
  });
  routes.add("GET", "/api/sensors/{line}/{device}/{sensor}", [](const request&, const route_params& p) {
    return response::text(200, std::string{p["line"]} + "|" + std::string{p["device"]} + "|"
                                 + std::string{p["sensor"]});
  });
  routes.add("GET", "/query", [](const request& req, const route_params&) {
    return response::text(200, req.path + "?" + req.query + " x=" + req.query_value("x").value_or("-"));
  });
  routes.add("GET", "/throw", [](const request&, const route_params&) -> response {
    throw std::runtime_error{"handler failed on purpose"};
  });
  routes.add("GET", "/big", [](const request&, const route_params&) {
    return response::text(200, std::string(64 * 1024, 'b'));
  });
  routes.add("POST", "/echo", [](const request& req, const route_params&) {
    return response::json(200, req.body);
  });
  routes.add("POST", "/api/config", [](const request& req, const route_params&) {
    if (!has_bearer_token(req, "s3cret"))
      return response::text(401, "missing or wrong bearer token\n");
    return response::text(200, "applied\n");
  });
  routes.add(
    "GET", "/gated",
    [held](const request&, const route_params&) {
      return held->wait() ? response::text(200, "released\n") : response::text(504, "gate never opened\n");
    },
    handler_thread::worker);
  routes.add(
    "GET", "/gated-throw",
    [held](const request&, const route_params&) -> response {
      held->wait();
      throw std::runtime_error{"worker handler failed on purpose"};
    },
    handler_thread::worker);
  return routes;
}

/// `options` with port 0 and the test routes; started (REQUIREd). `held` is the gate of the
/// worker routes.
struct test_server {
  explicit test_server(server_options options = {})
    : held(std::make_shared<gate>()), server(with_port_zero(std::move(options)), test_routes(held)) {
    auto err = server.start();
    REQUIRE_MESSAGE(!err, (err ? err->message : ""));
    REQUIRE(server.port() != 0);
  }

  static server_options with_port_zero(server_options options) {
    options.listen = "127.0.0.1:0";
    return options;
  }

  std::uint16_t port() const { return server.port(); }

  std::shared_ptr<gate> held;
  http_server server;
};

} // namespace telluride::http::testing
