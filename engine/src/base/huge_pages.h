// Large arrays (vectors, graph links) straight from the operating system, backed by huge pages where it can.
// Random reads across a big vector array (what a graph search does) otherwise miss the TLB on nearly every vector.
//
// They bypass malloc so that freeing one returns its memory at once. Through malloc a freed array of megabytes
// stays in the allocator's arena (glibc raises its mmap threshold to the largest block freed, up to 32 MiB), is cut
// into small blocks there and keeps its huge-page advice, so the kernel backs the arena with 2 MiB pages for
// whatever small objects land in it: a process that builds and frees graphs all the time (merges) then holds far
// more memory than it uses (docs/reliability.md, "A soak").
//
// On systems without mmap (WASM), and under AddressSanitizer, AllocateLarge returns null and the caller allocates
// as usual.
//
// Thread safety: every function may be called from any thread.
#ifndef QUIVER_BASE_HUGE_PAGES_H_
#define QUIVER_BASE_HUGE_PAGES_H_

#include <cstddef>

namespace quiver {

// Allocations at least this large are aligned to kHugePageSize and come from AllocateLarge, where the system has
// huge pages (kHugePagesPossible).
inline constexpr size_t kHugePageThreshold = size_t{4} << 20;
inline constexpr size_t kHugePageSize = size_t{2} << 20;

// Whether the system can back memory with huge pages (Linux). Elsewhere large arrays are aligned to a cache line
// only: an alignment of 2 MiB asked of malloc costs up to 2 MiB of slack per array, and in WebAssembly, whose
// memory never shrinks, the slack beside every 4 MiB chunk of vectors added up to a fifth of the heap.
#if defined(__linux__)
inline constexpr bool kHugePagesPossible = true;
#else
inline constexpr bool kHugePagesPossible = false;
#endif

// `bytes` of zeroed memory aligned to kHugePageSize, mapped from the operating system and advised to use huge
// pages; null when not available or out of memory. Free with FreeLarge and the same `bytes`.
void* AllocateLarge(size_t bytes);
void FreeLarge(void* p, size_t bytes);
// Grows a block from AllocateLarge of `old_bytes` to `new_bytes` (larger), keeping its contents and its alignment,
// by remapping its pages rather than copying them: in place where the address space after it is free, else moved
// to a fresh aligned range. Returns the block's address (free it with FreeLarge and `new_bytes`), or null when the
// system cannot remap; the block is then unchanged. The new part reads as zero.
// Growing by copying holds the old and the new block at once: for the vectors of a graph being built, 2x their
// size at every growth, which is what a process's peak memory was made of.
void* GrowLarge(void* p, size_t old_bytes, size_t new_bytes);
// Whether AllocateLarge maps memory in this build.
bool MapsLargeArrays();

// Asks the operating system to back [p, p + bytes) with huge pages where it can; a hint only.
void AdviseHugePages(void* p, size_t bytes);

// Returns the allocator's free memory to the operating system where the allocator can (glibc's malloc_trim);
// otherwise does nothing. Costs a walk over the free blocks of every arena: for after large frees, not per call.
void ReleaseFreeHeap();

}  // namespace quiver

#endif  // QUIVER_BASE_HUGE_PAGES_H_
