#include "telluride/http/bearer_token.hpp"

#include <cstddef>

namespace telluride::http {

bool constant_time_equals(std::string_view given, std::string_view expected) noexcept {
  if (expected.empty())
    return given.empty();
  // One step per byte of `given` (its length is the caller's to know), each against the
  // expected byte at the same place, wrapping round: the time shows neither where the two
  // differ nor the expected length. No branch or division depends on the expected value.
  std::size_t diff = given.size() ^ expected.size();
  std::size_t j = 0;
  for (const char c : given) {
    diff |= static_cast<unsigned char>(c) ^ static_cast<unsigned char>(expected[j]);
    ++j;
    j *= static_cast<std::size_t>(j != expected.size());
  }
  // volatile keeps the compiler from turning the loop into an early-exit comparison.
  volatile std::size_t result = diff;
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
