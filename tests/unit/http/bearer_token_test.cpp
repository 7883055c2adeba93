// The bearer-token check guarding POST /api/config.
#include "telluride/http/bearer_token.hpp"

#include <doctest/doctest.h>

using namespace telluride::http;

namespace {

request with_authorization(std::string value) {
  request req;
  req.headers.push_back({"authorization", std::move(value)});
  return req;
}

} // namespace

TEST_CASE("the exact token after 'Bearer ' is accepted, in any scheme case") {
  CHECK(has_bearer_token(with_authorization("Bearer s3cret"), "s3cret"));
  CHECK(has_bearer_token(with_authorization("bearer s3cret"), "s3cret"));
  CHECK(has_bearer_token(with_authorization("BEARER   s3cret "), "s3cret"));
}

TEST_CASE("a wrong, partial, longer or missing token is refused") {
  CHECK(!has_bearer_token(with_authorization("Bearer s3creT"), "s3cret"));
  CHECK(!has_bearer_token(with_authorization("Bearer s3cre"), "s3cret"));
  CHECK(!has_bearer_token(with_authorization("Bearer s3cretx"), "s3cret"));
  CHECK(!has_bearer_token(with_authorization("Basic s3cret"), "s3cret"));
  CHECK(!has_bearer_token(with_authorization("Bearer"), "s3cret"));
  CHECK(!has_bearer_token(request{}, "s3cret"));
}

TEST_CASE("with no configured token every request is refused") {
  CHECK(!has_bearer_token(with_authorization("Bearer "), ""));
  CHECK(!has_bearer_token(with_authorization("Bearer x"), ""));
}

TEST_CASE("constant_time_equals compares whole strings") {
  CHECK(constant_time_equals("", ""));
  CHECK(constant_time_equals("abc", "abc"));
  CHECK(!constant_time_equals("abc", "abd"));
  CHECK(!constant_time_equals("abc", "ab"));
  CHECK(!constant_time_equals("ab", "abc"));
  CHECK(!constant_time_equals(std::string_view{"a\0", 2}, "a"));
  // Longer than the expected token: compared round it, still unequal.
  CHECK(!constant_time_equals("abcabc", "abc"));
  CHECK(!constant_time_equals("abcab", "abc"));
  CHECK(!constant_time_equals("", "abc"));
  CHECK(!constant_time_equals("abc", ""));
}
