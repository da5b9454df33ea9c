#include <sys/mman.h>

#include "base/huge_pages.h"

namespace quiver {

void AdviseHugePages(void* p, size_t bytes) {
#if defined(MADV_HUGEPAGE)
  (void)madvise(p, bytes, MADV_HUGEPAGE);
#endif
}

}  // namespace quiver
