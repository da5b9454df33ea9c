// SyncService: the server side of the sync protocol (SYNC.md section 2), over a FeedStore (feed.h). quiverd
// serves it under /sync (e.g. POST /sync/v1/collections/{uid}/push): it turns each HTTP request into a
// SyncRequest (transport.h), calls Handle (or HandleAsync for long-polls) and writes the SyncResponse back.
//
//   POST   /v1/replicas                         register a replica, bound to the caller's principal
//   PUT    /v1/collections/by-name/{name}       collection identity: adopt the client's uid, or 409 name_conflict
//   POST   /v1/collections/{uid}/push           merge a batch of point deltas (atomic, idempotent)
//   GET    /v1/collections/{uid}/pull           a page of changes after a cursor (long-poll with wait_ms)
//   GET    /v1/collections/{uid}/snapshot       the snapshot manifest (content-addressed segment files)
//   GET    /v1/collections/{uid}/digest         the anti-entropy digest
//   DELETE /v1/collections/{uid}                delete the collection (a collection tombstone stays)
//   GET    /v1/blobs/{sha256}                   a snapshot segment file
//
// The service checks X-Protocol (426), authenticates (401), binds replicas to principals (403), validates every
// pushed register (per-point rejections: forbidden, invalid, clock_skew, stale_op, collection_gone), answers
// 410 resync_required for cursors of another epoch or below the purge watermark, and detects a server that lost
// data (a client ahead of it) by bumping the epoch. Every response carries server_time_ms and server_hlc.
//
// Thread safety: all methods may be called from any thread; commits to one feed are serialised.
#ifndef QUIVER_SYNC_SERVICE_H_
#define QUIVER_SYNC_SERVICE_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "sync/feed.h"
#include "sync/transport.h"
#include "sync/wire.h"

namespace quiver::sync {

struct SyncServiceOptions {
  // Tombstones (and the horizon below which pushed registers are stale) are kept this long.
  uint64_t retention_ms = 30ull * 24 * 3600 * 1000;
  // Pushed stamps more than this ahead of the server's time are rejected (clock_skew).
  uint64_t max_drift_ms = 60'000;
  // Push bodies above this get 413.
  size_t max_push_bytes = 4 << 20;
  // Longest long-poll wait and largest page a pull may ask for.
  uint64_t max_wait_ms = 25'000;
  size_t max_pull_bytes = 16 << 20;
  // Random 64-bit values for epochs (tests pass a seeded source). Empty: std::random_device.
  std::function<uint64_t()> random;
  // Who a request comes from: the principal, or Unauthenticated (401). Empty: the request's principal when the
  // face set one, else the bearer token itself (any non-empty token).
  std::function<Result<std::string>(const SyncRequest&)> authenticate;
};

class SyncService {
 public:
  // `store` must outlive the service.
  explicit SyncService(FeedStore* store, SyncServiceOptions options = {});
  ~SyncService();

  // Answers one request at once.
  SyncResponse Handle(const SyncRequest& request);
  // The same, except that a pull with wait_ms > 0 finding nothing new is parked: answered after the next commit to
  // its collection, or by ExpireWaits once its wait is over. `done` runs on the committing or expiring thread.
  void HandleAsync(const SyncRequest& request, std::function<void(SyncResponse)> done);
  // Answers parked pulls whose wait has ended (by the store's clock); returns how many. The face calls it from a
  // timer.
  size_t ExpireWaits();
  // Answers every parked pull now (a server shutting down); returns how many.
  size_t AnswerAllWaits();
  size_t parked() const;

  // Purges old tombstones in every feed (the periodic GC job, SYNC.md 2.9).
  Status CollectGarbage();
  // Gives a collection's feed a new epoch: every client resyncs (the runbook step after restoring a backup).
  Status ResetEpoch(std::string_view name);

  // Typed handlers behind Handle (for faces that decode themselves). `principal` is authenticated.
  struct Context {
    std::string principal;
    uint64_t replica = 0;       // X-Replica (0 when absent)
    uint64_t push_cursor = 0;   // X-Push-Cursor
  };

 private:
  struct Open;  // a feed the service has touched: its uid, epoch cache, lock
  struct Waiter {
    SyncRequest request;
    std::function<void(SyncResponse)> done;
    uint64_t deadline_ms;
    std::string uid;
  };

  SyncResponse Route(const SyncRequest& request, bool* park, std::string* park_uid);
  SyncResponse RegisterReplica(const Context& ctx, const SyncRequest& request);
  SyncResponse PutCollection(const Context& ctx, std::string_view name, const SyncRequest& request);
  SyncResponse Push(const Context& ctx, Open& feed, const SyncRequest& request);
  SyncResponse Pull(const Context& ctx, Open& feed, const SyncRequest& request, bool* park);
  SyncResponse Snapshot(const Context& ctx, Open& feed);
  SyncResponse Digest(const Context& ctx, Open& feed);
  SyncResponse DeleteCollection(const Context& ctx, Open& feed);
  SyncResponse Blob(const SyncRequest& request, std::string_view sha256);

  Result<std::shared_ptr<Open>> FindByUid(std::string_view uid);
  Result<std::shared_ptr<Open>> Touch(const std::string& name, const std::string& adopt_uid);
  std::optional<SyncResponse> Gone(std::string_view uid);
  // 403 when the request's face refuses the access (SyncRequest::authorize).
  std::optional<SyncResponse> Authorize(const SyncRequest& request, std::string_view collection,
                                        SyncAccess access);
  std::optional<SyncResponse> CheckRegression(const Context& ctx, Open& feed, const std::optional<Cursor>& cursor);
  Status BumpEpochLocked(Open& feed);
  uint64_t HorizonLocked(Open& feed);
  CollectionIdentity Identity(Open& feed);
  ServerClock Clock();
  SyncResponse Error(int status, std::string error, std::string reason, std::string message);
  Id128 NewId();
  void OnCommit(const std::string& uid);

  FeedStore* store_;
  SyncServiceOptions options_;
  mutable std::mutex mu_;                                  // guards feeds_, blobs_, pulls_
  std::map<std::string, std::shared_ptr<Open>> feeds_;     // by uid
  struct BlobEntry {
    std::shared_ptr<const std::string> bytes;
    std::string collection;  // whose snapshot named it (for the access check)
  };
  std::map<std::string, BlobEntry> blobs_;  // sha256 -> image, of recent snapshots
  std::map<std::pair<std::string, uint64_t>, std::pair<uint64_t, uint64_t>> pulls_;  // (uid, replica) -> (seq, ms)
  mutable std::mutex wait_mu_;
  std::vector<Waiter> waiters_;  // guarded by wait_mu_
};

}  // namespace quiver::sync

#endif  // QUIVER_SYNC_SERVICE_H_
