#include "engine/sync/sim/world.h"

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

namespace quiver::sim {
namespace {

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

Profile MakeProfile(Rng& rng) {
  Profile p;
  p.replicas = static_cast<int>(rng.Between(3, 8));
  p.steps = static_cast<int>(rng.Between(100, 260));
  p.ids = static_cast<int>(rng.Between(6, 28));
  p.keys = static_cast<int>(rng.Between(2, 5));
  p.drop = rng.Pick(std::vector<double>{0, 0.03, 0.15});
  p.dup = rng.Pick(std::vector<double>{0, 0.1, 0.3});
  p.max_delay = rng.Pick(std::vector<uint64_t>{20, 400, 3000});
  p.client_crash = rng.Pick(std::vector<double>{0, 0.01, 0.03});
  p.server_crash = rng.Pick(std::vector<double>{0, 0.004, 0.015});
  p.faults = rng.Chance(0.5);
  p.skew = rng.Chance(0.3);
  p.clock_events = rng.Chance(0.3);
  p.gc = rng.Chance(0.25);
  if (p.gc) p.retention = rng.Between(10, 40) * kMinute;
  p.restores = rng.Chance(0.2);
  p.epoch_resets = rng.Chance(0.2);
  p.tiny_pages = rng.Chance(0.25);
  p.tokens = rng.Chance(0.3);
  p.long_poll = rng.Chance(0.25);
  p.big_payloads = rng.Chance(0.1);
  return p;
}

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

std::string Fail(const std::string& why) { return why; }

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

  void SendRequest(int ri, sync::SyncRequest request, std::function<void(Result<sync::SyncResponse>)> done) {
    ++report_.messages;
    Replica& r = *replicas_[ri];
    auto call = std::make_shared<Call>();
    call->done = std::move(done);
    uint64_t wait = 0;
    for (const auto& [k, v] : request.query) {
      if (k == "wait_ms") wait = std::stoull(v);
    }
    Schedule(wait + 20 * kSecond, [call] {
      if (call->answered) return;
      call->answered = true;
      call->done(Status::IOError("timed out"));
    });
    if (!r.online || rng_.Chance(drop_)) {
      ++report_.dropped;
      return;
    }
    int copies = 1;
    if (rng_.Chance(dup_)) {
      copies += static_cast<int>(rng_.Between(1, 2));
      ++report_.duplicated;
    }
    auto shared = std::make_shared<sync::SyncRequest>(std::move(request));
    for (int i = 0; i < copies; ++i) {
      Schedule(Delay() + (i ? rng_.Below(5 * kSecond) : 0), [this, ri, shared, call] { Deliver(ri, *shared, call); });
    }
  }

  void Deliver(int ri, const sync::SyncRequest& request, std::shared_ptr<Call> call) {
    if (!server_.up) return;
    if (serve_only_ >= 0 && serve_only_ != ri) return;
    if (const char* trace = std::getenv("QUIVER_SYNC_TRACE")) {
      fprintf(stderr, "[%llu] r%d -> %s %s push_cursor=%s %s\n", (unsigned long long)now_, ri, request.method.c_str(),
              request.path.c_str(), request.push_cursor.c_str(), request.body.substr(0, std::atoi(trace)).c_str());
      for (const auto& [k, v] : request.query) fprintf(stderr, "    %s=%s\n", k.c_str(), v.c_str());
    }
    server_.service->HandleAsync(request, [this, ri, call, request](sync::SyncResponse resp) {
      if (resp.status == 200 && request.method == "POST" && request.path.ends_with("/push"))
        NoteAccepted(request, resp);
      if (const char* trace = std::getenv("QUIVER_SYNC_TRACE")) {
        fprintf(stderr, "[%llu] r%d <- %d %s\n", (unsigned long long)now_, ri, resp.status,
                resp.body.substr(0, std::atoi(trace)).c_str());
      }
      if (!replicas_[ri]->online || rng_.Chance(drop_)) {
        ++report_.dropped;
        return;
      }
      Schedule(Delay(), [call, resp = std::move(resp)] {
        if (call->answered) return;
        call->answered = true;
        call->done(resp);
      });
    });
  }

  // Registers the server merged from a push (whether or not they won): a replica's later rewrite must not
  // withdraw them from the oracle as if they had never left it.
  void NoteAccepted(const sync::SyncRequest& request, const sync::SyncResponse& resp) {
    auto push = sync::DecodePushRequest(request.body);
    auto answer = sync::DecodePushResponse(resp.body);
    if (!push.ok() || !answer.ok()) return;
    std::set<PointId> rejected;
    for (const sync::Rejection& r : answer->rejected) rejected.insert(r.id);
    for (const PointDelta& d : push->points) {
      if (rejected.count(d.id)) continue;
      if (d.del) accepted_.emplace(d.id, "", *d.del);
      if (d.vec) accepted_.emplace(d.id, "", d.vec->ts);
      if (d.reset) accepted_.emplace(d.id, "\x01", *d.reset);
      for (const sync::FieldRegister& f : d.fields) accepted_.emplace(d.id, "k" + f.key, f.ts);
    }
  }

  // Runs events up to true time `t` (advancing the clock), expiring long-polls as time passes.
  void RunUntil(uint64_t t) {
    while (!events_.empty() && events_.begin()->first <= t) {
      auto it = events_.begin();
      now_ = std::max(now_, it->first);
      auto fn = std::move(it->second);
      events_.erase(it);
      fn();
      if (server_.up) server_.service->ExpireWaits();
      if (const char* w = std::getenv("QUIVER_SYNC_WATCH"); w && ServerCollection()) {
        std::string now_state = "<none>";
        ServerCollection()->VisitPoint(
            PointId::Number(std::atoi(w)), [&](const db::PointState& st, const db::Segment&) {
              now_state = (st.deleted ? "deleted " : "alive ") + sync::StampText(st.alive);
            });
        static std::string last_o;
        std::string o = oracle_.Dump(PointId::Number(std::atoi(w)));
        if (o != last_o) fprintf(stderr, "[%llu] WATCH oracle point %s: %s\n", (unsigned long long)now_, w, o.c_str());
        last_o = o;
        static std::string last;
        if (now_state != last)
          fprintf(stderr, "[%llu] WATCH server point %s: %s\n", (unsigned long long)now_, w,
                  now_state.c_str());
        last = now_state;
        if (const char* wr = std::getenv("QUIVER_SYNC_WATCH_R")) {
          Replica& rr = *replicas_[std::atoi(wr)];
          std::string rs = "<none>";
          if (rr.db) {
            if (auto rc = rr.db->GetCollection(kCollection); rc.ok()) {
              (*rc)->core().VisitPoint(
                  PointId::Number(std::atoi(w)), [&](const db::PointState& st, const db::Segment&) {
                    rs = (st.deleted ? "deleted " : "alive ") + sync::StampText(st.alive);
                  });
              auto since = (*rc)->core().FeedMeta("sync.since");
              rs += " since " + (since ? boost::json::serialize(*since) : std::string("-"));
            }
          }
          static std::string last_r;
          if (rs != last_r)
            fprintf(stderr, "[%llu] WATCH r%s point %s: %s\n", (unsigned long long)now_, wr, w, rs.c_str());
          last_r = rs;
        }
      }
      CheckFaults();
    }
    now_ = std::max(now_, t);
    if (server_.up) server_.service->ExpireWaits();
  }

  // --- Nodes ---
  Status OpenServer() {
    DatabaseOptions o;
    o.replica_id = 0xFEED;
    o.wall_clock_ms = [this] { return now_; };
    o.durability = Durability::kSync;
    o.segment_points = 25;
    o.tombstone_retention_ms = profile_.retention;
    auto db = db::DatabaseCore::OpenStorage(o, server_.fault.get());
    if (!db.ok()) return db.status().WithContext("server open");
    server_.db = std::move(*db);
    server_.store = sync::NewLocalFeedStore(server_.db.get());
    sync::SyncServiceOptions so;
    so.retention_ms = profile_.retention;
    so.max_drift_ms = kMaxDriftMs;
    if (profile_.tiny_pages) so.max_push_bytes = 12000;  // above any one point the workload makes
    auto srng = std::make_shared<Rng>(rng_());
    so.random = [srng] { return (*srng)(); };
    so.authenticate = [this](const sync::SyncRequest& req) -> Result<std::string> {
      // Tokens are "r<index>:<generation>"; a replica's older generations expire.
      const size_t colon = req.token.find(':');
      if (req.token.size() < 3 || req.token[0] != 'r' || colon == std::string::npos) {
        return Status::InvalidArgument("bad token");
      }
      const int ri = std::stoi(req.token.substr(1, colon - 1));
      const uint64_t gen = std::stoull(req.token.substr(colon + 1));
      if (ri < 0 || ri >= int(replicas_.size()) || gen != valid_gen_[ri]) return Status::InvalidArgument("expired token");
      return "user" + std::to_string(ri % 2);
    };
    server_.service = std::make_unique<sync::SyncService>(server_.store.get(), so);
    server_.up = true;
    return Status::OK();
  }

  void StopServer() {
    server_.up = false;
    server_.fault->FailAt(1, true);  // a crash: nothing more reaches the storage
    server_.service.reset();
    server_.store.reset();
    server_.db.reset();
    server_.fault->Disarm();
  }

  std::string CrashServer() {
    ++report_.server_crashes;
    if (std::getenv("QUIVER_SYNC_TRACE")) fprintf(stderr, "[%llu] server crash\n", (unsigned long long)now_);
    StopServer();
    server_.mem->SimulateCrash(rng_() | 1);
    Status s = OpenServer();
    if (std::getenv("QUIVER_SYNC_TRACE") && ServerCollection()) {
      fprintf(stderr, "[%llu] server restarted at seq %llu\n", (unsigned long long)now_,
              (unsigned long long)ServerCollection()->feed_info().last_seq);
    }
    return s.ok() ? "" : "server reopen after a crash: " + s.ToString();
  }

  db::CollectionCore* ServerCollection() {
    if (!server_.up) return nullptr;
    auto c = server_.db->GetCollection(kCollection);
    return c.ok() ? &(*c)->core() : nullptr;
  }

  std::string ServerEpoch() {
    db::CollectionCore* c = ServerCollection();
    if (!c) return "";
    auto v = c->FeedMeta("sync.epoch");
    return v && v->is_string() ? std::string(v->get_string()) : "";
  }

  void TakeBackup() {
    if (std::getenv("QUIVER_SYNC_TRACE")) fprintf(stderr, "[%llu] server backup\n", (unsigned long long)now_);
    server_.backup.clear();
    auto names = server_.mem->List();
    for (const std::string& n : *names) {
      auto bytes = server_.mem->ReadFile(n);
      if (bytes.ok()) server_.backup[n] = *bytes;
    }
    db::CollectionCore* c = ServerCollection();
    server_.backup_seq = c ? c->feed_info().last_seq : 0;
  }

  // Every register the server holds, as (point, register, stamp); registers are "" (deleted/vectors), "\x01"
  // (payload reset) and "k" + key.
  std::set<std::tuple<PointId, std::string, Stamp>> ServerRegisters() {
    std::set<std::tuple<PointId, std::string, Stamp>> out;
    db::CollectionCore* c = ServerCollection();
    if (!c) return out;
    c->VisitPoints([&](const db::PointState& st, const db::Segment&) {
      if (!st.alive.zero()) out.emplace(st.id, "", st.alive);
      if (!st.payload_reset.zero()) out.emplace(st.id, "\x01", st.payload_reset);
      for (const db::KeyStamp& ks : st.key_stamps) out.emplace(st.id, "k" + ks.key, ks.stamp);
    });
    return out;
  }

  std::string RestoreBackup() {
    if (server_.backup.empty()) return "";
    ++report_.restores;
    if (std::getenv("QUIVER_SYNC_TRACE")) {
      fprintf(stderr, "[%llu] server restored from the backup at seq %llu\n", (unsigned long long)now_,
              (unsigned long long)server_.backup_seq);
    }
    const auto held_before = ServerRegisters();
    StopServer();
    server_.mem = std::make_unique<MemoryStorage>();
    for (const auto& [name, bytes] : server_.backup) {
      auto f = server_.mem->Create(name);
      if (!f.ok()) return "restore: " + f.status().ToString();
      (void)(*f)->Append(bytes);
      (void)(*f)->Sync();
      (void)(*f)->Close();
    }
    (void)server_.mem->SyncDir();
    server_.fault = std::make_unique<FaultInjectionStorage>(server_.mem.get());
    Status s = OpenServer();
    if (!s.ok()) return "server reopen after a restore: " + s.ToString();
    // What the restore lost no longer counts as merged: it comes back only if its author pushes it again.
    const auto held_after = ServerRegisters();
    for (const auto& reg : held_before) {
      if (!held_after.count(reg)) accepted_.erase(reg);
    }
    if (rng_.Chance(0.5) || !ServerCollection()) {
      // The runbook: a restored server gets a new epoch.
      if (ServerCollection()) {
        Status r = server_.service->ResetEpoch(kCollection);
        if (!r.ok()) return "reset epoch: " + r.ToString();
      }
      return "";
    }
    // Without the runbook: the most advanced replica talks to the server first; if it is ahead of the
    // restored state, the server must notice (regression detection) and move to a new epoch. Until it does,
    // the epoch's seqs may be handed out again for other changes, so cursors in it no longer say what a
    // replica holds (P4 skips it; the digest catches what slips through).
    restored_epochs_.insert(ServerEpoch());
    int best = -1;
    uint64_t best_cursor = 0;
    for (auto& r : replicas_) {
      auto c = r->db->GetCollection(kCollection);
      if (!c.ok()) continue;
      auto v = (*c)->core().FeedMeta("sync.cursor");
      const uint64_t cursor = v && v->is_uint64() ? v->get_uint64() : v && v->is_int64() ? uint64_t(v->get_int64()) : 0;
      if (best < 0 || cursor > best_cursor) {
        best = r->index;
        best_cursor = cursor;
      }
    }
    if (best < 0) return "";
    Replica& r = *replicas_[best];
    const std::string epoch_before = ServerEpoch();
    serve_only_ = best;
    const bool was_online = r.online;
    r.online = true;
    // A round still in flight may move the replica to another epoch (a snapshot it was fetching) or present
    // its cursor already: what counts is the state it is in when the probe round starts.
    if (std::string f = FinishRound(best); !f.empty()) return f;
    if (ServerEpoch() != epoch_before) {
      serve_only_ = -1;
      r.online = was_online;
      ++report_.regressions_detected;
      return "";
    }
    auto c = r.db->GetCollection(kCollection);
    if (!c.ok()) {
      serve_only_ = -1;
      r.online = was_online;
      return "";
    }
    auto cursor_meta = (*c)->core().FeedMeta("sync.cursor");
    best_cursor = cursor_meta && cursor_meta->is_uint64()  ? cursor_meta->get_uint64()
                  : cursor_meta && cursor_meta->is_int64() ? uint64_t(cursor_meta->get_int64())
                                                           : 0;
    auto client_epoch = (*c)->core().FeedMeta("sync.epoch");
    const bool same_epoch = client_epoch && client_epoch->is_string() && client_epoch->get_string() == epoch_before;
    // Late copies of pushes made before the restore may have landed meanwhile and moved the feed on.
    const uint64_t head = ServerCollection() ? ServerCollection()->feed_info().last_seq : 0;
    const bool ahead = same_epoch && best_cursor > head;
    if (std::getenv("QUIVER_SYNC_TRACE")) {
      fprintf(stderr,
              "[%llu] restore without the runbook: probe replica %d (cursor %llu, restored feed %llu, now "
              "%llu)\n",
              (unsigned long long)now_, best, (unsigned long long)best_cursor,
              (unsigned long long)server_.backup_seq, (unsigned long long)head);
    }
    // The probe must reach the server (four dropped requests in a row would prove nothing).
    const double drop = drop_;
    drop_ = 0;
    const std::string f = RunRound(best, /*retries=*/3);
    drop_ = drop;
    serve_only_ = -1;
    r.online = was_online;
    if (!f.empty()) return f;
    if (ahead && ServerEpoch() == epoch_before) {
      // Late copies of requests sent before the restore may refill the feed up to the cursor during the probe
      // round, and then nothing tells the server it lost anything (the digest and P2 still judge the state).
      db::CollectionCore* c = ServerCollection();
      const uint64_t refilled = c ? c->feed_info().last_seq : 0;
      if (refilled < best_cursor) {
        return "regression not detected: replica " + std::to_string(best) + " at cursor " +
               std::to_string(best_cursor) + " against a restored feed at " + std::to_string(head);
      }
      return "";
    }
    if (ahead) ++report_.regressions_detected;
    return "";
  }

  Status OpenReplica(Replica& r) {
    DatabaseOptions o;
    o.replica_id = r.id;
    auto clock = r.clock;
    o.wall_clock_ms = [this, clock] { return clock->Now(now_); };
    o.durability = Durability::kSync;
    o.segment_points = 25;
    o.tombstone_retention_ms = profile_.retention;
    auto db = db::DatabaseCore::OpenStorage(o, r.fault.get());
    if (!db.ok()) return db.status().WithContext("replica open");
    r.db = std::move(*db);
    if (!r.db->CollectionExists(kCollection)) {
      CollectionConfig c;
      c.vectors[""] = VectorParams{profile_.dim, Distance::kEuclid, IndexKind::kHnsw, std::nullopt, std::nullopt};
      c.sparse_vectors["s"] = SparseVectorParams{};
      c.hnsw.m = 4;
      c.hnsw.ef_construct = 16;
      QUIVER_RETURN_IF_ERROR(r.db->CreateCollection(kCollection, c));
    }
    auto col = *r.db->GetCollection(kCollection);
    Replica* rp = &r;
    col->core().SetOpListener([this, rp](std::span<const db::Op> ops) {
      for (const db::Op& op : ops) {
        if (op.stamp.hlc <= rp->max_seen && failure_.empty()) {
          failure_ = "P5: replica " + std::to_string(rp->index) + " stamped " + op.stamp.ToString() +
                     " after seeing " + std::to_string(rp->max_seen >> 16) + "." + std::to_string(rp->max_seen & 0xFFFF);
        }
        rp->pending.push_back(op);
        if (std::getenv("QUIVER_SYNC_TRACE")) {
          fprintf(stderr, "[%llu] r%d op %s %s %s\n", (unsigned long long)now_, rp->index,
                  std::string(db::OpKindName(op.kind)).c_str(), op.id.ToString().c_str(),
                  sync::StampText(op.stamp).c_str());
        }
      }
      return Status::OK();
    });
    sync::SyncClientOptions so;
    so.collections = {kCollection};
    so.client = "sim";
    so.max_drift_ms = kMaxDriftMs;
    auto crng = std::make_shared<Rng>((*r.rng)());
    so.random = [crng] { return (*crng)(); };
    so.monotonic_ms = [this] { return now_; };
    const int ri = r.index;
    so.get_token = [this, ri](bool refresh) -> Result<std::string> {
      (void)refresh;
      return "r" + std::to_string(ri) + ":" + std::to_string(valid_gen_[ri]);
    };
    so.on_conflict = [crng](const sync::Conflict&) {
      return (*crng)() % 2 ? sync::Resolution::kKeepServer : sync::Resolution::kReapplyLocal;
    };
    so.on_rewrite = [this, rp](const std::string&, const PointDelta& withdrawn, const PointDelta& written) {
      if (std::getenv("QUIVER_SYNC_TRACE")) {
        fprintf(stderr, "[%llu] r%d rewrite: withdrawn %s written %s\n", (unsigned long long)now_, rp->index,
                Canonical(withdrawn, 0).c_str(), Canonical(written, 0).c_str());
      }
      // A register the server merged once stays in the oracle: it lost to a newer one there (so it changes no
      // outcome), or a restore brought back the state it belongs to (FinalChecks settles what the horizon
      // kept from coming back).
      PointDelta never = withdrawn;
      auto merged = [&](const std::string& reg, const Stamp& s) { return accepted_.count({withdrawn.id, reg, s}) > 0; };
      if (never.del && merged("", *never.del)) never.del.reset();
      if (never.vec && merged("", never.vec->ts)) never.vec.reset();
      if (never.reset && merged("\x01", *never.reset)) never.reset.reset();
      std::erase_if(never.fields, [&](const sync::FieldRegister& f) { return merged("k" + f.key, f.ts); });
      oracle_.Withdraw(never);
      oracle_.Add(written);
      // The replica's earlier writes of the same registers that it had replaced before pushing them were never
      // sent: withdrawing the later write must not bring them back. What the replica holds now (the server's
      // register, kept) stays.
      auto c = rp->db->GetCollection(kCollection);
      std::map<std::string, Stamp> limit;
      if (withdrawn.del) limit[""] = *withdrawn.del;
      if (withdrawn.vec) limit[""] = withdrawn.vec->ts;
      if (withdrawn.reset) limit["\x01"] = *withdrawn.reset;
      for (const sync::FieldRegister& f : withdrawn.fields) limit["k" + f.key] = f.ts;
      std::map<std::string, Stamp> held;
      (*c)->core().VisitPoint(withdrawn.id, [&](const db::PointState& st, const db::Segment&) {
        held[""] = st.alive;
        held["\x01"] = st.payload_reset;
        for (const db::KeyStamp& ks : st.key_stamps) held["k" + ks.key] = ks.stamp;
      });
      oracle_.WithdrawIf([&](const PointId& id, const std::string& reg, const Stamp& s) {
        if (id != withdrawn.id || s.replica != rp->id) return false;
        if (accepted_.count({id, reg, s})) return false;  // it did leave: the server merged it
        auto it = limit.find(reg);
        // A reset the replica wrote also hid its older key writes.
        auto reset = limit.find("\x01");
        const bool by_reset = reg[0] == 'k' && reset != limit.end() && s < reset->second;
        if (!by_reset && (it == limit.end() || s > it->second)) return false;
        auto h = held.find(reg);
        return h == held.end() || h->second != s;
      });
    };
    so.on_clock_rewind = [this, rp](uint64_t floor) {
      auto c = rp->db->GetCollection(kCollection);
      oracle_.WithdrawAbove(rp->id, floor, [&](const PointId& id, const std::string& reg, const Stamp& s) {
        bool held = false;
        (*c)->core().VisitPoint(id, [&](const db::PointState& st, const db::Segment&) {
          if (reg.empty()) held = st.alive == s;
          else if (reg == "\x01") held = st.payload_reset == s;
          else {
            for (const db::KeyStamp& ks : st.key_stamps) held |= "k" + ks.key == reg && ks.stamp == s;
          }
        });
        return held;
      });
    };
    if (profile_.tiny_pages) {
      so.pull_limit = r.rng->Between(1, 3);
      so.pull_max_bytes = r.rng->Between(150, 900);
      so.max_push_bytes = r.rng->Between(300, 30000);  // some above the server's limit: 413, halved
    }
    if (profile_.long_poll) so.wait_ms = 2000;
    // Debugging: without the digest's safety net a divergence shows as a P2 failure instead of a resync.
    if (std::getenv("QUIVER_SYNC_NO_DIGEST")) so.check_digest = false;
    r.client = std::make_unique<sync::SyncClient>(r.db.get(), r.transport.get(), so);
    r.max_seen = MaxStamp(r);
    return Status::OK();
  }

  uint64_t MaxStamp(Replica& r) {
    uint64_t m = 0;
    auto c = r.db->GetCollection(kCollection);
    if (!c.ok()) return 0;
    (*c)->core().VisitPoints([&](const db::PointState& st, const db::Segment&) {
      m = std::max({m, st.alive.hlc, st.payload_reset.hlc});
      for (const db::KeyStamp& ks : st.key_stamps) m = std::max(m, ks.stamp.hlc);
    });
    return m;
  }

  void AddStats(Replica& r) {
    if (!r.client) return;
    const sync::SyncStats& s = r.client->stats();
    report_.rounds += s.rounds;
    report_.resyncs += s.resyncs;
    report_.rejections += s.rejected_points;
    report_.clock_repairs += s.clock_repairs;
    report_.digest_mismatches += s.digest_mismatches;
  }

  // A crash of a replica at this instant (nothing more reaches its storage), then a restart.
  std::string CrashReplica(Replica& r) {
    ++report_.client_crashes;
    if (std::getenv("QUIVER_SYNC_TRACE")) fprintf(stderr, "[%llu] r%d crash\n", (unsigned long long)now_, r.index);
    AddStats(r);
    r.fault->FailAt(1, true);
    r.client.reset();
    r.db.reset();
    r.running = false;
    r.mem->SimulateCrash(rng_() | 1);
    r.fault->Disarm();
    Status s = OpenReplica(r);
    if (!s.ok()) return "replica " + std::to_string(r.index) + " reopen: " + s.ToString();
    return CheckCursorBehindData(r);
  }

  // P4: after a restart, every server register at or below the replica's cursor is in the replica's state (or
  // beaten by what it holds).
  std::string CheckCursorBehindData(Replica& r) {
    db::CollectionCore* sc = ServerCollection();
    auto rc = r.db->GetCollection(kCollection);
    if (!sc || !rc.ok()) return "";
    db::CollectionCore& core = (*rc)->core();
    auto epoch = core.FeedMeta("sync.epoch");
    auto cursor_v = core.FeedMeta("sync.since");  // every register up to the catch-up's start has arrived
    if (!epoch || !cursor_v || !epoch->is_string() || epoch->get_string() != ServerEpoch()) return "";
    if (restored_epochs_.count(std::string(epoch->get_string()))) return "";
    const uint64_t cursor = cursor_v->is_uint64() ? cursor_v->get_uint64() : uint64_t(cursor_v->get_int64());
    const uint64_t horizon = ServerHorizon();
    // Build a scratch collection holding the replica's state, then merge the server's registers at or below the
    // cursor: nothing may change.
    DatabaseOptions o;
    o.replica_id = 0xABC;
    auto scratch = db::DatabaseCore::Open(o);
    if (!scratch.ok() || !(*scratch)->CreateCollection("x", core.config()).ok()) return "scratch";
    db::CollectionCore& x = (*(*scratch)->GetCollection("x"))->core();
    db::FeedWrite mine;
    const auto& spaces = core.spaces();
    core.VisitPoints([&](const db::PointState& st, const db::Segment& seg) {
      auto ops = sync::DeltaToOps(sync::FullDelta(st, seg, spaces));
      if (ops.ok()) for (db::Op& op : *ops) mine.ops.push_back(std::move(op));
    });
    if (!x.CommitFeedWrite(std::move(mine)).ok()) return "scratch write";
    db::FeedWrite theirs;
    sync::RegisterFilter f;
    f.include = [&](uint64_t seq, const Stamp& s) { return seq <= cursor && s.hlc >= 0; };
    sc->VisitPoints([&](const db::PointState& st, const db::Segment& seg) {
      PointDelta d = sync::DeltaFromState(st, seg, sc->spaces(), f);
      if (st.deleted) {
        // Registers of a deleted point below the horizon may have been purged on the replica.
        if (d.del && d.del->hlc < horizon) d.del.reset();
        if (d.reset && d.reset->hlc < horizon) d.reset.reset();
        std::erase_if(d.fields, [&](const sync::FieldRegister& fr) { return fr.ts.hlc < horizon; });
      }
      auto ops = sync::DeltaToOps(d);
      if (ops.ok()) for (db::Op& op : *ops) theirs.ops.push_back(std::move(op));
      if (std::getenv("QUIVER_SYNC_TRACE") && !d.empty()) {
        std::string mine_text = "<none>";
        core.VisitPoint(st.id, [&](const db::PointState& ms, const db::Segment& mseg) {
          mine_text = Canonical(sync::FullDelta(ms, mseg, spaces), 0);
        });
        fprintf(stderr, "P4 server<=cursor %s\n   replica %s\n", Canonical(d, 0).c_str(), mine_text.c_str());
      }
    });
    auto changed = x.CommitFeedWrite(std::move(theirs));
    if (!changed.ok()) return "scratch write";
    if (changed->changed_points != 0) {
      return "P4: replica " + std::to_string(r.index) + " restarted with cursor " + std::to_string(cursor) +
             " but misses " + std::to_string(changed->changed_points) + " server changes at or below it";
    }
    return "";
  }

  uint64_t ServerHorizon() {
    db::CollectionCore* c = ServerCollection();
    const uint64_t by_time = now_ > profile_.retention ? db::MakeHlc(now_ - profile_.retention, 0) : 0;
    if (!c) return by_time;
    auto v = c->FeedMeta("sync.horizon");
    const uint64_t stored = v && v->is_string() ? sync::ParseHex16(v->get_string()).value_or(0) : 0;
    return std::max(by_time, stored);
  }

  void CheckFaults() {
    for (auto& r : replicas_) {
      if (r->fault && r->fault->failed() && !in_crash_) {
        in_crash_ = true;
        pending_crash_.push_back(r->index);
        in_crash_ = false;
      }
    }
  }

  std::string HandlePendingCrashes() {
    while (!pending_crash_.empty()) {
      const int ri = pending_crash_.back();
      pending_crash_.pop_back();
      if (!replicas_[ri]->fault->failed()) continue;
      std::string f = CrashReplica(*replicas_[ri]);
      if (!f.empty()) return f;
    }
    if (server_.fault->failed()) return CrashServer();
    return "";
  }

  // --- Actions ---
  boost::json::value RandomValue(Rng& rng) {
    switch (rng.Below(5)) {
      case 0:
        return json::value(static_cast<int64_t>(rng.Below(100)));
      case 1:
        return json::value("s" + std::to_string(rng.Below(50)));
      case 2:
        return json::value(rng.Chance(0.5));
      case 3:
        return json::array{static_cast<int64_t>(rng.Below(5)), "x"};
      default:
        if (profile_.big_payloads && rng.Chance(0.5)) return json::value(std::string(rng.Between(300, 3000), 'z'));
        return json::object{{"n", static_cast<int64_t>(rng.Below(9))}};
    }
  }

  std::string Key(Rng& rng) { return "k" + std::to_string(rng.Below(profile_.keys)); }

  std::string DoWrite(Replica& r) {
    Rng& rng = *r.rng;
    auto c = r.db->GetCollection(kCollection);
    if (!c.ok()) return "";
    Collection& col = **c;
    r.max_seen = MaxStamp(r);
    r.pending.clear();
    std::vector<PointId> ids;
    const int n = static_cast<int>(rng.Between(1, 3));
    for (int i = 0; i < n; ++i) ids.push_back(PointId::Number(rng.Below(profile_.ids)));
    Status s;
    const uint64_t kind = rng.Below(10);
    if (kind < 4) {
      std::vector<PointInput> points;
      for (const PointId& id : ids) {
        PointInput p;
        p.id = id;
        std::vector<float> v(profile_.dim);
        for (float& x : v) x = float(rng.Below(20000)) / 100.0f - 100.0f;
        p.vectors[""] = v;
        if (rng.Chance(0.5)) {
          // A sparse vector: part of the same vectors register.
          std::map<uint32_t, float> entries;  // unique indices, given in any order
          for (int k = 0; k < int(rng.Between(1, 4)); ++k) {
            entries[uint32_t(rng.Below(50))] = float(rng.Below(200)) / 10.0f - 10.0f;
          }
          SparseVector sv;
          for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
            sv.indices.push_back(it->first);
            sv.values.push_back(it->second);
          }
          p.sparse_vectors["s"] = std::move(sv);
        }
        json::object payload;
        for (int k = 0; k < int(rng.Below(3)); ++k) payload[Key(rng)] = RandomValue(rng);
        p.payload = json::serialize(payload);
        points.push_back(std::move(p));
      }
      s = col.Upsert(points);
    } else if (kind < 6) {
      s = col.Delete(PointsSelector::Ids(ids)).status();
    } else if (kind < 8) {
      json::object payload;
      payload[Key(rng)] = RandomValue(rng);
      if (rng.Chance(0.3)) payload[Key(rng)] = RandomValue(rng);
      s = col.SetPayload(PointsSelector::Ids(ids), json::serialize(payload)).status();
    } else if (kind == 8) {
      if (rng.Chance(0.5)) {
        s = col.DeletePayloadKeys(PointsSelector::Ids(ids), {Key(rng)}).status();
      } else {
        json::object payload;
        payload[Key(rng)] = RandomValue(rng);
        s = col.OverwritePayload(PointsSelector::Ids(ids), json::serialize(payload)).status();
      }
    } else {
      s = col.ClearPayload(PointsSelector::Ids(ids)).status();
    }
    std::vector<db::Op> ops = std::move(r.pending);
    r.pending.clear();
    if (std::getenv("QUIVER_SYNC_TRACE")) {
      fprintf(stderr, "[%llu] r%d write: %s\n", (unsigned long long)now_, r.index, s.ToString().c_str());
    }
    if (s.ok()) {
      for (const db::Op& op : ops) oracle_.AddOp(op);
      report_.ops += ops.size();
      return "";
    }
    if (!r.fault->failed()) return "";  // NotFound for a point that does not exist: nothing written
    // The storage failed mid-write: the replica crashes. An op counts if it survived (its stamp is in the state).
    std::string f = CrashReplica(r);
    if (!f.empty()) return f;
    auto rc = r.db->GetCollection(kCollection);
    for (const db::Op& op : ops) {
      bool survived = false;
      (*rc)->core().VisitPoint(op.id, [&](const db::PointState& st, const db::Segment&) {
        survived = st.alive == op.stamp || st.payload_reset == op.stamp;
        for (const db::KeyStamp& ks : st.key_stamps) survived |= ks.stamp == op.stamp;
      });
      if (survived) {
        oracle_.AddOp(op);
        ++report_.ops;
      }
    }
    return "";
  }

  void StartRound(Replica& r) {
    if (!r.client || r.running) return;
    r.running = true;
    Replica* rp = &r;
    sync::SyncClient* client = r.client.get();
    r.client->Sync([this, rp, client](Status s) {
      if (rp->client.get() != client) return;
      rp->running = false;
      rp->last_status = s;
      rp->next_round_at = now_ + client->RetryDelayMs();
    });
  }

  // Runs a whole round of one replica (retrying failed ones), processing the network meanwhile.
  // Lets the replica's round in flight (if any) run to its end.
  std::string FinishRound(int ri) {
    Replica& r = *replicas_[ri];
    uint64_t guard = 0;
    while (r.running && ++guard < 100000) {
      if (events_.empty()) {
        RunUntil(now_ + kSecond);
      } else {
        RunUntil(events_.begin()->first);
      }
      std::string f = HandlePendingCrashes();
      if (!f.empty()) return f;
      if (!failure_.empty()) return failure_;
    }
    if (r.running) return "P9: a round of replica " + std::to_string(ri) + " never ended";
    return "";
  }

  std::string RunRound(int ri, int retries) {
    Replica& r = *replicas_[ri];
    for (int attempt = 0; attempt <= retries; ++attempt) {
      std::string f = FinishRound(ri);
      if (!f.empty()) return f;
      StartRound(r);
      f = FinishRound(ri);
      if (!f.empty()) return f;
      if (r.last_status.ok()) return "";
      if (verbose_) fprintf(stderr, "  replica %d round failed: %s\n", ri, r.last_status.ToString().c_str());
      RunUntil(now_ + std::max<uint64_t>(r.client->RetryDelayMs(), 10));
    }
    return "";
  }

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

void SimTransport::Send(sync::SyncRequest request, std::function<void(Result<sync::SyncResponse>)> done) {
  w_->SendRequest(replica_, std::move(request), std::move(done));
}

std::string World::Step(int step) {
  (void)step;
  // Time moves on.
  uint64_t advance = rng_.Between(10, 2500);
  if (profile_.gc && rng_.Chance(0.05)) advance += profile_.retention / 4;
  RunUntil(now_ + advance);
  if (std::string f = HandlePendingCrashes(); !f.empty()) return f;
  if (!failure_.empty()) return failure_;
  for (auto& r : replicas_) {
    if (!r->online && now_ >= r->offline_until) r->online = true;
  }
  const uint64_t action = rng_.Below(100);
  Replica& r = *replicas_[rng_.Below(replicas_.size())];
  if (action < 38) {
    if (profile_.faults && rng_.Chance(profile_.client_crash * 3)) r.fault->FailAt(rng_.Between(1, 12), true);
    return DoWrite(r);
  }
  if (action < 70) {
    if (now_ >= r.next_round_at) {
      if (profile_.faults && rng_.Chance(profile_.client_crash * 3)) r.fault->FailAt(rng_.Between(1, 30), true);
      StartRound(r);
    }
    return "";
  }
  if (action < 74) {
    if (rng_.Chance(profile_.client_crash * 25)) return CrashReplica(r);
    return "";
  }
  if (action < 77) {
    if (rng_.Chance(profile_.server_crash * 25)) {
      if (profile_.faults && rng_.Chance(0.5)) {
        server_.fault->FailAt(rng_.Between(1, 10), true);
        return "";  // fails during a later request; handled as a crash then
      }
      return CrashServer();
    }
    return "";
  }
  if (action < 80) {
    // A partition: the replica is unreachable for a while (in GC runs, sometimes longer than the retention).
    if (rng_.Chance(0.5)) {
      r.online = false;
      uint64_t span = rng_.Between(5, 120) * kSecond;
      if (profile_.gc && rng_.Chance(0.3)) span = profile_.retention + rng_.Below(profile_.retention);
      r.offline_until = now_ + span;
    }
    return "";
  }
  if (action < 84) {
    if (profile_.clock_events) {
      switch (rng_.Below(4)) {
        case 0:
          r.clock->offset -= static_cast<int64_t>(rng_.Between(1, 30) * kMinute);  // jumps back
          break;
        case 1:
          r.clock->frozen_at = r.clock->Now(now_);
          r.clock->frozen = !r.clock->frozen;
          break;
        case 2:
          r.clock->drift = (double(rng_.Below(2001)) - 1000.0) / 100000.0;  // up to 1% fast or slow
          break;
        default:
          r.clock->offset += static_cast<int64_t>(rng_.Between(1, 10) * kMinute);
          break;
      }
    }
    return "";
  }
  if (action < 87) {
    if (profile_.gc && server_.up) {
      ++report_.gc_runs;
      Status s = server_.service->CollectGarbage();
      if (!s.ok() && !server_.fault->failed()) return "server GC: " + s.ToString();
      if (server_.fault->failed()) return CrashServer();
    }
    return "";
  }
  if (action < 90) {
    if (profile_.restores && server_.up) {
      if (server_.backup.empty() || rng_.Chance(0.5)) {
        TakeBackup();
      } else {
        return RestoreBackup();
      }
    }
    return "";
  }
  if (action < 92) {
    if (profile_.epoch_resets && server_.up && ServerCollection()) {
      ++report_.epoch_resets;
      Status s = server_.service->ResetEpoch(kCollection);
      if (!s.ok() && !server_.fault->failed()) return "reset epoch: " + s.ToString();
    }
    return "";
  }
  if (action < 94) {
    if (profile_.tokens) ++valid_gen_[r.index];  // the replica's token expires
    return "";
  }
  return "";
}

std::map<PointId, std::string> World::Fingerprint(db::CollectionCore& core, uint64_t horizon) {
  std::map<PointId, std::string> out;
  const auto& spaces = core.spaces();
  core.VisitPoints([&](const db::PointState& st, const db::Segment& seg) {
    std::string c = Canonical(sync::FullDelta(st, seg, spaces), horizon);
    if (!c.empty()) out[st.id] = std::move(c);
  });
  return out;
}

std::string World::Visible(db::CollectionCore& core) {
  std::string out;
  ScrollRequest sr;
  sr.limit = 100000;
  sr.with_payload = PayloadSelector::All();
  sr.with_vector = VectorSelector::All();
  auto scroll = core.Scroll(sr);
  if (!scroll.ok()) return "scroll failed: " + scroll.status().ToString();
  for (const Record& rec : scroll->points) {
    out += rec.id.ToString() + " ";
    auto parsed = payload::ParsePayloadText(rec.payload.value_or("{}"));
    out += parsed.ok() ? payload::CanonicalJson(json::value(*parsed)) : "?";
    for (const auto& [name, v] : rec.vectors) out += " " + sync::FloatsToBase64(v);
    for (const auto& [name, v] : rec.sparse_vectors) {
      out += " " + name + "~" + sync::U32sToBase64(v.indices) + ":" + sync::FloatsToBase64(v.values);
    }
    out += "\n";
  }
  for (int q = 0; q < 3; ++q) {
    SearchRequest req;
    req.vector.assign(profile_.dim, float(q * 40 - 40));
    req.limit = 5;
    req.exact = true;
    auto hits = core.Search(req);
    if (!hits.ok()) return "search failed: " + hits.status().ToString();
    out += "q" + std::to_string(q) + ":";
    for (const ScoredPoint& h : *hits) out += " " + h.id.ToString() + "@" + std::to_string(h.score);
    out += "\n";
  }
  return out;
}

std::string World::Converge() {
  drop_ = 0;
  dup_ = 0;
  serve_only_ = -1;
  // A node whose storage failed is stuck read-only until it restarts: restart it (a crash) before healing.
  for (auto& r : replicas_) {
    r->online = true;
    r->clock->frozen = false;
    const bool failed = r->fault->failed();
    r->fault->Disarm();
    if (failed) {
      if (std::string f = CrashReplica(*r); !f.empty()) return f;
    }
  }
  const bool server_failed = server_.fault->failed();
  server_.fault->Disarm();
  if (!server_.up || server_failed) {
    if (std::string f = CrashServer(); !f.empty()) return f;
  }
  std::map<int, std::string> last;
  for (int pass = 0; pass < 40; ++pass) {
    ++report_.converge_passes;
    bool changed = false;
    for (auto& r : replicas_) {
      if (std::string f = RunRound(r->index, 5); !f.empty()) return f;
      if (!r->last_status.ok()) {
        changed = true;
        continue;
      }
    }
    // Stable when a whole pass changed no state anywhere.
    std::map<int, std::string> now;
    for (auto& r : replicas_) now[r->index] = (*r->db->GetCollection(kCollection))->core().StateDigest();
    db::CollectionCore* sc = ServerCollection();
    now[-1] = sc ? sc->StateDigest() : "";
    if (!changed && now == last && pass >= 1) return "";
    last = std::move(now);
  }
  std::string why;
  for (auto& r : replicas_) {
    if (!r->last_status.ok()) why += " replica " + std::to_string(r->index) + ": " + r->last_status.ToString();
  }
  return "P9: no quiescence after 40 passes of full sync rounds" + why;
}

std::string World::FinalChecks() {
  db::CollectionCore* sc = ServerCollection();
  if (!sc) return "P2: the server has no collection after convergence";
  const uint64_t horizon = ServerHorizon();
  const auto server = Fingerprint(*sc, horizon);
  if (report_.restores > 0) {
    // A restore loses what the server accepted after the backup; replicas push it again, except what has fallen
    // below the horizon meanwhile (refused as stale, SYNC.md 2.10): such writes may be missing.
    const auto held = ServerRegisters();
    oracle_.WithdrawIf([&](const PointId& id, const std::string& reg, const Stamp& s) {
      return s.hlc < horizon && !held.count({id, reg, s});
    });
  }
  if (const char* w = std::getenv("QUIVER_SYNC_WATCH")) {
    fprintf(stderr, "ORACLE %s: %s (horizon %s)\n", w, oracle_.Dump(PointId::Number(std::atoi(w))).c_str(), sync::Hex16(horizon).c_str());
  }
  // P2: the server equals the oracle.
  std::map<PointId, std::string> expected;
  for (const auto& [id, d] : oracle_.States()) {
    std::string c = Canonical(d, horizon);
    if (!c.empty()) expected[id] = std::move(c);
  }
  auto diff = [](const std::map<PointId, std::string>& a, const std::map<PointId, std::string>& b,
                 const std::string& an, const std::string& bn) -> std::string {
    for (const auto& [id, text] : a) {
      auto it = b.find(id);
      if (it == b.end()) return "point " + id.ToString() + ": " + an + " has " + text + ", " + bn + " has nothing";
      if (it->second != text) return "point " + id.ToString() + ":\n    " + an + ": " + text + "\n    " + bn + ": " + it->second;
    }
    for (const auto& [id, text] : b) {
      if (!a.count(id)) return "point " + id.ToString() + ": " + bn + " has " + text + ", " + an + " has nothing";
    }
    return "";
  };
  if (std::string d = diff(expected, server, "oracle", "server"); !d.empty()) return "P2 (server vs oracle): " + d;
  const std::string server_visible = Visible(*sc);
  for (auto& r : replicas_) {
    db::CollectionCore& rc = (*r->db->GetCollection(kCollection))->core();
    const std::string name = "replica " + std::to_string(r->index);
    if (std::string d = diff(server, Fingerprint(rc, horizon), "server", name); !d.empty()) return "P2: " + d;
    if (Visible(rc) != server_visible) return "P2: " + name + " shows other results than the server";
  }
  // P6: no stamp on the server beyond its clock's drift bound.
  const uint64_t bound = db::MakeHlc(now_ + kMaxDriftMs, 0xFFFF);
  std::string skewed;
  sc->VisitPoints([&](const db::PointState& st, const db::Segment&) {
    uint64_t m = std::max(st.alive.hlc, st.payload_reset.hlc);
    for (const db::KeyStamp& ks : st.key_stamps) m = std::max(m, ks.stamp.hlc);
    if (m > bound && skewed.empty()) skewed = st.id.ToString();
  });
  if (!skewed.empty()) return "P6: point " + skewed + " on the server is stamped beyond the drift bound";
  return "";
}

RunReport World::Run() {
  server_.mem = std::make_unique<MemoryStorage>();
  server_.fault = std::make_unique<FaultInjectionStorage>(server_.mem.get());
  drop_ = profile_.drop;
  dup_ = profile_.dup;
  if (Status s = OpenServer(); !s.ok()) {
    report_.failure = s.ToString();
    return report_;
  }
  valid_gen_.assign(profile_.replicas, 0);
  for (int i = 0; i < profile_.replicas; ++i) {
    auto r = std::make_unique<Replica>();
    r->index = i;
    r->id = 0x1000 + uint64_t(i) * 0x10001 + (seed_ & 0xFF) * 0x1000000;
    r->rng = std::make_unique<Rng>(rng_());
    r->mem = std::make_unique<MemoryStorage>();
    r->fault = std::make_unique<FaultInjectionStorage>(r->mem.get());
    r->transport = std::make_unique<SimTransport>(this, i);
    if (profile_.skew && rng_.Chance(0.5)) {
      r->clock->offset = static_cast<int64_t>(rng_.Between(1, 3) * kHour) * (rng_.Chance(0.5) ? 1 : -1);
    } else {
      r->clock->offset = static_cast<int64_t>(rng_.Below(4000)) - 2000;
    }
    replicas_.push_back(std::move(r));
  }
  for (auto& r : replicas_) {
    if (Status s = OpenReplica(*r); !s.ok()) {
      report_.failure = s.ToString();
      return report_;
    }
  }
  std::string f;
  for (int step = 0; step < profile_.steps && f.empty(); ++step) {
    f = Step(step);
    if (f.empty()) f = failure_;
  }
  if (f.empty()) f = Converge();
  if (f.empty()) f = failure_;
  if (f.empty()) f = FinalChecks();
  for (auto& r : replicas_) AddStats(*r);
  report_.failure = f;
  // Tear down in order: clients, then databases.
  for (auto& r : replicas_) r->client.reset();
  return report_;
}

}  // namespace

RunReport Run(uint64_t seed, bool verbose) {
  World w(seed, verbose);
  return w.Run();
}

}  // namespace quiver::sim
