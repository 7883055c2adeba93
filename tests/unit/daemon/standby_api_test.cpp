// The routes of a daemon standing by (shards 1, another daemon holds the readings lock):
// alive, not ready and why, the one shard in state standby, and 503 for what needs the state.
#include "telluride/daemon/http_api.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

// Its own namespace: the unity build compiles several test files as one.
namespace standby_api_test {

using telluride::http::request;
using telluride::http::response;

response ask(const telluride::http::router& routes, std::string method, std::string path) {
  request r;
  r.method = std::move(method);
  r.path = std::move(path);
  return routes.handle(r);
}

const std::string reason =
  "standing by: another daemon consumes readings-q (its connection holds the lock readings-q.lock); this one "
  "takes over when that connection closes";

TEST_CASE("a daemon standing by is alive, not ready, says why, and shows the one shard in state standby") {
  auto routes = telluride::make_standby_api({"node-b", "readings-q", "readings-q.lock", "state-s", nullptr});

  CHECK(ask(routes, "GET", "/healthz").status == 200);
  auto ready = ask(routes, "GET", "/readyz");
  CHECK(ready.status == 503);
  CHECK(nlohmann::json::parse(ready.body) == nlohmann::json{{"status", "not ready"}, {"reason", reason}});

  auto shards = ask(routes, "GET", "/api/shards");
  CHECK(shards.status == 200);
  CHECK(nlohmann::json::parse(shards.body) ==
        nlohmann::json{{"node", "node-b"},
                       {"shards", {{{"shard", 0}, {"queue", "readings-q"}, {"owner", ""}, {"state", "standby"},
                                    {"sensors", 0}, {"checkpoint_lag_ms", 0}}}}});

  auto metrics = ask(routes, "GET", "/metrics");
  CHECK(metrics.status == 200);
  CHECK(metrics.body.find("\ntelluride_ready 0\n") != std::string::npos);
  CHECK(metrics.body.find("\ntelluride_standby 1\n") != std::string::npos);
}

TEST_CASE("a daemon standing by answers 503 with the reason on every route that needs its state") {
  auto routes = telluride::make_standby_api({"node-b", "readings-q", "readings-q.lock", "state-s", nullptr});
  const nlohmann::json unavailable{{"error", reason}};
  for (const char* path : {"/", "/dashboard.js", "/api/config", "/api/config/schema", "/api/topology",
                           "/api/sensors", "/api/sensors/1/2/3", "/api/stream"}) {
    CAPTURE(path);
    auto r = ask(routes, "GET", path);
    CHECK(r.status == 503);
    CHECK(nlohmann::json::parse(r.body) == unavailable);
  }
  auto post = ask(routes, "POST", "/api/config");
  CHECK(post.status == 503);
  CHECK(ask(routes, "GET", "/nothing-here").status == 404);
}

TEST_CASE("once it holds the lock and restores, it says so, shows the shard restoring by this node, and is no "
          "longer standing by") {
  auto step = std::make_shared<std::atomic<telluride::start_step>>(telluride::start_step::standing_by);
  auto routes = telluride::make_standby_api({"node-b", "readings-q", "readings-q.lock", "state-s", step});
  CHECK(nlohmann::json::parse(ask(routes, "GET", "/readyz").body)["reason"] == reason);
  step->store(telluride::start_step::restoring);

  const std::string restoring = "restoring the state from the stream state-s before consuming readings-q";
  CHECK(ask(routes, "GET", "/healthz").status == 200);
  auto ready = ask(routes, "GET", "/readyz");
  CHECK(ready.status == 503);
  CHECK(nlohmann::json::parse(ready.body) == nlohmann::json{{"status", "not ready"}, {"reason", restoring}});
  CHECK(nlohmann::json::parse(ask(routes, "GET", "/api/shards").body) ==
        nlohmann::json{{"node", "node-b"},
                       {"shards", {{{"shard", 0}, {"queue", "readings-q"}, {"owner", "node-b"}, {"state", "restoring"},
                                    {"sensors", 0}, {"checkpoint_lag_ms", 0}}}}});
  auto metrics = ask(routes, "GET", "/metrics").body;
  CHECK(metrics.find("\ntelluride_ready 0\n") != std::string::npos);
  CHECK(metrics.find("\ntelluride_standby 0\n") != std::string::npos);
  auto config = ask(routes, "GET", "/api/config");
  CHECK(config.status == 503);
  CHECK(nlohmann::json::parse(config.body) == nlohmann::json{{"error", restoring}});
}

} // namespace standby_api_test
