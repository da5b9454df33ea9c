// What the peer harness's programs share: loading a benchmark data set from the cache bench/ann_bench fills,
// the process's memory figures, and the search loop with its warm-up and timed passes. Nothing here includes
// Quiver: each engine program links only its engine (peer_quiver the public C API, peer_hnswlib hnswlib's
// headers), so both are measured the way their users run them, one engine per process.
//
// Output: one JSON object per line on stdout, a "build" line, then one "search" line per ef.
#ifndef QUIVER_BENCH_PEER_PEER_COMMON_H_
#define QUIVER_BENCH_PEER_PEER_COMMON_H_

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace peer {

struct Dataset {
  std::string name;
  bool cosine = false;  // else L2
  uint32_t dim = 0;
  size_t base_count = 0;
  size_t query_count = 0;
  std::vector<float> base;      // base_count * dim
  std::vector<float> queries;   // query_count * dim
  std::vector<uint32_t> truth;  // query_count * truth_k, nearest first
  size_t truth_k = 0;
};

// "fashion-mnist" (the IDX files decompressed into cache/fashion-mnist) or "synthetic-384" (fvecs), with the
// ground truth cache/NAME.truth.ivecs that `ann_bench prepare` writes. Exits with a message on failure.
Dataset LoadDataset(const std::string& cache, const std::string& name);

// Bytes the data set's vectors occupy (base and queries as floats): what the figures below leave out.
size_t DatasetBytes(const Dataset& ds);

// From /proc/self/status: resident bytes now (VmRSS) and the peak so far (VmHWM).
size_t RssBytes();
size_t PeakRssBytes();
// Anonymous memory backed by transparent huge pages (AnonHugePages of /proc/self/smaps_rollup).
size_t AnonHugePageBytes();
// Resets the peak to the current RSS (writes "5" to /proc/self/clear_refs), so the peak measured afterwards
// is the build's alone and not the data set loading's temporary buffers. False where the kernel does not
// allow it.
bool ResetPeakRss();
// Bytes malloc has handed out and not taken back (mallinfo2): the same count for every engine.
size_t HeapBytes();

double Now();
// CPU seconds this process has used (all its threads). On a machine shared with other work, wall-clock time
// counts the time the scheduler gave to others; CPU time does not (caches and memory bandwidth stay shared).
double CpuSeconds();

struct Args {
  std::map<std::string, std::string> opts;
  std::string Get(const std::string& key, const std::string& fallback = "") const;
  bool Has(const std::string& key) const { return opts.count(key) != 0; }
};
// --key value pairs; a --flag followed by another --key (or last) has the value "1".
Args ParseArgs(int argc, char** argv);
std::vector<size_t> ParseList(const std::string& s);

// What a program measured around its build, printed as the "build" line.
struct BuildReport {
  std::string engine;            // "quiver", "hnswlib"
  std::string mode;              // "thp", "no-thp", "" (the engine's default)
  std::string detail;            // version, SIMD instruction set
  double build_seconds = 0;      // wall clock
  double build_cpu_seconds = 0;  // CPU time
  size_t rss_loaded = 0;         // RSS with the data set loaded, before the build
  size_t rss_after_build = 0;    // RSS after the build
  size_t peak_rss = 0;           // peak RSS up to the end of the build
  bool peak_reset = false;  // whether the peak was reset after loading (else it includes loading's buffers)
  size_t anon_huge_pages = 0;  // bytes on transparent huge pages after the build
  size_t heap_bytes = 0;       // malloc's count after the build less before it
  int64_t engine_memory = -1;  // the engine's own count of its memory, -1 when it has none
  std::string extra_json;      // more fields, each ,"key":value
};
// The heap, wall and CPU clocks when a build starts; Finish fills the report's build time, CPU time, RSS, peak,
// huge pages and heap growth from them.
struct BuildStart {
  size_t heap = HeapBytes();
  double wall = Now();
  double cpu = CpuSeconds();
  void Finish(BuildReport* r) const;
};

void PrintBuild(const Dataset& ds, const BuildReport& r);

// For each ef: sets it, runs one warm-up pass over every query (its answers give recall@k; its rate is
// reported apart, "warmup_qps", and never counted in the QPS), then `passes` timed passes; prints one
// "search" line with the QPS of each pass and their median, by wall clock
// ("qps") and by CPU time ("cpu_qps": queries per CPU second). `search` answers one query (one call into the
// engine) with up to k row numbers, nearest first.
using SearchFn = std::function<void(const float* query, size_t k, std::vector<uint32_t>* rows)>;
void MeasureSearches(const Dataset& ds, const BuildReport& r, const std::vector<size_t>& efs, size_t k,
                     size_t passes, const std::function<void(size_t ef)>& set_ef, const SearchFn& search);

[[noreturn]] void Die(const std::string& message);

}  // namespace peer

#endif  // QUIVER_BENCH_PEER_PEER_COMMON_H_
