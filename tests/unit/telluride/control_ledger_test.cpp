#include "telluride/domain/control_ledger.hpp"

#include <doctest/doctest.h>

#include <string>

using telluride::control_ledger;

namespace {
const std::string unlimited = R"({"rate_limit_allowed": 0})";
const std::string slower = R"({"rate_limit_allowed": 30})";
} // namespace

TEST_CASE("a redelivered control message with the id and body of a handled one is a copy") {
  control_ledger ledger;
  CHECK_FALSE(ledger.is_copy("cfg-1", unlimited, true));  // not handled yet: apply it
  ledger.handled("cfg-1", unlimited);
  CHECK(ledger.is_copy("cfg-1", unlimited, true));
  CHECK(ledger.is_copy("cfg-1", unlimited, true));  // every further copy too
}

TEST_CASE("a first delivery is never a copy, even with an id and body handled before") {
  // A publisher that sends the same change again means it: only the broker's redelivery is a copy.
  control_ledger ledger;
  ledger.handled("cfg-1", unlimited);
  CHECK_FALSE(ledger.is_copy("cfg-1", unlimited, false));
}

TEST_CASE("another body under a handled id, or another id with a handled body, is not a copy") {
  control_ledger ledger;
  ledger.handled("cfg-1", unlimited);
  CHECK_FALSE(ledger.is_copy("cfg-1", slower, true));
  CHECK_FALSE(ledger.is_copy("cfg-2", unlimited, true));
  CHECK_FALSE(ledger.is_copy("cfg-1", unlimited + " ", true));
}

TEST_CASE("a message without message_id is never recorded nor taken for a copy") {
  control_ledger ledger;
  ledger.handled("", unlimited);
  CHECK_FALSE(ledger.is_copy("", unlimited, true));
  CHECK_FALSE(ledger.is_copy("", "", true));
}

TEST_CASE("the ledger forgets the oldest handled message once full") {
  control_ledger ledger(2);
  ledger.handled("cfg-1", unlimited);
  ledger.handled("cfg-2", slower);
  ledger.handled("cfg-3", unlimited);  // forgets cfg-1
  CHECK_FALSE(ledger.is_copy("cfg-1", unlimited, true));
  CHECK(ledger.is_copy("cfg-2", slower, true));
  CHECK(ledger.is_copy("cfg-3", unlimited, true));
}

TEST_CASE("an empty body is an identity like any other") {
  control_ledger ledger;
  ledger.handled("cfg-1", "");
  CHECK(ledger.is_copy("cfg-1", "", true));
  CHECK_FALSE(ledger.is_copy("cfg-1", "{}", true));
}
