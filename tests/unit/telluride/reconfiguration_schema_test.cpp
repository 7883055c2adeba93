// GET /api/config/schema's document against the option table the daemon validates with.
#include "telluride/domain/config_schema.hpp"
#include "telluride/domain/reconfiguration_schema.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace telluride;

TEST_CASE("the schema lists exactly the reconfiguration keys of the option table, with their bounds") {
  auto schema = reconfiguration_schema_json();
  const auto& keys = schema.at("keys");
  std::size_t i = 0;
  for (const option_spec& option : config_options()) {
    if (!option.is_reconfigurable)
      continue;
    REQUIRE(i < keys.size());
    const auto& entry = keys[i++];
    CHECK(entry.at("key") == std::string{option.key});
    CHECK(entry.at("type") == "integer");
    CHECK(entry.at("min") == option.min);
    CHECK(entry.at("max") == option.max);
    CHECK(entry.at("default") == nlohmann::json::parse(option.default_json));
    CHECK(entry.at("help") == std::string{option.help});
    CHECK(entry.size() == 6);
  }
  CHECK(keys.size() == i);
  CHECK(keys.size() == 10);  // CONTRACT §3's reconfiguration table
}

TEST_CASE("the schema's first and bounded keys read as CONTRACT section 3 states them") {
  auto keys = reconfiguration_schema_json().at("keys");
  CHECK(keys[0].at("key") == "producer_concurrency");
  CHECK(keys[0].at("min") == 1);
  CHECK(keys[0].at("max") == 64);
  CHECK(keys[0].at("default") == 1);
  auto find = [&](const char* key) {
    for (const auto& k : keys)
      if (k.at("key") == key)
        return k;
    FAIL("no key ", key);
    return nlohmann::json{};
  };
  CHECK(find("rate_limit_allowed").at("min") == 0);
  CHECK(find("rate_limit_allowed").at("max") == 1'000'000'000);
  CHECK(find("prefetch_count").at("max") == 65535);
  CHECK(find("batch_timeout_ms").at("default") == 100);
}

TEST_CASE("a value the schema's bounds accept is accepted by the daemon's validation, one outside refused") {
  const auto schema = reconfiguration_schema_json();  // a range-for over the temporary's keys reads freed memory
  for (const auto& k : schema.at("keys")) {
    const std::string key = k.at("key");
    const std::int64_t min = k.at("min");
    const std::int64_t max = k.at("max");
    CHECK(validate_reconfiguration(nlohmann::json{{key, min}}).has_value());
    CHECK(validate_reconfiguration(nlohmann::json{{key, max}}).has_value());
    auto below = validate_reconfiguration(nlohmann::json{{key, min - 1}});
    REQUIRE_FALSE(below.has_value());
    CHECK(below.err().message == key + " must be an integer in " + std::to_string(min) + ".." + std::to_string(max) +
                                   ", got " + std::to_string(min - 1));
    CHECK_FALSE(validate_reconfiguration(nlohmann::json{{key, max + 1}}).has_value());
  }
}
