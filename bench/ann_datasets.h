// Benchmark data sets: loading Fashion-MNIST (IDX files), generating the synthetic 384-d cosine mixture, the
// .fvecs/.ivecs file formats used for the cache, and exact ground truth.
#ifndef QUIVER_BENCH_ANN_DATASETS_H_
#define QUIVER_BENCH_ANN_DATASETS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "index/metric.h"
#include "quiver/status.h"

namespace quiver::bench {

struct Dataset {
  std::string name;
  index::Metric metric = index::Metric::kL2;
  uint32_t dim = 0;
  size_t base_count = 0;
  size_t query_count = 0;
  std::vector<float> base;     // base_count * dim
  std::vector<float> queries;  // query_count * dim
  // Exact nearest neighbours of each query, best first (kGroundTruthK each), once computed.
  std::vector<std::vector<uint32_t>> truth;
};

inline constexpr size_t kGroundTruthK = 100;

// Names: "fashion-mnist" (60,000 x 784, L2, the first 1,000 test images as queries) and "synthetic-384"
// (100,000 x 384 cosine Gaussian mixture, 1,000 queries from the same mixture).
// `cache` holds the decompressed IDX files, generated vectors and cached ground truth.
Result<Dataset> LoadDataset(const std::string& name, const std::string& cache);

// Writes the synthetic set's files into `cache` unless present.
Status GenerateSynthetic(const std::string& cache);

// Computes exact ground truth (multi-threaded natively) and writes it to the cache; reads it when present.
Status EnsureGroundTruth(Dataset* ds, const std::string& cache, bool compute_if_missing);

// recall@k of `found` (rows per query) against ds.truth.
double RecallAtK(const Dataset& ds, const std::vector<std::vector<uint32_t>>& found, size_t k);

Result<std::string> ReadFile(const std::string& path);
Status WriteFvecs(const std::string& path, const std::vector<float>& data, uint32_t dim);
Result<std::vector<float>> ReadFvecs(const std::string& path, uint32_t* dim);

}  // namespace quiver::bench

#endif  // QUIVER_BENCH_ANN_DATASETS_H_
