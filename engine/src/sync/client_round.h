// A sync round's state machine (SyncClient::Round), private to the client: client.cc has the round's
// requests, registration and identity, digest and the public SyncClient; client_push.cc the push and its ack
// (rejections, clock repair); client_pull.cc the pull and the resync by snapshot.
#ifndef QUIVER_SYNC_CLIENT_ROUND_H_
#define QUIVER_SYNC_CLIENT_ROUND_H_

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <random>
#include <set>

#include "base/hashes.h"
#include "db/collection_core.h"
#include "db/config_json.h"
#include "db/database_core.h"
#include "sync/local_feed.h"
#include "sync/client.h"

namespace quiver::sync {
namespace json = boost::json;

// Client metadata keys, in each synced collection (docs/sync.md, "Client metadata").
inline constexpr const char* kUid = "sync.uid";
inline constexpr const char* kIdentified = "sync.identified";
inline constexpr const char* kEpoch = "sync.epoch";
inline constexpr const char* kCursor = "sync.cursor";
inline constexpr const char* kSince = "sync.since";
inline constexpr const char* kPushCursor = "sync.push_cursor";
inline constexpr const char* kPushScan = "sync.push_scan";
inline constexpr const char* kHorizon = "sync.horizon";
inline constexpr const char* kResync = "sync.resync";
inline constexpr const char* kOffset = "sync.offset_ms";
inline constexpr const char* kClock = "sync.clock";
inline constexpr const char* kConflictPrefix = "sync.conflict.";
inline constexpr const char* kAckedHlc = "sync.acked_hlc";

inline uint64_t MetaU64(const db::CollectionCore& core, std::string_view key) {
  auto v = core.FeedMeta(key);
  if (!v) return 0;
  if (auto p = v->if_uint64()) return *p;
  if (auto p = v->if_int64(); p && *p >= 0) return static_cast<uint64_t>(*p);
  return 0;
}

inline int64_t MetaI64(const db::CollectionCore& core, std::string_view key) {
  auto v = core.FeedMeta(key);
  if (!v) return 0;
  if (auto p = v->if_int64()) return *p;
  if (auto p = v->if_uint64()) return static_cast<int64_t>(*p);
  return 0;
}

inline std::string MetaStr(const db::CollectionCore& core, std::string_view key) {
  auto v = core.FeedMeta(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

inline Status CommitMeta(db::CollectionCore& core, MetaChanges meta) {
  db::FeedWrite w;
  w.meta = std::move(meta);
  return core.CommitFeedWrite(std::move(w)).status();
}

// Whether a point holds a register this replica (`me`) wrote above the push cursor `from`: it is in the outbox.
inline bool InOutbox(const db::PointState& st, uint64_t from, uint64_t me) {
  if (st.life_seq > from && st.alive.replica == me && !st.alive.zero()) return true;
  if (st.reset_seq > from && st.payload_reset.replica == me && !st.payload_reset.zero()) return true;
  for (const db::KeyStamp& ks : st.key_stamps) {
    if (ks.seq > from && ks.stamp.replica == me) return true;
  }
  return false;
}

// One sync round: a small state machine whose steps run one after another from a queue, so a transport that
// answers inside Send does not nest the steps.
struct SyncClient::Round : std::enable_shared_from_this<SyncClient::Round> {
  SyncClient* c;
  RoundKind kind = RoundKind::kFull;
  uint64_t wait_ms = 0;
  bool check_digest = true;
  bool waiting = false;  // in a long-poll (CancelWait)
  std::function<void(Status)> done;
  std::shared_ptr<bool> alive;
  size_t index = 0;
  std::shared_ptr<Collection> col;
  std::string name;
  size_t push_limit = 0;
  int resync_attempts = 0;
  bool token_refreshed = false;
  bool reregistered = false;
  std::deque<std::function<void()>> queue;
  bool draining = false;
  bool finished = false;

  db::CollectionCore& core() { return col->core(); }
  db::HybridClock& clock() { return c->db_->clock(); }
  uint64_t self() const { return c->db_->replica_id(); }
  uint64_t Monotonic() const { return c->options_.monotonic_ms(); }

  void Post(std::function<void()> step);
  void Finish(Status s);

  // --- Requests ---

  SyncRequest NewRequest(std::string method, std::string path);
  // Sends and hands the response to `on` (on the round's queue). Transport failures end the round; 401 asks for a
  // fresh token and retries once; 403 for an unknown replica registers again and retries once.
  // `on` may take the response by non-const reference and move its body out (snapshot blobs).
  void Send(SyncRequest request, std::function<void(SyncResponse&, uint64_t rtt_ms)> on);
  Status Unexpected(const SyncResponse& r, const std::string& what);
  // Takes the server's clock into account: the HLC receive and the offset estimate (SYNC.md 2.12).
  void ObserveServer(const ServerClock& sc, uint64_t rtt_ms);

  // --- Steps ---

  void Start() { Post([self = shared_from_this()] { self->StartCollection(); }); }

  void StartCollection();
  void NextCollection();
  void Register(std::function<void()> then);
  void Identify();
  void AfterIdentify();
  std::string UidPath(const std::string& action);

  // --- Resync by snapshot (SYNC.md 2.10) ---

  void Resync();
  // Downloads the manifest's segments one after another, each checked against the manifest's size and SHA-256
  // (the transport's hash when it computed one while receiving, else the body's). A blob that fails the check is
  // fetched once more; a second failure ends the round with Corruption and nothing installed.
  void FetchBlobs(std::shared_ptr<SnapshotManifest> m, std::shared_ptr<std::vector<std::shared_ptr<const std::string>>> images,
                  int attempt = 0);
  void Install(const SnapshotManifest& m, const std::vector<std::shared_ptr<const std::string>>& images);

  // --- Push (SYNC.md 2.5, 2.6) ---

  struct Batch {
    PushRequest request;
    uint64_t push_cursor = 0;
    bool end = false;  // the batch reaches the end of the feed: the drain completes with its ack
  };
  // Where the drain of the outbox stands. Every register of this replica at or below `cursor`
  // (sync.push_cursor) is acknowledged; the points at feed seqs in (cursor, scan] (sync.push_scan) have had
  // every register above `cursor` acknowledged. A point appears in the feed once, at its latest seq, so a
  // register written early can sit on a point the drain has not reached yet: the cursor moves only when a
  // drain completes.
  struct Drain {
    uint64_t cursor = 0;
    uint64_t scan = 0;
  };
  Drain PushDrain();
  void Push();

  using Reports = std::vector<std::tuple<std::string, PointDelta, PointDelta>>;  // (collection, withdrawn, written)

  // The ack, the resolution of every rejected point and the repair of registers stamped in the future commit as
  // one: a crash leaves either the batch unacknowledged (pushed again) or all of it settled.
  void OnPushed(const Batch& batch, const PushResponse& m, uint64_t rtt);
  // The registers of the point's current state whose seq is above `seq`.
  std::optional<PointDelta> RegistersAbove(const PointId& id, uint64_t seq);
  static Status AddOps(const PointDelta& d, db::FeedWrite* w);
  // A rejected point: recorded, shown to the app, and resolved (keep_server or reapply_local) into `w`.
  Status Resolve(const Rejection& r, const PointDelta* sent, uint64_t to, uint64_t horizon, db::FeedWrite* w,
                 Reports* reports);
  // clock_skew (SYNC.md 2.12): this replica stamped registers beyond the server's drift bound. The offset was
  // corrected from the response; now the clock comes back to the corrected time, and the registers the server
  // refused (`refused`: the sent registers of the points rejected for clock_skew) plus every register not pushed
  // yet that is stamped beyond the bound are stamped again, in every synced collection, so later writes are not
  // stuck behind them. Registers the server accepted are never stamped again. The current collection's rewrite
  // goes into `w` (committed with the push ack), the others' are committed here.
  Status RepairClock(const std::map<PointId, const PointDelta*>& refused, uint64_t to, uint64_t server_hlc,
                     db::FeedWrite* w, Reports* reports, std::set<PointId>* repaired, uint64_t* floor);
  // The server does not know the collection's uid (restored from a backup older than the collection): settle
  // the identity again (the server adopts the uid or names its own), then resync as after a new epoch, pushing
  // every register this replica wrote.
  void Forgotten();
  void NeedResync(const SyncResponse& resp);

  // --- Pull ---

  void Pull(bool long_poll = false);
  void OnPulled(const PullResponse& m, uint64_t rtt, bool long_poll);
  void AfterCatchUp();

  // --- Anti-entropy (SYNC.md 2.7) ---

  bool OutboxEmpty();
  void CheckDigest();

  // --- A deleted collection (SYNC.md 2.11) ---

  void DropGone();
};

}  // namespace quiver::sync

#endif  // QUIVER_SYNC_CLIENT_ROUND_H_
