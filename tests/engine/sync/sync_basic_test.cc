// End-to-end sync through a SyncService in the same process: replicas converge, edits merge per register.
#include <catch2/catch.hpp>

#include "engine/sync/sync_test_util.h"
#include "payload/json_util.h"
#include "storage/fault_injection.h"
#include "storage/storage_memory.h"

namespace quiver {
namespace {

using testing::FakeClock;
using testing::OpenSyncDatabase;
using testing::SyncConfig;
using testing::SyncNow;

PointInput P(uint64_t id, std::vector<float> v, std::string payload = "") {
  PointInput p;
  p.id = PointId::Number(id);
  p.vectors[""] = std::move(v);
  p.payload = std::move(payload);
  return p;
}

struct World {
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();
  std::unique_ptr<Database> server_db = OpenSyncDatabase(100, clock);
  std::unique_ptr<sync::FeedStore> store = sync::NewLocalFeedStore(&server_db->core());
  sync::SyncService service{store.get()};
  sync::LoopbackTransport transport{&service};
  std::unique_ptr<Database> a = OpenSyncDatabase(1, clock);
  std::unique_ptr<Database> b = OpenSyncDatabase(2, clock);
  std::unique_ptr<sync::SyncClient> ca, cb;

  explicit World(size_t max_push_bytes = 4 << 20) {
    REQUIRE(a->CreateCollection("docs", SyncConfig()).ok());
    REQUIRE(b->CreateCollection("docs", SyncConfig()).ok());
    sync::SyncClientOptions o;
    o.max_push_bytes = max_push_bytes;
    o.collections = {"docs"};
    o.get_token = [](bool) -> Result<std::string> { return std::string("alice"); };
    uint64_t seed = 1;
    o.random = [seed]() mutable { return seed = seed * 6364136223846793005ull + 1442695040888963407ull; };
    ca = std::make_unique<sync::SyncClient>(&a->core(), &transport, o);
    cb = std::make_unique<sync::SyncClient>(&b->core(), &transport, o);
  }
  std::shared_ptr<Collection> A() { return *a->GetCollection("docs"); }
  std::shared_ptr<Collection> B() { return *b->GetCollection("docs"); }
};

std::string Payload(Collection& c, uint64_t id) {
  auto got = c.Get(std::vector<PointId>{PointId::Number(id)}, PayloadSelector::All(), VectorSelector::None());
  REQUIRE(got.ok());
  if (got->empty()) return "<none>";
  auto parsed = payload::ParsePayloadText(*(*got)[0].payload);
  REQUIRE(parsed.ok());
  return payload::CanonicalJson(boost::json::value(*parsed));
}

TEST_CASE("sync: two replicas converge through the server", "[sync]") {
  World w;
  REQUIRE(w.A()->Upsert(std::vector<PointInput>{P(1, {1, 2, 3}, R"({"t":"a"})"), P(2, {4, 5, 6})}).ok());
  REQUIRE(SyncNow(*w.ca).ok());
  REQUIRE(SyncNow(*w.cb).ok());
  CHECK(w.B()->Info().points_count == 2);
  CHECK(Payload(*w.B(), 1) == R"({"t":"a"})");

  // Concurrent edits of different keys of one point both survive.
  w.clock->ms += 10;
  REQUIRE(w.A()->SetPayload(PointsSelector::Ids({PointId::Number(1)}), R"({"x":1})").ok());
  REQUIRE(w.B()->SetPayload(PointsSelector::Ids({PointId::Number(1)}), R"({"y":2})").ok());
  REQUIRE(SyncNow(*w.ca).ok());
  REQUIRE(SyncNow(*w.cb).ok());
  REQUIRE(SyncNow(*w.ca).ok());
  CHECK(Payload(*w.A(), 1) == Payload(*w.B(), 1));
  CHECK(Payload(*w.A(), 1).find("\"x\":1") != std::string::npos);
  CHECK(Payload(*w.A(), 1).find("\"y\":2") != std::string::npos);

  // A delete wins over an older payload write.
  w.clock->ms += 10;
  REQUIRE(w.B()->Delete(PointsSelector::Ids({PointId::Number(2)})).ok());
  REQUIRE(SyncNow(*w.cb).ok());
  REQUIRE(SyncNow(*w.ca).ok());
  CHECK(w.A()->Info().points_count == 1);
  CHECK(testing::Digest(*w.a, "docs") == testing::Digest(*w.b, "docs"));
  CHECK(testing::Digest(*w.a, "docs") == testing::Digest(*w.server_db, "docs"));
  // Idle rounds change nothing.
  const auto before = w.server_db->GetCollection("docs").value()->core().feed_info().last_seq;
  REQUIRE(SyncNow(*w.ca).ok());
  REQUIRE(SyncNow(*w.cb).ok());
  CHECK(w.server_db->GetCollection("docs").value()->core().feed_info().last_seq == before);
  CHECK(w.ca->stats().digest_mismatches == 0);
}

TEST_CASE("sync: a push split into batches carries registers written before the point moved on", "[sync]") {
  // One point per batch. Point 22 is written first, then point 5, then 22 again: 22 now sits after 5 in the
  // outbox, and its first registers are older than the batch that carries 5.
  World w(/*max_push_bytes=*/1);
  REQUIRE(SyncNow(*w.ca).ok());  // the first round installs the (empty) snapshot
  REQUIRE(w.A()->Upsert(std::vector<PointInput>{P(22, {1, 2, 3}, R"({"k1":"first"})")}).ok());
  REQUIRE(w.A()->Upsert(std::vector<PointInput>{P(5, {4, 5, 6})}).ok());
  REQUIRE(w.A()->SetPayload(PointsSelector::Ids({PointId::Number(22)}), R"({"k4":"later"})").ok());
  REQUIRE(SyncNow(*w.ca).ok());
  CHECK(w.ca->stats().pushed_points == 2);
  REQUIRE(SyncNow(*w.cb).ok());
  CHECK(w.B()->Info().points_count == 2);
  CHECK(Payload(*w.B(), 22) == R"({"k1":"first","k4":"later"})");
  CHECK(testing::Digest(*w.a, "docs") == testing::Digest(*w.server_db, "docs"));
  CHECK(testing::Digest(*w.b, "docs") == testing::Digest(*w.server_db, "docs"));
  // The drain completed: nothing is left to push, and a further round pushes nothing.
  REQUIRE(SyncNow(*w.ca).ok());
  CHECK(w.ca->stats().pushed_points == 2);
}

// A write whose log sync fails stays in memory (the collection turns read-only) but may be gone after a
// crash: the feed must never hand it to a sync client, or the client's cursor would pass seqs the server
// gives out again.
TEST_CASE("sync: a collection deleted through the sync endpoint stays gone and replicas keep their data",
          "[sync]") {
  World w;
  REQUIRE(w.A()->Upsert(std::vector<PointInput>{P(1, {1, 2, 3}), P(2, {4, 5, 6})}).ok());
  REQUIRE(SyncNow(*w.ca).ok());
  REQUIRE(SyncNow(*w.cb).ok());
  REQUIRE(w.B()->Info().points_count == 2);
  auto uid = w.A()->core().FeedMeta("sync.uid");
  REQUIRE(uid);
  REQUIRE(uid->is_string());
  sync::SyncRequest del;
  del.method = "DELETE";
  del.path = "/v1/collections/" + std::string(uid->get_string());
  del.token = "alice";
  del.replica = "0000000000000001";
  for (int i = 0; i < 2; ++i) {  // the second DELETE finds the tombstone
    INFO("delete " << i);
    sync::SyncResponse r = w.service.Handle(del);
    CHECK(r.status == 409);
    auto body = sync::DecodeErrorBody(r.body);
    REQUIRE(body.ok());
    CHECK(body->error == "collection_gone");
    CHECK(body->message == "collection " + std::string(uid->get_string()) + " was deleted");
  }
  CHECK(w.server_db->ListCollections().empty());
  // A replica with a write the server never saw: its next round tells the app about that point
  // ("collection_gone"), then drops the collection's local data (docs/sync.md), and nothing brings the
  // collection back on the server.
  std::vector<sync::Conflict> conflicts;
  sync::SyncClientOptions o;
  o.collections = {"docs"};
  o.get_token = [](bool) -> Result<std::string> { return std::string("alice"); };
  o.on_conflict = [&](const sync::Conflict& c) {
    conflicts.push_back(c);
    return sync::Resolution::kKeepServer;
  };
  w.cb = std::make_unique<sync::SyncClient>(&w.b->core(), &w.transport, o);
  w.clock->ms += 10;
  REQUIRE(w.B()->Upsert(std::vector<PointInput>{P(3, {7, 8, 9})}).ok());
  Status s = SyncNow(*w.cb);
  INFO(s.ToString());
  REQUIRE(conflicts.size() == 1);
  CHECK(conflicts[0].collection == "docs");
  CHECK(conflicts[0].id == PointId::Number(3));
  CHECK(conflicts[0].reason == "collection_gone");
  REQUIRE(conflicts[0].local);
  CHECK(conflicts[0].local->id == PointId::Number(3));
  CHECK(w.B()->Info().points_count == 0);
  CHECK(w.server_db->ListCollections().empty());
}

TEST_CASE("sync: a replica whose collection has another configuration than the server's is refused",
          "[sync]") {
  World w;
  REQUIRE(w.A()->Upsert(std::vector<PointInput>{P(1, {1, 2, 3})}).ok());
  REQUIRE(SyncNow(*w.ca).ok());
  const std::string server_before = testing::Digest(*w.server_db, "docs");
  auto c = OpenSyncDatabase(3, w.clock);
  REQUIRE(c->CreateCollection("docs", SyncConfig(4)).ok());
  REQUIRE((*c->GetCollection("docs"))->Upsert(std::vector<PointInput>{P(9, {1, 2, 3, 4})}).ok());
  sync::SyncClientOptions o;
  o.collections = {"docs"};
  o.get_token = [](bool) -> Result<std::string> { return std::string("alice"); };
  sync::SyncClient cc(&c->core(), &w.transport, o);
  Status s = SyncNow(cc);
  INFO(s.ToString());
  CHECK(s.code() == StatusCode::kFailedPrecondition);
  CHECK(std::string(s.message()).find("collection 'docs' exists with another configuration") !=
        std::string::npos);
  // Neither side lost or took anything.
  CHECK(testing::Digest(*w.server_db, "docs") == server_before);
  CHECK((*c->GetCollection("docs"))->Info().points_count == 1);
}

TEST_CASE("sync: requests without a token, with a bad header or to no endpoint are refused by name",
          "[sync]") {
  World w;
  REQUIRE(w.A()->Upsert(std::vector<PointInput>{P(1, {1, 2, 3})}).ok());
  REQUIRE(SyncNow(*w.ca).ok());
  const std::string before = testing::Digest(*w.server_db, "docs");
  auto uid = w.A()->core().FeedMeta("sync.uid");
  REQUIRE(uid);
  REQUIRE(uid->is_string());
  const std::string collection = "/v1/collections/" + std::string(uid->get_string());
  auto answer = [&](const sync::SyncRequest& r) {
    sync::SyncResponse resp = w.service.Handle(r);
    auto body = sync::DecodeErrorBody(resp.body);
    if (!body.ok()) return std::to_string(resp.status) + " <" + std::string(body.status().message()) + ">";
    return std::to_string(resp.status) + " " + body->error + ": " + body->message;
  };
  sync::SyncRequest r;
  r.method = "POST";
  r.path = collection + "/push";
  r.replica = "0000000000000001";
  CHECK(answer(r) == "401 unauthorized: a bearer token is required");
  r.token = "alice";
  r.push_cursor = "12x";
  CHECK(answer(r) == "400 invalid: X-Push-Cursor: expected a decimal number");
  r.push_cursor.clear();
  r.method = "PATCH";
  r.path = collection;
  CHECK(answer(r) == "404 not_found: no such endpoint: PATCH " + collection);
  CHECK(testing::Digest(*w.server_db, "docs") == before);
}

TEST_CASE("sync: a server that takes smaller pushes than the client sends gets them in smaller batches",
          "[sync]") {
  auto clock = std::make_shared<FakeClock>();
  auto server = OpenSyncDatabase(100, clock);
  auto store = sync::NewLocalFeedStore(&server->core());
  sync::SyncServiceOptions so;
  so.max_push_bytes = 3000;
  sync::SyncService service{store.get(), so};
  sync::LoopbackTransport transport{&service};
  auto a = OpenSyncDatabase(1, clock);
  REQUIRE(a->CreateCollection("docs", SyncConfig()).ok());
  std::vector<PointInput> points;
  for (uint64_t i = 1; i <= 40; ++i)
    points.push_back(P(i, {float(i), 2, 3}, R"({"t":"a few words of text"})"));
  REQUIRE((*a->GetCollection("docs"))->Upsert(points).ok());
  sync::SyncClientOptions o;
  o.collections = {"docs"};
  o.get_token = [](bool) -> Result<std::string> { return std::string("alice"); };
  sync::SyncClient client(&a->core(), &transport, o);
  Status s = SyncNow(client);
  INFO(s.ToString());
  REQUIRE(s.ok());
  CHECK((*server->GetCollection("docs"))->Info().points_count == 40);
  CHECK(testing::Digest(*server, "docs") == testing::Digest(*a, "docs"));

  // A single point larger than the server takes cannot be split: the round fails, the server keeps what it
  // had.
  sync::SyncServiceOptions tiny;
  tiny.max_push_bytes = 100;
  sync::SyncService tiny_service{store.get(), tiny};
  sync::LoopbackTransport tiny_transport{&tiny_service};
  sync::SyncClient tiny_client(&a->core(), &tiny_transport, o);
  clock->ms += 10;
  REQUIRE((*a->GetCollection("docs"))->Upsert(std::vector<PointInput>{P(41, {4, 5, 6})}).ok());
  const std::string before = testing::Digest(*server, "docs");
  Status refused = SyncNow(tiny_client);
  INFO(refused.ToString());
  CHECK_FALSE(refused.ok());
  CHECK(std::string(refused.message()).find("push of one point: HTTP 413 too_large: push of ") !=
        std::string::npos);
  CHECK(testing::Digest(*server, "docs") == before);
  CHECK((*a->GetCollection("docs"))->Info().points_count == 41);
}

TEST_CASE("sync: the change feed serves only what is synced", "[sync]") {
  bool exercised = false;
  for (uint64_t n = 1; n <= 6; ++n) {
    storage::MemoryStorage mem;
    storage::FaultInjectionStorage faults(&mem);
    DatabaseOptions o;
    o.replica_id = 5;
    o.durability = Durability::kSync;
    auto db = db::DatabaseCore::OpenStorage(o, &faults);
    REQUIRE(db.ok());
    REQUIRE((*db)->CreateCollection("docs", testing::SyncConfig()).ok());
    auto c = *(*db)->GetCollection("docs");
    REQUIRE(c->Upsert(std::vector<PointInput>{P(1, {1, 2, 3})}).ok());
    const uint64_t before = c->core().feed_info().last_seq;
    CHECK(before > 0);
    faults.FailAt(n);
    if (c->Upsert(std::vector<PointInput>{P(2, {4, 5, 6})}).ok()) continue;
    std::vector<uint64_t> served;
    const db::FeedInfo info =
        c->core().ScanFeed(0, [&](uint64_t, const db::PointState& st, const db::Segment&) {
          served.push_back(st.id.number());
          return true;
        });
    CHECK(served == std::vector<uint64_t>{1});
    CHECK(info.last_seq == before);
    CHECK(c->core().feed_info().last_seq == before);
    auto got =
        c->Get(std::vector<PointId>{PointId::Number(2)}, PayloadSelector::None(), VectorSelector::None());
    exercised |= got.ok() && got->size() == 1;  // applied in memory, yet not served
  }
  CHECK(exercised);
}

TEST_CASE("sync: the change feed's index, built at the first scan, serves what one kept from the start does",
          "[sync]") {
  // A collection keeps the feed's index by seq only once something reads the feed. `lazy` is first scanned
  // after a history of writes; `kept` is scanned before any write, so it maintained its index write by write.
  // The same writes on both must serve the same feed at every later scan.
  auto clock = std::make_shared<FakeClock>();
  auto lazy_db = OpenSyncDatabase(7, clock);
  auto kept_db = OpenSyncDatabase(7, clock);
  REQUIRE(lazy_db->CreateCollection("docs", SyncConfig()).ok());
  REQUIRE(kept_db->CreateCollection("docs", SyncConfig()).ok());
  auto lazy = *lazy_db->GetCollection("docs");
  auto kept = *kept_db->GetCollection("docs");
  auto scan = [](Collection& c, uint64_t after) {
    std::vector<std::pair<uint64_t, uint64_t>> served;  // (seq, id)
    c.core().ScanFeed(after, [&](uint64_t seq, const db::PointState& st, const db::Segment&) {
      served.emplace_back(seq, st.id.number());
      return true;
    });
    return served;
  };
  CHECK(scan(*kept, 0).empty());
  auto ids = [](std::initializer_list<uint64_t> l) {
    std::vector<PointId> out;
    for (uint64_t i : l) out.push_back(PointId::Number(i));
    return PointsSelector::Ids(out);
  };
  for (Collection* c : {lazy.get(), kept.get()}) {
    std::vector<PointInput> batch;
    for (uint64_t i = 1; i <= 40; ++i) batch.push_back(P(i, {float(i), 1, 1}, R"({"round":1})"));
    REQUIRE(c->Upsert(batch).ok());
    REQUIRE(c->Upsert(std::vector<PointInput>{P(3, {0, 0, 0}), P(7, {1, 1, 1})}).ok());  // their seqs move on
    REQUIRE(c->Delete(ids({5, 9, 11})).ok());
    REQUIRE(c->SetPayload(ids({2, 12, 22}), R"({"tag":"x"})").ok());
  }
  const auto first = scan(*lazy, 0);
  CHECK(first == scan(*kept, 0));
  REQUIRE(first.size() == 40);  // every point once, the deleted ones as tombstones
  for (size_t i = 1; i < first.size(); ++i) CHECK(first[i - 1].first < first[i].first);
  const uint64_t mark = first.back().first;
  for (Collection* c : {lazy.get(), kept.get()}) {
    REQUIRE(c->Upsert(std::vector<PointInput>{P(2, {2, 2, 2}), P(41, {4, 1, 1})}).ok());
    REQUIRE(c->Delete(ids({3})).ok());
  }
  const auto later = scan(*lazy, mark);
  CHECK(later == scan(*kept, mark));
  std::vector<uint64_t> later_ids;
  for (const auto& [seq, id] : later) later_ids.push_back(id);
  CHECK(later_ids == std::vector<uint64_t>{2, 41, 3});
  CHECK(scan(*lazy, 0) == scan(*kept, 0));
}

}  // namespace
}  // namespace quiver

TEST_CASE("sync: an error body quoting bytes of invalid UTF-8 is still JSON", "[sync][fuzz]") {
  // A request's path or header quoted in the message ("no such endpoint: /v1/\xff") made invalid JSON text.
  quiver::sync::ErrorBody e;
  e.error = "not_found";
  e.message = "no such endpoint: /v1/\xff\xc3(";
  auto decoded = quiver::sync::DecodeErrorBody(quiver::sync::Encode(e));
  REQUIRE(decoded.ok());
  CHECK(decoded->message == "no such endpoint: /v1/\xef\xbf\xbd\xef\xbf\xbd(");
  e.message = "caf\xc3\xa9";
  CHECK(quiver::sync::DecodeErrorBody(quiver::sync::Encode(e))->message == "caf\xc3\xa9");
}
