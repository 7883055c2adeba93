// state_builders.hpp — readings and sensor records for the state tests, and what the tests
// compare shard states by (aggregate JSON, raw stats bits, counters, ids).
#pragma once

#include "telluride/state/shard_state.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <deque>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace state_test {

using namespace telluride;

inline sensor_key key_of(std::int64_t sensor) {
  return sensor_key{json_id{10}, json_id{100}, json_id{sensor}};
}

inline sensor_key string_key_of(std::int64_t sensor) {
  return sensor_key{json_id{std::string("line-a")}, json_id{100}, json_id{"s-" + std::to_string(sensor)}};
}

/// Readings that live as long as the batches pointing at them, and the batches.
class batch_builder {
public:
  /// Adds a reading of `key` to the batch being built; `message_id` empty for none.
  batch_builder& add(const sensor_key& key, double value, std::string message_id = {},
                     std::string timestamp = "2026-11-22T10:00:00Z") {
    reading& r = readings_.emplace_back();
    r.key = key;
    r.value = value;
    r.timestamp = timestamp;
    std::optional<std::uint64_t> id;
    if (!message_id.empty())
      id = message_id_fingerprint(message_id);
    batch_.push_back({&r, id});
    return *this;
  }

  /// The batch built since the last call.
  std::vector<shard_state::input> take() {
    std::vector<shard_state::input> out;
    out.swap(batch_);
    return out;
  }

private:
  std::deque<reading> readings_;
  std::vector<shard_state::input> batch_;
};

inline bool same_bits(const running_stats::raw_state& a, const running_stats::raw_state& b) {
  return std::memcmp(&a, &b, sizeof a) == 0;
}

/// The fingerprints of `ids`, in order.
inline std::vector<std::uint64_t> fps(std::initializer_list<std::string_view> ids) {
  std::vector<std::uint64_t> out;
  for (std::string_view id : ids)
    out.push_back(message_id_fingerprint(id));
  return out;
}

/// Every remembered id's fingerprint, oldest first.
inline std::vector<std::uint64_t> ids_of(const message_id_window& window) {
  std::vector<std::uint64_t> out;
  window.for_each_latest(window.size(), [&](std::uint64_t id) { out.push_back(id); });
  return out;
}

/// Checks that two shard states hold the same sensors (same order, same aggregate JSON, same
/// raw stats bit for bit, same alert counters and alerts raised), the same ids and the same
/// alerts_raised.
inline void check_same_state(const shard_state& actual, const shard_state& expected) {
  REQUIRE(actual.table().size() == expected.table().size());
  for (std::uint32_t p = 0; p < expected.table().size(); ++p) {
    const sensor_aggregate& a = actual.table().at(p);
    const sensor_aggregate& e = expected.table().at(p);
    CAPTURE(to_json_text(e));
    CHECK(to_json_text(a) == to_json_text(e));
    CHECK(same_bits(a.stats.raw(), e.stats.raw()));
    CHECK(actual.alerts().consecutive(a.key) == expected.alerts().consecutive(e.key));
    CHECK(actual.alerts().raised_for(a.key) == expected.alerts().raised_for(e.key));
  }
  CHECK(actual.alerts().sensors_above() == expected.alerts().sensors_above());
  CHECK(actual.alerts().sensors_alerted() == expected.alerts().sensors_alerted());
  CHECK(ids_of(actual.message_ids()) == ids_of(expected.message_ids()));
  CHECK(actual.alerts_raised() == expected.alerts_raised());
}

/// An aggregate of `readings` values 1, 2, ..., readings for `key`.
inline sensor_record record_of(const sensor_key& key, int readings, std::uint64_t warnings = 0,
                               std::uint64_t alerts = 0) {
  sensor_record record;
  record.aggregate.key = key;
  for (int i = 1; i <= readings; ++i)
    record.aggregate.stats.add(i);
  record.aggregate.last_reading = readings;
  record.aggregate.last_timestamp = "2026-11-22T10:00:0" + std::to_string(readings % 10) + "Z";
  record.consecutive_warnings = warnings;
  record.alerts = alerts;
  return record;
}

} // namespace state_test
