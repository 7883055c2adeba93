// Claims about acknowledge(): one call per acknowledger with exactly its own messages.
#include "causeway/acknowledger.hpp"

#include "string_makers.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

// Its own namespace: the unity build compiles several test files as one.
namespace acknowledger_test {

using causeway::ack_ref;
using causeway::message;

namespace {

using strings = std::vector<std::string>;

/// Remembers the data of every message it was called with, one entry per call.
class recording_acknowledger : public causeway::acknowledger {
public:
  struct call {
    strings successful;
    strings failed;
  };

  void ack(std::span<message> successful, std::span<message> failed) override {
    call c;
    for (const auto& m : successful)
      c.successful.push_back(m.data);
    for (const auto& m : failed)
      c.failed.push_back(m.data);
    calls.push_back(std::move(c));
  }

  std::vector<call> calls;
};

message to(const std::shared_ptr<recording_acknowledger>& target, std::string data) {
  return message{std::move(data), ack_ref{target, 0, 0}};
}

message nowhere(std::string data) { return message{std::move(data)}; }

} // namespace

TEST_CASE("one acknowledger for everything is called once with all messages, in order") {
  auto a = std::make_shared<recording_acknowledger>();
  std::vector<message> ok;
  ok.push_back(to(a, "1"));
  ok.push_back(to(a, "2"));
  ok.push_back(to(a, "3"));
  std::vector<message> failed;
  failed.push_back(to(a, "4"));

  causeway::acknowledge(ok, failed);
  REQUIRE(a->calls.size() == 1);
  CHECK(a->calls[0].successful == strings{"1", "2", "3"});
  CHECK(a->calls[0].failed == strings{"4"});
}

TEST_CASE("interleaved acknowledgers are each called once with exactly their own messages") {
  auto a = std::make_shared<recording_acknowledger>();
  auto b = std::make_shared<recording_acknowledger>();
  std::vector<message> ok;
  ok.push_back(to(a, "a1"));
  ok.push_back(to(b, "b1"));
  ok.push_back(to(a, "a2"));
  ok.push_back(to(b, "b2"));
  ok.push_back(to(a, "a3"));
  std::vector<message> failed;
  failed.push_back(to(b, "b3"));
  failed.push_back(to(a, "a4"));
  failed.push_back(to(b, "b4"));

  causeway::acknowledge(ok, failed);
  REQUIRE(a->calls.size() == 1);
  CHECK(a->calls[0].successful == strings{"a1", "a2", "a3"});
  CHECK(a->calls[0].failed == strings{"a4"});
  REQUIRE(b->calls.size() == 1);
  CHECK(b->calls[0].successful == strings{"b1", "b2"});
  CHECK(b->calls[0].failed == strings{"b3", "b4"});
}

TEST_CASE("an acknowledger with only failed messages gets an empty successful span") {
  auto a = std::make_shared<recording_acknowledger>();
  auto b = std::make_shared<recording_acknowledger>();
  std::vector<message> ok;
  ok.push_back(to(a, "a1"));
  std::vector<message> failed;
  failed.push_back(to(b, "b1"));
  failed.push_back(to(a, "a2"));

  causeway::acknowledge(ok, failed);
  REQUIRE(a->calls.size() == 1);
  CHECK(a->calls[0].successful == strings{"a1"});
  CHECK(a->calls[0].failed == strings{"a2"});
  REQUIRE(b->calls.size() == 1);
  CHECK(b->calls[0].successful == strings{});
  CHECK(b->calls[0].failed == strings{"b1"});
}

TEST_CASE("only failed messages, one acknowledger: one call") {
  auto a = std::make_shared<recording_acknowledger>();
  std::vector<message> ok;
  std::vector<message> failed;
  failed.push_back(to(a, "1"));
  failed.push_back(to(a, "2"));

  causeway::acknowledge(ok, failed);
  REQUIRE(a->calls.size() == 1);
  CHECK(a->calls[0].successful == strings{});
  CHECK(a->calls[0].failed == strings{"1", "2"});
}

TEST_CASE("messages without an acknowledger are skipped") {
  auto a = std::make_shared<recording_acknowledger>();
  std::vector<message> ok;
  ok.push_back(nowhere("x1"));
  ok.push_back(to(a, "a1"));
  ok.push_back(nowhere("x2"));
  std::vector<message> failed;
  failed.push_back(nowhere("x3"));
  failed.push_back(to(a, "a2"));

  causeway::acknowledge(ok, failed);
  REQUIRE(a->calls.size() == 1);
  CHECK(a->calls[0].successful == strings{"a1"});
  CHECK(a->calls[0].failed == strings{"a2"});
}

TEST_CASE("messages that all lack an acknowledger call nothing") {
  std::vector<message> ok;
  ok.push_back(nowhere("x1"));
  std::vector<message> failed;
  failed.push_back(nowhere("x2"));
  causeway::acknowledge(ok, failed);  // must not crash
  CHECK(ok.size() == 1);
  CHECK(failed.size() == 1);
}

TEST_CASE("no messages call nothing") {
  auto a = std::make_shared<recording_acknowledger>();
  std::vector<message> ok;
  std::vector<message> failed;
  causeway::acknowledge(ok, failed);
  CHECK(a->calls.empty());
}

TEST_CASE("acknowledge keeps every message in the vectors") {
  auto a = std::make_shared<recording_acknowledger>();
  auto b = std::make_shared<recording_acknowledger>();
  std::vector<message> ok;
  ok.push_back(to(b, "b1"));
  ok.push_back(nowhere("x1"));
  ok.push_back(to(a, "a1"));
  std::vector<message> failed;
  failed.push_back(to(a, "a2"));

  causeway::acknowledge(ok, failed);
  CHECK(ok.size() == 3);
  CHECK(failed.size() == 1);
  CHECK(a->calls.size() == 1);
  CHECK(b->calls.size() == 1);
}

} // namespace acknowledger_test

namespace acknowledger_test {

TEST_CASE("by default an acknowledger takes references as one ack call of messages carrying their tags and epochs") {
  struct tag_recorder final : causeway::acknowledger {
    void ack(std::span<message> successful, std::span<message> failed) override {
      ++calls;
      failures += failed.size();
      for (const auto& m : successful)
        seen.push_back({m.ack.tag, m.ack.epoch});
    }
    int calls = 0;
    std::size_t failures = 0;
    std::vector<std::pair<std::uint64_t, std::uint32_t>> seen;
  };
  tag_recorder a;
  const std::vector<causeway::delivery_ref> refs{{5, 2}, {6, 2}, {9, 3}};
  a.ack_refs(refs);
  CHECK(a.calls == 1);
  CHECK(a.failures == 0);
  CHECK(a.seen == std::vector<std::pair<std::uint64_t, std::uint32_t>>{{5, 2}, {6, 2}, {9, 3}});
}

} // namespace acknowledger_test
