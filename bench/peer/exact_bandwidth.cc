// Exact search against the memory bandwidth, in one run, through the public C API: how many bytes of vectors
// an exact scan (QV_EXACT) reads per second, one query per call and a batch of queries per call
// (qv_collection_search_batch), against what one core reads from memory when it only sums a buffer of the
// same size. A scan that keeps up with memory cannot go faster one query at a time; a batch can read each
// vector once for several queries.
//
//   build/native-release/bench/peer/exact_bandwidth [--points 200000] [--dim 384] [--queries 64] [--reps 5]
#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

#include "quiver.h"
#include "quiver_capi.h"

namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// One core reading `bytes` from memory: the sum of the buffer, 32 independent 64-bit lanes so the adds never
// wait on each other (the compiler vectorizes it; -march=native).
__attribute__((noinline)) uint64_t ReadAll(const uint64_t* data, size_t words) {
  uint64_t s[32] = {};
  size_t i = 0;
  for (; i + 32 <= words; i += 32) {
    for (int j = 0; j < 32; ++j) s[j] += data[i + j];
  }
  for (; i < words; ++i) s[0] += data[i];
  uint64_t total = 0;
  for (uint64_t v : s) total += v;
  return total;
}

// A buffer in transparent huge pages where the kernel allows them (as Quiver's vector arrays are), so the
// read rate is not held back by page walks the scan does not pay.
uint64_t* HugeBuffer(size_t words) {
  constexpr size_t kHuge = 2u << 20;
  const size_t bytes = (words * sizeof(uint64_t) + kHuge - 1) / kHuge * kHuge;
  void* p = std::aligned_alloc(kHuge, bytes);
  if (p == nullptr) std::exit(1);
  ::madvise(p, bytes, MADV_HUGEPAGE);
  auto* w = static_cast<uint64_t*>(p);
  for (size_t i = 0; i < words; ++i) w[i] = i;
  return w;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  size_t points = 200000, dim = 384, queries = 64, reps = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const size_t v = std::strtoull(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--points"))
      points = v;
    else if (!std::strcmp(argv[i], "--dim"))
      dim = v;
    else if (!std::strcmp(argv[i], "--queries"))
      queries = v;
    else if (!std::strcmp(argv[i], "--reps"))
      reps = v;
  }
  qv_database* db = peer::OpenSingleThreaded();
  // Dot: the stored vectors are the ones given (no normalisation), so the scan reads points * dim floats.
  const std::string config = "{\"vectors\": {\"size\": " + std::to_string(dim) + ", \"distance\": \"Dot\"}}";
  peer::CheckQv(qv_db_create_collection_json(db, "b", config.c_str()), "create", qv_db_errmsg(db));
  qv_collection* c = nullptr;
  peer::CheckQv(qv_db_collection(db, "b", &c), "collection", qv_db_errmsg(db));
  std::mt19937 rng(3);
  std::normal_distribution<float> normal;
  std::vector<float> batch(10000 * dim);
  std::vector<uint64_t> ids(10000);
  for (size_t start = 0; start < points; start += 10000) {
    const size_t n = std::min<size_t>(10000, points - start);
    for (float& x : batch) x = normal(rng);
    for (size_t i = 0; i < n; ++i) ids[i] = start + i;
    peer::CheckQv(qv_collection_upsert(c, nullptr, ids.data(), batch.data(), n, dim, nullptr), "upsert",
                  qv_collection_errmsg(c));
  }
  peer::CheckQv(qv_collection_optimize(c), "optimize", qv_collection_errmsg(c));
  std::vector<float> qs(queries * dim);
  for (float& x : qs) x = normal(rng);

  const double bytes = double(points) * double(dim) * sizeof(float);
  const size_t words = static_cast<size_t>(bytes) / sizeof(uint64_t);
  uint64_t* buffer = HugeBuffer(words);
  std::vector<double> read_rate, single_rate, batch_rate;
  volatile uint64_t sink = 0;
  for (size_t rep = 0; rep < reps; ++rep) {
    double t = Now();
    sink = sink + ReadAll(buffer, words);
    read_rate.push_back(bytes / (Now() - t));

    t = Now();
    for (size_t q = 0; q < queries; ++q) {
      qv_result* r = nullptr;
      peer::CheckQv(qv_collection_search(c, &qs[q * dim], dim, 10, 0, nullptr, QV_EXACT, &r), "search",
                    qv_collection_errmsg(c));
      qv_result_free(r);
    }
    single_rate.push_back(bytes * double(queries) / (Now() - t));

    std::vector<qv_result*> out(queries);
    t = Now();
    peer::CheckQv(
        qv_collection_search_batch(c, qs.data(), queries, dim, 10, 0, nullptr, QV_EXACT, out.data()), "batch",
        qv_collection_errmsg(c));
    batch_rate.push_back(bytes * double(queries) / (Now() - t));
    for (qv_result* r : out) qv_result_free(r);
  }
  const double gb = 1e9, read = Median(read_rate);
  std::printf("%zu x %zu floats (%.0f MB), %zu queries, median of %zu reps\n\n", points, dim, bytes / 1e6,
              queries, reps);
  std::printf("| | GB/s of vectors | of the read rate |\n|---|---|---|\n");
  std::printf("| one core summing the same bytes | %.1f | 1.00 |\n", read / gb);
  std::printf("| exact search, one query per call | %.1f | %.2f |\n", Median(single_rate) / gb,
              Median(single_rate) / read);
  std::printf("| exact search, %zu queries per call | %.1f | %.2f |\n", queries, Median(batch_rate) / gb,
              Median(batch_rate) / read);
  std::free(buffer);
  qv_collection_destroy(c);
  peer::CheckQv(qv_db_close(db), "close", qv_db_errmsg(db));
  qv_db_destroy(db);
  return 0;
}
