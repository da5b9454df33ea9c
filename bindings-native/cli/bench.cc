// quiver bench: recall@k and queries per second of a collection's searches against exact ground truth. The
// ground truth is computed from the collection's own vectors (read back with scroll) in double precision,
// independently of Quiver's distance kernels, and cached in --truth FILE when given.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <unordered_map>

#include "cli.h"
#include "readers.h"

namespace quiver::cli {
namespace {

using Clock = std::chrono::steady_clock;

// Lower is closer, for every distance.
double ExactDistance(Distance d, const float* a, const float* b, uint32_t dim) {
  double s = 0;
  switch (d) {
    case Distance::kEuclid: {
      // Eight independent sums, so the compiler can vectorise without reassociating one sum.
      double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      uint32_t i = 0;
      for (; i + 8 <= dim; i += 8) {
        for (uint32_t j = 0; j < 8; ++j) {
          double x = double(a[i + j]) - double(b[i + j]);
          acc[j] += x * x;
        }
      }
      for (; i < dim; ++i) {
        double x = double(a[i]) - double(b[i]);
        acc[0] += x * x;
      }
      for (double x : acc) s += x;
      return s;
    }
    case Distance::kManhattan:
      for (uint32_t i = 0; i < dim; ++i) s += std::fabs(double(a[i]) - double(b[i]));
      return s;
    case Distance::kCosine:  // vectors normalised by the caller
    case Distance::kDot: {
      double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
      uint32_t i = 0;
      for (; i + 8 <= dim; i += 8) {
        for (uint32_t j = 0; j < 8; ++j) acc[j] += double(a[i + j]) * double(b[i + j]);
      }
      for (; i < dim; ++i) acc[0] += double(a[i]) * double(b[i]);
      for (double x : acc) s += x;
      return -s;
    }
  }
  return s;
}

// Squared L2 in float, four 4-lane sums (GCC/Clang vector extensions, so it vectorises on any target); only a
// candidate filter, re-ranked in double.
float FloatL2(const float* a, const float* b, uint32_t dim) {
  using V4 = float __attribute__((vector_size(16)));
  V4 acc[4] = {};
  uint32_t i = 0;
  for (; i + 16 <= dim; i += 16) {
    for (int j = 0; j < 4; ++j) {
      V4 x, y;
      std::memcpy(&x, a + i + 4 * j, sizeof(x));
      std::memcpy(&y, b + i + 4 * j, sizeof(y));
      V4 d = x - y;
      acc[j] += d * d;
    }
  }
  V4 sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
  float s = (sum[0] + sum[1]) + (sum[2] + sum[3]);
  for (; i < dim; ++i) {
    float x = a[i] - b[i];
    s += x * x;
  }
  return s;
}

void Normalise(std::vector<float>* v, uint32_t dim) {
  for (size_t r = 0; r < v->size() / dim; ++r) {
    float* x = v->data() + r * dim;
    double s = 0;
    for (uint32_t i = 0; i < dim; ++i) s += double(x[i]) * x[i];
    double inv = s > 0 ? 1.0 / std::sqrt(s) : 0;
    for (uint32_t i = 0; i < dim; ++i) x[i] = float(x[i] * inv);
  }
}

Result<std::vector<std::vector<uint64_t>>> ReadTruth(const std::string& path, size_t queries, size_t k) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound(path);
  std::vector<std::vector<uint64_t>> truth;
  int32_t n = 0;
  while (in.read(reinterpret_cast<char*>(&n), 4)) {
    if (n < int32_t(k))
      return Status::InvalidArgument(path + ": has " + std::to_string(n) + " neighbours per query, need " +
                                     std::to_string(k));
    std::vector<int32_t> row(static_cast<size_t>(n));
    if (!in.read(reinterpret_cast<char*>(row.data()), std::streamsize(n) * 4))
      return Status::Corruption(path + ": truncated");
    truth.emplace_back(row.begin(), row.end());
  }
  if (truth.size() < queries)
    return Status::InvalidArgument(path + ": has " + std::to_string(truth.size()) + " queries, need " +
                                   std::to_string(queries));
  return truth;
}

}  // namespace

int CmdBench(Context& ctx, const Args& args) {
  auto coll = ctx.GetCollection(args.positional[0]);
  if (!coll.ok()) return Fail(coll.status());
  Collection& c = **coll;
  if (!args.Has("queries")) throw UsageError("bench needs --queries FILE (.fvecs or .npy)");
  const size_t k = std::max<size_t>(1, GetSize(args, "k", 10));
  const size_t reps = std::max<size_t>(1, GetSize(args, "reps", 3));
  std::vector<size_t> efs;
  {
    std::string list = args.Get("ef", "10,20,40,80,160");
    size_t i = 0;
    while (i <= list.size()) {
      size_t j = list.find(',', i);
      if (j == std::string::npos) j = list.size();
      std::string item = list.substr(i, j - i);
      if (item.empty() || item.find_first_not_of("0123456789") != std::string::npos) {
        throw UsageError("--ef expects comma-separated integers, got '" + list + "'");
      }
      efs.push_back(std::stoul(item));
      i = j + 1;
    }
  }

  CollectionInfo info = c.Info();
  auto vit = info.config.vectors.find("");
  if (vit == info.config.vectors.end())
    return Fail(Status::InvalidArgument("bench needs a collection with an unnamed vector"));
  const uint32_t dim = vit->second.size;
  const Distance distance = vit->second.distance;

  // Queries.
  auto reader = OpenReader(args.Get("queries"), ReaderOptions{});
  if (!reader.ok()) return Fail(reader.status());
  std::vector<float> queries;
  Batch batch;
  const size_t max_queries = GetSize(args, "queries-limit", SIZE_MAX);
  while (queries.size() / std::max<uint32_t>(dim, 1) < max_queries) {
    auto more = (*reader)->Next(1000, &batch);
    if (!more.ok()) return Fail(more.status());
    if (!*more) break;
    if (!batch.points.empty() || batch.dim != dim) {
      return Fail(Status::InvalidArgument(args.Get("queries") + ": expected .fvecs or .npy vectors of " +
                                          std::to_string(dim) + " dimensions"));
    }
    queries.insert(queries.end(), batch.vectors.begin(), batch.vectors.end());
  }
  size_t nq = std::min(queries.size() / dim, max_queries);
  queries.resize(nq * dim);
  if (nq == 0) return Fail(Status::InvalidArgument(args.Get("queries") + ": no queries"));

  // Ground truth: cached, or exact from the collection's vectors.
  std::vector<std::vector<uint64_t>> truth;
  const std::string truth_path = args.Get("truth");
  bool have_truth = false;
  if (!truth_path.empty()) {
    auto t = ReadTruth(truth_path, nq, k);
    if (t.ok()) {
      truth = std::move(*t);
      have_truth = true;
      std::printf("ground truth: read from %s\n", truth_path.c_str());
    } else if (!t.status().IsNotFound()) {
      return Fail(t.status());
    }
  }
  if (!have_truth) {
    auto t0 = Clock::now();
    std::vector<uint64_t> ids;
    std::vector<float> base;
    ScrollRequest req;
    req.limit = 4096;
    req.with_payload = PayloadSelector::None();
    req.with_vector = VectorSelector::All();
    while (true) {
      auto page = c.Scroll(req);
      if (!page.ok()) return Fail(page.status());
      for (const Record& r : page->points) {
        if (r.id.is_uuid()) return Fail(Status::NotSupported("bench needs numeric point ids"));
        auto it = r.vectors.find("");
        if (it == r.vectors.end()) continue;
        ids.push_back(r.id.number());
        base.insert(base.end(), it->second.begin(), it->second.end());
      }
      if (!page->next_page_offset) break;
      req.offset = page->next_page_offset;
    }
    if (ids.size() < k) return Fail(Status::InvalidArgument("the collection has fewer than k points"));
    std::vector<float> q = queries;
    if (distance == Distance::kCosine) {
      Normalise(&base, dim);
      Normalise(&q, dim);
    }
    const size_t keep = std::max<size_t>(k, 100);
    truth.assign(nq, {});
    ThreadPool pool(GetSize(args, "threads", 0));
    std::atomic<size_t> fallbacks{0};
    // Queries go in blocks of 16 so each base row is read from memory once per block, not once per query.
    constexpr size_t kBlock = 16;
    const size_t m = std::min(keep, ids.size());
    const size_t cands = m * 2 + 16;
    const bool filter = distance == Distance::kEuclid && ids.size() > cands;
    pool.ParallelFor((nq + kBlock - 1) / kBlock, [&](size_t block) {
      const size_t q0 = block * kBlock, q1 = std::min(nq, q0 + kBlock);
      std::vector<std::vector<std::pair<float, uint32_t>>> approx(q1 - q0);
      if (filter) {
        for (auto& a : approx) a.resize(ids.size());
        for (size_t r = 0; r < ids.size(); ++r) {
          for (size_t qi = q0; qi < q1; ++qi)
            approx[qi - q0][r] = {FloatL2(&q[qi * dim], &base[r * dim], dim), uint32_t(r)};
        }
      }
      for (size_t qi = q0; qi < q1; ++qi) {
        const float* query = &q[qi * dim];
        std::vector<std::pair<double, uint64_t>> exact;
        // Euclid: the float pass picks candidates, re-ranked in double. Float's error is bounded (relative,
        // gamma), so when the best excluded candidate's float distance, shrunk by that bound, still exceeds
        // the m-th exact distance, the top m is provably exact; otherwise this query scans everything in
        // double.
        if (filter) {
          auto& a = approx[qi - q0];
          std::nth_element(a.begin(), a.begin() + cands, a.end());
          for (size_t i = 0; i < cands; ++i) {
            uint32_t r = a[i].second;
            exact.push_back({ExactDistance(distance, query, &base[r * dim], dim), ids[r]});
          }
          std::partial_sort(exact.begin(), exact.begin() + m, exact.end());
          const double gamma = double(dim + 16) * 1.2e-7;  // > (dim + 16) * 2^-24
          if (double(a[cands].first) / (1 + gamma) <= exact[m - 1].first) {
            exact.clear();
            fallbacks.fetch_add(1);
          }
          std::vector<std::pair<float, uint32_t>>().swap(a);
        }
        if (exact.empty()) {
          exact.resize(ids.size());
          for (size_t r = 0; r < ids.size(); ++r)
            exact[r] = {ExactDistance(distance, query, &base[r * dim], dim), ids[r]};
          std::partial_sort(exact.begin(), exact.begin() + m, exact.end());
        }
        for (size_t i = 0; i < m; ++i) truth[qi].push_back(exact[i].second);
      }
    });
    if (fallbacks.load())
      std::printf("ground truth: %zu queries needed the full double-precision scan\n", fallbacks.load());
    std::printf("ground truth: exact top %zu of %zu points for %zu queries in %.1f s (double precision)\n",
                keep, ids.size(), nq, std::chrono::duration<double>(Clock::now() - t0).count());
    if (!truth_path.empty()) {
      std::ofstream out(truth_path, std::ios::binary | std::ios::trunc);
      for (const auto& row : truth) {
        int32_t n = int32_t(row.size());
        out.write(reinterpret_cast<const char*>(&n), 4);
        for (uint64_t id : row) {
          int32_t v = int32_t(id);
          out.write(reinterpret_cast<const char*>(&v), 4);
        }
      }
    }
  }

  CollectionStats stats = c.Stats();
  std::printf("collection '%s': %zu points, %u dimensions, %s, %zu segment(s), SIMD %s\n", c.name().c_str(),
              stats.points, dim, std::string(DistanceName(distance)).c_str(), stats.segments,
              stats.simd.c_str());
  std::printf("%zu queries, k=%zu, one query per call, median QPS of %zu repetitions\n\n", nq, k, reps);
  std::printf("| ef | recall@%zu | QPS |\n|---|---|---|\n", k);
  std::optional<std::pair<size_t, std::pair<double, double>>> target;
  for (size_t ef : efs) {
    SearchRequest req;
    req.limit = k;
    req.hnsw_ef = std::max(ef, k);
    std::vector<double> qps;
    double recall = 0;
    for (size_t rep = 0; rep < reps; ++rep) {
      size_t hits = 0;
      auto t0 = Clock::now();
      for (size_t qi = 0; qi < nq; ++qi) {
        req.vector.assign(queries.begin() + qi * dim, queries.begin() + (qi + 1) * dim);
        auto found = c.Search(req);
        if (!found.ok()) return Fail(found.status());
        for (const ScoredPoint& p : *found) {
          if (std::find(truth[qi].begin(), truth[qi].begin() + k, p.id.number()) != truth[qi].begin() + k)
            ++hits;
        }
      }
      double secs = std::chrono::duration<double>(Clock::now() - t0).count();
      qps.push_back(double(nq) / secs);
      recall = double(hits) / double(nq * k);
    }
    std::sort(qps.begin(), qps.end());
    double median = qps[qps.size() / 2];
    std::printf("| %zu | %.4f | %.0f |\n", ef, recall, median);
    std::fflush(stdout);
    if (!target && recall >= 0.95) target = {ef, {recall, median}};
  }
  if (target) {
    std::printf("\nat recall@%zu >= 0.95: ef=%zu, recall %.4f, %.0f QPS\n", k, target->first,
                target->second.first, target->second.second);
  }
  return kExitOk;
}

}  // namespace quiver::cli
