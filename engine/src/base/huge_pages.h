// Asks the operating system to back a large allocation with huge pages where it can. Random reads across a big
// vector array (what a graph search does) otherwise miss the TLB on nearly every vector. A hint only: on systems
// without transparent huge pages, and in WASM, it does nothing.
#ifndef QUIVER_BASE_HUGE_PAGES_H_
#define QUIVER_BASE_HUGE_PAGES_H_

#include <cstddef>

namespace quiver {

// Allocations at least this large are aligned to kHugePageSize and advised.
inline constexpr size_t kHugePageThreshold = size_t{4} << 20;
inline constexpr size_t kHugePageSize = size_t{2} << 20;

void AdviseHugePages(void* p, size_t bytes);

}  // namespace quiver

#endif  // QUIVER_BASE_HUGE_PAGES_H_
