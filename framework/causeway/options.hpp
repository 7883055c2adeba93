// options.hpp — how a pipeline is shaped: plain structs, validated once before start.
//
// `validate` checks every field and names the first bad one with what was expected and what
// was given: `batchers.one.batch_size must be in 1..100000, got 0`.
#pragma once

#include "causeway/expected.hpp"
#include "causeway/message.hpp"

#include <any>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace causeway {

/// Maps a message to a partition key; messages with equal keys go to the same stage instance
/// and keep their order. processors.partition_by runs in the producer stage, before any
/// processor: it may decode the message once and keep the result in `msg.decoded`, or fail
/// it (`msg.fail(reason)`), so that no processor has to decode it again.
using partition_fn = std::function<std::uint64_t(message&)>;

struct rate_limit_options {
  std::uint64_t allowed = 0;  ///< messages per interval over all producers; 0 = unlimited
  std::chrono::milliseconds interval{1000};
};

struct producer_options {
  std::size_t concurrency = 1;
  rate_limit_options rate_limit;
};

struct processor_options {
  std::string name{"default"};
  std::size_t concurrency = 2;
  std::size_t max_demand = 500;  ///< messages a processor asks its producers for at most
  std::size_t min_demand = 250;  ///< asks again once outstanding demand fell to this
  partition_fn partition_by;     ///< empty: messages go to whichever processor has demand
};

struct batcher_options {
  std::string name;
  std::size_t concurrency = 1;  ///< batch processors
  std::size_t batch_size = 100;
  std::chrono::milliseconds batch_timeout{1000};
  /// Messages asked of each processor; 0 = 2 × batch_size × concurrency, so that every
  /// partition can fill a batch while another is being handled.
  std::size_t max_demand = 0;
  partition_fn partition_by;    ///< empty: batches go to whichever batch processor is free
};

struct pipeline_options {
  std::string name{"pipeline"};
  producer_options producer;
  processor_options processors;
  std::vector<batcher_options> batchers;  ///< empty: messages are acked after handle_message
  std::chrono::milliseconds shutdown_timeout{30000};
  std::any context;  ///< handed to every callback as context::user
};

/// Batches a batch processor asks its batcher for at once: one to handle, one ready.
inline constexpr std::size_t batch_processor_demand = 2;

/// Checks every field; the error names the first bad key.
expected<void> validate(const pipeline_options& options);

/// The batcher's effective demand per processor (max_demand, or 2 × batch_size × concurrency
/// when 0).
std::size_t effective_max_demand(const batcher_options& options) noexcept;

/// The most messages that can be between the producer stages and the acknowledgers at once
/// with these options: what the demand protocol guarantees.
std::size_t in_flight_bound(const pipeline_options& options) noexcept;

} // namespace causeway
