#include "telluride/daemon/reading_decoder.hpp"

#include "telluride/domain/message_id_window.hpp"

#include <any>

namespace telluride {

std::uint64_t decode_reading(causeway::message& msg) {
  if (msg.is_failed())
    return 0;
  thread_local reading_parser parser;
  auto parsed = parser.parse(msg.data);
  if (!parsed) {
    msg.fail("invalid reading: " + parsed.err().message);
    return 0;
  }
  decoded_reading out;
  out.hash = hash_value(parsed->key);
  out.reading = std::move(*parsed);
  if (const auto id = msg.metadata.get("message_id"); !id.empty())
    out.message_id = message_id_fingerprint(id);
  auto hash = out.hash;
  msg.decoded = std::move(out);
  return hash;
}

const decoded_reading* decoded(const causeway::message& msg) noexcept {
  return std::any_cast<decoded_reading>(&msg.decoded);
}

} // namespace telluride
