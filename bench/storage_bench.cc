// Storage benchmark: durable ingest at batch sizes 1, 100 and 1000; building the index of a 200,000 x 384
// collection (merging and indexing its segments) against opening it from its files; disk bytes per point
// against raw vectors plus graph; compaction throughput. Prints a markdown table.
//
//   storage_bench --cache .cache/bench [--points 200000] [--threads 2] [--dir .cache/bench/storage]
//                 [--ingest-only 1] [--quantize 1]
//
// --quantize 1 gives the collection int8 scalar quantization (quantile 0.99) and skips the ingest rows: the
// open then loads the codes the segment files hold, and the table adds the time to learn and encode them
// again (a change of quantile, which is what every open did before index images stored them).
//
// Uses the synthetic 384-d set (bench/ann.mjs or `ann_bench prepare --dataset synthetic-384` caches it); the
// first 100,000 vectors are reused with shifted ids to reach --points.
#include <sys/stat.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
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

std::string Arg(int argc, char** argv, const std::string& key, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == "--" + key) return argv[i + 1];
  }
  return fallback;
}

void Fail(const Status& s) {
  std::fprintf(stderr, "storage_bench: %s\n", s.ToString().c_str());
  std::exit(1);
}

template <typename T>
T Check(Result<T> r) {
  if (!r.ok()) Fail(r.status());
  return std::move(*r);
}

void Check(const Status& s) {
  if (!s.ok()) Fail(s);
}

void RemoveTree(const std::string& dir) { (void)!std::system(("rm -rf '" + dir + "'").c_str()); }

CollectionConfig Config(uint32_t dim, bool quantize = false) {
  CollectionConfig c;
  c.vectors[""] = VectorParams{dim, Distance::kCosine};
  c.hnsw.m = 16;
  c.hnsw.ef_construct = 100;
  if (quantize) c.quantization = ScalarQuantization{0.99, true};
  return c;
}

// Ingests `n` points in batches of `batch` with a small payload; returns points per second.
double Ingest(Collection& c, const Dataset& ds, size_t n, size_t batch, uint64_t id_base) {
  std::vector<PointId> ids(batch);
  std::vector<std::string> payloads(batch);
  const double t0 = Now();
  for (size_t i = 0; i < n; i += batch) {
    const size_t m = std::min(batch, n - i);
    for (size_t j = 0; j < m; ++j) {
      ids[j] = PointId::Number(id_base + i + j);
      payloads[j] = "{\"n\":" + std::to_string(i + j) + "}";
    }
    const size_t row = (i % ds.base_count);
    const size_t rows = std::min(m, ds.base_count - row);
    Check(c.UpsertDense({ids.data(), rows}, "", {&ds.base[row * ds.dim], rows * ds.dim}, {payloads.data(), rows}));
    if (rows < m) {
      Check(c.UpsertDense({ids.data() + rows, m - rows}, "", {&ds.base[0], (m - rows) * ds.dim}, {payloads.data() + rows, m - rows}));
    }
  }
  return double(n) / (Now() - t0);
}

// kB of a line of /proc/self/status ("RssAnon:"); 0 where there is none.
uint64_t StatusKb(const char* key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(key, 0) == 0) return std::strtoull(line.c_str() + std::strlen(key), nullptr, 10);
  }
  return 0;
}

int Run(int argc, char** argv) {
  const std::string cache = Arg(argc, argv, "cache", ".cache/bench");
  const size_t points = std::stoul(Arg(argc, argv, "points", "200000"));
  const size_t threads = std::stoul(Arg(argc, argv, "threads", "2"));
  const std::string dir = Arg(argc, argv, "dir", cache + "/storage");
  auto ds = LoadDataset("synthetic-384", cache);
  if (!ds.ok()) {
    std::fprintf(stderr, "storage_bench: %s (run ann_bench prepare --dataset synthetic-384 first)\n",
                 ds.status().ToString().c_str());
    return 1;
  }
  const bool quantize = Arg(argc, argv, "quantize", "0") == "1";
  ThreadPool pool(threads);
  std::printf("| measurement | value |\n|---|---|\n");

  // 1. Durable ingest (sync on every write), without background merges: the write path alone.
  for (auto [batch, n] : {std::pair<size_t, size_t>{1, 2000}, {100, 20000}, {1000, 100000}}) {
    if (quantize) break;
    RemoveTree(dir);
    DatabaseOptions o;
    o.path = dir;
    o.durability = Durability::kSync;
    o.auto_optimize = false;
    auto db = Check(Database::Open(o));
    Check(db->CreateCollection("c", Config(ds->dim)));
    auto c = Check(db->GetCollection("c"));
    const double pps = Ingest(*c, *ds, n, batch, 0);
    std::printf("| durable ingest, batch %zu (%zu points, synced per batch) | %.0f points/s |\n", batch, n, pps);
    std::fflush(stdout);
  }

  if (Arg(argc, argv, "ingest-only", "0") == "1") return 0;

  // 2. A 200,000-point collection: ingest, then merge and index everything (the rebuild), then reopen (load).
  RemoveTree(dir);
  double build_seconds = 0, compaction_pps = 0;
  {
    DatabaseOptions o;
    o.path = dir;
    o.durability = Durability::kBatched;
    o.auto_optimize = false;
    o.executor = &pool;
    auto db = Check(Database::Open(o));
    Check(db->CreateCollection("c", Config(ds->dim, quantize)));
    auto c = Check(db->GetCollection("c"));
    Ingest(*c, *ds, points, 1000, 0);
    const double t0 = Now();
    Check(c->Optimize());
    build_seconds = Now() - t0;
    compaction_pps = double(points) / build_seconds;
    CollectionStats st = c->Stats();
    const double raw_vectors = double(points) * ds->dim * 4;
    const double graph = double(points) * (1 + 2 * 16) * 4;  // level-0 links; upper levels add about 1/16 of that
    std::printf("| index build of %zu x %u from the stored segments (merge + HNSW, %zu threads) | %.1f s |\n",
                points, ds->dim, threads, build_seconds);
    std::printf("| disk bytes per point after optimize | %.0f (raw vector %u, level-0 graph %u) |\n",
                double(st.disk_bytes) / double(points), ds->dim * 4, (1 + 2 * 16) * 4);
    std::printf("| disk / (raw vectors + level-0 graph) | %.3fx |\n", double(st.disk_bytes) / (raw_vectors + graph));
    // Deleting 10% and optimizing again: a merge that reuses the graph (compaction of a live collection).
    std::vector<PointId> gone;
    for (size_t i = 0; i < points; i += 10) gone.push_back(PointId::Number(i));
    Check(c->Delete(PointsSelector::Ids(gone)).status());
    const double t1 = Now();
    Check(c->Optimize());
    const double compact_seconds = Now() - t1;
    std::printf("| compaction after deleting 10%% (reuses the graph, drops dead points) | %.1f s, %.0f points/s |\n",
                compact_seconds, double(points) / compact_seconds);
    Check(db->Close());
  }
  {
    DatabaseOptions o;
    o.path = dir;
    const uint64_t anon_before = StatusKb("RssAnon:");
    const double t0 = Now();
    auto db = Check(Database::Open(o));
    auto c = Check(db->GetCollection("c"));
    const double open_seconds = Now() - t0;
    const uint64_t anon_after = StatusKb("RssAnon:");
    const CollectionStats opened = c->Stats();
    SearchRequest req;
    req.vector.assign(ds->queries.begin(), ds->queries.begin() + ds->dim);
    const double t1 = Now();
    auto r = Check(c->Search(req));
    const double first_query_ms = (Now() - t1) * 1000;
    std::printf("| open of the indexed collection (map files, check every checksum, load graph) | %.2f s |\n",
                open_seconds);
    std::printf("| first query after open | %.1f ms (%zu results) |\n", first_query_ms, r.size());
    std::printf(
        "| memory after open: the engine's count; the process's anonymous RSS grown by the open "
        "(mapped files are not anonymous) | %.1f MB; %.1f MB |\n",
        double(opened.memory_bytes) / 1e6, double(anon_after - anon_before) * 1024 / 1e6);
    std::printf("| open vs rebuild | %.0fx faster |\n", build_seconds / open_seconds);
    std::printf("| compaction throughput (merge + index from scratch) | %.0f points/s |\n", compaction_pps);
    if (quantize) {
      CollectionUpdate update;
      update.quantization = QuantizationUpdate{ScalarQuantization{0.98, true}};
      const double t2 = Now();
      Check(c->core().Update(update));
      std::printf("| learning and encoding the int8 codes again (quantile 0.99 -> 0.98) | %.2f s |\n",
                  Now() - t2);
    }
  }
  RemoveTree(dir);
  return 0;
}

}  // namespace
}  // namespace quiver::bench

int main(int argc, char** argv) { return quiver::bench::Run(argc, argv); }
