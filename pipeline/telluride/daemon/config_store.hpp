// config_store.hpp — the daemon's current config and its version.
//
// The config actor is the only writer (once per applied reconfiguration); the reporter, the
// HTTP API and the status probe read copies of it. Thread-safe.
#pragma once

#include "telluride/domain/config.hpp"

#include <cstdint>
#include <mutex>
#include <utility>

namespace telluride {

class config_store {
public:
  explicit config_store(config first) : config_(std::move(first)) {}

  /// The current config and its version (0 until the first applied reconfiguration).
  std::pair<config, std::uint64_t> current() const {
    std::lock_guard guard{mutex_};
    return {config_, version_};
  }
  /// What `read(config)` returns, under the lock: one field without a copy of the whole
  /// config (the checkpoint writer asks every round).
  template <class Read>
  auto read(Read&& read) const {
    std::lock_guard guard{mutex_};
    return read(std::as_const(config_));
  }
  std::uint64_t version() const {
    std::lock_guard guard{mutex_};
    return version_;
  }
  void set(config cfg, std::uint64_t version) {
    std::lock_guard guard{mutex_};
    config_ = std::move(cfg);
    version_ = version;
  }

private:
  mutable std::mutex mutex_;
  config config_;
  std::uint64_t version_ = 0;
};

} // namespace telluride
