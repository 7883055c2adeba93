#include "telluride/daemon/reading_decoder.hpp"

#include "telluride/domain/message_id_window.hpp"

#include <any>
#include <atomic>
#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace telluride {

namespace {

// Decoded readings are made a block at a time: one allocation for 256 of them instead of one
// each (the producer stage's worker allocated every reading's, a batch processor's freed it,
// often on the other core). A block is freed once no message holds any of its readings and
// no thread makes readings in it any more.
constexpr std::uint32_t readings_per_block = 256;
// x86-64's cache line (std::hardware_destructive_interference_size draws a warning in GCC 12).
constexpr std::size_t cache_line = 64;

struct decoded_block;

struct decoded_slot {
  decoded_reading reading;
  decoded_block* block;
};

struct decoded_block {
  /// The messages holding its readings, and one more while a thread makes readings in it.
  /// Charged up front for every reading the block can hold (block_maker): making a reading
  /// writes no counter that the threads letting readings go write too, and the maker gives
  /// back the charge of the readings it did not make when it moves on.
  std::atomic<std::uint32_t> refs{readings_per_block + 1};
  /// Readings made: written by the maker as it moves on, before it lets go of its reference
  /// (read by whoever frees the block, after the last reference is let go).
  std::uint32_t made = 0;
  /// On cache lines of their own: the maker writes readings while others let go of theirs.
  alignas(cache_line) std::byte storage[readings_per_block * sizeof(decoded_slot)];

  decoded_slot* slot(std::uint32_t i) noexcept {
    return std::launder(reinterpret_cast<decoded_slot*>(storage + i * sizeof(decoded_slot)));
  }
  decoded_block() = default;
  decoded_block(const decoded_block&) = delete;
  decoded_block& operator=(const decoded_block&) = delete;
  ~decoded_block() {
    for (std::uint32_t i = 0; i < made; ++i)
      slot(i)->~decoded_slot();
  }
};

void let_go(decoded_block* block, std::uint32_t refs = 1) noexcept {
  if (block->refs.fetch_sub(refs, std::memory_order_acq_rel) == refs)
    delete block;
}

/// What `msg.decoded` holds: one pointer, so std::any keeps it inline (no allocation); copies
/// share the reading.
class decoded_ref {
public:
  explicit decoded_ref(decoded_slot* slot) noexcept : slot_(slot) {}
  decoded_ref(const decoded_ref& other) noexcept : slot_(other.slot_) {
    if (slot_ != nullptr)
      slot_->block->refs.fetch_add(1, std::memory_order_relaxed);
  }
  decoded_ref(decoded_ref&& other) noexcept : slot_(std::exchange(other.slot_, nullptr)) {}
  decoded_ref& operator=(decoded_ref other) noexcept {
    std::swap(slot_, other.slot_);
    return *this;
  }
  ~decoded_ref() {
    if (slot_ != nullptr)
      let_go(slot_->block);
  }
  const decoded_reading& get() const noexcept { return slot_->reading; }

private:
  decoded_slot* slot_;
};

// libstdc++'s std::any stores a nothrow-movable type of a pointer's size in place.
static_assert(sizeof(decoded_ref) == sizeof(void*) && std::is_nothrow_move_constructible_v<decoded_ref>);

/// A thread's block of readings in the making.
class block_maker {
public:
  block_maker() = default;
  block_maker(const block_maker&) = delete;
  block_maker& operator=(const block_maker&) = delete;
  ~block_maker() { move_on(); }

  decoded_ref make(decoded_reading&& reading) {
    if (current_ == nullptr || made_ == readings_per_block) {
      auto* fresh = new decoded_block;
      move_on();
      current_ = fresh;
    }
    auto* slot = new (current_->slot(made_)) decoded_slot{std::move(reading), current_};
    ++made_;
    return decoded_ref{slot};  // its reference was charged with the block
  }

private:
  /// Done with the current block: the charge of the readings not made in it, and the maker's
  /// own reference, go back.
  void move_on() noexcept {
    if (current_ == nullptr)
      return;
    current_->made = made_;
    let_go(std::exchange(current_, nullptr), readings_per_block - std::exchange(made_, 0) + 1);
  }

  decoded_block* current_ = nullptr;
  std::uint32_t made_ = 0;
};

} // namespace

std::uint64_t decode_reading(causeway::message& msg) {
  if (msg.is_failed())
    return 0;
  if (msg.decoded.has_value())
    if (const auto* done = decoded(msg))
      return done->hash;
  thread_local reading_parser parser;
  decoded_reading out;
  if (auto parsed = parser.parse_into(msg.data, out.reading); !parsed) {
    msg.fail("invalid reading: " + parsed.err().message);
    return 0;
  }
  out.hash = hash_value(out.reading.key);
  if (const auto id = msg.metadata.get("message_id"); !id.empty())
    out.message_id = message_id_fingerprint(id);
  const auto hash = out.hash;
  thread_local block_maker blocks;
  msg.decoded = blocks.make(std::move(out));
  return hash;
}

const decoded_reading* decoded(const causeway::message& msg) noexcept {
  const auto* ref = std::any_cast<decoded_ref>(&msg.decoded);
  return ref != nullptr ? &ref->get() : nullptr;
}

} // namespace telluride
