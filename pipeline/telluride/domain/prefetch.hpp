// prefetch.hpp — asks the CPU for a cache line ahead of its use.
//
// A batch whose lookups each miss the cache (an index slot at a random place, then the
// record it names) can ask for every line first and then use them: the misses then overlap
// instead of coming one after the other. A hint only: nothing is read, nothing can fault.
#pragma once

namespace telluride {

/// GCC 12's dead-code elimination removed __builtin_prefetch calls (all of those of
/// message_id_window::prefetch, seen in the daemon's code); an asm statement stays as written.
inline void prefetch_line(const void* at) noexcept {
#if defined(__x86_64__) || defined(__i386__)
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(at)));
#else
  __builtin_prefetch(at);
#endif
}

} // namespace telluride
