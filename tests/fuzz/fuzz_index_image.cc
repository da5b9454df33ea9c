// Index images (index/index_image.h, index/hnsw_image.cc, flat and HNSW): the vectors and graph of one vector
// space inside a segment file.
//
// Input: byte 0 holds mode bits (1: repair checksums after mutation, 2: load in place from a 64-byte aligned
// buffer as a mapped file is, 4: quantize a loaded graph); the rest is the image. Checks: a graph that loads
// satisfies every invariant; searches return distinct, live, allowed rows in distance order, and an exact
// search finds min(k, allowed live rows); the image written again loads and is written identically; the
// loaded index takes new rows and removals (merges reuse loaded graphs); a walk widened twice returns
// distinct, live rows in order.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "index/hnsw_index.h"
#include "index/vector_index.h"

using namespace quiver;
using namespace quiver::index;

namespace {

void CheckHits(const VectorIndex& index, const std::vector<Neighbor>& hits, size_t k, bool even_only) {
  FUZZ_CHECK(hits.size() <= k);
  std::set<uint32_t> rows;
  for (size_t i = 0; i < hits.size(); ++i) {
    FUZZ_CHECK(hits[i].row < index.size());
    FUZZ_CHECK(!index.IsDeleted(hits[i].row));
    FUZZ_CHECK(!even_only || hits[i].row % 2 == 0);
    FUZZ_CHECK(rows.insert(hits[i].row).second);
    if (i > 0) FUZZ_CHECK(!(hits[i] < hits[i - 1]));
  }
}

void Exercise(VectorIndex& index, bool quantize) {
  if (index.kind() == index::IndexKind::kHnsw) {
    auto& hnsw = static_cast<HnswIndex&>(index);
    FUZZ_CHECK_OK(hnsw.CheckInvariants());
    if (quantize) hnsw.Quantize(0.99f);
  }
  std::vector<float> query(index.dim());
  for (size_t i = 0; i < query.size(); ++i) query[i] = static_cast<float>(i % 3) - 0.5f;
  size_t live_even = 0;
  for (uint32_t r = 0; r < index.size(); r += 2) live_even += !index.IsDeleted(r);
  auto even = [](uint32_t row) { return row % 2 == 0; };
  RowPredicate allow(even);
  std::vector<Neighbor> hits;
  for (size_t k : {size_t{1}, size_t{5}, index.size() + 1}) {
    for (bool exact : {false, true}) {
      SearchParams params;
      params.k = k;
      params.exact = exact;
      FUZZ_CHECK_OK(index.Search(query.data(), params, nullptr, &hits));
      CheckHits(index, hits, k, false);
      if (exact) FUZZ_CHECK(hits.size() == std::min(k, index.live_size()));
      FUZZ_CHECK_OK(index.Search(query.data(), params, &allow, &hits));
      CheckHits(index, hits, k, true);
      if (exact) FUZZ_CHECK(hits.size() == std::min(k, live_even));
    }
  }
  // A walk continued twice with a wider beam (the planner's walk for broad filters): each beam shown and the
  // last one hold distinct, live rows in distance order.
  size_t widened = 0, widest = 4;
  auto widen = [&](std::span<const Neighbor> beam) -> size_t {
    CheckHits(index, std::vector<Neighbor>(beam.begin(), beam.end()), widest, false);
    if (widened++ == 2) return 0;
    widest = 3 * widest + 1;
    return widest;
  };
  FUZZ_CHECK_OK(index.SearchWidening(query.data(), SearchParams{2, 4}, widen, &hits));
  CheckHits(index, hits, widest, false);
  std::vector<uint32_t> rows;
  for (uint32_t r = 0; r < index.size() + 3; r += 2) rows.push_back(r);
  FUZZ_CHECK_OK(index.SearchRows(query.data(), rows, 4, &hits));
  CheckHits(index, hits, 4, true);
  FUZZ_CHECK(hits.size() == std::min<size_t>(4, live_even));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  if (mode & fuzz::kFixChecksums) fuzz::FixSectionFileChecksums(&bytes);

  Result<std::unique_ptr<VectorIndex>> index = Status::Corruption("not loaded");
  if (mode & 2) {
    // As a mapped file: the bytes 64-byte aligned and kept alive by the index.
    void* raw = std::aligned_alloc(64, (bytes.size() + 63) / 64 * 64 + 64);
    std::shared_ptr<void> owner(raw, std::free);
    std::memcpy(raw, bytes.data(), bytes.size());
    index = LoadIndex({static_cast<const uint8_t*>(raw), bytes.size()}, owner);
  } else {
    index = LoadIndex({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()});
  }
  if (!index.ok()) {
    FUZZ_CHECK(index.status().IsCorruption());
    return 0;
  }
  VectorIndex& ix = **index;
  Exercise(ix, mode & 4);

  const std::string image = ix.Serialize();
  auto reloaded = LoadIndex({reinterpret_cast<const uint8_t*>(image.data()), image.size()});
  FUZZ_CHECK_OK(reloaded);
  FUZZ_CHECK((*reloaded)->Serialize() == image);

  std::vector<float> v(ix.dim(), 0.25f);
  v[0] = 1.0f;
  auto row = ix.Add(v.data());
  if (row.ok()) {
    FUZZ_CHECK(*row == ix.size() - 1);
    FUZZ_CHECK_OK(ix.Remove(0));
    Exercise(ix, false);
  }
  return 0;
}
