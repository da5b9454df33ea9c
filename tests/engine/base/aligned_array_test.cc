#include "base/aligned_array.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>

#include "base/huge_pages.h"

#if defined(__linux__)
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>
#endif

namespace quiver {
namespace {

TEST_CASE("AlignedArray: growing keeps the contents, zeroes new elements and aligns", "[base][aligned_array]") {
  AlignedArray<uint32_t> a;
  for (uint32_t i = 0; i < 1000; ++i) {
    a.Resize(i + 1);
    a[i] = i * 7;
  }
  CHECK(reinterpret_cast<uintptr_t>(a.data()) % kCacheLine == 0);
  // Past the huge-page threshold: the big block, then back through a copy and a move.
  a.Resize(kHugePageThreshold / sizeof(uint32_t) + 5);
  CHECK(reinterpret_cast<uintptr_t>(a.data()) % kHugePageSize == 0);
  bool kept = true, zeroed = true;
  for (uint32_t i = 0; i < 1000; ++i) kept &= a[i] == i * 7;
  for (size_t i = 1000; i < a.size(); ++i) zeroed &= a[i] == 0;
  CHECK(kept);
  CHECK(zeroed);
  AlignedArray<uint32_t> copy = a;
  CHECK(copy.size() == a.size());
  CHECK(copy[999] == 999 * 7);
  AlignedArray<uint32_t> moved = std::move(copy);
  CHECK(moved[999] == 999 * 7);
  CHECK(copy.empty());
}

#if defined(__linux__)
// Whether the page holding p is mapped in this process (mincore fails with ENOMEM on an unmapped range).
bool Mapped(const void* p) {
  const long page = ::sysconf(_SC_PAGESIZE);
  void* start = reinterpret_cast<void*>(reinterpret_cast<uintptr_t>(p) & ~static_cast<uintptr_t>(page - 1));
  unsigned char in_core = 0;
  return ::mincore(start, static_cast<size_t>(page), &in_core) == 0 || errno != ENOMEM;
}

TEST_CASE("AlignedArray: a large array goes back to the system when freed", "[base][aligned_array]") {
  if (!MapsLargeArrays()) return;  // under AddressSanitizer arrays stay with its allocator
  // Freeing a big malloc block makes glibc keep blocks up to that size in its arenas from then on: an array that
  // went through malloc would stay mapped after it is freed.
  void* big = std::malloc(size_t{24} << 20);
  REQUIRE(big);
  static_cast<volatile char*>(big)[0] = 1;
  std::free(big);

  AlignedArray<float> a(kHugePageThreshold);  // 16 MiB
  float* data = a.data();
  data[0] = 1.0f;
  data[a.size() - 1] = 2.0f;
  CHECK(Mapped(data));
  CHECK(Mapped(data + a.size() - 1));
  a.Clear();
  CHECK_FALSE(Mapped(data));
  CHECK_FALSE(Mapped(data + kHugePageThreshold - 1));
}
#endif

}  // namespace
}  // namespace quiver
