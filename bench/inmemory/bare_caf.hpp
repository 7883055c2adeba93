// bare_caf.hpp — the in-memory benchmark's reference (issue P2.4): the shape of its Causeway
// pipeline (1 producer → 2 processors → 2 batchers of 100 → 2 batch processors each) built
// from bare CAF 0.17 actors that pass vectors of strings, with no demand protocol, no message
// metadata and no acknowledgements beyond one counter: what the same work costs on CAF alone.
#pragma once

#include <cstddef>
#include <cstdint>

namespace inmemory_bench {

struct bare_result {
  double seconds = 0;  ///< first message fed → last one counted
  double cpu_s = 0;    ///< this process's CPU over that span (feeder thread included)
  std::uint64_t counted = 0;
};

/// Feeds `total` 100-byte messages in vectors of `chunk`, at most `window` outstanding (as
/// bench_inmemory feeds Causeway), on an actor system of `workers` threads configured as
/// Causeway's (causeway::runtime_config).
bare_result run_bare_caf(std::uint64_t total, std::uint64_t window, std::size_t workers, std::size_t chunk);

} // namespace inmemory_bench
