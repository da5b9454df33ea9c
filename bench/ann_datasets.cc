#include "ann_datasets.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>

#include "base/random.h"
#include "index/vector_index.h"
#if !defined(__EMSCRIPTEN__)
#include "quiver/thread_pool.h"
#endif

namespace quiver::bench {
namespace {

bool FileExists(const std::string& path) { return std::ifstream(path).good(); }

}  // namespace

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return Status::NotFound("cannot open " + path);
  std::string data(static_cast<size_t>(in.tellg()), '\0');
  in.seekg(0);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  if (!in) return Status::IOError("cannot read " + path);
  return data;
}

namespace {

uint32_t BigEndian32(const std::string& s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) |
         (uint32_t(uint8_t(s[at + 2])) << 8) | uint32_t(uint8_t(s[at + 3]));
}

// An IDX image file (unsigned bytes, 3 dimensions): returns up to `limit` images as floats 0..255.
Result<std::vector<float>> ReadIdxImages(const std::string& path, size_t limit, uint32_t* dim) {
  QUIVER_ASSIGN_OR_RETURN(std::string data, ReadFile(path));
  if (data.size() < 16 || BigEndian32(data, 0) != 0x00000803) return Status::Corruption(path + ": not an IDX image file");
  size_t count = BigEndian32(data, 4);
  *dim = BigEndian32(data, 8) * BigEndian32(data, 12);
  if (data.size() != 16 + count * *dim) return Status::Corruption(path + ": size does not match its header");
  count = std::min(count, limit);
  std::vector<float> out(count * *dim);
  for (size_t i = 0; i < out.size(); ++i) out[i] = static_cast<float>(static_cast<uint8_t>(data[16 + i]));
  return out;
}

double Gaussian(SplitMix64& rng) {
  double u1 = rng.NextDouble(), u2 = rng.NextDouble();
  return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
}

constexpr uint32_t kSyntheticDim = 384;
constexpr size_t kSyntheticBase = 100000;
constexpr size_t kQueries = 1000;

double Distance(index::Metric metric, const float* a, const float* b, uint32_t dim) {
  double s = 0;
  if (metric == index::Metric::kL2) {
    for (uint32_t i = 0; i < dim; ++i) {
      double d = double(a[i]) - double(b[i]);
      s += d * d;
    }
    return s;
  }
  for (uint32_t i = 0; i < dim; ++i) s += double(a[i]) * double(b[i]);
  return -s;  // cosine: inputs are normalised by the caller
}

}  // namespace

Status WriteFvecs(const std::string& path, const std::vector<float>& data, uint32_t dim) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    if (!out) return Status::IOError("cannot write " + tmp);
    for (size_t i = 0; i < data.size() / dim; ++i) {
      out.write(reinterpret_cast<const char*>(&dim), 4);
      out.write(reinterpret_cast<const char*>(&data[i * dim]), dim * sizeof(float));
    }
    if (!out) return Status::IOError("short write to " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Status::IOError("cannot rename " + tmp);
  return Status::OK();
}

Result<std::vector<float>> ReadFvecs(const std::string& path, uint32_t* dim) {
  QUIVER_ASSIGN_OR_RETURN(std::string data, ReadFile(path));
  if (data.size() < 4) return Status::Corruption(path + ": empty");
  std::memcpy(dim, data.data(), 4);
  const size_t row = 4 + size_t{*dim} * 4;
  if (*dim == 0 || data.size() % row != 0) return Status::Corruption(path + ": not an fvecs file");
  std::vector<float> out(data.size() / row * *dim);
  for (size_t i = 0; i < data.size() / row; ++i) {
    std::memcpy(&out[i * *dim], data.data() + i * row + 4, size_t{*dim} * 4);
  }
  return out;
}

Status GenerateSynthetic(const std::string& cache) {
  const std::string base_path = cache + "/synthetic-384.base.fvecs";
  const std::string query_path = cache + "/synthetic-384.query.fvecs";
  if (FileExists(base_path) && FileExists(query_path)) return Status::OK();
  // A Gaussian mixture shaped like text embeddings: 200 components, each a random centre plus a random
  // 48-dimensional subspace of variation and a little isotropic noise, so neighbourhoods have low intrinsic
  // dimension as real embeddings do.
  constexpr size_t kComponents = 200, kLatent = 48;
  SplitMix64 rng(384);
  std::vector<float> centres(kComponents * kSyntheticDim), bases(kComponents * kLatent * kSyntheticDim);
  for (auto& c : centres) c = static_cast<float>(Gaussian(rng));
  for (auto& b : bases) b = static_cast<float>(Gaussian(rng) * 0.25);
  auto draw = [&](size_t n) {
    std::vector<float> out(n * kSyntheticDim);
    std::vector<double> z(kLatent);
    for (size_t i = 0; i < n; ++i) {
      size_t c = rng() % kComponents;
      for (auto& x : z) x = Gaussian(rng);
      float* row = &out[i * kSyntheticDim];
      for (uint32_t j = 0; j < kSyntheticDim; ++j) {
        double v = centres[c * kSyntheticDim + j] + 0.3 * Gaussian(rng);
        for (size_t l = 0; l < kLatent; ++l) v += z[l] * bases[(c * kLatent + l) * kSyntheticDim + j];
        row[j] = static_cast<float>(v);
      }
    }
    return out;
  };
  std::vector<float> base = draw(kSyntheticBase);
  std::vector<float> queries = draw(kQueries);
  QUIVER_RETURN_IF_ERROR(WriteFvecs(base_path, base, kSyntheticDim));
  return WriteFvecs(query_path, queries, kSyntheticDim);
}

Result<Dataset> LoadDataset(const std::string& name, const std::string& cache) {
  Dataset ds;
  ds.name = name;
  if (name == "fashion-mnist") {
    ds.metric = index::Metric::kL2;
    uint32_t dim_q = 0;
    QUIVER_ASSIGN_OR_RETURN(ds.base, ReadIdxImages(cache + "/fashion-mnist/train-images-idx3-ubyte", SIZE_MAX, &ds.dim));
    QUIVER_ASSIGN_OR_RETURN(ds.queries, ReadIdxImages(cache + "/fashion-mnist/t10k-images-idx3-ubyte", kQueries, &dim_q));
    if (dim_q != ds.dim) return Status::Corruption("fashion-mnist: train and test dimensions differ");
  } else if (name == "synthetic-384") {
    ds.metric = index::Metric::kCosine;
    uint32_t dim_q = 0;
    QUIVER_ASSIGN_OR_RETURN(ds.base, ReadFvecs(cache + "/synthetic-384.base.fvecs", &ds.dim));
    QUIVER_ASSIGN_OR_RETURN(ds.queries, ReadFvecs(cache + "/synthetic-384.query.fvecs", &dim_q));
    if (dim_q != ds.dim) return Status::Corruption("synthetic-384: base and query dimensions differ");
  } else {
    return Status::InvalidArgument("unknown data set '" + name + "' (fashion-mnist, synthetic-384)");
  }
  ds.base_count = ds.base.size() / ds.dim;
  ds.query_count = ds.queries.size() / ds.dim;
  return ds;
}

Status EnsureGroundTruth(Dataset* ds, const std::string& cache, bool compute_if_missing) {
  const std::string path = cache + "/" + ds->name + ".truth.ivecs";
  if (FileExists(path)) {
    QUIVER_ASSIGN_OR_RETURN(std::string data, ReadFile(path));
    const size_t row = 4 + kGroundTruthK * 4;
    if (data.size() != row * ds->query_count) return Status::Corruption(path + ": wrong size; delete it to recompute");
    ds->truth.assign(ds->query_count, std::vector<uint32_t>(kGroundTruthK));
    for (size_t q = 0; q < ds->query_count; ++q) std::memcpy(ds->truth[q].data(), data.data() + q * row + 4, kGroundTruthK * 4);
    return Status::OK();
  }
  if (!compute_if_missing) return Status::NotFound(path + " is missing: run the native 'prepare' step first");

  // Exact, in double precision, independent of the kernels under test.
  const uint32_t dim = ds->dim;
  std::vector<float> base = ds->base, queries = ds->queries;
  if (ds->metric == index::Metric::kCosine) {
    auto normalise = [dim](std::vector<float>& v) {
      for (size_t i = 0; i < v.size() / dim; ++i) {
        double s = 0;
        for (uint32_t j = 0; j < dim; ++j) s += double(v[i * dim + j]) * v[i * dim + j];
        double inv = s > 0 ? 1.0 / std::sqrt(s) : 0.0;
        for (uint32_t j = 0; j < dim; ++j) v[i * dim + j] = float(v[i * dim + j] * inv);
      }
    };
    normalise(base);
    normalise(queries);
  }
  ds->truth.assign(ds->query_count, {});
  auto one = [&](size_t q) {
    std::vector<std::pair<double, uint32_t>> all(ds->base_count);
    for (size_t r = 0; r < ds->base_count; ++r) {
      all[r] = {Distance(ds->metric, &queries[q * dim], &base[r * dim], dim), uint32_t(r)};
    }
    std::partial_sort(all.begin(), all.begin() + kGroundTruthK, all.end());
    for (size_t i = 0; i < kGroundTruthK; ++i) ds->truth[q].push_back(all[i].second);
  };
#if !defined(__EMSCRIPTEN__)
  ThreadPool pool;
  pool.ParallelFor(ds->query_count, one);
#else
  for (size_t q = 0; q < ds->query_count; ++q) one(q);
#endif
  std::string out;
  for (const auto& t : ds->truth) {
    uint32_t k = kGroundTruthK;
    out.append(reinterpret_cast<const char*>(&k), 4);
    out.append(reinterpret_cast<const char*>(t.data()), kGroundTruthK * 4);
  }
  std::ofstream f(path + ".tmp", std::ios::binary);
  f.write(out.data(), out.size());
  f.close();
  if (!f || std::rename((path + ".tmp").c_str(), path.c_str()) != 0) return Status::IOError("cannot write " + path);
  return Status::OK();
}

double RecallAtK(const Dataset& ds, const std::vector<std::vector<uint32_t>>& found, size_t k) {
  size_t hit = 0;
  for (size_t q = 0; q < ds.query_count; ++q) {
    std::set<uint32_t> want(ds.truth[q].begin(), ds.truth[q].begin() + k);
    for (size_t i = 0; i < std::min(k, found[q].size()); ++i) hit += want.count(found[q][i]);
  }
  return double(hit) / double(ds.query_count * k);
}

}  // namespace quiver::bench
