// A small sync setup for fuzz_sync.cc and the seeds make_corpus.cc records from it: a server database with the
// collection "docs" and its SyncService, a client database with its own "docs" and a SyncClient whose transport
// hands each request to the service and lets a hook see or replace the response. Fake clocks and seeded
// randomness make every run the same, so recorded messages replay (their stamps, uids and cursors stay valid).
//
// Thread safety: one thread; the transport answers before Send returns.
#ifndef QUIVER_TESTS_FUZZ_SYNC_WORLD_H_
#define QUIVER_TESTS_FUZZ_SYNC_WORLD_H_

#include <boost/json/parse.hpp>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "sync/client.h"
#include "sync/local_feed.h"
#include "sync/service.h"

namespace quiver::fuzz {

inline constexpr uint64_t kClientReplica = 0x00c11e47;
inline constexpr uint64_t kServerReplica = 0x005e77e4;
inline constexpr const char* kSyncToken = "fuzz";

// Answers from the service, at once; `hook` may look at or change each answer.
class HookTransport final : public sync::Transport {
 public:
  explicit HookTransport(sync::SyncService* service) : service_(service) {}
  std::function<void(const sync::SyncRequest&, sync::SyncResponse*)> hook;
  void Send(sync::SyncRequest request, std::function<void(Result<sync::SyncResponse>)> done) override {
    sync::SyncResponse r = service_->Handle(request);
    if (hook) hook(request, &r);
    done(std::move(r));
  }

 private:
  sync::SyncService* service_;
};

inline CollectionConfig SyncDocsConfig() {
  CollectionConfig c;
  c.vectors[""] = VectorParams{3, Distance::kEuclid, IndexKind::kFlat, std::nullopt, std::nullopt};
  return c;
}

inline std::unique_ptr<Database> OpenSyncDatabase(uint64_t replica, int first, int count) {
  DatabaseOptions o;
  o.replica_id = replica;
  auto wall = std::make_shared<uint64_t>(1'767'225'600'000ull);
  o.wall_clock_ms = [wall] { return (*wall) += 1; };
  auto db = std::move(*Database::Open(o));
  FUZZ_CHECK_OK(db->CreateCollection("docs", SyncDocsConfig()));
  auto c = *db->GetCollection("docs");
  std::vector<PointInput> points;
  for (int i = first; i < first + count; ++i) {
    PointInput p;
    p.id = PointId::Number(static_cast<uint64_t>(i));
    p.vectors[""] = {float(i), 1, float(i % 3)};
    p.payload = R"({"city":")" + std::string(i % 2 ? "Oslo" : "Lima") + R"(","n":)" + std::to_string(i) + "}";
    points.push_back(std::move(p));
  }
  FUZZ_CHECK_OK(c->Upsert(points));
  FUZZ_CHECK_OK(c->Delete(PointsSelector::Ids({PointId::Number(static_cast<uint64_t>(first))})));
  return db;
}

inline std::function<uint64_t()> Counter(uint64_t start) {
  auto n = std::make_shared<uint64_t>(start);
  return [n] { return (*n) = (*n) * 6364136223846793005ull + 1442695040888963407ull; };
}

struct SyncWorld {
  std::unique_ptr<Database> server_db = OpenSyncDatabase(kServerReplica, 0, 6);
  std::unique_ptr<sync::FeedStore> store = sync::NewLocalFeedStore(&server_db->core());
  std::unique_ptr<sync::SyncService> service;
  std::unique_ptr<Database> client_db;
  std::unique_ptr<HookTransport> transport;
  std::unique_ptr<sync::SyncClient> client;

  explicit SyncWorld(bool with_client) {
    sync::SyncServiceOptions so;
    so.random = Counter(1);
    service = std::make_unique<sync::SyncService>(store.get(), std::move(so));
    if (!with_client) return;
    client_db = OpenSyncDatabase(kClientReplica, 4, 5);
    transport = std::make_unique<HookTransport>(service.get());
    sync::SyncClientOptions co;
    co.collections = {"docs"};
    co.random = Counter(2);
    auto ms = std::make_shared<uint64_t>(0);
    co.monotonic_ms = [ms] { return (*ms) += 1; };
    co.get_token = [](bool) -> Result<std::string> { return std::string(kSyncToken); };
    client = std::make_unique<sync::SyncClient>(&client_db->core(), transport.get(), std::move(co));
  }

  ~SyncWorld() {
    if (client) client->Close();
  }

  // One request to the service as the client's transport sends it.
  sync::SyncResponse Call(std::string method, std::string path, std::string body, uint64_t replica) {
    sync::SyncRequest r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.token = kSyncToken;
    if (replica != 0) r.replica = sync::Hex16(replica);
    r.body = std::move(body);
    return service->Handle(r);
  }

  // Registers `replica` and identifies "docs": the server's uid of it ("" when refused).
  std::string Identify(uint64_t replica) {
    sync::RegisterReplicaRequest reg{replica, "fuzz"};
    Call("POST", "/v1/replicas", sync::Encode(reg), 0);
    sync::PutCollectionRequest put;
    put.uid = sync::Id128Text(sync::Id128{0x0123456789abcdefull, 0x0fedcba987654321ull});
    put.config = boost::json::parse(R"({"vectors":{"size":3,"distance":"Euclid","index":"flat"}})");
    auto r = Call("PUT", "/v1/collections/by-name/docs", sync::Encode(put), replica);
    auto m = sync::DecodePutCollectionResponse(r.body);
    return r.status == 200 && m.ok() ? m->collection.uid : std::string();
  }

  // Runs one client round to its end.
  Status Round() {
    Status result = Status::Internal("the round did not finish");
    bool finished = false;
    client->Sync([&](Status s) {
      result = s;
      finished = true;
    });
    FUZZ_CHECK(finished);
    return result;
  }
};

}  // namespace quiver::fuzz

#endif  // QUIVER_TESTS_FUZZ_SYNC_WORLD_H_
