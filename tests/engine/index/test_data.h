// Seeded synthetic data for index tests: a Gaussian mixture (clustered like real embeddings), exact ground
// truth from the scalar reference kernels, recall, and building and searching an index.
#ifndef QUIVER_TESTS_INDEX_TEST_DATA_H_
#define QUIVER_TESTS_INDEX_TEST_DATA_H_

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <set>
#include <vector>

#include "base/random.h"
#include "index/hnsw_index.h"
#include "index/metric.h"
#include "index/vector_index.h"
#include "simd/distance.h"

namespace quiver::index::testing {

inline double Gaussian(SplitMix64& rng) {
  double u1 = rng.NextDouble(), u2 = rng.NextDouble();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

// n vectors of `dim` floats around `clusters` random centres.
inline std::vector<float> Mixture(size_t n, uint32_t dim, uint64_t seed, size_t clusters = 16, double spread = 0.35) {
  SplitMix64 rng(seed);
  std::vector<float> centres(clusters * dim);
  for (auto& c : centres) c = static_cast<float>(Gaussian(rng));
  std::vector<float> out(n * dim);
  for (size_t i = 0; i < n; ++i) {
    size_t c = rng() % clusters;
    for (uint32_t j = 0; j < dim; ++j) out[i * dim + j] = centres[c * dim + j] + float(spread * Gaussian(rng));
  }
  return out;
}

inline float RefDistance(Metric metric, const float* a, const float* b, uint32_t dim) {
  const simd::Kernels& k = simd::Scalar();
  switch (metric) {
    case Metric::kL2: return k.l2_squared(a, b, dim);
    case Metric::kInnerProduct: return -k.inner_product(a, b, dim);
    case Metric::kL1: return k.l1(a, b, dim);
    case Metric::kCosine: {
      double na = std::sqrt(double(k.inner_product(a, a, dim))), nb = std::sqrt(double(k.inner_product(b, b, dim)));
      return float(-k.inner_product(a, b, dim) / ((na > 0 ? na : 1) * (nb > 0 ? nb : 1)));
    }
  }
  return 0;
}

// Exact k nearest rows of `base` for each query, among rows where allow(row) holds.
template <typename Allow>
std::vector<std::vector<uint32_t>> GroundTruth(Metric metric, const std::vector<float>& base,
                                               const std::vector<float>& queries, uint32_t dim, size_t k,
                                               Allow allow) {
  const size_t n = base.size() / dim, nq = queries.size() / dim;
  std::vector<std::vector<uint32_t>> out(nq);
  for (size_t q = 0; q < nq; ++q) {
    std::vector<Neighbor> all;
    for (size_t r = 0; r < n; ++r) {
      if (!allow(uint32_t(r))) continue;
      all.push_back({uint32_t(r), RefDistance(metric, &queries[q * dim], &base[r * dim], dim)});
    }
    size_t kk = std::min(k, all.size());
    std::partial_sort(all.begin(), all.begin() + kk, all.end());
    for (size_t i = 0; i < kk; ++i) out[q].push_back(all[i].row);
  }
  return out;
}

inline std::vector<std::vector<uint32_t>> GroundTruth(Metric metric, const std::vector<float>& base,
                                                      const std::vector<float>& queries, uint32_t dim, size_t k) {
  return GroundTruth(metric, base, queries, dim, k, [](uint32_t) { return true; });
}

// Fraction of the true neighbours found.
inline double Recall(const std::vector<std::vector<Neighbor>>& found, const std::vector<std::vector<uint32_t>>& truth) {
  size_t hit = 0, total = 0;
  for (size_t q = 0; q < truth.size(); ++q) {
    std::set<uint32_t> want(truth[q].begin(), truth[q].end());
    for (const Neighbor& nb : found[q]) hit += want.count(nb.row);
    total += truth[q].size();
  }
  return total ? double(hit) / double(total) : 1.0;
}

// Runs every query (row-major in `queries`) through index.Search.
inline std::vector<std::vector<Neighbor>> SearchAll(const VectorIndex& index, const std::vector<float>& queries,
                                             SearchParams params, const RowPredicate* allow = nullptr) {
  const uint32_t dim = index.dim();
  std::vector<std::vector<Neighbor>> out(queries.size() / dim);
  for (size_t q = 0; q < out.size(); ++q) {
    Status s = index.Search(&queries[q * dim], params, allow, &out[q]);
    REQUIRE(s.ok());
  }
  return out;
}

// An HNSW index over `base` (row-major, dim floats each), built on the calling thread.
inline std::unique_ptr<HnswIndex> Build(const std::vector<float>& base, uint32_t dim, Metric metric,
                                 HnswOptions options = {}) {
  auto index = HnswIndex::Create(dim, metric, options);
  REQUIRE(index.ok());
  REQUIRE((*index)->AddBatch(base.data(), base.size() / dim, nullptr).ok());
  return std::move(*index);
}

}  // namespace quiver::index::testing

#endif  // QUIVER_TESTS_INDEX_TEST_DATA_H_
