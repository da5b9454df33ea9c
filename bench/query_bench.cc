// Hybrid query cost: a Query API call with two prefetches fused by RRF against running its two prefetches as
// separate queries, on the synthetic 100,000 x 384 cosine set (bench/ann_datasets.h). Until sparse vectors land,
// the two prefetches are dense: the nearest points to one query vector, and the nearest points to a second
// query vector, either among all points or among the 10% of points a payload filter admits. Both sides go through the request layer
// (api::Call with a JSON body), as every face does; results are not fetched (no payloads, no vectors).
//
//   query_bench --cache .cache/bench [--queries 200] [--reps 5] [--prefetch 20,100]
//
// The runs alternate (hybrid, then the two prefetches, per repetition) and the table reports the median
// milliseconds per query of each side and their ratio, per repetition and overall.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "ann_datasets.h"
#include "quiver/api.h"
#include "quiver/database.h"

namespace quiver::bench {
namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

int Bucket(size_t i) { return static_cast<int>((i * 7919) % 1000); }

std::string Arg(int argc, char** argv, const std::string& key, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == "--" + key) return argv[i + 1];
  }
  return fallback;
}

std::string VectorJson(const float* v, uint32_t dim) {
  std::string s = "[";
  char buf[32];
  for (uint32_t j = 0; j < dim; ++j) {
    std::snprintf(buf, sizeof(buf), "%s%.9g", j ? "," : "", v[j]);
    s += buf;
  }
  return s + "]";
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

int Run(int argc, char** argv) {
  const std::string cache = Arg(argc, argv, "cache", ".cache/bench");
  const size_t nq = std::stoul(Arg(argc, argv, "queries", "200"));
  const size_t reps = std::stoul(Arg(argc, argv, "reps", "5"));
  std::vector<size_t> prefetch_limits;
  {
    std::stringstream in(Arg(argc, argv, "prefetch", "20,100"));
    for (std::string item; std::getline(in, item, ',');) prefetch_limits.push_back(std::stoul(item));
  }
  if (Status s = GenerateSynthetic(cache); !s.ok()) {
    std::fprintf(stderr, "query_bench: %s\n", s.ToString().c_str());
    return 1;
  }
  auto ds = LoadDataset("synthetic-384", cache);
  if (!ds.ok()) {
    std::fprintf(stderr, "query_bench: %s\n", ds.status().ToString().c_str());
    return 1;
  }
  const uint32_t dim = ds->dim;
  const size_t n = ds->base_count;
  if (nq + 1 > ds->query_count) return std::fprintf(stderr, "query_bench: at most %zu queries\n", ds->query_count - 1), 1;

  DatabaseOptions options;
  options.replica_id = 1;
  auto db = *Database::Open(options);
  CollectionConfig cfg;
  cfg.vectors[""] = VectorParams{dim, Distance::kCosine};
  cfg.hnsw.m = 16;
  cfg.hnsw.ef_construct = 100;
  if (!db->CreateCollection("bench", cfg).ok()) return 1;
  auto col = *db->GetCollection("bench");
  std::fprintf(stderr, "query_bench: loading %zu points (HNSW built as they arrive)...\n", n);
  const double t0 = Now();
  std::vector<PointId> ids;
  std::vector<std::string> payloads;
  for (size_t i = 0; i < n; ++i) {
    ids.push_back(PointId::Number(i));
    payloads.push_back("{\"bucket\":" + std::to_string(Bucket(i)) + "}");
  }
  constexpr size_t kBatch = 1000;
  for (size_t i = 0; i < n; i += kBatch) {
    const size_t m = std::min(kBatch, n - i);
    Status s = col->UpsertDense({ids.data() + i, m}, "", {&ds->base[i * dim], m * dim}, {payloads.data() + i, m});
    if (!s.ok()) return std::fprintf(stderr, "query_bench: %s\n", s.ToString().c_str()), 1;
  }
  if (Status s = col->CreatePayloadIndex("bucket", "integer"); !s.ok()) return 1;
  std::fprintf(stderr, "query_bench: loaded and indexed in %.1f s\n", Now() - t0);

  std::printf("| prefetches | limit | repetition | hybrid (2 prefetches + RRF), ms/query | prefetch A, ms | "
              "prefetch B, ms | A + B, ms | hybrid / (A + B) |\n|---|---|---|---|---|---|---|---|\n");
  auto measure = [&](bool filtered, size_t limit) {
    const std::string filter = filtered ? R"(,"filter":{"must":[{"key":"bucket","range":{"lt":100}}]})" : "";
    const char* label = filtered ? "dense + dense among 10% (filter)" : "dense + dense";
    // Query q: vector q (prefetch A) and vector q + 1 of the query set (prefetch B).
    std::vector<std::string> hybrid(nq), a(nq), b(nq);
    for (size_t q = 0; q < nq; ++q) {
      const std::string va = VectorJson(&ds->queries[q * dim], dim);
      const std::string vb = VectorJson(&ds->queries[(q + 1) * dim], dim);
      const std::string pa = R"({"query":)" + va + R"(,"limit":)" + std::to_string(limit) + "}";
      const std::string pb = R"({"query":)" + vb + R"(,"limit":)" + std::to_string(limit) + filter + "}";
      a[q] = pa;
      b[q] = pb;
      hybrid[q] = R"({"prefetch":[)" + pa + "," + pb + R"(],"query":{"fusion":"rrf"},"limit":10})";
    }
    auto run = [&](const std::vector<std::string>& bodies) {
      const double t = Now();
      size_t found = 0;
      for (const std::string& body : bodies) {
        auto r = api::Call(*col, api::Operation::kQueryPoints, {}, body);
        if (!r.ok()) {
          std::fprintf(stderr, "query_bench: %s\n", r.status().ToString().c_str());
          std::exit(1);
        }
        found += std::get<QueryResponse>(*r).points.size();
      }
      if (found == 0) std::exit(1);
      return (Now() - t) * 1000.0 / double(bodies.size());
    };
    run(hybrid);  // warm-up
    std::vector<double> th, ta, tb, ratio;
    for (size_t rep = 0; rep < reps; ++rep) {
      th.push_back(run(hybrid));
      ta.push_back(run(a));
      tb.push_back(run(b));
      ratio.push_back(th.back() / (ta.back() + tb.back()));
      std::printf("| %s | %zu | %zu | %.3f | %.3f | %.3f | %.3f | %.2f |\n", label, limit, rep + 1, th.back(),
                  ta.back(), tb.back(), ta.back() + tb.back(), ratio.back());
      std::fflush(stdout);
    }
    std::vector<double> sum;
    for (size_t i = 0; i < reps; ++i) sum.push_back(ta[i] + tb[i]);
    std::printf("| %s | %zu | **median** | **%.3f** | %.3f | %.3f | **%.3f** | **%.2f** |\n", label, limit,
                Median(th), Median(ta), Median(tb), Median(sum), Median(ratio));
    std::fflush(stdout);
  };
  for (const bool filtered : {false, true}) {
    for (size_t limit : prefetch_limits) measure(filtered, limit);
  }
  return 0;
}

}  // namespace
}  // namespace quiver::bench

int main(int argc, char** argv) { return quiver::bench::Run(argc, argv); }
