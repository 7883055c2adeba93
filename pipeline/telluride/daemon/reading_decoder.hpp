// reading_decoder.hpp — turns a reading message's bytes into a reading, once.
//
// Runs as the processors' partition_by, in the producer stage: it parses the body (a
// thread-local parser), keeps the result in `msg.decoded` with the fingerprint of the AMQP
// message_id (so the batch processors never look the id up in the metadata), and returns the
// sensor's hash, so every reading of a sensor goes to the same processor and batch processor.
// A body that is not a reading fails the message with the parser's reason. Decoded readings
// are made 256 to a block, one allocation per block; a reading lives as long as any message
// (or copy of one) that holds it.
#pragma once

#include "telluride/domain/reading.hpp"

#include <causeway/message.hpp>

#include <cstdint>
#include <optional>

namespace telluride {

struct decoded_reading {
  telluride::reading reading;
  std::uint64_t hash = 0;   ///< hash_value(reading.key)
  /// message_id_fingerprint of the AMQP message_id; none when the message has none (or an
  /// empty one): such a reading is never taken for a duplicate.
  std::optional<std::uint64_t> message_id;
};

/// Decodes `msg` in place; returns the sensor hash, 0 for a failed message. A message decoded
/// before is not decoded again.
std::uint64_t decode_reading(causeway::message& msg);

/// The decoded reading of a message decode_reading accepted, else nullptr.
const decoded_reading* decoded(const causeway::message& msg) noexcept;

} // namespace telluride
