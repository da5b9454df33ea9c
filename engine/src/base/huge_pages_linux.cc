#include <sys/mman.h>

#include <cstdint>

#include "base/huge_pages.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace quiver {

// Under AddressSanitizer the arrays stay with the allocator, which checks their bounds.
#if defined(__SANITIZE_ADDRESS__)
#define QUIVER_MAP_LARGE 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define QUIVER_MAP_LARGE 0
#endif
#endif
#ifndef QUIVER_MAP_LARGE
#define QUIVER_MAP_LARGE 1
#endif

namespace {

// A mapping ends at the next small page, not the next huge page: the kernel uses a huge page only where the
// mapping covers it whole, so a last, partly used huge page is held as the small pages written, not 2 MiB (vector
// stores keep one mapping per chunk of rows; each would otherwise hold up to 2 MiB it never uses).
constexpr size_t kSmallPage = 4096;
size_t RoundToPages(size_t bytes) { return (bytes + kSmallPage - 1) & ~(kSmallPage - 1); }

// `size` bytes (a multiple of kSmallPage) of zeroed, writable memory starting on a huge page boundary: the
// size plus one huge page is mapped, then the unaligned head and the tail beyond the size are unmapped.
void* MapAligned(size_t size) {
  const size_t span = size + kHugePageSize;
  void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePageSize - 1) & ~(uintptr_t{kHugePageSize} - 1);
  if (aligned > start) (void)::munmap(raw, aligned - start);
  const uintptr_t end = start + span, used_end = aligned + size;
  if (end > used_end) (void)::munmap(reinterpret_cast<void*>(used_end), end - used_end);
  return reinterpret_cast<void*>(aligned);
}

}  // namespace

void* AllocateLarge(size_t bytes) {
  if (!QUIVER_MAP_LARGE || bytes == 0) return nullptr;
  const size_t size = RoundToPages(bytes);
  void* p = MapAligned(size);
  if (p) AdviseHugePages(p, size);
  return p;
}

void* GrowLarge(void* p, size_t old_bytes, size_t new_bytes) {
#if defined(MREMAP_MAYMOVE) && defined(MREMAP_FIXED)
  if (!QUIVER_MAP_LARGE || !p) return nullptr;
  const size_t old_size = RoundToPages(old_bytes), size = RoundToPages(new_bytes);
  if (size <= old_size) return p;
  // In place: the mapping is extended over free address space after it (no flag lets it move).
  if (::mremap(p, old_size, size, 0) != MAP_FAILED) {
    AdviseHugePages(p, size);
    return p;
  }
  // Elsewhere: an aligned range is reserved and the pages are moved into it (MREMAP_FIXED replaces the
  // reservation), page tables and all, so the contents are not copied and huge pages stay huge.
  void* target = MapAligned(size);
  if (!target) return nullptr;
  void* moved = ::mremap(p, old_size, size, MREMAP_MAYMOVE | MREMAP_FIXED, target);
  if (moved == MAP_FAILED) {
    (void)::munmap(target, size);
    return nullptr;
  }
  AdviseHugePages(moved, size);
  return moved;
#else
  (void)p, (void)old_bytes, (void)new_bytes;
  return nullptr;
#endif
}

bool MapsLargeArrays() { return QUIVER_MAP_LARGE; }

void FreeLarge(void* p, size_t bytes) {
  if (!p) return;
  (void)::munmap(p, RoundToPages(bytes));
}

void AdviseHugePages(void* p, size_t bytes) {
#if defined(MADV_HUGEPAGE)
  (void)::madvise(p, bytes, MADV_HUGEPAGE);
#endif
}

void ReleaseFreeHeap() {
#if defined(__GLIBC__)
  (void)::malloc_trim(0);
#endif
}

}  // namespace quiver
