// SyncClient: the client side of the sync protocol (SYNC.md section 2), one implementation for every face,
// driven by a Transport (transport.h).
//
// It syncs a set of collections of one local Database with one server. A round (Sync) goes, per collection:
// register the replica (once), settle the collection's identity (PUT by-name: the server adopts the local uid
// or the client re-keys to the server's), resync from a snapshot when there is no cursor or the server asked
// for it (410), push the outbox in batches, pull pages until caught up (optionally ending with a long-poll), and
// compare the anti-entropy digest when idle. Every step that changes local state is one local commit of the
// collection's change feed (db/collection_core.h): a pull page with its cursor, a push ack with push_cursor, a
// snapshot install with its epoch, cursor and the pending local registers. So a crash at any point loses at most
// the step in flight, and redoing it is idempotent.
//
// The outbox is the change feed itself: registers stamped by this replica whose seq is above push_cursor
// (the seq the server acknowledged last). Pulled registers get seqs too but carry other replicas' stamps.
//
// Rejected points are recorded (collection metadata "sync.conflict.<id>") and handed to on_conflict, which picks
// keep_server (the default: the local point becomes the server's, keeping later local edits) or reapply_local
// (the rejected local registers are written again with fresh stamps, on top of the server's). clock_skew is
// repaired without asking: the clock offset is corrected, the clock rewound, and the registers stamped in the
// future are stamped again.
//
// Thread safety: one thread drives a client (Sync, the transport's callbacks); local writes to the database may
// come from any thread. Callbacks (on_conflict, get_token, done) run on the driving thread.
#ifndef QUIVER_SYNC_CLIENT_H_
#define QUIVER_SYNC_CLIENT_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "quiver/database.h"

namespace quiver::db {
class DatabaseCore;
}
#include "sync/transport.h"
#include "sync/wire.h"

namespace quiver::sync {

enum class Resolution : uint8_t { kKeepServer, kReapplyLocal };

// What a round does per collection. Every kind first settles the replica, the collection's identity and a pending
// snapshot resync (a push needs the server's epoch, a pull a cursor).
enum class RoundKind : uint8_t {
  kFull,  // push the outbox, pull until caught up, compare the digest, then long-poll when wait_ms > 0
  kPush,  // push the outbox and stop (write-through: the round's success is the server's acknowledgement)
  kPull,  // pull until caught up, then long-poll when wait_ms > 0; the outbox stays as it is
};

struct Conflict {
  std::string collection;
  PointId id;
  std::string reason;                 // stale_op, forbidden, invalid, collection_gone (clock_skew is repaired)
  std::optional<PointDelta> local;    // the registers pushed
  std::optional<PointDelta> server;   // the server's state, none if it has no such point
};

struct SyncClientOptions {
  // Local collections to sync (their names are their names on the server).
  std::vector<std::string> collections;
  std::string client = "quiver";
  // Push batches are split at point boundaries below this many (estimated) bytes; halved on 413.
  size_t max_push_bytes = 4 << 20;
  size_t pull_limit = 1000;
  size_t pull_max_bytes = 4 << 20;
  // A round ends with a long-poll of this many ms when > 0 (live sync).
  uint64_t wait_ms = 0;
  uint64_t max_drift_ms = 60'000;
  // Compare the anti-entropy digest at the end of a round when the outbox is empty.
  bool check_digest = true;
  // Exponential backoff with jitter after a failed round: min(max, initial * 2^(failures-1)) * [0.5, 1).
  uint64_t backoff_initial_ms = 500;
  uint64_t backoff_max_ms = 60'000;
  // Randomness (uids, jitter) and a monotonic millisecond clock (round trips). Empty: std::random_device and
  // std::chrono::steady_clock.
  std::function<uint64_t()> random;
  std::function<uint64_t()> monotonic_ms;
  // The bearer token; called with refresh = true after a 401 (then the request is retried once).
  std::function<Result<std::string>(bool refresh)> get_token;
  // Empty: keep_server.
  std::function<Resolution(const Conflict&)> on_conflict;
  // Observer (tests, metrics): the client rewrote a point locally, withdrawing registers it had written (rejected,
  // or stamped in the future) and writing `written` in their place (reapply_local, clock repair; may be empty).
  std::function<void(const std::string& collection, const PointDelta& withdrawn, const PointDelta& written)> on_rewrite;
  // Observer (tests): a clock repair rewound the clock to `floor_hlc`; registers this replica stamped above it and
  // no longer holds were never accepted by the server (they were replaced locally before being pushed).
  std::function<void(uint64_t floor_hlc)> on_clock_rewind;
  // Observer (faces: change events): a pulled page (`snapshot` false: the points it held) or a snapshot install
  // (`snapshot` true, `ids` empty) was committed to `collection`.
  std::function<void(const std::string& collection, const std::vector<PointId>& ids, bool snapshot)> on_applied;
};

struct SyncStats {
  uint64_t rounds = 0, failed_rounds = 0;
  uint64_t pushed_points = 0, pulled_points = 0, rejected_points = 0;
  uint64_t resyncs = 0, clock_repairs = 0, digest_mismatches = 0;
  uint64_t requests = 0;
};

class SyncClient {
 public:
  // `db` and `transport` must outlive the client (a face passes &database.core()).
  SyncClient(db::DatabaseCore* db, Transport* transport, SyncClientOptions options);
  ~SyncClient();
  SyncClient(const SyncClient&) = delete;
  SyncClient& operator=(const SyncClient&) = delete;

  // Runs one round over every collection and calls done(status) when it ends (FailedPrecondition if a round is
  // already running). A failure sets the backoff; RetryDelayMs says when to try again.
  void Sync(std::function<void(Status)> done);
  // A round of the given kind; it ends with a long-poll of `wait_ms` (full and pull rounds) when > 0, and compares
  // the digest when caught up if `check_digest` (and options.check_digest): that costs a pass over the
  // collection's points, which a live face does not want after every change. Sync(done) is
  // Run(kFull, options.wait_ms, true, done).
  void Run(RoundKind kind, uint64_t wait_ms, bool check_digest, std::function<void(Status)> done);
  // Ends the running round as a success if it is waiting in a long-poll (its answer, when it comes, is ignored:
  // nothing of it was committed), so that a caller with local writes can start a push round at once. Calls the
  // round's done before returning; false when no round waits.
  bool CancelWait();
  bool busy() const;
  // Points of `collection` with registers this replica wrote that the server has not acknowledged yet.
  Result<uint64_t> PendingPoints(std::string_view collection) const;
  // Milliseconds to wait before the next round after a failure (0 after a success).
  uint64_t RetryDelayMs() const;
  const SyncStats& stats() const { return stats_; }
  // Conflicts recorded for a collection (oldest first), and forgetting them.
  std::vector<Conflict> Conflicts(std::string_view collection) const;
  Status ClearConflicts(std::string_view collection);
  // Requests in flight are ignored when they complete; later Sync calls fail.
  void Close();

 private:
  struct Round;
  std::shared_ptr<Round> round_;
  db::DatabaseCore* db_;
  Transport* transport_;
  SyncClientOptions options_;
  std::shared_ptr<bool> alive_;
  bool registered_ = false;
  bool closed_ = false;
  uint64_t failures_ = 0;
  uint64_t retry_delay_ms_ = 0;
  SyncStats stats_;
  std::string token_;
  std::map<std::string, uint64_t> clean_to_;  // per collection: no outbox register at or below this seq

  friend struct ClientRound;
};

}  // namespace quiver::sync

#endif  // QUIVER_SYNC_CLIENT_H_
