#include "peer_common.h"

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <sstream>

namespace peer {
namespace {

std::FILE* OpenOrDie(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) Die("cannot open " + path + " (run bench/peer/run.py once: it prepares the cache)");
  return f;
}

void ReadOrDie(std::FILE* f, void* out, size_t bytes, const std::string& path) {
  if (std::fread(out, 1, bytes, f) != bytes) Die(path + ": shorter than its header says");
}

uint32_t BigEndian32(const unsigned char* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// An IDX image file: up to `limit` images as floats 0..255, read a row at a time (no whole-file buffer).
std::vector<float> ReadIdx(const std::string& path, size_t limit, uint32_t* dim) {
  std::FILE* f = OpenOrDie(path);
  unsigned char header[16];
  ReadOrDie(f, header, sizeof header, path);
  if (BigEndian32(header) != 0x00000803) Die(path + ": not an IDX image file");
  const size_t count = std::min<size_t>(BigEndian32(header + 4), limit);
  *dim = BigEndian32(header + 8) * BigEndian32(header + 12);
  std::vector<float> out(count * *dim);
  std::vector<unsigned char> row(*dim);
  for (size_t i = 0; i < count; ++i) {
    ReadOrDie(f, row.data(), row.size(), path);
    for (uint32_t j = 0; j < *dim; ++j) out[i * *dim + j] = float(row[j]);
  }
  std::fclose(f);
  return out;
}

// An .fvecs (or, with 4-byte integers, .ivecs) file: each row its dimension as a 32-bit integer, then the
// values.
template <typename T>
std::vector<T> ReadVecs(const std::string& path, uint32_t* dim) {
  std::FILE* f = OpenOrDie(path);
  std::vector<T> out;
  uint32_t d = 0;
  while (std::fread(&d, 4, 1, f) == 1) {
    if (*dim == 0) *dim = d;
    if (d != *dim || d == 0) Die(path + ": rows of different dimensions");
    out.resize(out.size() + d);
    ReadOrDie(f, &out[out.size() - d], size_t{d} * sizeof(T), path);
  }
  std::fclose(f);
  if (out.empty()) Die(path + ": empty");
  return out;
}

size_t StatusField(const char* key, const char* file = "/proc/self/status") {
  std::ifstream in(file);
  std::string line;
  const size_t len = std::strlen(key);
  while (std::getline(in, line)) {
    if (line.compare(0, len, key) == 0 && line.size() > len && line[len] == ':') {
      return std::strtoull(line.c_str() + len + 1, nullptr, 10) * 1024;  // "VmRSS:   1234 kB"
    }
  }
  return 0;
}

}  // namespace

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "peer: %s\n", message.c_str());
  std::exit(1);
}

Dataset LoadDataset(const std::string& cache, const std::string& name) {
  constexpr size_t kQueries = 1000;
  Dataset ds;
  ds.name = name;
  if (name == "fashion-mnist") {
    uint32_t dim_q = 0;
    ds.base = ReadIdx(cache + "/fashion-mnist/train-images-idx3-ubyte", SIZE_MAX, &ds.dim);
    ds.queries = ReadIdx(cache + "/fashion-mnist/t10k-images-idx3-ubyte", kQueries, &dim_q);
    if (dim_q != ds.dim) Die("fashion-mnist: train and test dimensions differ");
  } else if (name == "synthetic-384") {
    ds.cosine = true;
    uint32_t dim_q = 0;
    ds.base = ReadVecs<float>(cache + "/synthetic-384.base.fvecs", &ds.dim);
    ds.queries = ReadVecs<float>(cache + "/synthetic-384.query.fvecs", &dim_q);
    if (dim_q != ds.dim) Die("synthetic-384: base and query dimensions differ");
  } else {
    Die("unknown data set '" + name + "' (fashion-mnist, synthetic-384)");
  }
  ds.base_count = ds.base.size() / ds.dim;
  ds.query_count = ds.queries.size() / ds.dim;
  uint32_t k = 0;
  ds.truth = ReadVecs<uint32_t>(cache + "/" + name + ".truth.ivecs", &k);
  ds.truth_k = k;
  if (ds.truth.size() != ds.query_count * k) Die(name + ": the ground truth does not match the queries");
  return ds;
}

size_t DatasetBytes(const Dataset& ds) { return (ds.base.size() + ds.queries.size()) * sizeof(float); }

size_t RssBytes() { return StatusField("VmRSS"); }
size_t PeakRssBytes() { return StatusField("VmHWM"); }
size_t AnonHugePageBytes() { return StatusField("AnonHugePages", "/proc/self/smaps_rollup"); }

bool ResetPeakRss() {
  std::ofstream out("/proc/self/clear_refs");
  out << "5";
  out.flush();
  return bool(out) && PeakRssBytes() <= RssBytes() + (1 << 20);
}

size_t HeapBytes() {
  struct mallinfo2 m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double CpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

std::string Args::Get(const std::string& key, const std::string& fallback) const {
  auto it = opts.find(key);
  return it == opts.end() ? fallback : it->second;
}

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string key = argv[i];
    if (key.rfind("--", 0) != 0) Die("unexpected argument '" + key + "'");
    key.erase(0, 2);
    if (i + 1 < argc && std::strncmp(argv[i + 1], "--", 2) != 0) {
      a.opts[key] = argv[++i];
    } else {
      a.opts[key].assign(1, '1');  // (= "1" draws a false -Wrestrict from g++ 12 here)
    }
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

void BuildStart::Finish(BuildReport* r) const {
  r->build_seconds = Now() - wall;
  r->build_cpu_seconds = CpuSeconds() - cpu;
  r->rss_after_build = RssBytes();
  r->peak_rss = PeakRssBytes();
  r->anon_huge_pages = AnonHugePageBytes();
  r->heap_bytes = HeapBytes() - heap;
}

void PrintBuild(const Dataset& ds, const BuildReport& r) {
  std::printf(
      "{\"kind\":\"build\",\"dataset\":\"%s\",\"engine\":\"%s\",\"mode\":\"%s\",\"detail\":\"%s\","
      "\"base\":%zu,\"dim\":%u,\"dataset_bytes\":%zu,\"build_seconds\":%.3f,\"build_cpu_seconds\":%.3f,"
      "\"rss_loaded_bytes\":%zu,\"rss_after_build_bytes\":%zu,\"peak_rss_bytes\":%zu,\"peak_reset\":%s,"
      "\"anon_huge_page_bytes\":%zu,\"heap_bytes\":%zu,\"engine_memory_bytes\":%lld%s}\n",
      ds.name.c_str(), r.engine.c_str(), r.mode.c_str(), r.detail.c_str(), ds.base_count, ds.dim,
      DatasetBytes(ds), r.build_seconds, r.build_cpu_seconds, r.rss_loaded, r.rss_after_build, r.peak_rss,
      r.peak_reset ? "true" : "false", r.anon_huge_pages, r.heap_bytes, static_cast<long long>(r.engine_memory),
      r.extra_json.c_str());
  std::fflush(stdout);
}

void MeasureSearches(const Dataset& ds, const BuildReport& r, const std::vector<size_t>& efs, size_t k,
                     size_t passes, const std::function<void(size_t ef)>& set_ef, const SearchFn& search) {
  if (k > ds.truth_k) Die("k is larger than the ground truth's " + std::to_string(ds.truth_k));
  std::vector<uint32_t> rows;
  std::vector<double> qps, cpu_qps;
  for (size_t ef : efs) {
    set_ef(ef);
    // Warm-up: every query once, outside the QPS (its own rate is reported apart); recall@k from its answers.
    size_t hits = 0;
    const double w0 = Now(), wc0 = CpuSeconds();
    for (size_t q = 0; q < ds.query_count; ++q) {
      search(&ds.queries[q * ds.dim], k, &rows);
      const uint32_t* want = &ds.truth[q * ds.truth_k];
      for (size_t i = 0; i < std::min(k, rows.size()); ++i) hits += std::count(want, want + k, rows[i]);
    }
    const double wc1 = CpuSeconds(), w1 = Now();
    const double recall = double(hits) / double(ds.query_count * k);
    qps.clear();
    cpu_qps.clear();
    for (size_t p = 0; p < passes; ++p) {
      const double t0 = Now(), c0 = CpuSeconds();
      for (size_t q = 0; q < ds.query_count; ++q) search(&ds.queries[q * ds.dim], k, &rows);
      const double c1 = CpuSeconds(), t1 = Now();
      qps.push_back(double(ds.query_count) / (t1 - t0));
      cpu_qps.push_back(double(ds.query_count) / (c1 - c0));
    }
    auto median = [](std::vector<double> v) {
      std::sort(v.begin(), v.end());
      return v[v.size() / 2];
    };
    std::printf(
        "{\"kind\":\"search\",\"dataset\":\"%s\",\"engine\":\"%s\",\"mode\":\"%s\",\"k\":%zu,\"ef\":%zu,"
        "\"recall\":%.4f,\"qps\":%.1f,\"cpu_qps\":%.1f,\"warmup_qps\":%.1f,\"warmup_cpu_qps\":%.1f,"
        "\"qps_passes\":[",
        ds.name.c_str(), r.engine.c_str(), r.mode.c_str(), k, ef, recall, median(qps), median(cpu_qps),
        double(ds.query_count) / (w1 - w0), double(ds.query_count) / (wc1 - wc0));
    for (size_t p = 0; p < qps.size(); ++p) std::printf("%s%.1f", p ? "," : "", qps[p]);
    std::printf("],\"cpu_qps_passes\":[");
    for (size_t p = 0; p < cpu_qps.size(); ++p) std::printf("%s%.1f", p ? "," : "", cpu_qps[p]);
    std::printf("],\"peak_rss_bytes\":%zu}\n", PeakRssBytes());
    std::fflush(stdout);
  }
}

}  // namespace peer
