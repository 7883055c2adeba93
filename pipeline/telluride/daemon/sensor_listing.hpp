// sensor_listing.hpp — the sensors of GET /api/sensors: those whose key text (`line/device/sensor`,
// as sensor_key_text writes it) contains a search text, the first `limit` in the order asked for
// (`sort`): the most read first, or the most alerts raised first; and how that route shows a
// sensor (GET /api/sensors/{line}/{device}/{sensor} answers the bare aggregate message).
//
// Fed one aggregate at a time (under each shard's lock, by the route), it keeps only the `limit`
// best so far in a heap, so its memory is bounded whatever the number of sensors. Pure.
#pragma once

#include "telluride/domain/expected.hpp"
#include "telluride/domain/sensor_aggregate.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace telluride {

/// The order of the listing: `reads` (total_reads, most first) or `alerts` (alerts raised for
/// the sensor, most first; ties: the most read first). Ties after that: the smaller key text.
enum class sensor_order : std::uint8_t { reads, alerts };

struct sensor_listing_query {
  static constexpr std::size_t max_limit = 500;
  static constexpr std::size_t max_search_bytes = 256;
  std::string search;       ///< empty: every sensor
  std::size_t limit = 50;   ///< 1..max_limit
  sensor_order order = sensor_order::reads;
};

/// The query from the decoded `q`, `limit` and `sort` parameters (absent: every sensor, 50,
/// reads); an error names the first bad parameter: `q` over 256 bytes, `limit` not an integer in
/// 1..500, `sort` neither `reads` nor `alerts`. No value is echoed (it may be any bytes).
expected<sensor_listing_query> parse_sensor_listing_query(const std::optional<std::string>& search,
                                                          const std::optional<std::string>& limit,
                                                          const std::optional<std::string>& sort);

/// Appends a sensor as the listing shows it: the aggregate message (docs/wire-format.md,
/// Aggregate) with one more field, `"alerts"`, the alerts raised for the sensor since its state
/// began (in durable mode, since the deployment first started).
void append_sensor_json(std::string& out, const sensor_aggregate& aggregate, std::uint64_t alerts);

class sensor_listing {
public:
  explicit sensor_listing(sensor_listing_query query);

  /// Counts the aggregate when its key matches, and keeps it (with its count of alerts) when it
  /// is among the first `limit` so far in the query's order. `alerts`: the alerts raised for the
  /// sensor (its rank under sensor_order::alerts).
  void offer(const sensor_aggregate& aggregate, std::uint64_t alerts);

  /// `{"matched": N, "sensors": [sensors...]}` (append_sensor_json): N sensors matched, the
  /// kept ones in the query's order.
  std::string take_json();

private:
  struct entry {
    std::uint64_t rank;  ///< reads or alerts, as the order says
    std::uint64_t reads;
    std::string key_text;
    sensor_aggregate aggregate;
    std::uint64_t alerts;
  };
  /// Whether `a` comes before `b`: the higher rank, then the more reads, then the smaller key.
  static bool ranks_before(const entry& a, const entry& b);

  sensor_listing_query query_;
  std::uint64_t matched_ = 0;
  std::vector<entry> kept_;  ///< a heap whose front is the worst kept
};

} // namespace telluride
