// The crash test: a child process writes batches to a stored database and reports each acknowledged batch on a
// pipe; the parent kills it with SIGKILL at a random moment, reopens the database and checks that every
// acknowledged batch is there and that no batch is partly visible. Seals and merges happen every few batches, an
// explicit optimize every 25 and a snapshot file is written every 10, so kills land in every part of the write
// path: group commit, seal, merge and compaction, snapshot writing. Rounds take background threads 0 (work on
// the writing thread), 1 and 2 in turn, as the C API's "threads" option.
//
// Rounds: QUIVER_CRASH_ROUNDS (default 24; the full run is 1,000:
//   QUIVER_CRASH_ROUNDS=1000 build/native-release/tests/crash_test).
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <map>
#include <set>
#include <thread>

#include <fstream>

#include "base/random.h"
#include "engine/storage/storage_test_util.h"
#include "quiver/database.h"
#include "quiver/thread_pool.h"

namespace quiver {
namespace {

constexpr int kBatchPoints = 20;

DatabaseOptions Options(const std::string& path, Executor* executor = nullptr) {
  DatabaseOptions o;
  o.path = path;
  o.executor = executor;
  o.replica_id = 1;
  o.segment_points = 300;  // a seal (and a merge) every 15 batches
  return o;
}

CollectionConfig Config() {
  CollectionConfig c;
  c.vectors[""] = VectorParams{8, Distance::kEuclid};
  c.hnsw.m = 8;
  c.hnsw.ef_construct = 32;
  return c;
}

// Batch b upserts ids [b * 20, b * 20 + 20) with payload {"batch": b}, except every fifth batch, which deletes the
// previous batch's points.
bool IsDelete(int b) { return b % 5 == 4; }

[[noreturn]] void Child(const std::string& path, int fd, size_t threads) {
  std::unique_ptr<ThreadPool> pool;
  if (threads) pool = std::make_unique<ThreadPool>(threads);
  auto db = Database::Open(Options(path, pool.get()));
  if (!db.ok()) _exit(2);
  if (!(*db)->CreateCollection("c", Config()).ok()) _exit(3);
  auto col = *(*db)->GetCollection("c");
  if (!col->CreatePayloadIndex("batch", "integer").ok()) _exit(4);
  for (int b = 0;; ++b) {
    Status s;
    if (IsDelete(b)) {
      std::vector<PointId> ids;
      for (int j = 0; j < kBatchPoints; ++j) ids.push_back(PointId::Number((b - 1) * kBatchPoints + j));
      s = col->Delete(PointsSelector::Ids(ids)).status();
    } else {
      std::vector<PointInput> pts;
      for (int j = 0; j < kBatchPoints; ++j) {
        PointInput p;
        p.id = PointId::Number(b * kBatchPoints + j);
        p.vectors[""] = std::vector<float>(8, float(b) + float(j) / 100);
        p.payload = R"({"batch":)" + std::to_string(b) + "}";
        pts.push_back(std::move(p));
      }
      s = col->Upsert(pts);
    }
    if (!s.ok()) _exit(5);
    if (b % 25 == 24 && !col->Optimize().ok()) _exit(7);
    if (b % 10 == 9) {
      // A snapshot file, written and renamed into place as an application would.
      auto snap = col->CreateSnapshot();
      if (!snap.ok()) _exit(8);
      {
        std::ofstream out(path + ".snapshot.tmp", std::ios::binary | std::ios::trunc);
        out.write(snap->data(), static_cast<std::streamsize>(snap->size()));
        if (!out) _exit(9);
      }
      if (std::rename((path + ".snapshot.tmp").c_str(), (path + ".snapshot").c_str()) != 0) _exit(10);
    }
    int32_t ack = b;
    if (write(fd, &ack, sizeof(ack)) != sizeof(ack)) _exit(6);
  }
}

TEST_CASE("crash: SIGKILL at random moments never loses an acknowledged batch or shows half of one", "[crash]") {
  const int rounds = std::getenv("QUIVER_CRASH_ROUNDS") ? std::atoi(std::getenv("QUIVER_CRASH_ROUNDS")) : 24;
  SplitMix64 rng(2026);
  int kills_during_seal_window = 0;
  std::map<size_t, int> rounds_by_threads;
  int snapshots_restored = 0;
  for (int round = 0; round < rounds; ++round) {
    testing::TempDir dir;
    const std::string path = dir.path() + "/db";
    int fds[2];
    REQUIRE(pipe(fds) == 0);
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    const size_t threads = static_cast<size_t>(round % 3);
    if (pid == 0) {
      close(fds[0]);
      Child(path, fds[1], threads);
    }
    close(fds[1]);
    // Let it run a random while (after its first acknowledgement), then kill it mid-write.
    int32_t ack = -1, last = -1;
    if (read(fds[0], &ack, sizeof(ack)) == sizeof(ack)) last = ack;
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 400));
    kill(pid, SIGKILL);
    while (read(fds[0], &ack, sizeof(ack)) == sizeof(ack)) last = ack;
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    INFO("round " << round << " (threads " << threads << "), last acknowledged batch " << last);
    REQUIRE(WIFSIGNALED(status));  // killed, not failed
    REQUIRE(last >= 0);
    if (last % 15 >= 13) ++kills_during_seal_window;

    std::unique_ptr<ThreadPool> pool;
    if (threads) pool = std::make_unique<ThreadPool>(threads);
    auto db = Database::Open(Options(path, pool.get()));
    INFO(db.status().ToString());
    REQUIRE(db.ok());
    auto col = (*db)->GetCollection("c");
    REQUIRE(col.ok());
    // Which batches are visible, and how many points of each.
    std::map<int, int> seen;
    ScrollRequest req;
    req.limit = 1000;
    for (;;) {
      auto page = (*col)->Scroll(req);
      REQUIRE(page.ok());
      for (const Record& r : page->points) {
        const int b = static_cast<int>(r.id.number() / kBatchPoints);
        REQUIRE(*r.payload == R"({"batch":)" + std::to_string(b) + "}");
        ++seen[b];
      }
      if (!page->next_page_offset) break;
      req.offset = page->next_page_offset;
    }
    const int in_flight = last + 1;  // may or may not have been applied
    for (int b = 0; b <= in_flight; ++b) {
      if (IsDelete(b)) continue;
      const bool deleted_by_acked = IsDelete(b + 1) && b + 1 <= last;
      const bool deleted_maybe = IsDelete(b + 1) && b + 1 == in_flight;
      const int n = seen.count(b) ? seen[b] : 0;
      INFO("batch " << b << " has " << n << " points visible");
      CHECK((n == 0 || n == kBatchPoints));  // never half a batch
      if (b <= last && !deleted_by_acked && !deleted_maybe) CHECK(n == kBatchPoints);
      if (deleted_by_acked) CHECK(n == 0);
    }
    for (const auto& [b, n] : seen) CHECK(b <= in_flight);
    // The reopened database takes writes again.
    PointInput p;
    p.id = PointId::Number(999999);
    p.vectors[""] = std::vector<float>(8, 1.0f);
    CHECK((*col)->Upsert(std::vector<PointInput>{p}).ok());
    // A snapshot file that made it into place restores whole (the rename is the commit point).
    std::ifstream snap(path + ".snapshot", std::ios::binary);
    if (snap) {
      const std::string bytes((std::istreambuf_iterator<char>(snap)), std::istreambuf_iterator<char>());
      CHECK((*db)->RestoreSnapshot("restored", bytes).ok());
      ++snapshots_restored;
    }
    ++rounds_by_threads[threads];
  }
  WARN(rounds << " rounds (threads 0/1/2: " << rounds_by_threads[0] << "/" << rounds_by_threads[1] << "/"
              << rounds_by_threads[2] << "), " << kills_during_seal_window << " killed within two batches of a seal, "
              << snapshots_restored << " snapshot files restored");
}

}  // namespace
}  // namespace quiver
