// The ANN benchmark program. bench/ann.mjs drives it; each mode prints one JSON object on stdout.
//
//   ann_bench prepare --cache DIR --dataset NAME
//       generate the synthetic set if needed and cache exact ground truth (native only)
//   ann_bench build --cache DIR --dataset NAME --engine quiver|hnswlib [--threads N] [--out FILE]
//       build one index in a fresh process: build seconds, peak RSS (data set included), heap bytes the
//       index holds afterwards; optionally save it
//   ann_bench search --cache DIR --dataset NAME --index ENGINE:FILE [--index ENGINE:FILE ...]
//                    [--ef 10,20,40] [--reps 3] [--k 10]
//       load the indexes and measure recall@k and QPS (one query per call) for each ef, the engines
//       interleaved rep by rep so they share the machine's noise
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "ann_datasets.h"
#include "ann_engines.h"

#if defined(__EMSCRIPTEN__)
#include <emscripten.h>
#else
#include <sys/resource.h>
#endif

namespace quiver::bench {
namespace {

// Heap bytes in use (malloc's own count), to measure what an index build allocates.
size_t HeapBytesInUse() {
#if defined(__EMSCRIPTEN__)
  struct mallinfo m = mallinfo();
  return static_cast<size_t>(m.uordblks);
#else
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
#endif
}

#if defined(__EMSCRIPTEN__)
EM_JS(double, NodeMaxRssKiB, (), { return process.resourceUsage().maxRSS; });
size_t PeakRssBytes() { return static_cast<size_t>(NodeMaxRssKiB() * 1024); }
#else
size_t PeakRssBytes() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<size_t>(u.ru_maxrss) * 1024;
}
#endif

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Args {
  std::string mode;
  std::map<std::string, std::vector<std::string>> opts;
  std::string Get(const std::string& key, const std::string& fallback = "") const {
    auto it = opts.find(key);
    return it == opts.end() || it->second.empty() ? fallback : it->second.back();
  }
};

Args Parse(int argc, char** argv) {
  Args a;
  if (argc > 1) a.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string key = argv[i];
    if (key.rfind("--", 0) == 0) a.opts[key.substr(2)].push_back(argv[i + 1]);
  }
  return a;
}

std::vector<size_t> ParseList(const std::string& s) {
  std::vector<size_t> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::stoul(item));
  return out;
}

std::unique_ptr<Engine> MakeEngine(const std::string& name) {
  if (name == "quiver") return MakeQuiverEngine();
  if (name == "quiver-sq8") return MakeQuiverEngine(/*sq8=*/true);
#if defined(QUIVER_BENCH_HNSWLIB)
  if (name == "hnswlib") return MakeHnswlibEngine();
#endif
  return nullptr;
}

int Fail(const Status& s) {
  std::fprintf(stderr, "ann_bench: %s\n", s.ToString().c_str());
  return 1;
}

std::string Platform() {
#if defined(__EMSCRIPTEN__)
  return "wasm";
#else
  return "native";
#endif
}

int Prepare(const Args& args, const std::string& cache) {
  const std::string name = args.Get("dataset");
  if (name == "synthetic-384") {
    Status s = GenerateSynthetic(cache);
    if (!s.ok()) return Fail(s);
  }
  auto ds = LoadDataset(name, cache);
  if (!ds.ok()) return Fail(ds.status());
  double t0 = Now();
  Status s = EnsureGroundTruth(&*ds, cache, true);
  if (!s.ok()) return Fail(s);
  std::printf("{\"dataset\":\"%s\",\"base\":%zu,\"queries\":%zu,\"dim\":%u,\"truth_seconds\":%.2f}\n", name.c_str(),
              ds->base_count, ds->query_count, ds->dim, Now() - t0);
  return 0;
}

int Build(const Args& args, const std::string& cache) {
  auto ds = LoadDataset(args.Get("dataset"), cache);
  if (!ds.ok()) return Fail(ds.status());
  auto engine = MakeEngine(args.Get("engine"));
  if (!engine) return Fail(Status::InvalidArgument("unknown engine " + args.Get("engine")));
  BuildParams params;
  params.threads = std::stoul(args.Get("threads", "1"));
  params.m = static_cast<uint32_t>(std::stoul(args.Get("m", "16")));
  params.ef_construction = static_cast<uint32_t>(std::stoul(args.Get("ef-construction", "200")));
  const size_t before = HeapBytesInUse();
  const double t0 = Now();
  Status s = engine->Build(*ds, params);
  const double seconds = Now() - t0;
  if (!s.ok()) return Fail(s);
  const size_t after = HeapBytesInUse();
  const size_t peak = PeakRssBytes();  // before saving, which needs memory of its own
  const std::string out = args.Get("out");
  if (!out.empty()) {
    s = engine->Save(out);
    if (!s.ok()) return Fail(s);
  }
  std::printf(
      "{\"dataset\":\"%s\",\"engine\":\"%s\",\"platform\":\"%s\",\"detail\":\"%s\",\"threads\":%zu,"
      "\"build_seconds\":%.3f,\"peak_rss_bytes\":%zu,\"index_memory_bytes\":%zu}\n",
      ds->name.c_str(), engine->name().c_str(), Platform().c_str(), engine->detail().c_str(), params.threads,
      seconds, peak, after > before ? after - before : 0);
  return 0;
}

int Search(const Args& args, const std::string& cache) {
  auto ds = LoadDataset(args.Get("dataset"), cache);
  if (!ds.ok()) return Fail(ds.status());
  Status s = EnsureGroundTruth(&*ds, cache, false);
  if (!s.ok()) return Fail(s);
  const size_t k = std::stoul(args.Get("k", "10"));
  const size_t reps = std::stoul(args.Get("reps", "3"));
  const std::vector<size_t> efs = ParseList(args.Get("ef", "10,20,40,80,160,320"));

  std::vector<std::unique_ptr<Engine>> engines;
  auto it = args.opts.find("index");
  if (it == args.opts.end()) return Fail(Status::InvalidArgument("give at least one --index ENGINE:FILE"));
  for (const std::string& spec : it->second) {
    size_t colon = spec.find(':');
    if (colon == std::string::npos) return Fail(Status::InvalidArgument("--index wants ENGINE:FILE"));
    auto engine = MakeEngine(spec.substr(0, colon));
    if (!engine) return Fail(Status::InvalidArgument("unknown engine in " + spec));
    s = engine->Load(*ds, spec.substr(colon + 1));
    if (!s.ok()) return Fail(s);
    engines.push_back(std::move(engine));
  }

  // results[engine][ef index] = QPS of each rep; recall from the first rep.
  std::vector<std::vector<std::vector<double>>> qps(engines.size(), std::vector<std::vector<double>>(efs.size()));
  std::vector<std::vector<double>> recall(engines.size(), std::vector<double>(efs.size()));
  std::vector<std::vector<uint32_t>> found(ds->query_count);
  for (size_t e = 0; e < efs.size(); ++e) {
    for (size_t rep = 0; rep < reps; ++rep) {
      for (size_t g = 0; g < engines.size(); ++g) {
        Engine& engine = *engines[g];
        engine.SetEf(efs[e]);
        const double t0 = Now();
        for (size_t q = 0; q < ds->query_count; ++q) engine.Search(&ds->queries[q * ds->dim], k, &found[q]);
        const double t = Now() - t0;
        qps[g][e].push_back(double(ds->query_count) / t);
        if (rep == 0) recall[g][e] = RecallAtK(*ds, found, k);
      }
    }
  }

  std::printf("{\"dataset\":\"%s\",\"platform\":\"%s\",\"k\":%zu,\"reps\":%zu,\"engines\":[", ds->name.c_str(),
              Platform().c_str(), k, reps);
  for (size_t g = 0; g < engines.size(); ++g) {
    std::printf("%s{\"engine\":\"%s\",\"detail\":\"%s\",\"peak_rss_bytes\":%zu,\"rows\":[", g ? "," : "",
                engines[g]->name().c_str(), engines[g]->detail().c_str(), PeakRssBytes());
    for (size_t e = 0; e < efs.size(); ++e) {
      std::vector<double> v = qps[g][e];
      std::sort(v.begin(), v.end());
      std::printf("%s{\"ef\":%zu,\"recall\":%.4f,\"qps\":%.1f,\"qps_runs\":[", e ? "," : "", efs[e], recall[g][e],
                  v[v.size() / 2]);
      for (size_t r = 0; r < qps[g][e].size(); ++r) std::printf("%s%.1f", r ? "," : "", qps[g][e][r]);
      std::printf("]}");
    }
    std::printf("]}");
  }
  std::printf("]}\n");
  return 0;
}

}  // namespace
}  // namespace quiver::bench

int main(int argc, char** argv) {
  using namespace quiver::bench;
  Args args = Parse(argc, argv);
  const std::string cache = args.Get("cache", ".cache/bench");
  if (args.mode == "prepare") return Prepare(args, cache);
  if (args.mode == "build") return Build(args, cache);
  if (args.mode == "search") return Search(args, cache);
  std::fprintf(stderr, "usage: ann_bench prepare|build|search --dataset NAME [options]; see ann_bench.cc\n");
  return 2;
}
