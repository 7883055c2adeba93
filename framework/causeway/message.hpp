// message.hpp — the unit that flows through a pipeline.
//
// A message owns its payload bytes and is moved from stage to stage, never copied. It carries
// the reference its producer needs to acknowledge it, its status (ok, or failed with a reason),
// and routing hints set by `handle_message`: the batcher it goes to and its batch key.
#pragma once

#include <any>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace causeway {

class acknowledger;

/// Where a message's acknowledgement goes. `tag` and `epoch` mean something only to the
/// acknowledger (for AMQP: the delivery tag and the channel generation it belongs to).
struct ack_ref {
  std::shared_ptr<acknowledger> to;
  std::uint64_t tag = 0;
  std::uint32_t epoch = 0;
};

/// Free-form key/value pairs a producer attaches (for AMQP: routing_key, message_id, ...).
/// Kept in one buffer, so a message's metadata costs one allocation however many keys it has,
/// and none while it is empty.
class metadata {
public:
  metadata() = default;
  metadata(const metadata& other) { *this = other; }
  metadata& operator=(const metadata& other);
  metadata(metadata&& other) noexcept
    : bytes_(std::move(other.bytes_)), size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}
  metadata& operator=(metadata&& other) noexcept {
    bytes_ = std::move(other.bytes_);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
    return *this;
  }
  ~metadata() = default;

  /// Sets `key`, replacing the value of an existing key in place (its position is kept).
  void set(std::string_view key, std::string_view value);
  /// Appends without looking for `key`: for producers that add each key once.
  void add(std::string_view key, std::string_view value);
  /// Room for keys and values of `bytes` in total, in `entries` entries.
  void reserve(std::size_t bytes, std::size_t entries = 0) { grow_to(bytes + entries * entry_header, false); }
  /// The value of `key`, or an empty view when it is absent. Valid until the metadata changes.
  std::string_view get(std::string_view key) const noexcept;
  bool contains(std::string_view key) const noexcept;
  bool empty() const noexcept { return size_ == 0; }
  /// Removes every entry and keeps the allocation, for metadata that is filled again.
  void clear() noexcept { size_ = 0; }
  /// Bytes the entries can take without allocating (their headers included).
  std::size_t capacity() const noexcept { return capacity_; }
  /// Calls `visit(key, value)` for every entry, in the order they were added.
  template <class Visit>
  void for_each(Visit&& visit) const {
    for (std::size_t at = 0; at < size_;) {
      auto e = entry_at(at);
      visit(e.key, e.value);
      at = e.next;
    }
  }
  /// Copies of every entry, in the order they were added.
  std::vector<std::pair<std::string, std::string>> entries() const;

private:
  // Each entry: key size and value size (4 bytes each, native order), the key, the value.
  static constexpr std::size_t entry_header = 8;
  struct entry {
    std::string_view key;
    std::string_view value;
    std::size_t value_at;  // offset of the value in bytes_
    std::size_t next;      // offset of the next entry
  };
  entry entry_at(std::size_t at) const noexcept;
  /// Capacity for `bytes` in all (at most 4 GiB); `ahead`: with room to grow into.
  void grow_to(std::size_t bytes, bool ahead);
  /// `text` points into this metadata's buffer.
  bool holds(std::string_view text) const noexcept;

  // 16 bytes where a std::string takes 32: a message is moved from stage to stage several
  // times on its way, and its metadata is seldom short enough for a string's inline buffer.
  std::unique_ptr<char[]> bytes_;
  std::uint32_t size_ = 0;
  std::uint32_t capacity_ = 0;
};

enum class message_status : std::uint8_t { ok, failed };

/// The batcher a message goes to when handle_message does not choose one: the batcher of
/// that name, or the only batcher when a pipeline has just one.
inline constexpr std::string_view default_batcher = "default";

/// A batcher by its position in pipeline_options::batchers (the first declared is 0). Routing
/// by position copies no name and compares none: for handlers that route every message.
enum class batcher_at : std::uint32_t {};

class message {
public:
  message() = default;
  explicit message(std::string data, ack_ref ack = {}) : data(std::move(data)), ack(std::move(ack)) {}
  message(message&&) noexcept = default;
  message& operator=(message&&) noexcept = default;
  message(const message& other)
    : data(other.data), metadata(other.metadata), ack(other.ack), decoded(other.decoded),
      rare_(other.rare_ ? std::make_unique<rare_fields>(*other.rare_) : nullptr),
      short_batcher_(other.short_batcher_), position_(other.position_), status_(other.status_),
      ack_now_(other.ack_now_) {}
  message& operator=(const message& other) {
    if (this != &other)
      *this = message{other};
    return *this;
  }
  ~message() = default;

  std::string data;
  causeway::metadata metadata;
  causeway::ack_ref ack;
  /// What a stage decoded from `data`, for the stages after it (Broadway replaces data; we
  /// keep both, so a failed message still carries its original bytes). Any copyable type;
  /// read it back with std::any_cast.
  std::any decoded;

  message_status status() const noexcept { return status_; }
  bool is_failed() const noexcept { return status_ == message_status::failed; }
  /// Why the message failed; empty while it is ok.
  const std::string& failure_reason() const noexcept { return rare_ ? rare_->reason : no_text(); }
  /// Marks the message failed: it skips the batchers, goes through handle_failed and reaches
  /// its acknowledger as failed.
  void fail(std::string reason) {
    status_ = message_status::failed;
    rare().reason = std::move(reason);
  }

  /// The batcher's name as given to put_batcher, default_batcher when none was given, or empty
  /// when the message was routed by position (see batcher_position).
  std::string_view batcher() const noexcept {
    if (position_ != by_name)
      return {};
    if (short_batcher_.size == long_name)
      return rare_->batcher;
    return short_batcher_.size == 0 ? default_batcher : std::string_view{short_batcher_.bytes, short_batcher_.size};
  }
  /// The position given to put_batcher, if the message was routed by position.
  std::optional<batcher_at> batcher_position() const noexcept {
    return position_ != by_name ? std::optional{static_cast<batcher_at>(position_)} : std::nullopt;
  }
  /// Routes the message to the batcher of that name.
  void put_batcher(std::string_view name) {
    if (name.size() <= sizeof short_batcher_.bytes) {
      if (!name.empty())  // an empty view's data() may be null, which memcpy must not get
        std::memcpy(short_batcher_.bytes, name.data(), name.size());
      short_batcher_.size = static_cast<std::uint8_t>(name.size());
    } else {
      rare().batcher.assign(name);
      short_batcher_.size = long_name;
    }
    position_ = by_name;
  }
  /// Routes the message to the batcher at that position in pipeline_options::batchers.
  void put_batcher(batcher_at position) noexcept {
    short_batcher_.size = 0;
    position_ = static_cast<std::uint32_t>(position);
  }

  const std::string& batch_key() const noexcept { return rare_ ? rare_->batch_key : no_text(); }
  /// Messages are batched per (batcher, batch key); the default key is empty.
  void put_batch_key(std::string key) {
    if (key.empty() && rare_ == nullptr)
      return;
    rare().batch_key = std::move(key);
  }

  /// Asks the processor to acknowledge this message as soon as handle_message returns,
  /// instead of after its batch; it is not acknowledged again later.
  void ack_immediately() noexcept { ack_now_ = true; }
  bool wants_immediate_ack() const noexcept { return ack_now_; }

private:
  // What most messages never set, kept apart so that a message stays small: it is moved from
  // stage to stage several times on its way (128 bytes, two cache lines). A batcher's name of
  // up to 15 bytes stays inline: routing by name is common, and a short name needs no
  // allocation there; a longer one lives here.
  struct rare_fields {
    std::string reason;
    std::string batch_key;
    std::string batcher;
  };
  rare_fields& rare() {
    if (rare_ == nullptr)
      rare_ = std::make_unique<rare_fields>();
    return *rare_;
  }
  static const std::string& no_text() noexcept {
    static const std::string empty;
    return empty;
  }

  static constexpr std::uint32_t by_name = ~std::uint32_t{0};
  static constexpr std::uint8_t long_name = 0xff;  // short_name::size: the name is rare_->batcher
  struct short_name {
    char bytes[15]{};
    std::uint8_t size = 0;  // 0: default_batcher (when routed by name)
  };
  std::unique_ptr<rare_fields> rare_;
  short_name short_batcher_;
  std::uint32_t position_ = by_name;
  message_status status_ = message_status::ok;
  bool ack_now_ = false;
};

} // namespace causeway
