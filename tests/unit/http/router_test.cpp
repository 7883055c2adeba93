// The route table: matching, parameters, 404 and 405.
#include "telluride/http/router.hpp"

#include <doctest/doctest.h>

using namespace telluride::http;

namespace {

request make_request(std::string method, std::string path) {
  request req;
  req.method = std::move(method);
  req.path = std::move(path);
  return req;
}

router sample_router() {
  router r;
  r.add("GET", "/metrics", [](const request&, const route_params&) { return response::text(200, "metrics"); });
  r.add("POST", "/api/config", [](const request&, const route_params&) { return response::text(200, "set"); });
  r.add("GET", "/api/config", [](const request&, const route_params&) { return response::text(200, "get"); });
  r.add("GET", "/api/sensors/{line}/{device}/{sensor}", [](const request&, const route_params& p) {
    return response::text(200, std::string{p["line"]} + "/" + std::string{p["device"]} + "/"
                                 + std::string{p["sensor"]} + "/" + std::to_string(p.size()));
  });
  return r;
}

} // namespace

TEST_CASE("routes match by method and literal path") {
  auto r = sample_router();
  CHECK(r.handle(make_request("GET", "/metrics")).body == "metrics");
  CHECK(r.handle(make_request("GET", "/api/config")).body == "get");
  CHECK(r.handle(make_request("POST", "/api/config")).body == "set");
}

TEST_CASE("placeholders capture one decoded segment each") {
  auto r = sample_router();
  CHECK(r.handle(make_request("GET", "/api/sensors/L1/d%2F2/temp")).body == "L1/d/2/temp/3");
  CHECK(r.handle(make_request("GET", "/api/sensors/L1//temp")).status == 404);
  CHECK(r.handle(make_request("GET", "/api/sensors/L1/d/temp/extra")).status == 404);
  CHECK(r.handle(make_request("GET", "/api/sensors/L1/d%zz/temp")).status == 404);
}

TEST_CASE("unknown paths answer 404, trailing slash included") {
  auto r = sample_router();
  CHECK(r.handle(make_request("GET", "/nope")).status == 404);
  CHECK(r.handle(make_request("GET", "/metrics/")).status == 404);
  CHECK(r.handle(make_request("GET", "/")).status == 404);
}

TEST_CASE("a known path with another method answers 405 listing the allowed ones") {
  auto r = sample_router();
  auto put = r.handle(make_request("PUT", "/api/config"));
  CHECK(put.status == 405);
  REQUIRE(put.headers.size() == 1);
  CHECK(put.headers[0].name == "Allow");
  CHECK(put.headers[0].value == "POST, GET, HEAD");
  auto post = r.handle(make_request("POST", "/metrics"));
  CHECK(post.status == 405);
  CHECK(post.headers[0].value == "GET, HEAD");
}

TEST_CASE("HEAD is served by the GET route") {
  auto r = sample_router();
  CHECK(r.handle(make_request("HEAD", "/metrics")).body == "metrics");
}

TEST_CASE("the first route added for a method and pattern wins") {
  router r;
  r.add("GET", "/x", [](const request&, const route_params&) { return response::text(200, "first"); });
  r.add("GET", "/{any}", [](const request&, const route_params&) { return response::text(200, "second"); });
  CHECK(r.handle(make_request("GET", "/x")).body == "first");
  CHECK(r.handle(make_request("GET", "/y")).body == "second");
}
