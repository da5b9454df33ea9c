#include "base/huge_pages.h"

namespace quiver {

void AdviseHugePages(void*, size_t) {}

}  // namespace quiver
