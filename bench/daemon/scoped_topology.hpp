// scoped_topology.hpp — the broker objects of one daemon run, declared under a prefix of the
// run's own as the daemon declares them, and deleted again when the run ends (or dies).
#pragma once

#include "daemon/daemon_setup.hpp"
#include "daemon/run.hpp"

#include <causeway/amqp/topology_declaration.hpp>

#include <functional>
#include <string>

namespace daemon_bench {

/// The daemon's topology under `prefix`, declared as the daemon declares it; deleted again by
/// the destructor, or by die() (so a failed run leaves no 200,000-message queue in the
/// broker's data folder).
class scoped_topology {
public:
  scoped_topology(causeway::amqp::connection& admin, const std::string& prefix,
                  telluride::state_mode mode = telluride::state_mode::memory)
    : admin_(admin), config_(config_under(prefix, mode)), spec_(topology_of(config_)) {
    on_die(&remove_);
    if (auto declared = causeway::amqp::declare(admin_, spec_); !declared)
      die("declaring the daemon's topology: " + declared.err().message);
  }
  ~scoped_topology() { remove_(); }
  scoped_topology(const scoped_topology&) = delete;
  scoped_topology& operator=(const scoped_topology&) = delete;
  const telluride::route_names& routes() const noexcept { return config_.routes; }
  const telluride::config& config() const noexcept { return config_; }

private:
  causeway::amqp::connection& admin_;
  telluride::config config_;
  causeway::amqp::topology_spec spec_;
  std::function<void()> remove_ = [this] {
    forget_on_die(&remove_);
    delete_topology(admin_, spec_);
  };
};

} // namespace daemon_bench
