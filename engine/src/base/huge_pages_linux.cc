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

void* AllocateLarge(size_t bytes) {
  if (!QUIVER_MAP_LARGE || bytes == 0) return nullptr;
  // Map the size plus one huge page, then unmap the unaligned head and the tail beyond the rounded-up size.
  const size_t size = (bytes + kHugePageSize - 1) & ~(kHugePageSize - 1);
  const size_t span = size + kHugePageSize;
  void* raw = ::mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED) return nullptr;
  const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
  const uintptr_t aligned = (start + kHugePageSize - 1) & ~(uintptr_t{kHugePageSize} - 1);
  if (aligned > start) (void)::munmap(raw, aligned - start);
  const uintptr_t end = start + span, used_end = aligned + size;
  if (end > used_end) (void)::munmap(reinterpret_cast<void*>(used_end), end - used_end);
  void* p = reinterpret_cast<void*>(aligned);
  AdviseHugePages(p, size);
  return p;
}

bool MapsLargeArrays() { return QUIVER_MAP_LARGE; }

void FreeLarge(void* p, size_t bytes) {
  if (!p) return;
  const size_t size = (bytes + kHugePageSize - 1) & ~(kHugePageSize - 1);
  (void)::munmap(p, size);
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
