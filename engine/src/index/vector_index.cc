#include "index/vector_index.h"

#include <algorithm>

namespace quiver::index {

Status VectorIndex::SearchWidening(const float* query, const SearchParams& params, Widen widen,
                                   std::vector<Neighbor>* out) const {
  size_t beam = std::max(params.k, params.ef ? params.ef : size_t{64});
  for (;;) {
    SearchParams p = params;
    p.k = beam;
    p.ef = beam;
    QUIVER_RETURN_IF_ERROR(Search(query, p, nullptr, out));
    const size_t next = widen(std::span<const Neighbor>(*out));
    if (next <= beam) return Status::OK();
    beam = next;
  }
}

}  // namespace quiver::index
