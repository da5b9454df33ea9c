// Quiver through its public C API only (quiver.h), as an application embeds it: an in-memory database, one
// collection with M=16 and ef_construct=200, upserts in batches of 1,000 and one optimize at the end (what
// `quiver import` does), no background threads; then one qv_collection_search call per query, the answer read
// through qv_result_id. bench/peer/run.py runs it.
//
//   peer_quiver --cache DIR --dataset NAME [--ef 10,20,40,80,160,320] [--passes 3] [--k 10] [--no-thp]
//
// --no-thp turns transparent huge pages off for the whole process (prctl PR_SET_THP_DISABLE) before anything
// is allocated: the engine's own MADV_HUGEPAGE advice then has no effect, which shows what huge pages are
// worth.
#include <sys/prctl.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "peer_common.h"
#include "quiver.h"
#include "quiver_capi.h"

namespace {

// A top-level number field of a C API JSON answer, -1 when absent (no JSON library needed for four counters).
long long NumberField(const char* json, const char* key) {
  const std::string needle = std::string("\"") + key + "\":";
  const char* at = std::strstr(json, needle.c_str());
  return at ? std::strtoll(at + needle.size(), nullptr, 10) : -1;
}

void Check(int code, const char* what, const char* message) {
  if (code != QV_OK) peer::Die(std::string(what) + ": " + qv_status_name(code) + ": " + message);
}

}  // namespace

int main(int argc, char** argv) {
  const peer::Args args = peer::ParseArgs(argc, argv);
  peer::BuildReport report;
  report.engine = "quiver";
  if (args.Has("no-thp")) {
    if (prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) != 0) peer::Die("prctl(PR_SET_THP_DISABLE) failed");
    report.mode = "no-thp";
  }
  const peer::Dataset ds =
      peer::LoadDataset(args.Get("cache", ".cache/bench"), args.Get("dataset", "fashion-mnist"));
  const size_t k = std::stoul(args.Get("k", "10"));

  qv_database* db = peer::OpenSingleThreaded();

  const std::string config = std::string("{\"vectors\": {\"size\": ") + std::to_string(ds.dim) +
                             ", \"distance\": \"" + (ds.cosine ? "Cosine" : "Euclid") +
                             "\"}, \"hnsw_config\": {\"m\": 16, \"ef_construct\": 200}}";
  Check(qv_db_create_collection_json(db, "bench", config.c_str()), "create collection", qv_db_errmsg(db));
  qv_collection* c = nullptr;
  Check(qv_db_collection(db, "bench", &c), "open collection", qv_db_errmsg(db));

  report.rss_loaded = peer::RssBytes();
  report.peak_reset = peer::ResetPeakRss();
  const peer::BuildStart build;
  constexpr size_t kBatch = 1000;
  std::vector<uint64_t> ids(kBatch);
  for (size_t start = 0; start < ds.base_count; start += kBatch) {
    const size_t n = std::min(kBatch, ds.base_count - start);
    for (size_t i = 0; i < n; ++i) ids[i] = start + i;
    Check(qv_collection_upsert(c, nullptr, ids.data(), &ds.base[start * ds.dim], n, ds.dim, nullptr),
          "upsert", qv_collection_errmsg(c));
  }
  const double t_written = peer::Now();
  Check(qv_collection_optimize(c), "optimize", qv_collection_errmsg(c));
  build.Finish(&report);

  char* stats = nullptr;
  Check(qv_collection_stats_json(c, &stats), "stats", qv_collection_errmsg(c));
  report.engine_memory = NumberField(stats, "memory_bytes");
  const char* simd = std::strstr(stats, "\"simd\":\"");
  report.detail =
      std::string(qv_version()) + (simd ? " " + std::string(simd + 8, std::strcspn(simd + 8, "\"")) : "");
  report.extra_json = ",\"write_seconds\":" + std::to_string(t_written - build.wall) +
                      ",\"segments\":" + std::to_string(NumberField(stats, "segments")) +
                      ",\"indexed_vectors\":" + std::to_string(NumberField(stats, "indexed_vectors"));
  qv_free(stats);
  peer::PrintBuild(ds, report);

  size_t ef_now = 0;
  peer::MeasureSearches(
      ds, report, peer::ParseList(args.Get("ef", "10,20,40,80,160,320")), k,
      std::stoul(args.Get("passes", "3")), [&](size_t ef) { ef_now = ef; },
      [&](const float* query, size_t limit, std::vector<uint32_t>* rows) {
        qv_result* result = nullptr;
        Check(qv_collection_search(c, query, ds.dim, limit, ef_now, nullptr, 0, &result), "search",
              qv_collection_errmsg(c));
        const size_t n = qv_result_count(result);
        rows->resize(n);
        for (size_t i = 0; i < n; ++i) (*rows)[i] = static_cast<uint32_t>(qv_result_id(result, i));
        qv_result_free(result);
      });

  qv_collection_destroy(c);
  Check(qv_db_close(db), "close", qv_db_errmsg(db));
  qv_db_destroy(db);
  return 0;
}
