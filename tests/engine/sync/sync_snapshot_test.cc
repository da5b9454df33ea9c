// Snapshot downloads that go wrong: a blob damaged or cut short in transit, and a transport's own hash of a blob
// (SyncResponse::sha256, computed by the platform while receiving) that disagrees with the manifest.
#include <catch2/catch.hpp>

#include "base/hashes.h"
#include "engine/sync/sync_test_util.h"

namespace quiver {
namespace {

using testing::FakeClock;
using testing::OpenSyncDatabase;
using testing::SyncConfig;
using testing::SyncNow;

PointInput P(uint64_t id, std::vector<float> v) {
  PointInput p;
  p.id = PointId::Number(id);
  p.vectors[""] = std::move(v);
  return p;
}

// Forwards to the loopback transport and spoils blob answers as told.
class DamagingTransport final : public sync::Transport {
 public:
  explicit DamagingTransport(sync::Transport* inner) : inner_(inner) {}
  enum class Damage { kNone, kFlipByte, kTruncate, kWrongClaim, kRightClaim };
  Damage damage = Damage::kNone;
  int times = 0;  // blob answers left to spoil
  int blobs = 0;  // blob answers seen

  void Send(sync::SyncRequest request, std::function<void(Result<sync::SyncResponse>)> done) override {
    const bool blob = request.path.rfind("/v1/blobs/", 0) == 0;
    inner_->Send(std::move(request), [this, blob, done = std::move(done)](Result<sync::SyncResponse> r) {
      if (blob && r.ok() && r->status == 200) {
        ++blobs;
        if (damage == Damage::kRightClaim) r->sha256 = Sha256Hex(r->body);
        if (times > 0 && !r->body.empty()) {
          --times;
          switch (damage) {
            case Damage::kFlipByte: r->body[r->body.size() / 2] ^= 0x20; break;
            case Damage::kTruncate: r->body.resize(r->body.size() / 2); break;
            case Damage::kWrongClaim: r->sha256 = std::string(64, 'a'); break;
            default: break;
          }
        }
      }
      done(std::move(r));
    });
  }

 private:
  sync::Transport* inner_;
};

struct World {
  std::shared_ptr<FakeClock> clock = std::make_shared<FakeClock>();
  std::unique_ptr<Database> server_db = OpenSyncDatabase(100, clock);
  std::unique_ptr<sync::FeedStore> store = sync::NewLocalFeedStore(&server_db->core());
  sync::SyncService service{store.get()};
  sync::LoopbackTransport loopback{&service};
  DamagingTransport damaging{&loopback};
  std::unique_ptr<Database> a = OpenSyncDatabase(1, clock);
  std::unique_ptr<Database> b = OpenSyncDatabase(2, clock);
  std::unique_ptr<sync::SyncClient> ca, cb;

  World() {
    REQUIRE(a->CreateCollection("docs", SyncConfig()).ok());
    REQUIRE(b->CreateCollection("docs", SyncConfig()).ok());
    sync::SyncClientOptions o;
    o.collections = {"docs"};
    o.get_token = [](bool) -> Result<std::string> { return std::string("alice"); };
    uint64_t seed = 1;
    o.random = [seed]() mutable { return seed = seed * 6364136223846793005ull + 1442695040888963407ull; };
    ca = std::make_unique<sync::SyncClient>(&a->core(), &loopback, o);
    cb = std::make_unique<sync::SyncClient>(&b->core(), &damaging, o);
    // A's points reach the server; B has writes of its own and no cursor, so its first round installs the
    // snapshot and carries its writes over.
    std::vector<PointInput> points;
    for (uint64_t i = 1; i <= 40; ++i) points.push_back(P(i, {float(i), 1, 2}));
    REQUIRE((*a->GetCollection("docs"))->Upsert(points).ok());
    REQUIRE(SyncNow(*ca).ok());
    REQUIRE((*b->GetCollection("docs"))->Upsert(std::vector<PointInput>{P(100, {9, 9, 9}), P(101, {8, 8, 8})}).ok());
  }
  std::shared_ptr<Collection> B() { return *b->GetCollection("docs"); }
};

TEST_CASE("sync snapshot: a blob damaged once is fetched again and installed", "[sync]") {
  World w;
  w.damaging.damage = DamagingTransport::Damage::kFlipByte;
  w.damaging.times = 1;
  REQUIRE(SyncNow(*w.cb).ok());
  CHECK(w.damaging.blobs == 2);
  CHECK(w.B()->Info().points_count == 42);
  REQUIRE(SyncNow(*w.ca).ok());
  CHECK(testing::Digest(*w.a, "docs") == testing::Digest(*w.b, "docs"));
}

TEST_CASE("sync snapshot: a blob that arrives damaged, short or with a wrong hash twice is refused, nothing lost",
          "[sync]") {
  World w;
  const std::string before = testing::Digest(*w.b, "docs");
  for (auto damage : {DamagingTransport::Damage::kFlipByte, DamagingTransport::Damage::kTruncate,
                      DamagingTransport::Damage::kWrongClaim}) {
    w.damaging.damage = damage;
    w.damaging.times = 2;
    Status s = SyncNow(*w.cb);
    REQUIRE(s.code() == StatusCode::kCorruption);
    CHECK(s.message().find("snapshot segment 1 of 1 of collection docs arrived as") != std::string::npos);
    CHECK(s.message().find("the manifest says") != std::string::npos);
    CHECK(s.message().find("nothing was installed") != std::string::npos);
    if (damage == DamagingTransport::Damage::kTruncate) {
      CHECK(s.message().find("SHA-256 " + std::string(64, 'a')) == std::string::npos);
    }
    CHECK(w.B()->Info().points_count == 2);
    CHECK(testing::Digest(*w.b, "docs") == before);
    auto pending = w.cb->PendingPoints("docs");
    REQUIRE(pending.ok());
    CHECK(*pending == 2);
  }
  // The transport's right hash is taken as is; the round completes and B pushes its own writes.
  w.damaging.damage = DamagingTransport::Damage::kRightClaim;
  w.damaging.times = 0;
  REQUIRE(SyncNow(*w.cb).ok());
  CHECK(w.B()->Info().points_count == 42);
  REQUIRE(SyncNow(*w.ca).ok());
  CHECK(testing::Digest(*w.a, "docs") == testing::Digest(*w.b, "docs"));
}

}  // namespace
}  // namespace quiver
