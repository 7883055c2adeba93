// record_bytes.hpp — the little-endian fields of a checkpoint record, appended and read.
//
// The writer appends fixed-size integers and doubles (bit for bit), variable-length integers
// (LEB128: 7 bits a byte, low bits first, the high bit set on every byte but the last; signed
// ones zigzag-mapped first, so small negatives stay short) and raw bytes to a string, or to a
// buffer on the stack for a part of a record whose size has a bound.
// The reader takes them back from bytes that came from outside: a read past the end, or a
// variable-length integer not in its shortest form or above 2^64 - 1, takes nothing, returns 0
// (or no bytes), and marks the reader failed; the decoder checks failed() after each part and
// names the part in its error, with failure() saying which. Nothing here allocates.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace telluride::detail {

/// Appends fields to `Out`: a std::string (byte_writer), or a stack_bytes buffer for a part of
/// a record whose size has a bound.
template <class Out>
class basic_byte_writer {
public:
  explicit basic_byte_writer(Out& out) noexcept : out_(out) {}

  void u8(std::uint8_t v) {
    const char c = static_cast<char>(v);
    out_.append(&c, 1);
  }
  void u16(std::uint16_t v) { little_endian(v); }
  void u32(std::uint32_t v) { little_endian(v); }
  void u64(std::uint64_t v) { little_endian(v); }
  void i64(std::int64_t v) { little_endian(static_cast<std::uint64_t>(v)); }
  void f64(double v) { little_endian(std::bit_cast<std::uint64_t>(v)); }
  void varint(std::uint64_t v) {
    char raw[max_varint_size];
    std::size_t n = 0;
    while (v >= 0x80) {
      raw[n++] = static_cast<char>((v & 0x7f) | 0x80);
      v >>= 7;
    }
    raw[n++] = static_cast<char>(v);
    out_.append(raw, n);
  }
  void zigzag(std::int64_t v) {
    varint((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
  }
  void bytes(std::string_view v) { out_.append(v.data(), v.size()); }

  static constexpr std::size_t max_varint_size = 10;

private:
  template <class T>
  void little_endian(T v) {
    char raw[sizeof(T)];
    for (std::size_t i = 0; i < sizeof(T); ++i)
      raw[i] = static_cast<char>((v >> (8 * i)) & 0xff);
    out_.append(raw, sizeof(T));
  }

  Out& out_;
};

using byte_writer = basic_byte_writer<std::string>;

/// Up to N bytes gathered on the stack, then appended to a record at once (view()): a sensor's
/// entry is a dozen fields, one append to the record instead of one each (encoding 100,000
/// sensors: 6.2 instead of 7.2 ms, bench/run.sh checkpoint). The writer must not put more than
/// N bytes in (unchecked: the caller's bound is worked out from the format).
template <std::size_t N>
class stack_bytes {
public:
  void append(const char* bytes, std::size_t n) noexcept {
    std::memcpy(data_ + size_, bytes, n);
    size_ += n;
  }
  std::string_view view() const noexcept { return {data_, size_}; }

private:
  char data_[N];
  std::size_t size_ = 0;
};

class byte_reader {
public:
  explicit byte_reader(std::string_view bytes) noexcept : bytes_(bytes) {}

  std::uint8_t u8() noexcept { return little_endian<std::uint8_t>(); }
  std::uint16_t u16() noexcept { return little_endian<std::uint16_t>(); }
  std::uint32_t u32() noexcept { return little_endian<std::uint32_t>(); }
  std::uint64_t u64() noexcept { return little_endian<std::uint64_t>(); }
  std::int64_t i64() noexcept { return static_cast<std::int64_t>(little_endian<std::uint64_t>()); }
  double f64() noexcept { return std::bit_cast<double>(little_endian<std::uint64_t>()); }
  std::uint64_t varint() noexcept {
    std::uint64_t v = 0;
    for (unsigned shift = 0;; shift += 7) {
      if (failed_ || at_ == bytes_.size()) {
        failed_ = true;
        return 0;
      }
      const auto byte = static_cast<unsigned char>(bytes_[at_++]);
      // The tenth byte holds bit 63 alone; a last byte of 0 (after the first) means a longer
      // form than needed: the format is canonical, one form per value.
      if ((shift == 63 && byte > 1) || (shift > 0 && byte == 0)) {
        failed_ = true;
        is_malformed_ = true;
        return 0;
      }
      v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0)
        return v;
    }
  }
  std::int64_t zigzag() noexcept {
    const std::uint64_t v = varint();
    return static_cast<std::int64_t>((v >> 1) ^ (~(v & 1) + 1));
  }

  /// The next `n` bytes, viewed in place.
  std::string_view bytes(std::size_t n) noexcept {
    if (!take(n))
      return {};
    return bytes_.substr(at_ - n, n);
  }

  bool failed() const noexcept { return failed_; }
  /// Why the reader failed: `truncated`, or a variable-length integer's problem.
  const char* failure() const noexcept {
    return is_malformed_ ? "a variable-length integer is not in its shortest form, or above 2^64 - 1" : "truncated";
  }
  /// Bytes read so far (where a failed read was attempted, once failed).
  std::size_t position() const noexcept { return at_; }
  std::size_t left() const noexcept { return bytes_.size() - at_; }

private:
  bool take(std::size_t n) noexcept {
    if (failed_ || n > left()) {
      failed_ = true;
      return false;
    }
    at_ += n;
    return true;
  }

  template <class T>
  T little_endian() noexcept {
    if (!take(sizeof(T)))
      return 0;
    T v = 0;
    for (std::size_t i = 0; i < sizeof(T); ++i)
      v |= static_cast<T>(static_cast<T>(static_cast<unsigned char>(bytes_[at_ - sizeof(T) + i])) << (8 * i));
    return v;
  }

  std::string_view bytes_;
  std::size_t at_ = 0;
  bool failed_ = false;
  bool is_malformed_ = false;
};

} // namespace telluride::detail
