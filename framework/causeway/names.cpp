// The text forms of Causeway's enums, as they appear in telemetry and JSON.
#include "causeway/batch_info.hpp"
#include "causeway/telemetry.hpp"

namespace causeway {

std::string_view to_string(batch_trigger trigger) noexcept {
  switch (trigger) {
    case batch_trigger::size: return "size";
    case batch_trigger::timeout: return "timeout";
    case batch_trigger::flush: return "flush";
    case batch_trigger::stalled: return "stalled";
  }
  return "unknown";
}

std::string_view to_string(stage_kind kind) noexcept {
  switch (kind) {
    case stage_kind::producer: return "producer";
    case stage_kind::processor: return "processor";
    case stage_kind::batcher: return "batcher";
    case stage_kind::batch_processor: return "batch_processor";
  }
  return "unknown";
}

} // namespace causeway
