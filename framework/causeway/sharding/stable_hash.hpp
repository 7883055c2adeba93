// stable_hash.hpp — hashes whose values are fixed forever, for decisions that several processes
// must reach on their own and agree on (which member owns which shard).
//
// std::hash may differ between standard libraries, versions and runs; these never do. They
// read bytes one at a time and multiply 64-bit integers, so the value does not depend on the
// machine's byte order either. Changing either function changes which process owns which shard:
// daemons of two versions would then disagree, so the tests pin their values.
#pragma once

#include <cstdint>
#include <string_view>

namespace causeway::sharding {

/// 64-bit FNV-1a of `bytes` (offset basis 0xcbf29ce484222325, prime 0x100000001b3).
constexpr std::uint64_t fnv1a_64(std::string_view bytes) noexcept {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

/// One step of splitmix64: adds the golden gamma, then mixes (a bijection on 64 bits in which
/// every input bit affects every output bit). FNV-1a alone mixes its last bytes poorly.
constexpr std::uint64_t splitmix_64(std::uint64_t x) noexcept {
  std::uint64_t z = x + 0x9e3779b97f4a7c15ULL;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/// The rendezvous weight of the pair (member, shard), given fnv1a_64 of the member's name.
constexpr std::uint64_t rendezvous_weight(std::uint64_t member_hash, std::uint32_t shard) noexcept {
  return splitmix_64(member_hash ^ splitmix_64(shard));
}

} // namespace causeway::sharding
