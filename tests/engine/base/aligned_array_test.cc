#include "base/aligned_array.h"

#include <catch2/catch.hpp>
#include <cstdint>
#include <cstdlib>

#include "base/huge_pages.h"

#if defined(__linux__)
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>

#include <fstream>
#include <string>
#endif
#if defined(__EMSCRIPTEN__)
#include <malloc.h>

#include <vector>
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
  // Past the huge-page threshold: the big block, then back through a copy and a move. Aligned to a huge page
  // where the system has them; elsewhere (WebAssembly) to a cache line only, and the block is no larger than asked
  // for plus malloc's header: the 2 MiB alignment had cost up to 2 MiB of heap per array there.
  a.Resize(kHugePageThreshold / sizeof(uint32_t) + 5);
  CHECK(reinterpret_cast<uintptr_t>(a.data()) % (kHugePagesPossible ? kHugePageSize : kCacheLine) == 0);
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

#if defined(__EMSCRIPTEN__)
TEST_CASE("AlignedArray: in WebAssembly a large array takes its size from the heap, no alignment slack",
          "[base][aligned_array]") {
  // The heap only grows (mallinfo's arena: what malloc took from the memory, which never shrinks). Eight arrays
  // just past the huge-page threshold must grow it by about their size; aligned to 2 MiB, as they were, each cost
  // up to 2 MiB more, in pieces too small for the next array.
  const size_t n = kHugePageThreshold / sizeof(float) + 1000;
  const size_t before = static_cast<size_t>(mallinfo().arena);
  std::vector<AlignedArray<float>> arrays(8);
  for (AlignedArray<float>& a : arrays) {
    a.ResizeForOverwrite(n);
    CHECK(reinterpret_cast<uintptr_t>(a.data()) % kCacheLine == 0);
  }
  const size_t grown = static_cast<size_t>(mallinfo().arena) - before;
  INFO("heap grew " << grown << " bytes for " << 8 * n * sizeof(float));
  CHECK(grown <= 8 * n * sizeof(float) + (size_t{1} << 20));
}
#endif

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

// A field of /proc/self/status in bytes (VmRSS, VmHWM: the peak), 0 if missing.
size_t StatusBytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stoull(line.substr(field.size() + 1)) << 10;
  }
  return 0;
}

TEST_CASE("AlignedArray: a large array grows by moving its pages, not by copying them", "[base][aligned_array]") {
  if (!MapsLargeArrays()) return;  // under AddressSanitizer arrays stay with its allocator
  const size_t n = size_t{64} << 20 >> 2;  // 64 MiB of floats, every page written
  AlignedArray<float> a(n);
  for (size_t i = 0; i < n; i += 1024) a[i] = static_cast<float>(i);
  float* const before = a.data();

  // Something mapped right after the block: it cannot grow in place and has to move.
  const size_t capacity_bytes = (a.capacity() * sizeof(float) + kHugePageSize - 1) & ~(kHugePageSize - 1);
  void* blocker = ::mmap(reinterpret_cast<char*>(before) + capacity_bytes, 4096, PROT_READ,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  REQUIRE(blocker != MAP_FAILED);

  std::ofstream("/proc/self/clear_refs") << "5";  // peak := current RSS
  const size_t peak_before = StatusBytes("VmHWM"), rss_before = StatusBytes("VmRSS");
  a.ResizeForOverwrite(n * 2);
  const size_t peak_after = StatusBytes("VmHWM");
  CHECK(a.data() != before);
  CHECK(reinterpret_cast<uintptr_t>(a.data()) % kHugePageSize == 0);
  CHECK_FALSE(Mapped(before));  // the pages left the old range
  bool kept = true;
  for (size_t i = 0; i < n; i += 1024) kept &= a[i] == static_cast<float>(i);
  CHECK(kept);
  CHECK(a[n * 2 - 1] == 0.0f);  // the new part reads as zero
  // A copy would have held both 64 MiB blocks at once. (Skipped where /proc has no peak to reset.)
  if (peak_before && peak_before <= rss_before + (size_t{4} << 20)) {
    INFO("peak rose by " << (peak_after - peak_before) / 1024 << " KiB");
    CHECK(peak_after - peak_before < (size_t{16} << 20));
  }
  ::munmap(blocker, 4096);

  // Grown again (in place where the address space after it is free): still the same contents.
  a.ResizeForOverwrite(n * 3);
  CHECK(a[1024] == 1024.0f);
  CHECK(a[n * 3 - 1] == 0.0f);
}
#endif

}  // namespace
}  // namespace quiver
