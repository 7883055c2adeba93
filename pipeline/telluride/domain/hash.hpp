// hash.hpp — fast 64-bit hashing for sensor partitioning, sharding and lookup tables.
//
// A multiply-fold construction in the style of wyhash with a murmur3 finaliser: every input
// bit affects every output bit, so `hash % n` spreads well for any n. Values are stable: the
// same input gives the same hash on every run and every little-endian 64-bit machine, so a
// sensor always lands in the same partition, and checkpoints (format version 2) can store
// message-id fingerprints (message_id_fingerprint: hash_bytes of the id): changing hash_bytes
// changes that format. Not for security: there is no secret seed.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>

namespace telluride {

namespace detail {

__extension__ using uint128 = unsigned __int128;

inline constexpr std::uint64_t hash_k0 = 0xa0761d6478bd642fULL;
inline constexpr std::uint64_t hash_k1 = 0xe7037ed1a0b428dbULL;
inline constexpr std::uint64_t hash_k2 = 0x8ebc6af09c88c6e3ULL;
inline constexpr std::uint64_t hash_k3 = 0x589965cc75374cc3ULL;

/// The 128-bit product of a and b, folded to 64 bits.
inline std::uint64_t multiply_fold(std::uint64_t a, std::uint64_t b) noexcept {
  const uint128 product = static_cast<uint128>(a) * b;
  return static_cast<std::uint64_t>(product) ^ static_cast<std::uint64_t>(product >> 64);
}

/// murmur3's fmix64: a bijection with full avalanche.
inline std::uint64_t finalize(std::uint64_t h) noexcept {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

} // namespace detail

/// Hashes an integer; `seed` separates domains (e.g. integer ids from string ids).
inline std::uint64_t hash_integer(std::uint64_t x, std::uint64_t seed = 0) noexcept {
  return detail::finalize(detail::multiply_fold(x ^ detail::hash_k0, seed ^ detail::hash_k1));
}

/// Hashes a byte string, 8 bytes per step; the length is part of the hash.
inline std::uint64_t hash_bytes(std::string_view bytes, std::uint64_t seed = 0) noexcept {
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  std::uint64_t h = seed ^ detail::multiply_fold(left ^ detail::hash_k0, detail::hash_k1);
  for (; left >= 8; p += 8, left -= 8) {
    std::uint64_t word;
    std::memcpy(&word, p, 8);
    h = detail::multiply_fold(word ^ detail::hash_k1, h ^ detail::hash_k2);
  }
  if (left > 0) {
    std::uint64_t word = 0;
    std::memcpy(&word, p, left);
    h = detail::multiply_fold(word ^ detail::hash_k3, h ^ detail::hash_k2);
  }
  return detail::finalize(h);
}

/// Combines two hashes; order matters (`combine(a, b) != combine(b, a)` in general).
inline std::uint64_t hash_combine(std::uint64_t a, std::uint64_t b) noexcept {
  return detail::finalize(detail::multiply_fold(a ^ detail::hash_k2, b ^ detail::hash_k3));
}

} // namespace telluride
