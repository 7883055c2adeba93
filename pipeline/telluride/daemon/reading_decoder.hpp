// reading_decoder.hpp — turns a reading message's bytes into a reading, once.
//
// Runs as the processors' partition_by, in the producer stage: it parses the body (a
// thread-local parser), keeps the result in `msg.decoded`, and returns the sensor's hash, so
// every reading of a sensor goes to the same processor and batch processor. A body that is
// not a reading fails the message with the parser's reason.
#pragma once

#include "telluride/domain/reading.hpp"

#include <causeway/message.hpp>

#include <cstdint>
#include <string>

namespace telluride {

struct decoded_reading {
  telluride::reading reading;
  std::uint64_t hash = 0;   ///< hash_value(reading.key)
};

/// Decodes `msg` in place; returns the sensor hash, 0 for a failed message.
std::uint64_t decode_reading(causeway::message& msg);

/// The decoded reading of a message decode_reading accepted, else nullptr.
const decoded_reading* decoded(const causeway::message& msg) noexcept;

} // namespace telluride
