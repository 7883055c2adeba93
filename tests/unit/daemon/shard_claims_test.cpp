// Who holds each shard, as a daemon's tail of the state stream reads it (shard_claims.hpp):
// the first takeover above every epoch claims, others lost; only the holder's release frees.
#include "telluride/daemon/shard_claims.hpp"

#include <doctest/doctest.h>

// Its own namespace: the unity build compiles several test files as one.
namespace shard_claims_test {

using telluride::claim_news;
using telluride::record_header;
using telluride::record_kind;
using telluride::shard_claims;
using telluride::shard_holder_view;

namespace {

record_header header(record_kind kind, std::uint32_t shard, std::uint64_t epoch, std::string owner,
                     std::uint32_t layout = 4) {
  record_header h;
  h.kind = kind;
  h.layout = layout;
  h.shard = shard;
  h.epoch = epoch;
  h.owner = std::move(owner);
  return h;
}

} // namespace

TEST_CASE("a takeover above every epoch claims the shard, one not above lost, and the holder's release frees it") {
  shard_claims claims{4};
  CHECK(claims.of(2) == shard_holder_view{});
  CHECK(claims.read(header(record_kind::takeover, 2, 1, "a")) == claim_news::claimed);
  CHECK(claims.of(2) == shard_holder_view{1, "a", false});
  CHECK(claims.read(header(record_kind::takeover, 2, 1, "b")) == claim_news::lost_claim);  // same epoch: second
  CHECK(claims.of(2) == shard_holder_view{1, "a", false});
  CHECK(claims.read(header(record_kind::snapshot, 2, 1, "a")) == claim_news::none);
  CHECK(claims.read(header(record_kind::release, 2, 1, "b")) == claim_news::none);  // not the holder
  CHECK(claims.read(header(record_kind::release, 2, 0, "a")) == claim_news::none);  // not its epoch
  CHECK_FALSE(claims.of(2).is_released);
  CHECK(claims.read(header(record_kind::release, 2, 1, "a")) == claim_news::released);
  CHECK(claims.of(2) == shard_holder_view{1, "a", true});
  CHECK(claims.read(header(record_kind::release, 2, 1, "a")) == claim_news::none);  // once
  CHECK(claims.read(header(record_kind::takeover, 2, 2, "b")) == claim_news::claimed);
  CHECK(claims.of(2) == shard_holder_view{2, "b", false});
  // A zombie's late claim below the fence changes nothing.
  CHECK(claims.read(header(record_kind::takeover, 2, 1, "a")) == claim_news::lost_claim);
  CHECK(claims.of(2) == shard_holder_view{2, "b", false});
  // The other shards never moved.
  for (std::uint32_t s : {0u, 1u, 3u})
    CHECK(claims.of(s) == shard_holder_view{});
}

TEST_CASE("records of another layout, or of a shard past it, are not this deployment's claims") {
  shard_claims claims{4};
  CHECK(claims.read(header(record_kind::takeover, 0, 5, "a", 1)) == claim_news::none);
  CHECK(claims.read(header(record_kind::takeover, 7, 5, "a", 8)) == claim_news::none);
  CHECK(claims.read(header(record_kind::takeover, 4, 5, "a", 4)) == claim_news::none);
  for (std::uint32_t s = 0; s < 4; ++s)
    CHECK(claims.of(s) == shard_holder_view{});
  CHECK(claims.layout() == 4);
}

TEST_CASE("a layout record of this layout frees every shard, another layout's changes nothing") {
  shard_claims claims{4};
  REQUIRE(claims.read(header(record_kind::takeover, 1, 3, "a")) == claim_news::claimed);
  REQUIRE(claims.read(header(record_kind::takeover, 2, 1, "b")) == claim_news::claimed);
  CHECK(claims.read(header(record_kind::layout, 0, 0, "c", 2)) == claim_news::none);
  CHECK_FALSE(claims.of(1).is_released);
  CHECK(claims.read(header(record_kind::layout, 0, 0, "c")) == claim_news::released);
  CHECK(claims.of(1) == shard_holder_view{3, "a", true});
  CHECK(claims.of(2) == shard_holder_view{1, "b", true});
  CHECK(claims.of(0).is_released);
  // The next claim of the new life is above the old epochs, as any takeover must be.
  CHECK(claims.read(header(record_kind::takeover, 1, 4, "c")) == claim_news::claimed);
  CHECK(claims.of(1) == shard_holder_view{4, "c", false});
}

} // namespace shard_claims_test
