// Heap allocations per qv_collection_search, through the public C API: every operator new in the process is
// counted (this program's replacement is the one libquiver.so's calls bind to), over a run of searches with
// no filter and one with a payload filter, on an in-memory collection the graph search serves (50,000 x 128
// cosine, built single-threaded, optimized). A search that allocates pays for it in the allocator and in
// cache misses, and in WebAssembly more so.
//
//   build/native-release/bench/peer/search_allocs [--searches 5000]
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "quiver.h"
#include "quiver_capi.h"

namespace {
std::atomic<unsigned long long> g_allocations{0};

}  // namespace

void* operator new(size_t n) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(n ? n : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }

int main(int argc, char** argv) {
  size_t searches = 5000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--searches") == 0) searches = std::strtoull(argv[i + 1], nullptr, 10);
  }
  qv_database* db = peer::OpenSingleThreaded();
  peer::CheckQv(qv_db_create_collection_json(db, "b", R"({"vectors": {"size": 128, "distance": "Cosine"}})"),
                "create", qv_db_errmsg(db));
  qv_collection* c = nullptr;
  peer::CheckQv(qv_db_collection(db, "b", &c), "collection", qv_db_errmsg(db));

  constexpr size_t kPoints = 50000, kDim = 128, kBatch = 1000;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  std::vector<float> vectors(kPoints * kDim);
  for (float& x : vectors) x = normal(rng);
  std::vector<uint64_t> ids(kPoints);
  std::vector<std::string> payloads(kPoints);
  std::vector<const char*> payload_ptrs(kPoints);
  for (size_t i = 0; i < kPoints; ++i) {
    ids[i] = i;
    payloads[i] = std::string(R"({"half": ")") + (i % 2 ? "odd" : "even") + "\"}";
    payload_ptrs[i] = payloads[i].c_str();
  }
  for (size_t s = 0; s < kPoints; s += kBatch) {
    peer::CheckQv(
        qv_collection_upsert(c, nullptr, &ids[s], &vectors[s * kDim], kBatch, kDim, &payload_ptrs[s]),
        "upsert", qv_collection_errmsg(c));
  }
  peer::CheckQv(qv_collection_optimize(c), "optimize", qv_collection_errmsg(c));

  std::printf("| search (k=10, ef=40) | heap allocations per call |\n|---|---|\n");
  const char* const filters[] = {nullptr, R"({"must": [{"key": "half", "match": {"value": "odd"}}]})"};
  for (const char* filter : filters) {
    size_t found = 0;
    const unsigned long long before = g_allocations.load();
    for (size_t i = 0; i < searches; ++i) {
      qv_result* result = nullptr;
      peer::CheckQv(
          qv_collection_search(c, &vectors[(i * 7919 % kPoints) * kDim], kDim, 10, 40, filter, 0, &result),
          "search", qv_collection_errmsg(c));
      found += qv_result_count(result);
      qv_result_free(result);
    }
    const double per_call = double(g_allocations.load() - before) / double(searches);
    if (found != searches * 10) peer::CheckQv(QV_INTERNAL, "search", "fewer than 10 results");
    std::printf("| %s | %.2f |\n", filter ? "with a payload filter (half the points)" : "no filter",
                per_call);
  }
  qv_collection_destroy(c);
  peer::CheckQv(qv_db_close(db), "close", qv_db_errmsg(db));
  qv_db_destroy(db);
  return 0;
}
