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
}

TEST_CASE("a parameter with a bad escape or that decodes to invalid UTF-8 answers 400") {
  auto r = sample_router();
  for (const char* path : {"/api/sensors/L1/d%zz/temp", "/api/sensors/L1/d%ff/temp", "/api/sensors/%c3/d/temp",
                           "/api/sensors/L1/d/%ed%a0%80"}) {
    CAPTURE(path);
    auto res = r.handle(make_request("GET", path));
    CHECK(res.status == 400);
    CHECK(res.body == "bad path: a segment has a bad percent escape or is not UTF-8\n");
  }
  CHECK(r.handle(make_request("GET", "/api/sensors/L1/caf%C3%A9/temp")).body == "L1/caf\xc3\xa9/temp/3");
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

TEST_CASE("each route says where its handler runs and refusals run on the loop") {
  router r;
  r.add("GET", "/fast", [](const request&, const route_params&) { return response::text(200, "fast"); });
  r.add("POST", "/slow/{id}", [](const request&, const route_params&) { return response::text(200, "slow"); },
        handler_thread::worker);
  CHECK(r.where(make_request("GET", "/fast")) == handler_thread::loop);
  CHECK(r.where(make_request("POST", "/slow/7")) == handler_thread::worker);
  CHECK(r.where(make_request("GET", "/slow/7")) == handler_thread::loop);    // 405
  CHECK(r.where(make_request("POST", "/slow/%zz")) == handler_thread::loop); // 400
  CHECK(r.where(make_request("GET", "/nope")) == handler_thread::loop);      // 404
  CHECK(r.handle(make_request("POST", "/slow/7")).body == "slow");
}
