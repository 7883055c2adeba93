#include "telluride/http/bearer_token.hpp"

#include <algorithm>

namespace telluride::http {

bool constant_time_equals(std::string_view a, std::string_view b) noexcept {
  // Walk the longer length so neither the mismatch position nor the shorter length shows.
  std::size_t n = std::max(a.size(), b.size());
  unsigned diff = a.size() == b.size() ? 0U : 1U;
  for (std::size_t i = 0; i < n; ++i) {
    auto x = static_cast<unsigned char>(i < a.size() ? a[i] : 0);
    auto y = static_cast<unsigned char>(i < b.size() ? b[i] : 0);
    diff |= static_cast<unsigned>(x ^ y);
  }
  // volatile keeps the compiler from turning the loop into an early-exit comparison.
  volatile unsigned result = diff;
  return result == 0;
}

bool has_bearer_token(const request& req, std::string_view token) {
  if (token.empty())
    return false;
  auto value = req.header("Authorization");
  if (!value)
    return false;
  constexpr std::string_view scheme = "bearer ";
  if (value->size() < scheme.size() || !iequals(value->substr(0, scheme.size()), scheme))
    return false;
  auto given = value->substr(scheme.size());
  while (!given.empty() && (given.front() == ' ' || given.front() == '\t'))
    given.remove_prefix(1);
  while (!given.empty() && (given.back() == ' ' || given.back() == '\t'))
    given.remove_suffix(1);
  return constant_time_equals(given, token);
}

} // namespace telluride::http
