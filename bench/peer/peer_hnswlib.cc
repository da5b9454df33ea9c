// hnswlib 0.6.2 (Debian's libhnswlib-dev) as its users run it: the index built point by point with addPoint,
// M=16, ef_construction=200, one thread, then one searchKnn call per query, in a process of its own. Compiled
// with -O3 -march=native, so hnswlib picks its widest distance functions for this CPU. hnswlib does not
// normalise for cosine: vectors and queries are normalised here, inside the timed build and searches (Quiver
// does it inside its own calls). bench/peer/run.py runs it.
//
//   peer_hnswlib --cache DIR --dataset NAME [--ef 10,20,40,80,160,320] [--passes 3] [--k 10] [--thp]
//
// --thp gives hnswlib the huge pages Quiver gives itself: Quiver aligns each allocation of 4 MiB or more to 2
// MiB and advises it with madvise(MADV_HUGEPAGE) (engine/src/base/aligned_array.h); here the one large block
// hnswlib allocates (level 0: every vector with its links and label) is advised the same way right after
// hnswlib allocates it and before anything is written to it. Its whole 2 MiB pages get huge pages; hnswlib's
// malloc'd block is not 2 MiB-aligned, so up to 2 MiB at each end stays on small pages. The upper levels'
// link lists (small mallocs) stay on small pages, as Quiver's small allocations do.
#include <hnswlib/hnswlib.h>
#include <sys/mman.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "peer_common.h"

namespace {

void Normalise(float* v, uint32_t dim) {
  float s = 0;
  for (uint32_t i = 0; i < dim; ++i) s += v[i] * v[i];
  if (s > 0) {
    const float inv = 1.0f / std::sqrt(s);
    for (uint32_t i = 0; i < dim; ++i) v[i] *= inv;
  }
}

// madvise(MADV_HUGEPAGE) on the whole 2 MiB pages inside [p, p + bytes); the bytes advised.
size_t AdviseHugePages(void* p, size_t bytes) {
  constexpr uintptr_t kHuge = uintptr_t{2} << 20;
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(p) + kHuge - 1) & ~(kHuge - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(p) + bytes) & ~(kHuge - 1);
  if (end <= begin) return 0;
  if (madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE) != 0) peer::Die("madvise failed");
  return end - begin;
}

}  // namespace

int main(int argc, char** argv) {
  const peer::Args args = peer::ParseArgs(argc, argv);
  const bool thp = args.Has("thp");
  peer::BuildReport report;
  report.engine = "hnswlib";
  report.mode = thp ? "thp" : "";
  report.detail = "0.6.2";
  const peer::Dataset ds =
      peer::LoadDataset(args.Get("cache", ".cache/bench"), args.Get("dataset", "fashion-mnist"));
  const size_t k = std::stoul(args.Get("k", "10"));
  const uint32_t dim = ds.dim;

  std::unique_ptr<hnswlib::SpaceInterface<float>> space;
  if (ds.cosine) {
    space = std::make_unique<hnswlib::InnerProductSpace>(dim);
  } else {
    space = std::make_unique<hnswlib::L2Space>(dim);
  }

  report.rss_loaded = peer::RssBytes();
  report.peak_reset = peer::ResetPeakRss();
  const peer::BuildStart build;
  hnswlib::HierarchicalNSW<float> index(space.get(), ds.base_count, /*M=*/16, /*ef_construction=*/200,
                                        /*random_seed=*/42);
  size_t advised = 0;
  if (thp)
    advised = AdviseHugePages(index.data_level0_memory_, index.max_elements_ * index.size_data_per_element_);
  std::vector<float> v(dim);
  for (size_t i = 0; i < ds.base_count; ++i) {
    std::copy_n(&ds.base[i * dim], dim, v.data());
    if (ds.cosine) Normalise(v.data(), dim);
    index.addPoint(v.data(), i);
  }
  build.Finish(&report);
  report.extra_json = ",\"huge_page_advised_bytes\":" + std::to_string(advised);
  peer::PrintBuild(ds, report);

  std::vector<float> qbuf(dim);
  peer::MeasureSearches(
      ds, report, peer::ParseList(args.Get("ef", "10,20,40,80,160,320")), k,
      std::stoul(args.Get("passes", "3")), [&](size_t ef) { index.setEf(ef); },
      [&](const float* query, size_t limit, std::vector<uint32_t>* rows) {
        const float* q = query;
        if (ds.cosine) {
          std::copy_n(query, dim, qbuf.data());
          Normalise(qbuf.data(), dim);
          q = qbuf.data();
        }
        auto result = index.searchKnn(q, limit);
        rows->resize(result.size());
        for (size_t i = result.size(); i-- > 0;) {
          (*rows)[i] = static_cast<uint32_t>(result.top().second);
          result.pop();
        }
      });
  return 0;
}
