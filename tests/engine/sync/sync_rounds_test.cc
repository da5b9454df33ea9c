// The kinds of round a face schedules (SyncClient::Run): push only (write-through), pull only, a long-poll given
// up for local writes (CancelWait), the outbox count (PendingPoints) and the applied-changes observer.
#include <catch2/catch.hpp>

#include "engine/sync/sync_test_util.h"

namespace quiver {
namespace {

using testing::FakeClock;
using testing::OpenSyncDatabase;
using testing::SyncConfig;

PointInput P(uint64_t id, std::vector<float> v) {
  PointInput p;
  p.id = PointId::Number(id);
  p.vectors[""] = std::move(v);
  return p;
}

struct Applied {
  std::string collection;
  std::vector<PointId> ids;
  bool snapshot = false;
};

struct World {
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();
  std::unique_ptr<Database> server_db = OpenSyncDatabase(100, clock);
  std::unique_ptr<sync::FeedStore> store = sync::NewLocalFeedStore(&server_db->core());
  sync::SyncService service{store.get()};
  sync::LoopbackTransport transport{&service};
  std::unique_ptr<Database> a = OpenSyncDatabase(1, clock);
  std::unique_ptr<Database> b = OpenSyncDatabase(2, clock);
  std::unique_ptr<sync::SyncClient> ca, cb;
  std::vector<Applied> applied_b;

  World() {
    REQUIRE(a->CreateCollection("docs", SyncConfig()).ok());
    REQUIRE(b->CreateCollection("docs", SyncConfig()).ok());
    sync::SyncClientOptions o;
    o.collections = {"docs"};
    o.get_token = [](bool) -> Result<std::string> { return std::string("alice"); };
    uint64_t seed = 7;
    o.random = [seed]() mutable { return seed = seed * 6364136223846793005ull + 1442695040888963407ull; };
    ca = std::make_unique<sync::SyncClient>(&a->core(), &transport, o);
    o.on_applied = [this](const std::string& c, const std::vector<PointId>& ids, bool snapshot) {
      applied_b.push_back({c, ids, snapshot});
    };
    cb = std::make_unique<sync::SyncClient>(&b->core(), &transport, o);
  }
  std::shared_ptr<Collection> A() { return *a->GetCollection("docs"); }
  std::shared_ptr<Collection> B() { return *b->GetCollection("docs"); }
  uint64_t ServerPoints() { return (*server_db->GetCollection("docs"))->Info().points_count; }
};

Status RunNow(sync::SyncClient& client, sync::RoundKind kind) {
  Status result = Status::Internal("the round did not finish");
  bool finished = false;
  client.Run(kind, 0, true, [&](Status s) {
    result = s;
    finished = true;
  });
  REQUIRE(finished);
  INFO(result.ToString());
  return result;
}

uint64_t Pending(sync::SyncClient& c) {
  auto n = c.PendingPoints("docs");
  REQUIRE(n.ok());
  return *n;
}

TEST_CASE("sync rounds: push only, pull only, and the outbox count", "[sync]") {
  World w;
  REQUIRE(w.A()->Upsert(std::vector<PointInput>{P(1, {1, 2, 3}), P(2, {4, 5, 6}), P(3, {7, 8, 9})}).ok());
  CHECK(Pending(*w.ca) == 3);
  REQUIRE(RunNow(*w.ca, sync::RoundKind::kPush).ok());
  CHECK(Pending(*w.ca) == 0);
  CHECK(w.ServerPoints() == 3);
  CHECK(w.ca->stats().pulled_points == 0);

  // B writes, then pulls only: it gets A's points and keeps its own write in the outbox.
  REQUIRE(w.B()->Upsert(std::vector<PointInput>{P(10, {1, 0, 0})}).ok());
  REQUIRE(RunNow(*w.cb, sync::RoundKind::kPull).ok());
  CHECK(w.B()->Info().points_count == 4);
  CHECK(Pending(*w.cb) == 1);
  CHECK(w.ServerPoints() == 3);
  REQUIRE_FALSE(w.applied_b.empty());
  CHECK(w.applied_b.front().snapshot);  // the first round installs the snapshot
  REQUIRE(RunNow(*w.cb, sync::RoundKind::kPush).ok());
  CHECK(Pending(*w.cb) == 0);
  CHECK(w.ServerPoints() == 4);

  // A pull round reports the points it applied.
  w.applied_b.clear();
  w.clock->ms += 5;
  REQUIRE(w.A()->Delete(PointsSelector::Ids({PointId::Number(2)})).ok());
  REQUIRE(RunNow(*w.ca, sync::RoundKind::kPush).ok());
  REQUIRE(RunNow(*w.cb, sync::RoundKind::kPull).ok());
  CHECK(w.B()->Info().points_count == 3);
  REQUIRE(w.applied_b.size() == 1);
  CHECK(w.applied_b[0].collection == "docs");
  CHECK_FALSE(w.applied_b[0].snapshot);
  CHECK(w.applied_b[0].ids == std::vector<PointId>{PointId::Number(2)});
  CHECK(w.cb->PendingPoints("nope").status().code() == StatusCode::kNotFound);
}

TEST_CASE("sync rounds: a long-poll gives way to local writes (CancelWait)", "[sync]") {
  World w;
  CHECK_FALSE(w.ca->CancelWait());  // no round
  REQUIRE(RunNow(*w.ca, sync::RoundKind::kFull).ok());
  int ended = 0;
  Status result = Status::Internal("not yet");
  w.ca->Run(sync::RoundKind::kPull, 25'000, true, [&](Status s) {
    ++ended;
    result = s;
  });
  REQUIRE(w.ca->busy());  // parked in the server's long-poll
  CHECK(ended == 0);
  CHECK(w.ca->CancelWait());
  CHECK(ended == 1);
  CHECK(result.ok());
  CHECK_FALSE(w.ca->busy());
  CHECK_FALSE(w.ca->CancelWait());

  // The parked request completes when B's push commits: its answer is dropped, nothing was applied, and the
  // next round of A (a push first, as a face does after a write) carries on normally.
  REQUIRE(w.A()->Upsert(std::vector<PointInput>{P(5, {1, 1, 1})}).ok());
  REQUIRE(w.B()->Upsert(std::vector<PointInput>{P(6, {2, 2, 2})}).ok());
  REQUIRE(RunNow(*w.cb, sync::RoundKind::kFull).ok());
  CHECK(ended == 1);
  CHECK(w.A()->Info().points_count == 1);
  REQUIRE(RunNow(*w.ca, sync::RoundKind::kPush).ok());
  REQUIRE(RunNow(*w.ca, sync::RoundKind::kPull).ok());
  CHECK(w.A()->Info().points_count == 2);
  CHECK(w.ServerPoints() == 2);
}

}  // namespace
}  // namespace quiver
