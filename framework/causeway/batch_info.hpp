// batch_info.hpp — what a batch processor is told about the batch it handles.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace causeway {

/// Why a batch was emitted.
enum class batch_trigger : std::uint8_t {
  size,    ///< it reached batch_size
  timeout, ///< batch_timeout passed since its first message
  flush,   ///< the pipeline is draining
  stalled, ///< its producers can send nothing more until messages in flight are acknowledged
};

std::string_view to_string(batch_trigger trigger) noexcept;

struct batch_info {
  std::string batcher;
  std::string batch_key;
  std::size_t partition = 0;
  std::size_t size = 0;
  batch_trigger trigger = batch_trigger::size;
};

} // namespace causeway
