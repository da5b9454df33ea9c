// Sparse vectors through sync: they belong to the point's vectors register (SYNC.md 2.3), travel in the push
// and pull messages as base64 of little-endian u32 indices and f32 values (docs/sync.md), and arrive on other
// replicas searchable. Bad sparse vectors on the wire are refused per point and lose nothing stored.
#include <catch2/catch.hpp>

#include "engine/sync/sync_test_util.h"
#include "sync/codec.h"
#include "sync/wire.h"

namespace quiver {
namespace {

using testing::FakeClock;
using testing::OpenSyncDatabase;
using testing::SyncNow;

CollectionConfig SparseConfig() {
  CollectionConfig c;
  c.vectors["dense"] = VectorParams{3, Distance::kEuclid, IndexKind::kFlat, std::nullopt, std::nullopt};
  c.sparse_vectors["text"] = SparseVectorParams{};
  return c;
}

struct SparseWorld {
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();
  std::unique_ptr<Database> server_db = OpenSyncDatabase(100, clock);
  std::unique_ptr<sync::FeedStore> store = sync::NewLocalFeedStore(&server_db->core());
  sync::SyncService service{store.get()};
  sync::LoopbackTransport transport{&service};
  std::unique_ptr<Database> a = OpenSyncDatabase(1, clock);
  std::unique_ptr<Database> b = OpenSyncDatabase(2, clock);
  std::unique_ptr<sync::SyncClient> ca, cb;

  explicit SparseWorld(const CollectionConfig& config = SparseConfig()) {
    REQUIRE(a->CreateCollection("docs", config).ok());
    REQUIRE(b->CreateCollection("docs", config).ok());
    sync::SyncClientOptions o;
    o.collections = {"docs"};
    o.get_token = [](bool) -> Result<std::string> { return std::string("alice"); };
    uint64_t seed = 7;
    o.random = [seed]() mutable { return seed = seed * 6364136223846793005ull + 1442695040888963407ull; };
    ca = std::make_unique<sync::SyncClient>(&a->core(), &transport, o);
    cb = std::make_unique<sync::SyncClient>(&b->core(), &transport, o);
  }
  std::shared_ptr<Collection> A() { return *a->GetCollection("docs"); }
  std::shared_ptr<Collection> B() { return *b->GetCollection("docs"); }
};

PointInput Point(uint64_t id, std::optional<SparseVector> sparse, std::vector<float> dense = {1, 2, 3}) {
  PointInput p;
  p.id = PointId::Number(id);
  if (!dense.empty()) p.vectors["dense"] = std::move(dense);
  if (sparse) p.sparse_vectors["text"] = std::move(*sparse);
  return p;
}

Record GetOne(Collection& c, uint64_t id) {
  auto got = c.Get(std::vector<PointId>{PointId::Number(id)}, PayloadSelector::None(), VectorSelector::All());
  REQUIRE(got.ok());
  REQUIRE(got->size() == 1);
  return (*got)[0];
}

std::vector<uint64_t> SparseHits(Collection& c, SparseVector q) {
  SearchRequest req;
  req.vector_name = "text";
  req.sparse_vector = std::move(q);
  req.limit = 10;
  auto hits = c.Search(req);
  REQUIRE(hits.ok());
  std::vector<uint64_t> ids;
  for (const ScoredPoint& h : *hits) ids.push_back(h.id.number());
  return ids;
}

TEST_CASE("sync: a sparse vector written on one replica arrives on another", "[sync][sparse]") {
  SparseWorld w;
  // Indices in any order on input; stored (and sent) sorted.
  REQUIRE(w.A()
              ->Upsert(std::vector<PointInput>{Point(1, SparseVector{{70, 2, 9}, {0.5f, 1.0f, -2.25f}}),
                                               Point(2, std::nullopt, {4, 5, 6})})
              .ok());
  REQUIRE(SyncNow(*w.ca).ok());
  REQUIRE(SyncNow(*w.cb).ok());
  REQUIRE(w.B()->Info().points_count == 2);
  Record r = GetOne(*w.B(), 1);
  REQUIRE(r.sparse_vectors.count("text") == 1);
  CHECK(r.sparse_vectors["text"].indices == std::vector<uint32_t>{2, 9, 70});
  CHECK(r.sparse_vectors["text"].values == std::vector<float>{1.0f, -2.25f, 0.5f});
  CHECK(r.vectors["dense"] == std::vector<float>{1, 2, 3});
  CHECK(GetOne(*w.B(), 2).sparse_vectors.empty());
  // Searchable on the receiving replica (its sparse index was built from the pulled vector).
  CHECK(SparseHits(*w.B(), SparseVector{{9}, {1.0f}}) == std::vector<uint64_t>{1});

  // The vectors register moves as one: an upsert without the sparse vector removes it everywhere.
  w.clock->ms += 10;
  REQUIRE(w.A()->Upsert(std::vector<PointInput>{Point(1, std::nullopt, {7, 8, 9})}).ok());
  REQUIRE(SyncNow(*w.ca).ok());
  REQUIRE(SyncNow(*w.cb).ok());
  r = GetOne(*w.B(), 1);
  CHECK(r.sparse_vectors.empty());
  CHECK(r.vectors["dense"] == std::vector<float>{7, 8, 9});
  CHECK(SparseHits(*w.B(), SparseVector{{9}, {1.0f}}).empty());

  // Concurrent upserts of one point: the later stamp's dense and sparse vectors win together.
  w.clock->ms += 10;
  REQUIRE(w.A()->Upsert(std::vector<PointInput>{Point(3, SparseVector{{1}, {1.0f}}, {1, 1, 1})}).ok());
  w.clock->ms += 10;
  REQUIRE(w.B()->Upsert(std::vector<PointInput>{Point(3, SparseVector{{5}, {2.0f}}, {2, 2, 2})}).ok());
  REQUIRE(SyncNow(*w.ca).ok());
  REQUIRE(SyncNow(*w.cb).ok());
  REQUIRE(SyncNow(*w.ca).ok());
  for (Collection* c : {w.A().get(), w.B().get()}) {
    Record p3 = GetOne(*c, 3);
    CHECK(p3.sparse_vectors["text"].indices == std::vector<uint32_t>{5});
    CHECK(p3.vectors["dense"] == std::vector<float>{2, 2, 2});
  }
  CHECK(testing::Digest(*w.a, "docs") == testing::Digest(*w.b, "docs"));
  CHECK(testing::Digest(*w.a, "docs") == testing::Digest(*w.server_db, "docs"));
}

TEST_CASE("sync: a collection of sparse vectors only syncs", "[sync][sparse]") {
  CollectionConfig c;
  c.sparse_vectors["text"] = SparseVectorParams{};
  c.sparse_vectors["text"].modifier = SparseModifier::kIdf;
  SparseWorld w(c);
  REQUIRE(w.A()->Upsert(std::vector<PointInput>{Point(5, SparseVector{{3, 4}, {1.0f, 1.0f}}, {})}).ok());
  REQUIRE(SyncNow(*w.ca).ok());
  REQUIRE(SyncNow(*w.cb).ok());
  CHECK(GetOne(*w.B(), 5).sparse_vectors["text"].indices == std::vector<uint32_t>{3, 4});
  CHECK(SparseHits(*w.B(), SparseVector{{4}, {1.0f}}) == std::vector<uint64_t>{5});
}

TEST_CASE("sync: the configuration hash covers sparse vectors", "[sync][sparse]") {
  CollectionConfig dense_only;
  dense_only.vectors[""] = VectorParams{3, Distance::kEuclid, IndexKind::kFlat, std::nullopt, std::nullopt};
  CollectionConfig with_sparse = dense_only;
  with_sparse.sparse_vectors["text"] = SparseVectorParams{};
  CollectionConfig with_idf = with_sparse;
  with_idf.sparse_vectors["text"].modifier = SparseModifier::kIdf;
  CollectionConfig tuned = with_sparse;
  tuned.sparse_vectors["text"].full_scan_threshold = 10;  // a tunable: same hash
  const std::string h0 = sync::local::ConfigHash(dense_only);
  const std::string h1 = sync::local::ConfigHash(with_sparse);
  const std::string h2 = sync::local::ConfigHash(with_idf);
  CHECK(h0 != h1);
  CHECK(h1 != h2);
  CHECK(sync::local::ConfigHash(tuned) == h1);
}

TEST_CASE("sync: sparse vectors on the wire", "[sync][sparse]") {
  sync::PointDelta d;
  d.id = PointId::Number(42);
  sync::VecRegister v;
  v.ts = db::Stamp{0x018f3a2b4c5d0001ull, 0x9f3c0a1b2c3d4e5full};
  v.sparse.emplace_back("text", SparseVector{{1, 5}, {1.0f, 0.5f}});
  d.vec = v;
  const boost::json::value j = sync::PointToJson(d);
  // u32 LE 1, 5 and f32 LE 1.0, 0.5 (docs/sync.md, "Vectors").
  CHECK(j.at("vec").at("sparse").at("text").at("i").as_string() == "AQAAAAUAAAA=");
  CHECK(j.at("vec").at("sparse").at("text").at("v").as_string() == "AACAPwAAAD8=");
  auto back = sync::PointFromJson(j, "point");
  REQUIRE(back.ok());
  REQUIRE(back->vec);
  REQUIRE(back->vec->sparse.size() == 1);
  CHECK(back->vec->sparse[0].second == SparseVector{{1, 5}, {1.0f, 0.5f}});

  // Lengths that disagree, and bytes that are not whole u32 values, are refused with the field's path.
  boost::json::value bad = j;
  bad.at("vec").at("sparse").at("text").as_object()["i"] = "AQAAAA==";
  auto e1 = sync::PointFromJson(bad, "point");
  REQUIRE(!e1.ok());
  CHECK(std::string(e1.status().message()).find("differ in length") != std::string::npos);
  bad.at("vec").at("sparse").at("text").as_object()["i"] = "AQAA";
  auto e2 = sync::PointFromJson(bad, "point");
  REQUIRE(!e2.ok());
  CHECK(std::string(e2.status().message()).find("uint32") != std::string::npos);
}

TEST_CASE("sync: a pushed sparse vector that is not in stored form is rejected and loses nothing",
          "[sync][sparse]") {
  SparseWorld w;
  REQUIRE(w.A()->Upsert(std::vector<PointInput>{Point(1, SparseVector{{2}, {1.0f}})}).ok());
  REQUIRE(SyncNow(*w.ca).ok());
  auto server = w.server_db->GetCollection("docs");
  REQUIRE(server.ok());
  const std::string uid = [&] {
    auto v = w.A()->core().FeedMeta("sync.uid");
    REQUIRE(v);
    return std::string(v->as_string());
  }();
  const std::string digest_before = testing::Digest(*w.server_db, "docs");
  const uint64_t seq_before = (*server)->core().feed_info().last_seq;

  uint64_t batch = 1000;  // above the replica's acknowledged batches, so the server applies each push
  auto push = [&](uint64_t id, SparseVector sv, const std::string& name) {
    sync::PushRequest p;
    p.replica = 1;
    p.from_local_seq = batch;
    p.to_local_seq = ++batch;
    p.hlc = db::MakeHlc(w.clock->ms, 0);
    sync::PointDelta d;
    d.id = PointId::Number(id);
    sync::VecRegister v;
    v.ts = db::Stamp{db::MakeHlc(w.clock->ms, 5), 1};
    v.dense.emplace_back("dense", std::vector<float>{1, 1, 1});
    v.sparse.emplace_back(name, std::move(sv));
    d.vec = v;
    p.points.push_back(d);
    sync::SyncRequest r;
    r.method = "POST";
    r.path = "/v1/collections/" + uid + "/push";
    r.token = "alice";
    r.replica = sync::Hex16(1);
    r.body = sync::Encode(p);
    return w.service.Handle(r);
  };
  w.clock->ms += 10;
  for (auto [sv, name, why] :
       {std::tuple{SparseVector{{5, 3}, {1.0f, 1.0f}}, "text", "not in increasing order"},
        std::tuple{SparseVector{{3, 3}, {1.0f, 1.0f}}, "text", "duplicate index 3"},
        std::tuple{SparseVector{{3}, {1.0f}}, "nope", "no sparse vector 'nope'"}}) {
    sync::SyncResponse resp = push(1, sv, name);
    REQUIRE(resp.status == 200);
    auto m = sync::DecodePushResponse(resp.body);
    REQUIRE(m.ok());
    REQUIRE(m->rejected.size() == 1);
    CHECK(m->rejected[0].reason == "invalid");
    INFO(resp.body);
    CHECK(resp.body.find(why) != std::string::npos);
  }
  CHECK(testing::Digest(*w.server_db, "docs") == digest_before);
  CHECK((*server)->core().feed_info().last_seq == seq_before);
  CHECK(GetOne(**server, 1).sparse_vectors["text"].indices == std::vector<uint32_t>{2});
}

}  // namespace
}  // namespace quiver
