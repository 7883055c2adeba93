// http_request_fuzz.cpp — the HTTP request parser (docs/http.md, Limits) on arbitrary bytes.
//
// The input is the bytes of one connection. It is fed three ways: whole, in chunks of 1..16
// bytes (sizes from a generator seeded with the input, so a crash reproduces), and whole to
// a parser with small limits. Invariants: how the bytes are split changes nothing (same
// requests, same failure, same mid-request state); every request respects the limits it was
// parsed under, and one parsed under small limits is the one parsed under the defaults; a
// failure is 400, 413, 414 or 431 with a one-line reason; a parser that failed returns nothing more.
#include "fuzz_check.hpp"

#include "telluride/http/request_parser.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace {

using telluride::http::parse_limits;
using telluride::http::parsed_request;
using telluride::http::request_parser;

constexpr parse_limits small_limits{.max_request_line_bytes = 100, .max_header_bytes = 200, .max_body_bytes = 64};

struct outcome {
  std::vector<parsed_request> requests;
  std::optional<telluride::http::parse_failure> failure;
  bool is_mid_request = false;
  std::size_t continues = 0;
};

std::string describe(const parsed_request& p) {
  std::string out = p.req.method + " " + p.req.path + "?" + p.req.query + " HTTP/" +
                    std::to_string(p.req.http_major) + "." + std::to_string(p.req.http_minor);
  for (const auto& h : p.req.headers)
    out += " [" + h.name + ": " + h.value + "]";
  return out + " body=" + p.req.body + (p.keep_alive ? " keep-alive" : " close");
}

std::string describe(const outcome& o) {
  std::string out;
  for (const auto& p : o.requests)
    out += describe(p) + " | ";
  if (o.failure)
    out += std::to_string(o.failure->status) + " " + o.failure->reason;
  return out + (o.is_mid_request ? " (mid-request)" : "");
}

bool same_request(const parsed_request& a, const parsed_request& b) {
  const auto& x = a.req;
  const auto& y = b.req;
  if (x.headers.size() != y.headers.size())
    return false;
  for (std::size_t i = 0; i < x.headers.size(); ++i)
    if (x.headers[i].name != y.headers[i].name || x.headers[i].value != y.headers[i].value)
      return false;
  return x.method == y.method && x.path == y.path && x.query == y.query && x.body == y.body &&
         x.http_major == y.http_major && x.http_minor == y.http_minor &&
         a.keep_alive == b.keep_alive;
}

bool same_outcome(const outcome& a, const outcome& b) {
  if (a.requests.size() != b.requests.size() || a.is_mid_request != b.is_mid_request ||
      a.failure.has_value() != b.failure.has_value())
    return false;
  for (std::size_t i = 0; i < a.requests.size(); ++i)
    if (!same_request(a.requests[i], b.requests[i]))
      return false;
  return !a.failure ||
         (a.failure->status == b.failure->status && a.failure->reason == b.failure->reason);
}

/// Feeds `bytes` in pieces of the given sizes (the last piece takes the rest).
outcome feed(std::string_view bytes, parse_limits limits, const std::vector<std::size_t>& pieces) {
  request_parser parser(limits);
  outcome out;
  std::size_t at = 0;
  for (std::size_t i = 0; at < bytes.size(); ++i) {
    const std::size_t n = i < pieces.size() ? pieces[i] : bytes.size() - at;
    const bool had_failed = parser.failure().has_value();
    auto result = parser.feed(bytes.substr(at, n));
    at += n;
    if (had_failed)
      fuzz::check(result.requests.empty() && !result.send_continue,
                  "a parser that failed returns nothing more");
    out.continues += result.send_continue ? 1 : 0;
    for (auto& r : result.requests)
      out.requests.push_back(std::move(r));
  }
  out.failure = parser.failure();
  out.is_mid_request = parser.is_mid_request();
  return out;
}

/// Chunk sizes 1..16 from a xorshift generator seeded with the input's FNV-1a hash.
std::vector<std::size_t> chunk_sizes(std::string_view bytes) {
  std::uint64_t state = 1469598103934665603ULL;
  for (unsigned char c : bytes)
    state = (state ^ c) * 1099511628211ULL;
  std::vector<std::size_t> sizes;
  for (std::size_t total = 0; total < bytes.size();) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    sizes.push_back(1 + state % 16);
    total += sizes.back();
  }
  return sizes;
}

void check_limits(const outcome& o, parse_limits limits, std::string_view where) {
  const auto broken = [&](std::string_view invariant, std::string_view detail) {
    fuzz::fail(std::string(where) + ": " + std::string(invariant), detail);
  };
  for (const auto& p : o.requests) {
    // The request line (method, target, version) has a limit of its own (414), the header
    // fields another (431).
    if (p.req.path.size() + p.req.query.size() > limits.max_request_line_bytes)
      broken("a request's target fits the request-line limit", describe(p));
    std::size_t header_bytes = 0;
    for (const auto& h : p.req.headers)
      header_bytes += h.name.size() + h.value.size();
    if (header_bytes > limits.max_header_bytes)
      broken("a request's headers fit the header limit", describe(p));
    if (p.req.body.size() > limits.max_body_bytes)
      broken("a request's body fits the body limit", describe(p));
    if (p.req.path.empty())
      broken("a request has a path", describe(p));
    // The request's accessors must cope with whatever was parsed.
    (void)p.req.header("Content-Length");
    (void)p.req.query_value("window");
    (void)telluride::http::percent_decode(p.req.path);
  }
  if (o.failure) {
    const int status = o.failure->status;
    if (status != 400 && status != 413 && status != 414 && status != 431)
      broken("a failure answers 400, 413, 414 or 431", std::to_string(status));
    fuzz::check_error_text(o.failure->reason, std::string(where) + ": parse_failure::reason");
  }
  if (o.continues > o.requests.size() + 1)
    broken("100 Continue is asked at most once per request", describe(o));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);

  const outcome whole = feed(bytes, {}, {});
  check_limits(whole, {}, "whole");
  const outcome chunked = feed(bytes, {}, chunk_sizes(bytes));
  check_limits(chunked, {}, "chunked");
  fuzz::check(same_outcome(whole, chunked), "splitting the bytes changes nothing",
              [&] { return describe(whole) + "  VS  " + describe(chunked); });

  const outcome small = feed(bytes, small_limits, {});
  check_limits(small, small_limits, "small limits");
  fuzz::check(small.requests.size() <= whole.requests.size(),
              "small limits parse no more requests",
              [&] { return describe(small) + "  VS  " + describe(whole); });
  for (std::size_t i = 0; i < small.requests.size(); ++i)
    fuzz::check(same_request(small.requests[i], whole.requests[i]),
                "a request within small limits is parsed as under the defaults",
                [&] { return describe(small.requests[i]) + "  VS  " + describe(whole.requests[i]); });
  if (!small.failure)
    fuzz::check(same_outcome(small, whole), "input within small limits parses as under the defaults",
                [&] { return describe(small) + "  VS  " + describe(whole); });
  return 0;
}
