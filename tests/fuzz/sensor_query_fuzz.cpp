// sensor_query_fuzz.cpp — the query string of GET /api/sensors (docs/http.md, Routes) on arbitrary
// bytes: the `q`, `limit` and `sort` values as the route takes them from the query
// (request::query_value: split at '&' and '=', percent-decoded, '+' a space), their checks
// (parse_sensor_listing_query), and the listing they give over a fixed set of sensors.
//
// Invariants, each against an oracle written here: every value is what a plain reading of the
// query gives (the first pair with that name; nothing for a bad escape); the query is refused
// exactly when a plain reading of the rules says so, naming the first bad parameter in one clean
// line; an accepted query keeps its values; its listing is valid JSON, counts exactly the sensors
// whose key text holds `q`, lists min(limit, matched) of them, every one matching, in the order
// asked for (ties: more reads, then the smaller key text).
#include "fuzz_check.hpp"

#include "telluride/daemon/sensor_listing.hpp"
#include "telluride/http/request.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace {

using telluride::sensor_listing_query;
using telluride::sensor_order;

// ---- the oracle's own reading of the query -------------------------------------------------

int hex_digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/// %XX escapes and '+' as a space; nothing for a '%' without two hex digits.
std::optional<std::string> decode(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%') {
      if (i + 2 >= text.size())
        return std::nullopt;
      const int high = hex_digit(text[i + 1]), low = hex_digit(text[i + 2]);
      if (high < 0 || low < 0)
        return std::nullopt;
      out += static_cast<char>(high * 16 + low);
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

/// The value of the first pair whose decoded name is `name` ("" for a bare name), or nothing
/// (absent, or its value badly escaped).
std::optional<std::string> value_of(std::string_view query, std::string_view name) {
  std::size_t start = 0;
  while (start < query.size()) {
    std::size_t end = query.find('&', start);
    if (end == std::string_view::npos)
      end = query.size();
    const std::string_view pair = query.substr(start, end - start);
    start = end + 1;
    const std::size_t eq = pair.find('=');
    const auto key = decode(pair.substr(0, eq));
    if (!key || *key != name)
      continue;
    if (eq == std::string_view::npos)
      return std::string{};
    return decode(pair.substr(eq + 1));
  }
  return std::nullopt;
}

/// A limit the rules accept: decimal digits only, 1..500 (leading zeros allowed).
std::optional<std::size_t> limit_of(const std::string& text) {
  if (text.empty())
    return std::nullopt;
  std::size_t n = 0;
  for (char c : text) {
    if (c < '0' || c > '9')
      return std::nullopt;
    n = n * 10 + static_cast<std::size_t>(c - '0');
    if (n > 500)
      return std::nullopt;
  }
  return n >= 1 ? std::optional<std::size_t>{n} : std::nullopt;
}

// ---- the sensors listed ----------------------------------------------------------------------

struct sensor {
  telluride::json_id line, device, id;
  std::string text;  ///< line/device/sensor as the listing matches it, written out by hand
  int reads;
  std::uint64_t alerts;
};

telluride::json_id integer(std::int64_t v) { return telluride::json_id{v}; }
telluride::json_id text_id(std::string v) { return telluride::json_id{std::move(v)}; }

/// Sensors with integer and string ids (separators, escapes, spaces, non-ASCII and '+' inside
/// them), read 1..9 times, with 0..3 alerts, so every order has ties.
const std::vector<sensor>& sensors() {
  static const std::vector<sensor> all = [] {
    std::vector<sensor> v;
    for (int i = 0; i < 14; ++i)
      v.push_back({integer(10 + i % 3), integer(100), integer(1000 + i), std::to_string(10 + i % 3) + "/100/" +
                   std::to_string(1000 + i), 1 + i % 9, static_cast<std::uint64_t>(i % 4)});
    v.push_back({integer(-3), text_id("a/b"), integer(7), "-3/a/b/7", 4, 2});
    v.push_back({text_id("line 1"), text_id("%41"), text_id("x+y"), "line 1/%41/x+y", 9, 0});
    v.push_back({text_id("\xc3\xa9t\xc3\xa9"), integer(0), text_id("&="), "\xc3\xa9t\xc3\xa9/0/&=", 2, 3});
    // The key text of 10/100/1000 with a string sensor id: two sensors, one text.
    v.push_back({integer(10), integer(100), text_id("1000"), "10/100/1000", 1, 1});
    return v;
  }();
  return all;
}

nlohmann::json json_of(const telluride::json_id& id) {
  return id.is_integer() ? nlohmann::json(id.integer()) : nlohmann::json(id.text());
}

/// Each sensor's alerts, by its ids as a JSON array's text (the key text is not unique).
const std::map<std::string, std::uint64_t>& alerts_by_ids() {
  static const std::map<std::string, std::uint64_t> all = [] {
    std::map<std::string, std::uint64_t> m;
    for (const auto& s : sensors())
      m.emplace(nlohmann::json{json_of(s.line), json_of(s.device), json_of(s.id)}.dump(), s.alerts);
    return m;
  }();
  return all;
}

std::string text_of(const nlohmann::json& id) {
  return id.is_number_integer() ? std::to_string(id.get<std::int64_t>()) : id.get<std::string>();
}

/// What the listing must give for `query`.
void check_listing(const sensor_listing_query& query) {
  telluride::sensor_listing listing{query};
  std::size_t matched = 0;
  for (const auto& s : sensors()) {
    telluride::sensor_aggregate a;
    a.key = telluride::sensor_key{s.line, s.device, s.id};
    for (int r = 0; r < s.reads; ++r)
      a.stats.add(static_cast<double>(r));
    listing.offer(a, s.alerts);
    if (s.text.find(query.search) != std::string::npos)
      ++matched;
  }
  const std::string body = listing.take_json();
  const auto doc = nlohmann::json::parse(body, nullptr, false);
  fuzz::check(!doc.is_discarded() && doc.is_object(), "the listing is a JSON object", body);
  fuzz::check(doc["matched"] == matched, "matched counts every sensor whose key text holds q", body);
  const auto& listed = doc["sensors"];
  fuzz::check(listed.size() == std::min(query.limit, matched), "the listing holds min(limit, matched) sensors", body);
  using rank = std::tuple<std::uint64_t, std::uint64_t, std::string>;  // order key, reads, key text
  std::optional<rank> previous;
  for (const auto& a : listed) {
    const std::string text = text_of(a["line_id"]) + "/" + text_of(a["device_id"]) + "/" + text_of(a["sensor_id"]);
    fuzz::check(text.find(query.search) != std::string::npos, "every sensor listed holds q", text);
    const auto found = alerts_by_ids().find(nlohmann::json{a["line_id"], a["device_id"], a["sensor_id"]}.dump());
    fuzz::check(found != alerts_by_ids().end(), "every sensor listed is one of those offered", text);
    const std::uint64_t alerts = found->second;
    const auto reads = a["total_reads"].get<std::uint64_t>();
    rank current{query.order == sensor_order::alerts ? alerts : reads, reads, text};
    if (previous) {
      const bool in_order = std::get<0>(*previous) != std::get<0>(current)
                              ? std::get<0>(*previous) > std::get<0>(current)
                            : std::get<1>(*previous) != std::get<1>(current)
                              ? std::get<1>(*previous) > std::get<1>(current)
                              : std::get<2>(*previous) <= std::get<2>(current);  // one text, two keys: either
      fuzz::check(in_order, "the sensors come in the order asked for", body);
    }
    previous = current;
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  telluride::http::request req;
  req.query.assign(reinterpret_cast<const char*>(data), size);

  const auto q = req.query_value("q");
  const auto limit = req.query_value("limit");
  const auto sort = req.query_value("sort");
  fuzz::check(q == value_of(req.query, "q"), "q is the first q pair's value, decoded", req.query);
  fuzz::check(limit == value_of(req.query, "limit"), "limit is the first limit pair's value, decoded", req.query);
  fuzz::check(sort == value_of(req.query, "sort"), "sort is the first sort pair's value, decoded", req.query);

  // The rules, in the order the route checks them.
  std::optional<std::string> refusal;
  if (q && q->size() > sensor_listing_query::max_search_bytes)
    refusal = "q must be at most 256 bytes, got " + std::to_string(q->size());
  else if (limit && !limit_of(*limit))
    refusal = "limit must be an integer in 1..500";
  else if (sort && *sort != "reads" && *sort != "alerts")
    refusal = "sort must be reads or alerts";

  const auto parsed = telluride::parse_sensor_listing_query(q, limit, sort);
  if (!parsed) {
    fuzz::check_error_text(parsed.err().message, "parse_sensor_listing_query");
    fuzz::check(refusal.has_value(), "a query the rules accept is accepted", parsed.err().message);
    fuzz::check(parsed.err().message == *refusal, "a refusal names the first bad parameter",
                [&] { return parsed.err().message + "  VS  " + *refusal; });
    return 0;
  }
  fuzz::check(!refusal, "a query the rules refuse is refused", refusal.value_or(""));
  fuzz::check(parsed->search == q.value_or(""), "the search is q as decoded", req.query);
  fuzz::check(parsed->limit == (limit ? *limit_of(*limit) : 50), "the limit is the one given, else 50", req.query);
  fuzz::check(parsed->order == (sort == std::optional<std::string>{"alerts"} ? sensor_order::alerts : sensor_order::reads),
              "the order is the one given, else reads", req.query);
  check_listing(*parsed);
  return 0;
}
