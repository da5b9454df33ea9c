// The simulation's world (world.h): the virtual network, the server and replicas with their storage and
// clocks, and the checks of SYNC.md's properties. world.cc runs the network and the steps, world_nodes.cc
// opens, crashes, backs up and restores the nodes, world_checks.cc holds the property checks.
#ifndef QUIVER_TESTS_SYNC_SIM_WORLD_INTERNAL_H_
#define QUIVER_TESTS_SYNC_SIM_WORLD_INTERNAL_H_

#include <boost/json.hpp>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <tuple>
#include <vector>

#include "base/random.h"
#include "db/collection_core.h"
#include "db/database_core.h"
#include "engine/sync/sim/oracle.h"
#include "payload/json_util.h"
#include "storage/fault_injection.h"
#include "storage/storage_memory.h"
#include "sync/client.h"
#include "sync/local_feed.h"
#include "sync/service.h"
#include "sync/wire.h"

#include "engine/sync/sim/world.h"

namespace quiver::sim::internal {

namespace json = boost::json;
using storage::FaultInjectionStorage;
using storage::MemoryStorage;

constexpr uint64_t kT0 = 1'700'000'000'000ull;
constexpr uint64_t kSecond = 1000, kMinute = 60 * kSecond, kHour = 60 * kMinute;
constexpr const char* kCollection = "docs";
constexpr uint64_t kMaxDriftMs = 60'000;

struct Rng {
  SplitMix64 r;
  explicit Rng(uint64_t seed) : r(seed) {}
  uint64_t operator()() { return r(); }
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : r() % n; }
  uint64_t Between(uint64_t lo, uint64_t hi) { return lo + Below(hi - lo + 1); }
  bool Chance(double p) { return r.NextDouble() < p; }
  template <typename T>
  const T& Pick(const std::vector<T>& v) { return v[Below(v.size())]; }
};

struct Profile {
  int replicas = 3;
  int steps = 150;
  uint32_t dim = 4;
  int ids = 16;
  int keys = 3;
  double drop = 0, dup = 0;
  uint64_t max_delay = 100;
  double client_crash = 0, server_crash = 0;
  bool faults = false;
  bool skew = false, clock_events = false;
  bool gc = false;
  uint64_t retention = 30ull * 24 * kHour;
  bool restores = false, epoch_resets = false;
  bool tiny_pages = false, tokens = false, long_poll = false, big_payloads = false;

  std::string Describe() const {
    std::ostringstream o;
    o << replicas << " replicas, " << steps << " steps, " << ids << " ids, drop " << drop << ", dup " << dup
      << ", delay <= " << max_delay << " ms, crashes " << client_crash << "/" << server_crash
      << (faults ? " (faults)" : "") << (skew ? ", skew" : "") << (clock_events ? ", clock jumps" : "")
      << (gc ? ", gc retention " + std::to_string(retention / kMinute) + " min" : "") << (restores ? ", restores" : "")
      << (epoch_resets ? ", epoch resets" : "") << (tiny_pages ? ", tiny pages" : "") << (tokens ? ", tokens" : "")
      << (long_poll ? ", long-poll" : "") << (big_payloads ? ", big payloads" : "");
    return o.str();
  }
};


Profile MakeProfile(Rng& rng);

struct ClockModel {
  int64_t offset = 0;
  double drift = 0;  // fraction: 0.001 runs 0.1% fast
  bool frozen = false;
  uint64_t frozen_at = 0;
  uint64_t Now(uint64_t true_ms) const {
    if (frozen) return frozen_at;
    const double elapsed = double(true_ms - kT0);
    const int64_t t = static_cast<int64_t>(true_ms) + offset + static_cast<int64_t>(elapsed * drift);
    return t < 0 ? 0 : static_cast<uint64_t>(t);
  }
};

class World;

class SimTransport final : public sync::Transport {
 public:
  SimTransport(World* w, int replica) : w_(w), replica_(replica) {}
  void Send(sync::SyncRequest request, std::function<void(Result<sync::SyncResponse>)> done) override;

 private:
  World* w_;
  int replica_;
};

struct Replica {
  int index = 0;
  uint64_t id = 0;
  std::unique_ptr<MemoryStorage> mem;
  std::unique_ptr<FaultInjectionStorage> fault;
  std::unique_ptr<db::DatabaseCore> db;
  std::unique_ptr<SimTransport> transport;
  std::unique_ptr<sync::SyncClient> client;
  std::shared_ptr<ClockModel> clock = std::make_shared<ClockModel>();
  bool online = true;
  uint64_t offline_until = 0;
  uint64_t next_round_at = 0;
  bool running = false;
  Status last_status;
  std::vector<db::Op> pending;
  uint64_t max_seen = 0;
  uint64_t token_gen = 0;
  sync::SyncStats stats_before;  // of clients destroyed by crashes
  std::unique_ptr<Rng> rng;
};

struct Server {
  std::unique_ptr<MemoryStorage> mem;
  std::unique_ptr<FaultInjectionStorage> fault;
  std::unique_ptr<db::DatabaseCore> db;
  std::unique_ptr<sync::FeedStore> store;
  std::unique_ptr<sync::SyncService> service;
  bool up = false;
  std::map<std::string, std::string> backup;
  uint64_t backup_seq = 0;
};

struct Call {
  std::function<void(Result<sync::SyncResponse>)> done;
  bool answered = false;
};

inline std::string Fail(const std::string& why) { return why; }

class World {
 public:
  World(uint64_t seed, bool verbose) : seed_(seed), verbose_(verbose), rng_(seed) {
    profile_ = MakeProfile(rng_);
    report_.profile = profile_.Describe();
  }

  RunReport Run();

  // --- Network ---
  void Schedule(uint64_t delay, std::function<void()> fn) { events_.emplace(now_ + delay, std::move(fn)); }

  uint64_t Delay() { return rng_.Between(1, profile_.max_delay); }

  void SendRequest(int ri, sync::SyncRequest request, std::function<void(Result<sync::SyncResponse>)> done);
  void Deliver(int ri, const sync::SyncRequest& request, std::shared_ptr<Call> call);
  // Registers the server merged from a push (whether or not they won): a replica's later rewrite must not
  // withdraw them from the oracle as if they had never left it.
  void NoteAccepted(const sync::SyncRequest& request, const sync::SyncResponse& resp);
  // Runs events up to true time `t` (advancing the clock), expiring long-polls as time passes.
  void RunUntil(uint64_t t);

  // --- Nodes ---
  Status OpenServer();
  void StopServer();
  std::string CrashServer();
  db::CollectionCore* ServerCollection();
  std::string ServerEpoch();
  void TakeBackup();
  // Every register the server holds, as (point, register, stamp); registers are "" (deleted/vectors), "\x01"
  // (payload reset) and "k" + key.
  std::set<std::tuple<PointId, std::string, Stamp>> ServerRegisters();
  std::string RestoreBackup();
  Status OpenReplica(Replica& r);
  uint64_t MaxStamp(Replica& r);
  void AddStats(Replica& r);
  // A crash of a replica at this instant (nothing more reaches its storage), then a restart.
  std::string CrashReplica(Replica& r);
  // P4: after a restart, every server register at or below the replica's cursor is in the replica's state (or
  // beaten by what it holds).
  std::string CheckCursorBehindData(Replica& r);
  uint64_t ServerHorizon();
  void CheckFaults();
  std::string HandlePendingCrashes();

  // --- Actions ---
  boost::json::value RandomValue(Rng& rng);

  std::string Key(Rng& rng) { return "k" + std::to_string(rng.Below(profile_.keys)); }

  std::string DoWrite(Replica& r);
  void StartRound(Replica& r);
  // Lets the replica's round in flight (if any) run to its end.
  std::string FinishRound(int ri);
  // Runs a whole round of one replica (retrying failed ones), processing the network meanwhile.
  std::string RunRound(int ri, int retries);
  std::string Step(int step);
  std::string Converge();
  std::string FinalChecks();
  std::map<PointId, std::string> Fingerprint(db::CollectionCore& core, uint64_t horizon);
  std::string Visible(db::CollectionCore& core);

  uint64_t seed_;
  bool verbose_;
  Rng rng_;
  Profile profile_;
  RunReport report_;
  uint64_t now_ = kT0;
  std::multimap<uint64_t, std::function<void()>> events_;
  Server server_;
  std::vector<std::unique_ptr<Replica>> replicas_;
  std::vector<uint64_t> valid_gen_;
  Oracle oracle_;
  double drop_ = 0, dup_ = 0;
  int serve_only_ = -1;
  std::set<std::string> restored_epochs_;  // epochs a restore without the runbook continued
  std::set<std::tuple<PointId, std::string, Stamp>> accepted_;  // registers a push merged into the server
  std::string failure_;
  bool in_crash_ = false;
  std::vector<int> pending_crash_;
};

}  // namespace quiver::sim::internal

#endif  // QUIVER_TESTS_SYNC_SIM_WORLD_INTERNAL_H_
