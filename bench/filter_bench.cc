// Filtered search benchmark: Quiver's filtered search (the planner: graph walk with an allow-list, or an
// exact scan of the matching points) against post-filtering (an unfiltered HNSW search for more results, then
// the filter), on the synthetic 100,000 x 384 cosine set with an integer payload, at selectivities 50%, 10%,
// 1% and 0.1%, without and with a payload index. Prints a markdown table.
//
//   filter_bench --cache .cache/bench [--queries 200] [--reps 3]
//
// Ground truth is brute force in double precision over the matching points, independent of Quiver's search.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ann_datasets.h"
#include "db/collection_core.h"
#include "quiver/database.h"
#include "quiver/thread_pool.h"

namespace quiver::bench {
namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// bucket of row i: a permutation of 0..999 spread over the rows, so every selectivity samples the whole set.
int Bucket(size_t i) { return static_cast<int>((i * 7919) % 1000); }

struct Level {
  const char* label;
  int buckets;  // of 1000
};

std::string Arg(int argc, char** argv, const std::string& key, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == "--" + key) return argv[i + 1];
  }
  return fallback;
}

int Run(int argc, char** argv) {
  const std::string cache = Arg(argc, argv, "cache", ".cache/bench");
  const size_t nq = std::stoul(Arg(argc, argv, "queries", "200"));
  const size_t reps = std::stoul(Arg(argc, argv, "reps", "3"));
  auto ds = LoadDataset("synthetic-384", cache);
  if (!ds.ok()) {
    std::fprintf(stderr, "filter_bench: %s (run bench/ann.mjs or ann_bench prepare first)\n",
                 ds.status().ToString().c_str());
    return 1;
  }
  const uint32_t dim = ds->dim;
  const size_t n = ds->base_count;
  const size_t k = 10;

  // Normalised copies for the brute-force truth.
  std::vector<double> base(n * dim), queries(nq * dim);
  auto normalise = [dim](const float* in, double* out) {
    double s = 0;
    for (uint32_t j = 0; j < dim; ++j) s += double(in[j]) * in[j];
    double inv = s > 0 ? 1 / std::sqrt(s) : 0;
    for (uint32_t j = 0; j < dim; ++j) out[j] = in[j] * inv;
  };
  for (size_t i = 0; i < n; ++i) normalise(&ds->base[i * dim], &base[i * dim]);
  for (size_t q = 0; q < nq; ++q) normalise(&ds->queries[q * dim], &queries[q * dim]);

  const std::vector<Level> levels = {{"50%", 500}, {"10%", 100}, {"1%", 10}, {"0.1%", 1}};
  ThreadPool pool;
  std::vector<std::vector<std::set<uint64_t>>> truth(levels.size(), std::vector<std::set<uint64_t>>(nq));
  for (size_t l = 0; l < levels.size(); ++l) {
    pool.ParallelFor(nq, [&](size_t q) {
      std::vector<std::pair<double, uint64_t>> all;
      for (size_t i = 0; i < n; ++i) {
        if (Bucket(i) >= levels[l].buckets) continue;
        double dot = 0;
        for (uint32_t j = 0; j < dim; ++j) dot += queries[q * dim + j] * base[i * dim + j];
        all.emplace_back(-dot, i);
      }
      std::partial_sort(all.begin(), all.begin() + std::min(k, all.size()), all.end());
      for (size_t r = 0; r < std::min(k, all.size()); ++r) truth[l][q].insert(all[r].second);
    });
  }

  DatabaseOptions options;
  options.replica_id = 1;
  auto db = *Database::Open(options);
  CollectionConfig cfg;
  cfg.vectors[""] = VectorParams{dim, Distance::kCosine};
  cfg.hnsw.m = 16;
  cfg.hnsw.ef_construct = 100;
  if (!db->CreateCollection("bench", cfg).ok()) return 1;
  auto col = *db->GetCollection("bench");
  std::fprintf(stderr, "filter_bench: loading %zu points (HNSW built as they arrive)...\n", n);
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
    if (!s.ok()) {
      std::fprintf(stderr, "filter_bench: %s\n", s.ToString().c_str());
      return 1;
    }
  }
  std::fprintf(stderr, "filter_bench: loaded in %.1f s\n", Now() - t0);

  auto recall_of = [&](size_t l, const std::vector<std::vector<uint64_t>>& found) {
    size_t hit = 0, total = 0;
    for (size_t q = 0; q < nq; ++q) {
      for (uint64_t id : found[q]) hit += truth[l][q].count(id);
      total += truth[l][q].size();
    }
    return double(hit) / double(total);
  };
  auto plan_name = [](db::SearchPlan p) {
    switch (p) {
      case db::SearchPlan::kGraph:
        return "graph";
      case db::SearchPlan::kFilteredGraph:
        return "filtered graph walk";
      case db::SearchPlan::kGraphThenFilter:
        return "graph walk, then the filter";
      case db::SearchPlan::kExactAll:
        return "exact scan";
      case db::SearchPlan::kExactFiltered:
        return "exact scan of matches";
      case db::SearchPlan::kExactCandidates:
        return "exact scan of index candidates";
    }
    return "?";
  };

  // Each side is measured at its cheapest setting that reaches recall@10 >= 0.95 (found with one pass per
  // setting, then timed over `reps` passes): Quiver's filtered search over the search ef, post-filtering over
  // the over-fetch factor m (k' = m * k / selectivity results, ef = k').
  struct Outcome {
    size_t setting = 0;
    double recall = 0;
    double qps = 0;
    db::SearchPlan plan = db::SearchPlan::kGraph;
  };
  auto measure = [&](size_t l, size_t setting, bool post, size_t passes) {
    const int buckets = levels[l].buckets;
    const std::string filter =
        R"({"must":[{"key":"bucket","range":{"lt":)" + std::to_string(buckets) + "}}]}";
    Outcome out;
    out.setting = setting;
    std::vector<double> qps;
    std::vector<std::vector<uint64_t>> found(nq);
    for (size_t pass = 0; pass < passes; ++pass) {
      const double t = Now();
      for (size_t q = 0; q < nq; ++q) {
        SearchRequest req;
        req.vector.assign(ds->queries.begin() + q * dim, ds->queries.begin() + (q + 1) * dim);
        found[q].clear();
        if (!post) {
          req.limit = k;
          req.filter = filter;
          req.hnsw_ef = setting;
          auto r = col->core().Search(req, &out.plan);
          for (const auto& p : *r) found[q].push_back(p.id.number());
        } else {
          req.limit = setting;
          req.hnsw_ef = setting;
          auto r = col->Search(req);
          for (const auto& p : *r) {
            if (Bucket(p.id.number()) < buckets) found[q].push_back(p.id.number());
            if (found[q].size() == k) break;
          }
        }
      }
      qps.push_back(nq / (Now() - t));
    }
    std::sort(qps.begin(), qps.end());
    out.qps = qps[qps.size() / 2];
    out.recall = recall_of(l, found);
    return out;
  };
  auto cheapest = [&](size_t l, const std::vector<size_t>& settings, bool post) {
    Outcome best;
    for (size_t setting : settings) {  // increasing cost
      best = measure(l, setting, post, 1);
      if (best.recall >= 0.95) break;
    }
    return measure(l, best.setting, post, reps);
  };

  std::printf(
      "| payload index | selectivity | Quiver filtered: plan | ef | recall@10 | QPS | post-filter: k' = ef | "
      "recall@10 | QPS | QPS ratio |\n|---|---|---|---|---|---|---|---|---|---|\n");
  for (bool indexed : {false, true}) {
    if (indexed && !col->CreatePayloadIndex("bucket", "integer").ok()) return 1;
    for (size_t l = 0; l < levels.size(); ++l) {
      const double selectivity = levels[l].buckets / 1000.0;
      std::vector<size_t> post_settings;
      for (double m : {1.0, 1.5, 2.0, 3.0}) {
        post_settings.push_back(std::min<size_t>(n, static_cast<size_t>(std::ceil(m * k / selectivity))));
      }
      const Outcome a = cheapest(l, {10, 20, 40, 80, 160, 320}, false);
      const Outcome b = cheapest(l, post_settings, true);
      std::printf("| %s | %s | %s | %zu | %.3f | %.0f | %zu | %.3f | %.0f | %.1fx |\n",
                  indexed ? "integer" : "none", levels[l].label, plan_name(a.plan), a.setting, a.recall,
                  a.qps, b.setting, b.recall, b.qps, a.qps / b.qps);
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace
}  // namespace quiver::bench

int main(int argc, char** argv) { return quiver::bench::Run(argc, argv); }
