// Faults at every write (docs/reliability.md): each write path of a stored database runs once clean, counting
// its storage operations, then once per operation N with the N-th failing (non-sticky: the disk recovers at
// once), for each fault kind of FaultInjectionStorage and with background threads 0, 1 and 2. The call that
// met the fault must report it clearly; the same handle must then show the state before or after the call
// (never a mix, never a loss), keep answering reads, and take new writes; after a close and a reopen from
// storage everything it showed is there.
//
// The default run walks every N of every path and kind with threads 0, 1 and 2. QUIVER_FAULT_REPEAT=K runs the
// whole walk K times (background merges race the writer differently each time).
#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <functional>

#include "db/database_core.h"
#include "sync/delta.h"
#include "engine/db/db_test_util.h"
#include "storage/fault_injection.h"
#include "storage/storage_memory.h"
#if !defined(__EMSCRIPTEN__)
#include "quiver/thread_pool.h"
#endif

namespace quiver {
namespace {

using db::DatabaseCore;
using storage::FaultInjectionStorage;
using Kind = FaultInjectionStorage::FaultKind;

DatabaseOptions Options(Executor* executor) {
  DatabaseOptions o = testing::StoredOptions(8, executor);
  o.durability = Durability::kSync;
  return o;
}

CollectionConfig Config() { return testing::SmallNamedConfig(); }

PointInput Pt(uint64_t id, int salt) {
  PointInput p;
  p.id = PointId::Number(id);
  p.vectors["v"] = {float(id % 7) + 1, float(salt % 5), float(id % 3), 1};
  p.payload = R"({"tag":"t)" + std::to_string(id % 3) + R"(","n":)" + std::to_string(salt) + "}";
  return p;
}

std::shared_ptr<Collection> Get(DatabaseCore& db, const std::string& name) {
  auto c = db.GetCollection(name);
  INFO(name << ": " << c.status().ToString());
  REQUIRE(c.ok());
  return *c;
}

void WaitIdle(DatabaseCore& db) {
  for (const std::string& name : db.ListCollections()) {
    if (auto c = db.GetCollection(name); c.ok()) (*c)->core().WaitIdle();
  }
}

// What a user can see of the whole database: its collections, their payload indexes, every point's vector and
// payload; reading it also checks that Count and Search still answer.
std::string Visible(DatabaseCore& db) {
  std::string out;
  for (const auto& [alias, target] : db.ListAliases()) out += "alias " + alias + " -> " + target + "\n";
  for (const std::string& name : db.ListCollections()) {
    out += "collection " + name + "\n";
    auto c = db.GetCollection(name);
    if (!c.ok()) {
      out += "  unavailable: " + c.status().ToString() + "\n";
      continue;
    }
    for (const PayloadIndexInfo& f : (*c)->Info().payload_schema) out += "  index " + f.field + "\n";
    for (const auto& kv : (*c)->core().FeedMetaWithPrefix("sync.")) {
      out += "  meta " + std::string(kv.key()) + " " + boost::json::serialize(kv.value()) + "\n";
    }
    out += "  hnsw m " + std::to_string((*c)->core().config().hnsw.m) + "\n";
    ScrollRequest r;
    r.limit = 100000;
    r.with_vector = VectorSelector::All();
    auto scroll = (*c)->Scroll(r);
    INFO(scroll.status().ToString());
    REQUIRE(scroll.ok());
    for (const Record& p : scroll->points) {
      out += "  " + p.id.ToString() + " " + p.payload.value_or("-");
      for (const auto& [v, values] : p.vectors) {
        char buf[32];
        for (float x : values) {
          std::snprintf(buf, sizeof buf, " %.5g", x);
          out += buf;
        }
      }
      out += "\n";
    }
    auto count = (*c)->Count("");
    REQUIRE(count.ok());
    CHECK(*count == scroll->points.size());
    SearchRequest q;
    q.vector_name = "v";
    q.vector = {1, 1, 1, 1};
    q.limit = 5;
    auto found = (*c)->Search(q);
    INFO(found.status().ToString());
    REQUIRE(found.ok());
    CHECK(found->size() == std::min<size_t>(5, *count));
  }
  return out;
}

// The state every path starts from: collection "c" with a payload index and 20 points in two sealed segments
// and the write segment, collection "old" with two points.
void Prelude(DatabaseCore& db, std::string* old_snapshot) {
  REQUIRE(db.CreateCollection("c", Config()).ok());
  auto c = Get(db, "c");
  REQUIRE(c->CreatePayloadIndex("tag", "keyword").ok());
  for (uint64_t first = 1; first <= 20; first += 5) {
    std::vector<PointInput> pts;
    for (uint64_t id = first; id < first + 5; ++id) pts.push_back(Pt(id, int(first)));
    REQUIRE(c->Upsert(pts).ok());
  }
  REQUIRE(c->SetPayload(PointsSelector::Ids({PointId::Number(7)}), R"({"seen":1})").ok());
  REQUIRE(db.CreateCollection("old", Config()).ok());
  auto old = Get(db, "old");
  const std::vector<PointInput> two = {Pt(1, 9), Pt(2, 9)};
  REQUIRE(old->Upsert(two).ok());
  auto snap = old->CreateSnapshot();
  REQUIRE(snap.ok());
  *old_snapshot = std::move(*snap);
  WaitIdle(db);
}

std::vector<PointId> Ids(std::initializer_list<uint64_t> ids) {
  std::vector<PointId> out;
  for (uint64_t id : ids) out.push_back(PointId::Number(id));
  return out;
}

struct Path {
  const char* name;
  std::function<Status(DatabaseCore&, const std::string& old_snapshot)> run;
};

const std::vector<Path>& Paths() {
  static const std::vector<Path> paths = {
      {"upsert (group commit; point 3 moves out of a sealed segment)",
       [](DatabaseCore& db, const std::string&) {
         const std::vector<PointInput> pts = {Pt(21, 1), Pt(3, 2)};
         return Get(db, "c")->Upsert(pts);
       }},
      {"delete", [](DatabaseCore& db, const std::string&) {
         return Get(db, "c")->Delete(PointsSelector::Ids(Ids({2, 11, 19}))).status();
       }},
      {"set_payload", [](DatabaseCore& db, const std::string&) {
         return Get(db, "c")->SetPayload(PointsSelector::Ids(Ids({4, 12})), R"({"x":1})").status();
       }},
      {"overwrite_payload", [](DatabaseCore& db, const std::string&) {
         return Get(db, "c")
             ->OverwritePayload(PointsSelector::Filter(R"({"must":[{"key":"tag","match":{"value":"t1"}}]})"),
                                R"({"y":2})")
             .status();
       }},
      {"create_payload_index", [](DatabaseCore& db, const std::string&) {
         return Get(db, "c")->CreatePayloadIndex("n", "integer");
       }},
      {"delete_payload_index", [](DatabaseCore& db, const std::string&) {
         return Get(db, "c")->DeletePayloadIndex("tag");
       }},
      {"seal (and the merge it starts)",
       [](DatabaseCore& db, const std::string&) {
         std::vector<PointInput> pts;
         for (uint64_t id = 30; id < 35; ++id) pts.push_back(Pt(id, 3));
         return Get(db, "c")->Upsert(pts);
       }},
      {"optimize (seal, merge all)", [](DatabaseCore& db, const std::string&) { return Get(db, "c")->Optimize(); }},
      {"compaction (deletes, then a merge that drops them)",
       [](DatabaseCore& db, const std::string&) {
         auto c = Get(db, "c");
         QUIVER_RETURN_IF_ERROR(c->Delete(PointsSelector::Ids(Ids({1, 2, 3, 4, 5, 6}))).status());
         return c->Optimize();
       }},
      {"create_collection", [](DatabaseCore& db, const std::string&) {
         return db.CreateCollection("d", Config());
       }},
      {"delete_collection", [](DatabaseCore& db, const std::string&) { return db.DeleteCollection("old"); }},
      {"update_aliases", [](DatabaseCore& db, const std::string&) {
         AliasAction a;
         a.alias = "a";
         a.collection = "c";
         const std::vector<AliasAction> actions = {a};
         return db.UpdateAliases(actions);
       }},
      {"update collection (hnsw m)", [](DatabaseCore& db, const std::string&) {
         CollectionUpdate u;
         u.hnsw = HnswUpdate{12, std::nullopt, std::nullopt};
         return Get(db, "c")->core().Update(u);
       }},
      {"restore_snapshot", [](DatabaseCore& db, const std::string& snap) { return db.RestoreSnapshot("r", snap); }},
      // The sync layer's two writes (engine/src/sync): a pulled point with the round's metadata, and a sync
      // snapshot's segment images replacing the collection.
      {"feed write (a replicated point and sync metadata)",
       [](DatabaseCore& db, const std::string&) {
         db::CollectionCore& old = Get(db, "old")->core();
         const std::vector<db::VectorSpace> spaces = old.spaces();
         db::FeedWrite w;
         old.VisitPoint(PointId::Number(1), [&](const db::PointState& st, const db::Segment& seg) {
           sync::PointDelta d = sync::FullDelta(st, seg, spaces);
           d.id = PointId::Number(40);
           auto ops = sync::DeltaToOps(d);
           if (ops.ok()) w.ops = std::move(*ops);
         });
         REQUIRE(!w.ops.empty());
         w.meta.emplace_back("sync.cursor", boost::json::value(7));
         return Get(db, "c")->core().CommitFeedWrite(std::move(w)).status();
       }},
      {"install a feed generation (a sync snapshot's segment images)",
       [](DatabaseCore& db, const std::string&) {
         db::FeedInfo info;
         std::vector<std::shared_ptr<const std::string>> images;
         for (const auto& image : Get(db, "old")->core().FeedSegmentImages(&info)) images.push_back(image.bytes);
         REQUIRE(!images.empty());
         db::FeedWrite pending;
         pending.meta.emplace_back("sync.epoch", boost::json::value(2));
         return Get(db, "c")->core().InstallFeedGeneration(images, {}, std::move(pending));
       }},
  };
  return paths;
}

struct Walk {
  Kind kind;
  uint32_t ops;
  const char* name;
};

const Walk kWalks[] = {
    {Kind::kIOError, FaultInjectionStorage::kAllOps, "EIO at any operation"},
    {Kind::kNoSpace, FaultInjectionStorage::kAllOps, "ENOSPC at any operation"},
    {Kind::kShortWrite, FaultInjectionStorage::kAppend, "a short write at any append"},
    {Kind::kFailedSync, FaultInjectionStorage::kSync, "a failed fsync at any sync"},
};

// Background threads for a database: a ThreadPool of `threads` (none for 0, and none in WASM).
class Background {
 public:
  explicit Background(size_t threads) {
#if !defined(__EMSCRIPTEN__)
    if (threads > 0) pool_ = std::make_unique<ThreadPool>(threads);
#else
    (void)threads;
#endif
  }
  Executor* executor() {
#if !defined(__EMSCRIPTEN__)
    return pool_.get();
#else
    return nullptr;
#endif
  }

 private:
#if !defined(__EMSCRIPTEN__)
  std::unique_ptr<ThreadPool> pool_;
#endif
};

struct Tally {
  uint64_t cases = 0, hits = 0, failed_calls = 0;
};

std::unique_ptr<DatabaseCore> OpenDb(FaultInjectionStorage* st, Executor* executor) {
  auto db = DatabaseCore::OpenStorage(Options(executor), st);
  INFO(db.status().ToString());
  REQUIRE(db.ok());
  return std::move(*db);
}

// A database on fault-injecting memory storage (faults of the walk's kind at its operations, none armed yet),
// opened and holding the prelude's collections.
struct FaultyDatabase {
  FaultyDatabase(const Walk& walk, Executor* executor) : st(&base) {
    st.SetFaultKind(walk.kind);
    st.SetOpFilter(walk.ops);
    db = OpenDb(&st, executor);
    Prelude(*db, &snapshot);
  }
  storage::MemoryStorage base;
  FaultInjectionStorage st;
  std::unique_ptr<DatabaseCore> db;
  std::string snapshot;  // an old snapshot of collection "c"
};

// Runs `path` once with the n-th operation the walk admits failing (0: none); returns the operations counted.
// With `sticky` the disk stays failed after that operation (every later one fails too) while the handle takes
// more writes, which must fail clearly and change nothing; then it recovers.
uint64_t RunCase(const Path& path, const Walk& walk, Executor* executor, uint64_t n, std::string* before,
                 std::string* after, Tally* tally, bool sticky = false) {
  FaultyDatabase f(walk, executor);
  FaultInjectionStorage& st = f.st;
  std::unique_ptr<DatabaseCore>& db = f.db;
  const std::string& snapshot = f.snapshot;
  const uint64_t start = st.matched();
  if (n == 0) {
    *before = Visible(*db);
    REQUIRE(path.run(*db, snapshot).ok());
    WaitIdle(*db);
    *after = Visible(*db);
    const uint64_t count = st.matched() - start;
    REQUIRE(db->Close().ok());
    return count;
  }
  CHECK(Visible(*db) == *before);
  st.FailAt(n, sticky);
  const Status s = path.run(*db, snapshot);
  WaitIdle(*db);
  ++tally->cases;
  const bool hit = st.failed();
  tally->hits += hit;
  CHECK(hit);  // the clean run's count holds for this one up to its n-th operation
  if (sticky && hit) {
    // The disk is still failing: reads answer, writes fail with the fault and change nothing.
    const std::string during = Visible(*db);
    CHECK((during == *before || during == *after));
    for (const std::string& name : db->ListCollections()) {
      INFO("collection " << name << " while the disk is failing");
      const std::vector<PointInput> one = {Pt(101, 6)};
      const Status w = Get(*db, name)->Upsert(one);
      INFO(w.ToString());
      CHECK(!w.ok());
      CHECK(w.message().find("injected fault") != std::string_view::npos);
    }
    WaitIdle(*db);
    CHECK(Visible(*db) == during);
  }
  st.Disarm();  // a call that failed early may not have reached the n-th operation
  if (!s.ok()) {
    ++tally->failed_calls;
    INFO(s.ToString());
    CHECK(hit);
    CHECK((s.code() == StatusCode::kIOError || s.code() == StatusCode::kResourceExhausted));
    CHECK(s.message().find("injected fault") != std::string_view::npos);
  }
  // The same handle: the state before or after the call, and after it when the call succeeded.
  const std::string now = Visible(*db);
  if (s.ok()) {
    CHECK(now == *after);
  } else {
    CHECK((now == *before || now == *after));
  }
  // The fault has passed: new writes on the same handle succeed, in every collection.
  for (const std::string& name : db->ListCollections()) {
    INFO("collection " << name);
    const std::vector<PointInput> one = {Pt(100, 5)};
    const Status w = Get(*db, name)->Upsert(one);
    INFO(w.ToString());
    CHECK(w.ok());
  }
  const Status m = Get(*db, "c")->Optimize();
  INFO(m.ToString());
  CHECK(m.ok());
  WaitIdle(*db);
  const std::string last = Visible(*db);
  const Status closed = db->Close();
  INFO(closed.ToString());
  CHECK(closed.ok());
  db.reset();
  // Everything acknowledged is in storage.
  auto reopened = OpenDb(&st, executor);
  CHECK(reopened->UnavailableCollections().empty());
  CHECK(Visible(*reopened) == last);
  for (const std::string& name : reopened->ListCollections()) {
    auto problems = Get(*reopened, name)->Verify();
    REQUIRE(problems.ok());
    CHECK(problems->empty());
  }
  return st.matched() - start;
}

// The background threads of the walks that do not try one: none and two (none in WASM).
std::vector<size_t> NoneAndTwoThreads() {
#if defined(__EMSCRIPTEN__)
  return {0};
#else
  return {0, 2};
#endif
}

// Every path, fault kind and operation N: RunCase once clean to count the path's operations, then once per N.
Tally WalkAll(Executor* executor, bool sticky) {
  Tally tally;
  for (const Path& path : Paths()) {
    INFO("path " << path.name);
    for (const Walk& walk : kWalks) {
      INFO((sticky ? "sticky fault " : "fault ") << walk.name);
      std::string before, after;
      const uint64_t count = RunCase(path, walk, executor, 0, &before, &after, &tally, sticky);
      for (uint64_t n = 1; n <= count; ++n) {
        INFO((sticky ? "failing from operation " : "failing operation ") << n << " of " << count);
        RunCase(path, walk, executor, n, &before, &after, &tally, sticky);
      }
    }
  }
  return tally;
}

TEST_CASE("faults: every operation of every write path fails once, and the database carries on", "[fault][db]") {
  int repeat = 1;
  if (const char* e = std::getenv("QUIVER_FAULT_REPEAT")) repeat = std::max(1, std::atoi(e));
#if defined(__EMSCRIPTEN__)
  const std::vector<size_t> thread_counts = {0};
#else
  const std::vector<size_t> thread_counts = {0, 1, 2};
#endif
  for (int round = 0; round < repeat; ++round) {
    for (size_t threads : thread_counts) {
      INFO("threads " << threads);
      Background background(threads);
      const Tally tally = WalkAll(background.executor(), /*sticky=*/false);
      std::printf("faults threads=%zu: %llu cases, %llu faults met, %llu calls failed\n", threads,
                  static_cast<unsigned long long>(tally.cases), static_cast<unsigned long long>(tally.hits),
                  static_cast<unsigned long long>(tally.failed_calls));
    }
  }
}

// A disk that fails and stays failed (a full disk, a device gone) while the database keeps being used, then
// recovers later than the next write: each path with each operation N failing and every one after it, then more
// writes while it fails, then the disk back.
TEST_CASE("faults: a disk that stays failed for a while and then recovers loses nothing", "[fault][db]") {
  for (size_t threads : NoneAndTwoThreads()) {
    INFO("threads " << threads);
    Background background(threads);
    const Tally tally = WalkAll(background.executor(), /*sticky=*/true);
    std::printf("sticky faults threads=%zu: %llu cases, %llu calls failed\n", threads,
                static_cast<unsigned long long>(tally.cases), static_cast<unsigned long long>(tally.failed_calls));
  }
}

// Closing writes (the log's last sync, the manifest) and opening writes (the lock, recovery's manifest, the
// removal of files no manifest names), after a close and after a crash: a fault at any of them loses nothing
// acknowledged. The failed close or
// open reports it; the next open, the disk recovered, shows the state before.
TEST_CASE("faults: a fault while closing or opening loses nothing acknowledged", "[fault][db]") {
  for (size_t threads : NoneAndTwoThreads()) {
    INFO("threads " << threads);
    Background background(threads);
    Executor* executor = background.executor();
    for (const Walk& walk : kWalks) {
      INFO("fault " << walk.name);
      for (const int when : {0, 1, 2}) {
        const bool at_open = when > 0;
        INFO((when == 0 ? "while closing" : when == 1 ? "while opening after a close" : "while opening after a crash"));
        uint64_t count = 0;
        for (uint64_t n = 0; n == 0 || n <= count; ++n) {
          INFO("failing operation " << n << " of " << count);
          FaultyDatabase f(walk, executor);
          storage::MemoryStorage& base = f.base;
          FaultInjectionStorage& st = f.st;
          std::unique_ptr<DatabaseCore>& db = f.db;
          const std::vector<PointInput> logged = {Pt(21, 4), Pt(5, 4)};  // in the log only
          REQUIRE(Get(*db, "c")->Upsert(logged).ok());
          WaitIdle(*db);
          const std::string state = Visible(*db);
          if (when == 1) {
            REQUIRE(db->Close().ok());
            db.reset();
          } else if (when == 2) {
            st.FailAt(1, /*sticky=*/true);  // the abandoned handle writes nothing more
            db.reset();
            base.SimulateCrash();
            st.Disarm();
          }
          const uint64_t start = st.matched();
          if (n > 0) st.FailAt(n, /*sticky=*/false);
          if (at_open) {
            auto opened = DatabaseCore::OpenStorage(Options(executor), &st);
            if (opened.ok()) WaitIdle(**opened);  // work the open started in the background is part of it
            if (n == 0) count = st.matched() - start;
            // With threads, the merges an open resumes race its own writes, so their operations (and the count)
            // vary from run to run; without, the n-th operation is always met.
            if (n > 0 && executor == nullptr) CHECK(st.failed());
            st.Disarm();
            if (opened.ok()) {
              CHECK(Visible(**opened) == state);
              const Status closed = (*opened)->Close();
              INFO(closed.ToString());
              CHECK(closed.ok());
            } else {
              INFO(opened.status().ToString());
              CHECK(n > 0);
              CHECK(opened.status().message().find("injected fault") != std::string_view::npos);
            }
          } else {
            const Status closed = db->Close();
            INFO(closed.ToString());
            CHECK((closed.ok() || n > 0));
            if (!closed.ok()) CHECK(closed.message().find("injected fault") != std::string_view::npos);
            db.reset();
            if (n == 0) count = st.matched() - start;
            if (n > 0) CHECK(st.failed());
            st.Disarm();
          }
          auto reopened = OpenDb(&st, executor);
          CHECK(reopened->UnavailableCollections().empty());
          CHECK(Visible(*reopened) == state);
          REQUIRE(reopened->Close().ok());
        }
        // Opening a cleanly closed database appends and syncs nothing; it creates, renames and removes.
        if (!at_open || walk.ops == FaultInjectionStorage::kAllOps) CHECK(count > 0);
      }
    }
  }
}

}  // namespace
}  // namespace quiver
