// The optimizer's merge policy: bounded steps that keep the segment count low and every sealed vector in a
// graph, however often the writing process stops, and that resume when a collection opens
// (collection_optimizer.cc).
#include <catch2/catch.hpp>
#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <chrono>
#include <thread>

#include "db/database_core.h"
#include "storage/storage_memory.h"
#ifndef __EMSCRIPTEN__
#include "quiver/thread_pool.h"
#endif

namespace quiver {
namespace {

using db::DatabaseCore;

constexpr size_t kDim = 8;
constexpr size_t kSegmentPoints = 40;

DatabaseOptions Options(Executor* executor, bool auto_optimize = true) {
  DatabaseOptions o;
  o.replica_id = 3;
  o.path = "mem";
  o.segment_points = kSegmentPoints;
  o.executor = executor;
  o.auto_optimize = auto_optimize;
  return o;
}

std::vector<float> VectorOf(size_t i) {
  std::vector<float> v(kDim);
  for (size_t j = 0; j < kDim; ++j) v[j] = float((i * 37 + j * 11) % 97) / 97.0f + (j == i % kDim ? 1.0f : 0);
  v[1] += float(i) / 5000.0f;  // no two alike
  return v;
}

std::unique_ptr<DatabaseCore> OpenStored(storage::Storage* st, const DatabaseOptions& o) {
  auto db = DatabaseCore::OpenStorage(o, st);
  INFO(db.status().ToString());
  REQUIRE(db.ok());
  return std::move(*db);
}

void Upsert(Collection& c, size_t first, size_t count) {
  std::vector<PointInput> batch;
  for (size_t i = first; i < first + count; ++i) {
    PointInput p;
    p.id = PointId::Number(i);
    p.vectors[""] = VectorOf(i);
    batch.push_back(std::move(p));
  }
  Status s = c.Upsert(batch);
  INFO(s.ToString());
  REQUIRE(s.ok());
}

void CreateCollection(DatabaseCore& db) {
  CollectionConfig config;
  config.vectors[""] = VectorParams{kDim, Distance::kEuclid};
  config.hnsw.m = 8;
  config.hnsw.ef_construct = 32;
  REQUIRE(db.CreateCollection("c", config).ok());
}

// Every point is found by its own vector, and the graph checks pass.
void CheckSearchable(Collection& c, size_t points) {
  CHECK(*c.Count("") == points);
  for (size_t i : {size_t{0}, points / 3, points - 1}) {
    SearchRequest r;
    r.vector = VectorOf(i);
    r.limit = 1;
    auto hits = c.Search(r);
    REQUIRE(hits.ok());
    REQUIRE(hits->size() == 1);
    CHECK((*hits)[0].id == PointId::Number(i));
  }
  CHECK(c.Verify()->empty());
}

TEST_CASE("merges: bounded steps keep segments few and every sealed vector in a graph", "[db][storage]") {
  storage::MemoryStorage st;
  auto db = OpenStored(&st, Options(nullptr));
  CreateCollection(*db);
  auto c = *db->GetCollection("c");
  constexpr size_t kPoints = 6000;  // 150 seals
  size_t most_segments = 0;
  for (size_t first = 0; first < kPoints; first += 25) {
    Upsert(*c, first, 25);
    most_segments = std::max(most_segments, c->Info().segments_count);
  }
  // 32 x 40 = 1,280 rows per segment at most: 6,000 points fit in 5 full segments, plus the one being filled and
  // the write segment.
  CHECK(c->Info().segments_count <= 7);
  CHECK(most_segments <= 8);
  // Only the write segment (under 40 points) is scanned.
  CHECK(c->Stats().unindexed_vectors < kSegmentPoints);
  CheckSearchable(*c, kPoints);
}

TEST_CASE("merges: opening a collection resumes the merges a stopped writer left", "[db][storage]") {
  constexpr size_t kPoints = 2000;  // 50 sealed segments without a graph
#ifdef __EMSCRIPTEN__
  for (size_t threads : {0}) {
#else
  for (size_t threads : {0, 2}) {
#endif
    INFO("threads " << threads);
    storage::MemoryStorage st;
    {
      auto db = OpenStored(&st, Options(nullptr, /*auto_optimize=*/false));
      CreateCollection(*db);
      auto c = *db->GetCollection("c");
      for (size_t first = 0; first < kPoints; first += kSegmentPoints) Upsert(*c, first, kSegmentPoints);
      CHECK(c->Info().segments_count == kPoints / kSegmentPoints + 1);
      CHECK(c->Stats().unindexed_vectors == kPoints);
      REQUIRE(db->Close().ok());
    }
#ifdef __EMSCRIPTEN__
    Executor* pool = nullptr;
    auto db = OpenStored(&st, Options(pool));
#else
    std::unique_ptr<ThreadPool> pool = threads ? std::make_unique<ThreadPool>(threads) : nullptr;
    auto db = OpenStored(&st, Options(pool.get()));
#endif
    auto c = *db->GetCollection("c");
    if (!pool) {
      // Without an executor the next write carries the work.
      Upsert(*c, kPoints, 1);
    } else {
      const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(60);
      while (c->Stats().unindexed_vectors > 0 && std::chrono::steady_clock::now() < give_up)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      Upsert(*c, kPoints, 1);
    }
    CHECK(c->Stats().unindexed_vectors <= 1);  // the point just written, in the write segment
    CHECK(c->Info().segments_count <= 3);
    CheckSearchable(*c, kPoints + 1);
    REQUIRE(db->Close().ok());
  }
}

std::vector<std::string> SegmentFiles(storage::MemoryStorage& st) {
  std::vector<std::string> names;
  const std::vector<std::string> all = *st.List();
  for (const std::string& name : all) {
    if (name.rfind("seg-", 0) == 0) names.push_back(name);
  }
  return names;
}

TEST_CASE("merges: a segment with a fifth of its points deleted is rewritten without them", "[db][storage]") {
  storage::MemoryStorage st;
  auto db = OpenStored(&st, Options(nullptr));
  CreateCollection(*db);
  auto c = *db->GetCollection("c");
  constexpr size_t kPoints = 1200;
  for (size_t first = 0; first < kPoints; first += kSegmentPoints) Upsert(*c, first, kSegmentPoints);
  REQUIRE(c->Info().segments_count == 2);  // one merged segment and the empty write segment
  const std::vector<std::string> before = SegmentFiles(st);
  REQUIRE(before.size() == 1);
  std::vector<PointId> doomed;
  for (size_t i = 0; i < kPoints; i += 3) doomed.push_back(PointId::Number(i));
  REQUIRE(*c->Delete(PointsSelector::Ids(doomed)) == doomed.size());
  // The next seal runs the policy: the merged segment, a third deleted, is written again without those rows.
  Upsert(*c, kPoints, kSegmentPoints);
  const std::vector<std::string> after = SegmentFiles(st);
  CHECK(std::find(after.begin(), after.end(), before[0]) == after.end());
  CHECK(c->Stats().indexed_vectors == kPoints - doomed.size() + kSegmentPoints);
  CHECK(*c->Count("") == kPoints - doomed.size() + kSegmentPoints);
  for (size_t i : {size_t{1}, size_t{2}, kPoints - 1, kPoints + 5}) {
    SearchRequest r;
    r.vector = VectorOf(i);
    r.limit = 1;
    auto hits = c->Search(r);
    REQUIRE(hits.ok());
    REQUIRE(hits->size() == 1);
    CHECK((*hits)[0].id == PointId::Number(i));
  }
  CHECK(c->Verify()->empty());
}


#ifndef __EMSCRIPTEN__
// An executor that keeps the background work it is given until the test releases it: a background merge that
// has been scheduled but has not run, as when the threads are slower than the writer.
class HeldExecutor final : public Executor {
 public:
  size_t Parallelism() const override { return 1; }
  void ParallelFor(size_t n, FunctionRef<void(size_t)> task) override {
    for (size_t i = 0; i < n; ++i) task(i);
  }
  bool Submit(std::function<void()> task) override {
    std::lock_guard<std::mutex> lock(mu_);
    held_.push_back(std::move(task));
    return true;
  }
  size_t held() {
    std::lock_guard<std::mutex> lock(mu_);
    return held_.size();
  }
  void RunHeld() {
    std::vector<std::function<void()>> tasks;
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks.swap(held_);
    }
    for (auto& t : tasks) t();
  }

 private:
  std::mutex mu_;
  std::vector<std::function<void()>> held_;
};

TEST_CASE("merges: a writer faster than the background merges waits for them", "[db][storage]") {
  storage::MemoryStorage st;
  HeldExecutor executor;
  auto db = OpenStored(&st, Options(&executor));
  CreateCollection(*db);
  auto c = *db->GetCollection("c");
  // Whatever fails below, the held merge runs before the database closes (Close waits for it).
  struct Release {
    HeldExecutor& executor;
    ~Release() { executor.RunHeld(); }
  } release{executor};
  // Seal four segments: the merge they scheduled is held, so all four wait for it, and writes still return.
  for (size_t i = 0; i < 4; ++i) Upsert(*c, i * kSegmentPoints, kSegmentPoints);
  REQUIRE(executor.held() == 1);
  CHECK(c->Stats().segments >= 4);
  // A fifth sealed segment puts the backlog over the limit: the write is committed, but its call waits for the
  // background merge, which runs once released.
  std::atomic<bool> returned{false};
  std::thread writer([&] {
    Upsert(*c, 4 * kSegmentPoints, kSegmentPoints + 1);
    returned = true;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK_FALSE(returned.load());
  CHECK(*c->Count("") == 5 * kSegmentPoints + 1);  // visible while its writer waits
  executor.RunHeld();
  writer.join();
  CHECK(returned.load());
  CHECK(c->Stats().segments <= 4);
  CheckSearchable(*c, 5 * kSegmentPoints + 1);
  c.reset();
  db.reset();
}
#endif

}  // namespace
}  // namespace quiver
