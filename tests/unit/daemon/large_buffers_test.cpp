// keep_large_buffers_mapped: a buffer of a few MiB (a snapshot of tens of thousands of sensors)
// comes from the allocator's heap and stays mapped there once freed, instead of being mapped
// afresh, and faulted in page by page, each time. Read back through glibc's own counters.
#include "telluride/daemon/startup.hpp"

#include <doctest/doctest.h>

#include <cstdlib>
#include <cstring>

#include <malloc.h>

namespace {

// AddressSanitizer and ThreadSanitizer bring their own allocator: glibc's settings and counters
// mean nothing there, so the test runs only in the builds that use glibc's (Release, CI's first
// run).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr bool uses_glibc_malloc = false;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
constexpr bool uses_glibc_malloc = false;
#else
constexpr bool uses_glibc_malloc = true;
#endif
#else
constexpr bool uses_glibc_malloc = true;
#endif

} // namespace

TEST_CASE("after keep_large_buffers_mapped a 4 MiB buffer comes from the heap and the heap keeps it once freed" *
          doctest::skip(!uses_glibc_malloc)) {
  telluride::keep_large_buffers_mapped();
  constexpr std::size_t size = 4 << 20;
  const struct mallinfo2 before = mallinfo2();
  auto* buffer = static_cast<char*>(std::malloc(size));
  REQUIRE(buffer != nullptr);
  std::memset(buffer, 1, size);
  const struct mallinfo2 held = mallinfo2();
  // Not a mapping of its own (glibc's default above 128 KiB)...
  CHECK(held.hblks == before.hblks);
  CHECK(held.hblkhd == before.hblkhd);
  CHECK(held.uordblks >= before.uordblks + size);
  std::free(buffer);
  const struct mallinfo2 freed = mallinfo2();
  // ...and not given back to the kernel when freed (glibc's default trims a free top above
  // 128 KiB): the next buffer of that size reuses the pages.
  CHECK(freed.arena >= held.arena);
  CHECK(freed.fordblks >= size);
}
