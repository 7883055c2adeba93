#include "causeway/options.hpp"

#include <optional>
#include <set>
#include <string>

namespace causeway {

namespace {

std::optional<error> check_range(const std::string& key, std::uint64_t value, std::uint64_t lo,
                                 std::uint64_t hi) {
  if (value < lo || value > hi)
    return error{key + " must be in " + std::to_string(lo) + ".." + std::to_string(hi) +
                 ", got " + std::to_string(value)};
  return std::nullopt;
}

std::optional<error> check_duration(const std::string& key, std::chrono::milliseconds value,
                                    std::int64_t lo, std::int64_t hi) {
  if (value.count() < lo || value.count() > hi)
    return error{key + " must be in " + std::to_string(lo) + ".." + std::to_string(hi) +
                 " ms, got " + std::to_string(value.count())};
  return std::nullopt;
}

} // namespace

expected<void> validate(const pipeline_options& o) {
  constexpr std::uint64_t max_concurrency = 1024;
  constexpr std::int64_t max_ms = 24LL * 3600 * 1000;
  if (o.name.empty())
    return error{"name must be a non-empty string"};
  if (auto e = check_range("producer.concurrency", o.producer.concurrency, 1, max_concurrency))
    return *e;
  if (auto e = check_range("producer.rate_limit.allowed", o.producer.rate_limit.allowed, 0,
                           1'000'000'000))
    return *e;
  if (auto e = check_duration("producer.rate_limit.interval", o.producer.rate_limit.interval, 1, max_ms))
    return *e;
  if (o.processors.name.empty())
    return error{"processors.name must be a non-empty string"};
  if (auto e = check_range("processors.concurrency", o.processors.concurrency, 1, max_concurrency))
    return *e;
  if (auto e = check_range("processors.max_demand", o.processors.max_demand, 1, 1'000'000))
    return *e;
  if (o.processors.min_demand >= o.processors.max_demand)
    return error{"processors.min_demand must be less than processors.max_demand (" +
                 std::to_string(o.processors.max_demand) + "), got " +
                 std::to_string(o.processors.min_demand)};
  std::set<std::string> names;
  for (const auto& b : o.batchers) {
    if (b.name.empty())
      return error{"batchers[].name must be a non-empty string"};
    auto prefix = "batchers." + b.name + ".";
    if (!names.insert(b.name).second)
      return error{"batchers." + b.name + " is defined twice"};
    if (auto e = check_range(prefix + "concurrency", b.concurrency, 1, max_concurrency))
      return *e;
    if (auto e = check_range(prefix + "batch_size", b.batch_size, 1, 100'000))
      return *e;
    if (auto e = check_duration(prefix + "batch_timeout", b.batch_timeout, 1, max_ms))
      return *e;
    if (auto e = check_range(prefix + "max_demand", b.max_demand, 0, 1'000'000))
      return *e;
  }
  if (auto e = check_duration("shutdown_timeout", o.shutdown_timeout, 1, max_ms))
    return *e;
  return {};
}

std::size_t effective_max_demand(const batcher_options& options) noexcept {
  return options.max_demand != 0 ? options.max_demand : 2 * options.batch_size * options.concurrency;
}

std::size_t in_flight_bound(const pipeline_options& o) noexcept {
  // Each processor holds at most max_demand per producer it subscribes to (asked or received,
  // including outputs waiting for batcher demand). A batcher holds at most the demand it granted
  // to each processor; a batch processor at most the batches it asked for.
  std::size_t bound = o.processors.concurrency * o.producer.concurrency * o.processors.max_demand;
  for (const auto& b : o.batchers) {
    bound += o.processors.concurrency * effective_max_demand(b);
    bound += b.concurrency * batch_processor_demand * b.batch_size;
  }
  return bound;
}

} // namespace causeway
