// Claims about most_demand: the consumer owed the most gets the next vector.
#include "causeway/detail/most_demand.hpp"

#include <doctest/doctest.h>

#include <cstdint>
#include <optional>
#include <vector>

using causeway::detail::most_demand;

TEST_CASE("most_demand picks the consumer owed the most, the first of equals") {
  struct row {
    std::vector<std::uint64_t> demand;
    std::optional<std::size_t> expected;
  };
  const std::vector<row> table = {
      {{5}, 0},
      {{1, 7, 3}, 1},
      {{4, 9, 9}, 1},
      {{0, 0, 2}, 2},
      {{3, 3, 3}, 0},
  };
  for (const auto& [demand, expected] : table) {
    CAPTURE(demand.size());
    CHECK(most_demand(demand) == expected);
  }
}

TEST_CASE("most_demand gives nothing when no consumer is owed anything") {
  CHECK(most_demand(std::vector<std::uint64_t>{0, 0, 0}) == std::nullopt);
  CHECK(most_demand(std::vector<std::uint64_t>{}) == std::nullopt);
}
