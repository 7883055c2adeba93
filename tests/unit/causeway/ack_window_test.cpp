// Claims about ack_window: tags settle out of order and leave as merged runs, lowest first.
#include "causeway/detail/ack_window.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

using causeway::detail::ack_run;
using causeway::detail::ack_window;
using causeway::detail::settlement;

namespace {

const char* name_of(settlement s) {
  switch (s) {
    case settlement::pending: return "pending";
    case settlement::ack: return "ack";
    case settlement::reject: return "reject";
    case settlement::requeue: return "requeue";
    case settlement::sent: return "sent";
  }
  return "?";
}

using runs = std::vector<ack_run>;
using singles = std::vector<std::pair<std::uint64_t, settlement>>;
using tags = std::vector<std::uint64_t>;

// A window that has been handed tags first..last.
ack_window delivered(std::uint64_t first, std::uint64_t last) {
  ack_window w;
  for (auto tag = first; tag <= last; ++tag)
    w.deliver(tag);
  return w;
}

} // namespace

template <>
struct doctest::StringMaker<runs> {
  static doctest::String convert(const runs& rs) {
    std::string out = "{";
    for (const auto& r : rs) {
      out.append(" {").append(name_of(r.kind)).append(",");
      out.append(std::to_string(r.first)).append(",").append(std::to_string(r.last));
      out.append("}");
    }
    return out.append(" }").c_str();
  }
};

template <>
struct doctest::StringMaker<singles> {
  static doctest::String convert(const singles& ss) {
    std::string out = "{";
    for (const auto& [tag, kind] : ss)
      out.append(" ").append(std::to_string(tag)).append(":").append(name_of(kind));
    return out.append(" }").c_str();
  }
};

template <>
struct doctest::StringMaker<tags> {
  static doctest::String convert(const tags& ts) {
    std::string out = "{";
    for (auto t : ts)
      out.append(" ").append(std::to_string(t));
    return out.append(" }").c_str();
  }
};

TEST_CASE("tags settled out of order leave as runs merged by outcome") {
  auto w = delivered(1, 5);
  CHECK(w.pending() == 5);
  CHECK(w.last_delivered() == 5);

  REQUIRE(w.settle(2, settlement::ack));
  CHECK(w.take_contiguous() == runs{});  // 1 still pending holds 2 back
  REQUIRE(w.settle(1, settlement::ack));
  CHECK(w.take_contiguous() == runs{{settlement::ack, 1, 2}});

  REQUIRE(w.settle(3, settlement::reject));
  REQUIRE(w.settle(4, settlement::ack));
  REQUIRE(w.settle(5, settlement::ack));
  CHECK(w.take_contiguous() == runs{{settlement::reject, 3, 3}, {settlement::ack, 4, 5}});
  CHECK(w.pending() == 0);
  CHECK(w.settled() == 0);
  CHECK(w.take_contiguous() == runs{});
}

TEST_CASE("take_contiguous merges runs by outcome, one run per change of outcome") {
  struct case_ {
    const char* name;
    std::vector<settlement> outcomes;  // of tags 1, 2, ...
    runs expected;
  };
  const auto a = settlement::ack;
  const auto r = settlement::reject;
  const auto q = settlement::requeue;
  const std::vector<case_> cases{
    {"one ack", {a}, {{a, 1, 1}}},
    {"all acks", {a, a, a, a}, {{a, 1, 4}}},
    {"all rejects", {r, r, r}, {{r, 1, 3}}},
    {"requeue between acks", {a, q, q, a}, {{a, 1, 1}, {q, 2, 3}, {a, 4, 4}}},
    {"every tag differs", {a, r, q, a}, {{a, 1, 1}, {r, 2, 2}, {q, 3, 3}, {a, 4, 4}}},
    {"reject then requeue", {r, r, q}, {{r, 1, 2}, {q, 3, 3}}},
  };
  for (const auto& c : cases) {
    CAPTURE(c.name);
    auto w = delivered(1, c.outcomes.size());
    for (std::size_t i = 0; i < c.outcomes.size(); ++i)
      REQUIRE(w.settle(i + 1, c.outcomes[i]));
    CHECK(w.settled() == c.outcomes.size());
    CHECK(w.take_contiguous() == c.expected);
    CHECK(w.settled() == 0);
  }
}

TEST_CASE("a pending tag blocks every settled tag above it") {
  auto w = delivered(1, 4);
  REQUIRE(w.settle(2, settlement::ack));
  REQUIRE(w.settle(3, settlement::ack));
  REQUIRE(w.settle(4, settlement::reject));
  CHECK(w.take_contiguous() == runs{});
  CHECK(w.pending() == 1);
  CHECK(w.settled() == 3);
  CHECK(w.pending_tags() == tags{1});

  REQUIRE(w.settle(1, settlement::ack));
  CHECK(w.take_contiguous() == runs{{settlement::ack, 1, 3}, {settlement::reject, 4, 4}});
}

TEST_CASE("take_scattered sends the settled tags behind a pending one, singly") {
  auto w = delivered(1, 5);
  REQUIRE(w.settle(2, settlement::ack));
  REQUIRE(w.settle(4, settlement::reject));
  CHECK(w.take_contiguous() == runs{});
  CHECK(w.take_scattered() == singles{{2, settlement::ack}, {4, settlement::reject}});
  CHECK(w.settled() == 0);
  CHECK(w.pending_tags() == tags{1, 3, 5});
  CHECK(w.take_scattered() == singles{});

  SUBCASE("a later run covers the sent tags without sending them again") {
    REQUIRE(w.settle(1, settlement::ack));
    CHECK(w.take_contiguous() == runs{{settlement::ack, 1, 1}});
    REQUIRE(w.settle(3, settlement::ack));
    REQUIRE(w.settle(5, settlement::ack));
    CHECK(w.take_contiguous() == runs{{settlement::ack, 3, 5}});
    CHECK(w.pending() == 0);
    CHECK(w.settled() == 0);
  }
  SUBCASE("a run never ends on a sent tag (the broker would call it unknown)") {
    REQUIRE(w.settle(1, settlement::requeue));
    REQUIRE(w.settle(3, settlement::ack));
    CHECK(w.take_contiguous() == runs{{settlement::requeue, 1, 1}, {settlement::ack, 3, 3}});
  }
  SUBCASE("a sent tag cannot be settled again") {
    CHECK_FALSE(w.settle(2, settlement::reject));
    CHECK_FALSE(w.settle(4, settlement::ack));
    CHECK(w.settled() == 0);
  }
}

TEST_CASE("sent tags right behind the lowest tag are skipped, not acknowledged again") {
  auto w = delivered(1, 3);
  REQUIRE(w.settle(2, settlement::ack));
  REQUIRE(w.settle(3, settlement::ack));
  CHECK(w.take_scattered() == singles{{2, settlement::ack}, {3, settlement::ack}});
  REQUIRE(w.settle(1, settlement::reject));
  CHECK(w.take_contiguous() == runs{{settlement::reject, 1, 1}});
  CHECK(w.take_contiguous() == runs{});
}

TEST_CASE("settle refuses tags it cannot settle") {
  auto w = delivered(1, 3);
  REQUIRE(w.settle(1, settlement::ack));
  CHECK(w.take_contiguous() == runs{{settlement::ack, 1, 1}});

  struct case_ {
    const char* name;
    std::uint64_t tag;
    settlement outcome;
  };
  const std::vector<case_> refused{
    {"tag 0 (never handed out)", 0, settlement::ack},
    {"below the window (already sent)", 1, settlement::ack},
    {"above the last delivered", 4, settlement::ack},
    {"far above the last delivered", 1000, settlement::reject},
    {"outcome pending", 2, settlement::pending},
    {"outcome sent", 2, settlement::sent},
  };
  for (const auto& c : refused) {
    CAPTURE(c.name);
    CHECK_FALSE(w.settle(c.tag, c.outcome));
  }
  CHECK(w.pending() == 2);
  CHECK(w.settled() == 0);

  REQUIRE(w.settle(2, settlement::ack));
  CHECK_FALSE(w.settle(2, settlement::ack));     // twice
  CHECK_FALSE(w.settle(2, settlement::reject));  // twice, with another outcome
  CHECK(w.pending() == 1);
  CHECK(w.settled() == 1);
  CHECK(w.take_contiguous() == runs{{settlement::ack, 2, 2}});
}

TEST_CASE("pending_tags lists the unsettled tags in ascending order") {
  auto w = delivered(1, 6);
  CHECK(w.pending_tags() == tags{1, 2, 3, 4, 5, 6});
  REQUIRE(w.settle(1, settlement::ack));
  REQUIRE(w.settle(4, settlement::ack));
  REQUIRE(w.settle(6, settlement::reject));
  CHECK(w.pending_tags() == tags{2, 3, 5});
  CHECK(w.take_contiguous() == runs{{settlement::ack, 1, 1}});
  CHECK(w.pending_tags() == tags{2, 3, 5});
  CHECK(w.pending() == 3);
  CHECK(w.settled() == 2);
}

TEST_CASE("a gap in delivered tags counts as already sent") {
  ack_window w;
  w.deliver(1);
  w.deliver(4);  // 2 and 3 went elsewhere
  CHECK(w.pending() == 2);
  CHECK(w.last_delivered() == 4);
  CHECK(w.pending_tags() == tags{1, 4});
  CHECK_FALSE(w.settle(2, settlement::ack));
  CHECK_FALSE(w.settle(3, settlement::ack));

  REQUIRE(w.settle(1, settlement::ack));
  CHECK(w.take_contiguous() == runs{{settlement::ack, 1, 1}});
  REQUIRE(w.settle(4, settlement::requeue));
  CHECK(w.take_contiguous() == runs{{settlement::requeue, 4, 4}});
}

TEST_CASE("a gap before the first delivered tag is skipped") {
  ack_window w;
  w.deliver(3);
  CHECK(w.pending_tags() == tags{3});
  CHECK_FALSE(w.settle(1, settlement::ack));
  REQUIRE(w.settle(3, settlement::ack));
  CHECK(w.take_contiguous() == runs{{settlement::ack, 3, 3}});

  w.deliver(7);  // a gap after the window emptied
  REQUIRE(w.settle(7, settlement::reject));
  CHECK(w.take_contiguous() == runs{{settlement::reject, 7, 7}});
  CHECK(w.last_delivered() == 7);
}

TEST_CASE("a tag delivered again or out of order is ignored") {
  auto w = delivered(1, 3);
  w.deliver(2);
  w.deliver(3);
  CHECK(w.pending() == 3);
  CHECK(w.last_delivered() == 3);
  CHECK(w.pending_tags() == tags{1, 2, 3});
}

TEST_CASE("reset forgets everything and tags start at 1 again") {
  auto w = delivered(1, 4);
  REQUIRE(w.settle(3, settlement::ack));
  w.reset();
  CHECK(w.pending() == 0);
  CHECK(w.settled() == 0);
  CHECK(w.last_delivered() == 0);
  CHECK(w.pending_tags() == tags{});
  CHECK_FALSE(w.settle(1, settlement::ack));
  CHECK(w.take_contiguous() == runs{});
  CHECK(w.take_scattered() == singles{});

  w.deliver(1);
  w.deliver(2);
  REQUIRE(w.settle(2, settlement::ack));
  REQUIRE(w.settle(1, settlement::ack));
  CHECK(w.take_contiguous() == runs{{settlement::ack, 1, 2}});
}

TEST_CASE("a new window has delivered nothing") {
  ack_window w;
  CHECK(w.pending() == 0);
  CHECK(w.settled() == 0);
  CHECK(w.last_delivered() == 0);
  CHECK(w.take_contiguous() == runs{});
}
