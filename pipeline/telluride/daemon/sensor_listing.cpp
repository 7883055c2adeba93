#include "telluride/daemon/sensor_listing.hpp"

#include "telluride/domain/json_text.hpp"
#include "telluride/domain/sensor_key.hpp"

#include <algorithm>
#include <charconv>

namespace telluride {

expected<sensor_listing_query> parse_sensor_listing_query(const std::optional<std::string>& search,
                                                          const std::optional<std::string>& limit,
                                                          const std::optional<std::string>& sort) {
  sensor_listing_query query;
  if (search) {
    if (search->size() > sensor_listing_query::max_search_bytes)
      return error{"q must be at most " + std::to_string(sensor_listing_query::max_search_bytes) + " bytes, got " +
                   std::to_string(search->size())};
    query.search = *search;
  }
  if (limit) {
    // The value is not echoed: it may be anything, invalid UTF-8 included.
    std::size_t n = 0;
    auto [end, problem] = std::from_chars(limit->data(), limit->data() + limit->size(), n);
    if (limit->empty() || problem != std::errc{} || end != limit->data() + limit->size() || n < 1 ||
        n > sensor_listing_query::max_limit)
      return error{"limit must be an integer in 1.." + std::to_string(sensor_listing_query::max_limit)};
    query.limit = n;
  }
  if (sort) {
    if (*sort == "reads")
      query.order = sensor_order::reads;
    else if (*sort == "alerts")
      query.order = sensor_order::alerts;
    else
      return error{"sort must be reads or alerts"};
  }
  return query;
}

void append_sensor_json(std::string& out, const sensor_aggregate& aggregate, std::uint64_t alerts) {
  append_json(out, aggregate);
  out.pop_back();  // the aggregate's closing brace
  out += ",\"alerts\":";
  append_json_unsigned(out, alerts);
  out += '}';
}

sensor_listing::sensor_listing(sensor_listing_query query) : query_(std::move(query)) {
  kept_.reserve(query_.limit + 1);
}

bool sensor_listing::ranks_before(const entry& a, const entry& b) {
  if (a.rank != b.rank)
    return a.rank > b.rank;
  return a.reads != b.reads ? a.reads > b.reads : a.key_text < b.key_text;
}

void sensor_listing::offer(const sensor_aggregate& aggregate, std::uint64_t alerts) {
  auto key_text = sensor_key_text(aggregate.key.key());
  if (!query_.search.empty() && key_text.find(query_.search) == std::string::npos)
    return;
  ++matched_;
  const std::uint64_t reads = aggregate.stats.count();
  entry candidate{query_.order == sensor_order::alerts ? alerts : reads, reads, std::move(key_text), aggregate, alerts};
  if (kept_.size() == query_.limit) {
    if (!ranks_before(candidate, kept_.front()))
      return;
    std::pop_heap(kept_.begin(), kept_.end(), ranks_before);
    kept_.pop_back();
  }
  kept_.push_back(std::move(candidate));
  std::push_heap(kept_.begin(), kept_.end(), ranks_before);
}

std::string sensor_listing::take_json() {
  std::sort_heap(kept_.begin(), kept_.end(), ranks_before);
  std::string out = "{\"matched\":" + std::to_string(matched_) + ",\"sensors\":[";
  for (std::size_t i = 0; i < kept_.size(); ++i) {
    if (i > 0)
      out += ',';
    append_sensor_json(out, kept_[i].aggregate, kept_[i].alerts);
  }
  out += "]}";
  kept_.clear();
  matched_ = 0;
  return out;
}

} // namespace telluride
