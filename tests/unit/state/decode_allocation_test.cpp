// Decoding allocates no more than the bytes justify: a record that announces billions of
// sensors or ids in a few bytes is refused before anything is reserved for them. Counted by
// replacing the global operator new for this test program (every allocation goes through it).
#include "state_builders.hpp"

#include "telluride/state/checkpoint_record.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

namespace {

std::atomic<std::size_t> bytes_requested{0};

} // namespace

// Every form that is not over-aligned, so that nothing allocated here is freed by another
// allocator (sanitizers check that).
void* operator new(std::size_t size) {
  bytes_requested.fetch_add(size, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size))
    return p;
  throw std::bad_alloc{};
}
void* operator new[](std::size_t size) {
  return operator new(size);
}
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  bytes_requested.fetch_add(size, std::memory_order_relaxed);
  return std::malloc(size == 0 ? 1 : size);
}
void* operator new[](std::size_t size, const std::nothrow_t& tag) noexcept {
  return operator new(size, tag);
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete[](void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
  std::free(p);
}
void operator delete(void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}
void operator delete[](void* p, const std::nothrow_t&) noexcept {
  std::free(p);
}

using namespace state_test;

namespace {

/// Bytes allocated while decoding `bytes` (whatever the answer).
std::size_t allocated_by_decoding(const std::string& bytes) {
  const std::size_t before = bytes_requested.load();
  decode_checkpoint(bytes);
  return bytes_requested.load() - before;
}

std::string announcing(std::uint32_t sensors, std::uint32_t ids) {
  checkpoint_record record;
  record.header = record_header{record_kind::snapshot, 1, 0, 1, 1, 1, 0, "node"};
  std::string bytes = *encode_checkpoint(record);
  // alerts_raised, then the counts the encoder wrote as 0.
  const std::size_t sensors_at = bytes.size() - 8;
  for (int i = 0; i < 4; ++i) {
    bytes[sensors_at + i] = static_cast<char>((sensors >> (8 * i)) & 0xff);
    bytes[sensors_at + 4 + i] = static_cast<char>((ids >> (8 * i)) & 0xff);
  }
  return bytes + std::string(40, '\x01');
}

} // namespace

TEST_CASE("a record announcing billions of sensors or ids in 109 bytes allocates under 1 KiB") {
  const std::string sensors = announcing(UINT32_MAX, 0);
  const std::string ids = announcing(0, UINT32_MAX);
  CHECK(sensors.size() == 109);
  REQUIRE_FALSE(decode_checkpoint(sensors).has_value());
  REQUIRE_FALSE(decode_checkpoint(ids).has_value());
  CHECK(allocated_by_decoding(sensors) < 1024);
  CHECK(allocated_by_decoding(ids) < 1024);
}

TEST_CASE("decoding a valid snapshot allocates a small multiple of its size") {
  checkpoint_record record;
  record.header = record_header{record_kind::snapshot, 1, 0, 1, 1, 1, 0, "node"};
  for (int i = 0; i < 1000; ++i)
    record.image.sensors.push_back(record_of(key_of(i), 3));
  for (int i = 0; i < 1000; ++i)
    record.image.message_ids.push_back(message_id_fingerprint("message-" + std::to_string(i)));
  const std::string bytes = *encode_checkpoint(record);
  const std::size_t allocated = allocated_by_decoding(bytes);
  CHECK(allocated > bytes.size());  // the counting works: the record is really decoded
  CHECK(allocated < 4 * bytes.size());
}
