// delivery_assembler_fuzz.cpp — libFuzzer target: any sequence of frames fed to the AMQP
// delivery assembler.
//
// Input: 4 bytes of limits (max_body_size 1..65536, reserve_ahead 1..256 from the low byte of
// its pair, the high byte choosing which metadata fields are kept), then operations,
// each one byte of kind followed by its arguments:
//   0 deliver   tag (1 byte, added to the last tag, so tags repeat and jump), redelivered bit,
//               exchange and routing key lengths (1 byte each, taken from the input)
//   1 header    size selector (1 byte: high bit → an 8-byte size, else a 2-byte one), property
//               flags (2 bytes), message_id (length byte + bytes), headers nested N deep (1 byte)
//   2 body      length (2 bytes) of filler bytes
//   3 body      length (1 byte) of bytes taken from the input
//   4 another frame (heartbeat, or a method other than basic.deliver)
//   5 reset     (the channel closed)
// Checked after every frame: buffered bytes never exceed max_body_size; allocated bytes never
// exceed the bytes received plus reserve_ahead plus padding; every basic.deliver ends in exactly
// one delivery (completed, oversized or broken) unless it is in progress or was reset; a
// completed delivery has its full body and its padding; a failed one has no body and a
// one-line reason; an ignored frame says why; a delivery's metadata holds `redelivered` and no
// field that was not kept.
#include "causeway/amqp/delivery_assembler.hpp"

#include "../unit/amqp/frame_builder.hpp"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace {

using causeway::amqp::assembly_limits;
using causeway::amqp::delivery_assembler;
using causeway::amqp::feed_result;
using causeway::amqp::frame_outcome;

void require(bool ok, const char* what) {
  if (!ok) {
    std::fprintf(stderr, "delivery_assembler invariant broken: %s\n", what);
    std::abort();
  }
}

class input {
public:
  input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool empty() const { return at_ >= size_; }
  std::uint8_t byte() { return at_ < size_ ? data_[at_++] : 0; }
  std::uint64_t number(int bytes) {
    std::uint64_t v = 0;
    for (int i = 0; i < bytes; ++i)
      v = (v << 8) | byte();
    return v;
  }
  std::string text(std::size_t n) {
    std::string s;
    while (n-- > 0 && !empty())
      s += static_cast<char>(byte());
    return s;
  }

private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t at_ = 0;
};

// `depth` tables, each inside the one before, ending in a string.
amqp_table_t nested_headers(amqp_test::frame_builder& f, std::vector<amqp_table_entry_t>& chain,
                            std::size_t depth) {
  chain.assign(depth + 1, amqp_table_entry_t{});
  for (std::size_t i = 0; i < chain.size(); ++i) {
    chain[i].key = f.keep("k");
    if (i + 1 < chain.size()) {
      chain[i].value.kind = AMQP_FIELD_KIND_TABLE;
      chain[i].value.value.table = amqp_table_t{1, &chain[i + 1]};
    } else {
      chain[i].value.kind = AMQP_FIELD_KIND_UTF8;
      chain[i].value.value.bytes = f.keep("v");
    }
  }
  return amqp_table_t{1, chain.data()};
}

// Bit i of `bits` keeps field i, in delivery_metadata's order.
causeway::amqp::delivery_metadata kept_fields(std::uint8_t bits) {
  auto bit = [bits](int i) { return (bits >> i & 1) != 0; };
  return {bit(0), bit(1), bit(2), bit(3), bit(4), bit(5), bit(6), bit(7)};
}

void check_metadata(const causeway::message& m, const causeway::amqp::delivery_metadata& keep) {
  const std::pair<const char*, bool> fields[] = {
    {"delivery_tag", keep.delivery_tag}, {"exchange", keep.exchange}, {"routing_key", keep.routing_key},
    {"message_id", keep.message_id},     {"correlation_id", keep.correlation_id},
    {"timestamp", keep.timestamp},       {"content_type", keep.content_type}, {"headers", keep.headers}};
  require(m.metadata.contains("redelivered"), "metadata without redelivered");
  for (const auto& [key, kept] : fields)
    require(kept || !m.metadata.contains(key), "metadata holds a field that was not kept");
}

void check_result(const feed_result& r, const assembly_limits& limits, const causeway::amqp::delivery_metadata& keep) {
  if (r.delivery)
    check_metadata(r.delivery->msg, keep);
  switch (r.outcome) {
    case frame_outcome::completed: {
      require(r.delivery.has_value(), "completed without a delivery");
      const auto& m = r.delivery->msg;
      require(!m.is_failed(), "completed delivery is failed");
      require(m.data.size() <= limits.max_body_size, "completed body over max_body_size");
      require(m.data.capacity() >= m.data.size() + limits.padding, "completed body without padding");
      break;
    }
    case frame_outcome::oversized:
    case frame_outcome::broken: {
      require(r.delivery.has_value(), "failed outcome without a delivery");
      const auto& m = r.delivery->msg;
      require(m.is_failed(), "failed outcome with an ok message");
      require(!m.failure_reason().empty(), "failed without a reason");
      require(m.failure_reason().find('\n') == std::string::npos, "reason spans lines");
      require(m.data.empty(), "failed delivery carries a body");
      break;
    }
    case frame_outcome::ignored:
      require(!r.delivery.has_value(), "ignored frame produced a delivery");
      require(!r.problem.empty(), "ignored frame without a problem");
      break;
    case frame_outcome::taken:
    case frame_outcome::not_content:
      require(!r.delivery.has_value(), "delivery without an outcome saying so");
      break;
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  input in(data, size);
  assembly_limits limits;
  limits.max_body_size = 1 + static_cast<std::size_t>(in.number(2));
  const auto reserve_and_fields = in.number(2);
  limits.reserve_ahead = 1 + static_cast<std::size_t>(reserve_and_fields % 256);
  const auto keep = kept_fields(static_cast<std::uint8_t>(reserve_and_fields >> 8));
  delivery_assembler assembler(limits, keep);
  amqp_test::frame_builder f;
  std::vector<amqp_table_entry_t> chain;

  std::uint64_t last_tag = 0;
  std::optional<std::uint64_t> current;  // the tag of the delivery in progress
  std::uint64_t started = 0, ended = 0, dropped = 0;
  int operations = 0;
  while (!in.empty() && ++operations <= 4096) {
    amqp_frame_t frame{};
    bool is_deliver = false;
    std::uint64_t tag = 0;
    switch (in.byte() % 6) {
      case 0: {
        tag = last_tag + in.byte();
        last_tag = tag;
        bool redelivered = (in.byte() & 1) != 0;
        auto exchange = in.text(in.byte());
        auto routing_key = in.text(in.byte());
        frame = f.deliver(tag, redelivered, exchange, routing_key);
        is_deliver = true;
        break;
      }
      case 1: {
        std::uint8_t selector = in.byte();
        std::uint64_t body_size = (selector & 0x80) != 0 ? in.number(8) : in.number(2);
        amqp_basic_properties_t p{};
        p._flags = static_cast<amqp_flags_t>(in.number(2));
        p.message_id = f.keep(in.text(in.byte()));
        p.correlation_id = f.keep("c");
        p.content_type = f.keep("t");
        p.timestamp = body_size;
        p.headers = nested_headers(f, chain, in.byte());
        frame = f.header(body_size, p);
        break;
      }
      case 2:
        frame = f.body(std::string(static_cast<std::size_t>(in.number(2)), 'b'));
        break;
      case 3:
        frame = f.body(in.text(in.byte()));
        break;
      case 4:
        frame = (in.byte() & 1) != 0 ? f.heartbeat() : f.method(AMQP_BASIC_CANCEL_OK_METHOD);
        break;
      default:
        if (assembler.in_progress())
          ++dropped;
        assembler.reset();
        current.reset();
        require(assembler.buffered() == 0 && assembler.reserved() == 0, "reset kept a body");
        continue;
    }

    auto result = assembler.feed(frame);
    check_result(result, limits, keep);
    if (result.delivery) {
      require(current.has_value(), "a delivery ended that never started");
      require(result.delivery->delivery_tag == *current, "a delivery ended under another tag");
      ++ended;
      current.reset();
    }
    if (is_deliver) {
      require(result.outcome != frame_outcome::ignored, "a deliver was ignored");
      ++started;
      current = tag;
    }
    require(assembler.in_progress() == current.has_value(), "in_progress disagrees");
    require(started == ended + dropped + (current ? 1 : 0), "a delivery was lost or doubled");
    require(assembler.buffered() <= limits.max_body_size, "buffered past max_body_size");
    const auto ahead = std::max(limits.reserve_ahead, assembler.buffered());
    auto bound = std::min(limits.max_body_size, assembler.buffered() + ahead) + limits.padding;
    require(assembler.reserved() <= bound, "allocated past the bytes received + max(reserve_ahead, received)");
  }
  return 0;
}
