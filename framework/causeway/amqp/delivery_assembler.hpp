// delivery_assembler.hpp — AMQP deliveries put together from their frames, within limits.
//
// A delivery arrives on a channel as three kinds of frame: the basic.deliver method, a
// content header (the properties and the body's size), then body frames until that many
// bytes came. The assembler turns that sequence into messages. It is pure: no sockets, no
// rabbitmq-c connection state, only the frames rabbitmq-c decoded (tests and the fuzz target
// build them by hand). The peer's numbers are not trusted:
//
// - A body announced larger than `max_body_size` is never buffered: its body frames are
//   counted and dropped, and once they all passed the delivery comes out failed
//   (`body of 5000000 bytes exceeds max_body_size 1048576`), so it is settled like any failed
//   message (dead-lettered, never redelivered forever, never holding the ack window).
// - Memory follows the bytes received, not the size announced: the body in progress never has
//   more than `reserve_ahead` bytes, or as many as arrived when that is more (plus `padding`),
//   allocated beyond what arrived.
// - A frame out of order never crashes it and has one outcome:
//
//   | phase                 | frame                  | outcome                                        |
//   |-----------------------|------------------------|------------------------------------------------|
//   | idle                  | deliver                | taken: a delivery starts                       |
//   | idle                  | header or body         | ignored (dropped, `problem` says why)          |
//   | awaiting header       | header, size <= max    | taken; completed at once for an empty body     |
//   | awaiting header       | header, size > max     | taken: its body will be skipped                |
//   | reading body          | body                   | taken; completed when the size is reached      |
//   | reading body          | body past the size     | broken: failed, "more than the N bytes ..."    |
//   | skipping body         | body                   | taken; oversized (failed) when all passed      |
//   | any but idle          | deliver                | broken (or oversized) for the one in progress, |
//   |                       |                        | and the new delivery starts                    |
//   | awaiting header       | body                   | broken: "body frame before its content header" |
//   | reading/skipping body | header                 | broken (or oversized): "a second header"       |
//   | any                   | other frame types      | not_content: the caller's business             |
//
// A failed delivery carries no body (`data` is empty), its metadata as far as it got, and a
// one-line reason naming the delivery tag and sizes (nothing the peer wrote). Bodies that
// complete have at least `padding` spare bytes of capacity (for parsers that read past the
// end, simdjson: 64).
#pragma once

#include "causeway/amqp/delivery_metadata.hpp"
#include "causeway/amqp/recycled_buffers.hpp"
#include "causeway/message.hpp"

#include <amqp.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>

namespace causeway::amqp {

struct assembly_limits {
  /// Bodies announced larger than this are skipped and their delivery failed.
  std::size_t max_body_size = 1 << 20;
  /// The most allocated for a body beyond the bytes received so far, or as many as were
  /// received when that is more (one frame at the default frame_max, so a body arriving in
  /// one frame is allocated once, exactly).
  std::size_t reserve_ahead = 128 * 1024;
  /// Spare capacity past the end of every completed body.
  std::size_t padding = 64;
};

enum class frame_outcome : std::uint8_t {
  not_content,  ///< not a basic.deliver, content header or body frame: not the assembler's
  taken,        ///< part of the delivery in progress; nothing to hand on yet
  completed,    ///< a delivery is complete: `feed_result::delivery`
  oversized,    ///< a delivery whose body exceeded max_body_size ended, failed: `delivery`
  broken,       ///< a delivery broken off by a frame out of order, failed: `delivery`
  ignored,      ///< a frame that belongs to no delivery was dropped: `problem` says why
};

struct assembled_delivery {
  std::uint64_t delivery_tag = 0;
  bool redelivered = false;
  /// Body and metadata (delivery_tag, redelivered, exchange, routing_key, then message_id,
  /// correlation_id, timestamp, content_type, headers as far as the publisher set them; of
  /// those, the ones `delivery_metadata` keeps);
  /// failed with the reason for the oversized and broken outcomes. No ack reference yet.
  message msg;
  /// Filled into buffers an earlier message gave back (recycled_buffers): nothing allocated.
  bool recycled = false;
};

struct feed_result {
  frame_outcome outcome = frame_outcome::not_content;
  std::optional<assembled_delivery> delivery;  ///< completed, oversized, broken
  std::string problem;                         ///< ignored
};

class delivery_assembler {
public:
  /// Fills deliveries into buffers from `recycled` while it has some (see recycled_buffers).
  explicit delivery_assembler(assembly_limits limits = {}, delivery_metadata keep = {},
                              std::shared_ptr<recycled_buffers> recycled = nullptr)
    : limits_(limits), keep_(keep), recycled_(std::move(recycled)) {}

  /// Takes one frame of this channel. A `broken` or `oversized` outcome caused by a new
  /// basic.deliver hands on the old delivery and has started the new one.
  feed_result feed(const amqp_frame_t& frame);

  /// Drops the delivery in progress (the channel closed: the broker redelivers it).
  void reset() noexcept {
    phase_ = idle{};
    current_.reset();
  }

  /// A delivery started and has not ended yet.
  bool in_progress() const noexcept { return !std::holds_alternative<idle>(phase_); }
  /// Body bytes held for the delivery in progress.
  std::size_t buffered() const noexcept;
  /// Bytes allocated for the body in progress.
  std::size_t reserved() const noexcept;
  const assembly_limits& limits() const noexcept { return limits_; }

private:
  // The delivery in progress is `current_` in every phase but idle (and empty in idle): it is
  // built where it stays, and moved once, when it ends (a message is moved often enough on its
  // way). An optional, so that a new delivery starts from a fresh message: assigning an empty
  // string to a body keeps the body's allocation.
  struct idle {};
  struct awaiting_header {};
  struct reading_body {
    std::uint64_t body_size;
  };
  struct skipping_body {
    std::uint64_t body_size;
    std::uint64_t skipped;
  };
  using phase = std::variant<idle, awaiting_header, reading_body, skipping_body>;

  feed_result on_deliver(const amqp_basic_deliver_t& deliver);
  feed_result on_header(const amqp_frame_t& frame);
  feed_result on_body(amqp_bytes_t fragment);
  /// Ends the delivery in progress as failed: oversized when its body was being skipped,
  /// broken with `why` otherwise. Leaves the phase idle.
  feed_result break_off(const std::string& why);
  /// Hands on current_ with `outcome` and leaves the phase idle.
  feed_result end_delivery(frame_outcome outcome);
  void grow(std::string& body, std::uint64_t body_size, std::size_t needed) const;

  assembly_limits limits_;
  delivery_metadata keep_;
  std::shared_ptr<recycled_buffers> recycled_;
  phase phase_;
  std::optional<assembled_delivery> current_;
};

} // namespace causeway::amqp
