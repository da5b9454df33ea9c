#include "base/huge_pages.h"

namespace quiver {

void* AllocateLarge(size_t) { return nullptr; }
void FreeLarge(void*, size_t) {}
void* GrowLarge(void*, size_t, size_t) { return nullptr; }
bool MapsLargeArrays() { return false; }
void AdviseHugePages(void*, size_t) {}
void ReleaseFreeHeap() {}

}  // namespace quiver
