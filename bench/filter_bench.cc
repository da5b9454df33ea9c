// Filtered search benchmark: Quiver's filtered search (the planner: graph walk with an allow-list, or an
// exact scan of the matching points) against post-filtering (an unfiltered HNSW search for more results, then
// the filter), on the synthetic 100,000 x 384 cosine set with an integer payload, at selectivities 50%, 10%,
// 1% and 0.1%, without and with a payload index. Prints a markdown table.
//
//   filter_bench --cache .cache/bench [--queries 200] [--reps 3] [--levels 50%,10%] [--index none|integer]
//
// --levels and --index measure a part of the table (to profile one cell); by default all of it.
//
// Ground truth is brute force in double precision over the matching points, independent of Quiver's search.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <string>
#include <thread>
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

  std::vector<Level> levels = {{"50%", 500}, {"10%", 100}, {"1%", 10}, {"0.1%", 1}};
  if (const std::string only = Arg(argc, argv, "levels", ""); !only.empty()) {
    const std::string listed = "," + only + ",";
    std::erase_if(levels, [&](const Level& l) {
      return listed.find(std::string(",") + l.label + ",") == std::string::npos;
    });
    if (levels.empty()) {
      std::fprintf(stderr, "filter_bench: --levels takes a list of 50%%, 10%%, 1%%, 0.1%%\n");
      return 2;
    }
  }
  const std::string index_arg = Arg(argc, argv, "index", "both");
  if (index_arg != "both" && index_arg != "none" && index_arg != "integer") {
    std::fprintf(stderr, "filter_bench: --index takes none, integer or both\n");
    return 2;
  }
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
  // Background merges would otherwise run during the first measurements (the "none" rows) and not the later
  // ones: wait until the segments stop changing.
  for (CollectionStats before = col->Stats();;) {
    col->core().WaitIdle();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const CollectionStats after = col->Stats();
    if (after.segments == before.segments && after.indexed_vectors == before.indexed_vectors) break;
    before = after;
  }
  const CollectionStats settled = col->Stats();
  std::fprintf(stderr, "filter_bench: merges done after %.1f s: %zu segments, %zu vectors indexed, %zu not\n",
               Now() - t0, settled.segments, settled.indexed_vectors, settled.unindexed_vectors);

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
  // setting, in increasing cost): Quiver's filtered search over the search ef, post-filtering over the
  // over-fetch factor m (k' = m * k / selectivity results, ef = k'). Then `reps` timed passes of each, the two
  // sides alternating pass by pass so that a slower spell of a shared machine falls on both; the ratio is the
  // median of the per-pair ratios.
  struct Outcome {
    size_t setting = 0;
    double recall = 0;
    std::vector<double> qps;
    db::SearchPlan plan = db::SearchPlan::kGraph;
  };
  auto pass = [&](size_t l, bool post, Outcome& out) {
    const int buckets = levels[l].buckets;
    const std::string filter =
        R"({"must":[{"key":"bucket","range":{"lt":)" + std::to_string(buckets) + "}}]}";
    std::vector<std::vector<uint64_t>> found(nq);
    const double t = Now();
    for (size_t q = 0; q < nq; ++q) {
      SearchRequest req;
      req.vector.assign(ds->queries.begin() + q * dim, ds->queries.begin() + (q + 1) * dim);
      if (!post) {
        req.limit = k;
        req.filter = filter;
        req.hnsw_ef = out.setting;
        auto r = col->core().Search(req, &out.plan);
        for (const auto& p : *r) found[q].push_back(p.id.number());
      } else {
        req.limit = out.setting;
        req.hnsw_ef = out.setting;
        auto r = col->Search(req);
        for (const auto& p : *r) {
          if (Bucket(p.id.number()) < buckets) found[q].push_back(p.id.number());
          if (found[q].size() == k) break;
        }
      }
    }
    out.qps.push_back(nq / (Now() - t));
    out.recall = recall_of(l, found);
  };
  auto cheapest = [&](size_t l, const std::vector<size_t>& settings, bool post) {
    Outcome best;
    for (size_t setting : settings) {  // increasing cost
      best.setting = setting;
      pass(l, post, best);
      if (best.recall >= 0.95) break;
    }
    best.qps.clear();
    return best;
  };
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };

  std::printf(
      "| payload index | selectivity | Quiver filtered: plan | ef | recall@10 | QPS | post-filter: k' = ef | "
      "recall@10 | QPS | QPS ratio, median of pass pairs |\n|---|---|---|---|---|---|---|---|---|---|\n");
  for (bool indexed : {false, true}) {
    if (index_arg != "both" && (index_arg == "integer") != indexed) continue;
    if (indexed && !col->CreatePayloadIndex("bucket", "integer").ok()) return 1;
    for (size_t l = 0; l < levels.size(); ++l) {
      const double selectivity = levels[l].buckets / 1000.0;
      std::vector<size_t> post_settings;
      for (double m : {1.0, 1.5, 2.0, 3.0}) {
        post_settings.push_back(std::min<size_t>(n, static_cast<size_t>(std::ceil(m * k / selectivity))));
      }
      Outcome a = cheapest(l, {10, 20, 40, 80, 160, 320}, false);
      Outcome b = cheapest(l, post_settings, true);
      std::vector<double> ratios;
      for (size_t rep = 0; rep < reps; ++rep) {
        pass(l, false, a);
        pass(l, true, b);
        ratios.push_back(a.qps.back() / b.qps.back());
      }
      std::printf("| %s | %s | %s | %zu | %.3f | %.0f | %zu | %.3f | %.0f | %.2fx |\n",
                  indexed ? "integer" : "none", levels[l].label, plan_name(a.plan), a.setting, a.recall,
                  median(a.qps), b.setting, b.recall, median(b.qps), median(ratios));
      std::fflush(stdout);
    }
  }
  return 0;
}

}  // namespace
}  // namespace quiver::bench

int main(int argc, char** argv) { return quiver::bench::Run(argc, argv); }
