// telemetry.hpp — timing events from every stage instance, delivered to a sink.
//
// Processors report once per vector of messages they handle (a "call"), batch processors
// once per batch. With no sink attached the stages do not even read the clock.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace causeway {

enum class stage_kind : std::uint8_t { producer, processor, batcher, batch_processor };

std::string_view to_string(stage_kind kind) noexcept;

enum class telemetry_phase : std::uint8_t { start, stop, exception };

struct telemetry_event {
  stage_kind kind;
  std::string_view name;   ///< processor or batcher name ("default", "sensor_batcher_one")
  std::size_t index;       ///< instance
  telemetry_phase phase;
  std::size_t messages;    ///< messages in this call or batch
  std::chrono::nanoseconds duration;  ///< zero for start
  std::chrono::system_clock::time_point time;
};

class telemetry_sink {
public:
  virtual ~telemetry_sink() = default;
  /// Called on the stage's thread; must be thread-safe and quick.
  virtual void on_event(const telemetry_event& event) = 0;
};

} // namespace causeway
