// Claims about call_user: what a user's callback throws becomes one failure reason.
#include "causeway/topology/user_callback.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <stdexcept>
#include <string>

using causeway::topology::call_user;

TEST_CASE("a callback that returns gives no reason, and ran once") {
  int calls = 0;
  CHECK(call_user("handle_message", [&] { ++calls; }) == std::nullopt);
  CHECK(calls == 1);
}

TEST_CASE("a std::exception becomes '<step> threw: <what>'") {
  auto why = call_user("handle_batch", [] { throw std::runtime_error("database down"); });
  CHECK(why == std::optional<std::string>{"handle_batch threw: database down"});
}

TEST_CASE("anything else thrown becomes '<step> threw: unknown exception'") {
  auto why = call_user("processors.partition_by", [] { throw 42; });
  CHECK(why == std::optional<std::string>{"processors.partition_by threw: unknown exception"});
}
