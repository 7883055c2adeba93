// runtime.hpp — the CAF actor system configuration Causeway programs should use.
//
// CAF 0.17 starts 4 scheduler threads even on 2 cores and its idle workers spin; beside a
// broker on the same cores that costs 10-15 % of throughput. This configuration pins the
// worker count and disables the spinning.
#pragma once

#include <caf/actor_system_config.hpp>

#include <cstddef>

namespace causeway {

class runtime_config : public caf::actor_system_config {
public:
  /// `workers` 0 means one per core.
  explicit runtime_config(std::size_t workers = 0);
};

} // namespace causeway
