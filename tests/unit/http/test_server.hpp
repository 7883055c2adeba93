// test_server.hpp — a started server on 127.0.0.1:0 with the routes the server tests use.
#pragma once

#include "telluride/http/bearer_token.hpp"
#include "telluride/http/http_server.hpp"
#include "telluride/http/router.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>
#include <utility>

namespace telluride::http::testing {

/// GET /hello, GET /api/sensors/{line}/{device}/{sensor}, GET /query, GET /throw,
/// GET /big (64 KiB of 'b'), POST /echo (body back), POST /api/config (bearer "s3cret").
inline router test_routes() {
  router routes;
  routes.add("GET", "/hello", [](const request&, const route_params&) {
    return response::text(200, "hello world\n");
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
  return routes;
}

/// `options` with port 0 and the test routes; started (REQUIREd).
struct test_server {
  explicit test_server(server_options options = {}) : server(with_port_zero(std::move(options)), test_routes()) {
    auto err = server.start();
    REQUIRE_MESSAGE(!err, (err ? err->message : ""));
    REQUIRE(server.port() != 0);
  }

  static server_options with_port_zero(server_options options) {
    options.listen = "127.0.0.1:0";
    return options;
  }

  std::uint16_t port() const { return server.port(); }

  http_server server;
};

} // namespace telluride::http::testing
