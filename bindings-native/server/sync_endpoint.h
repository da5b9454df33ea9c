// SyncEndpoint: the sync protocol (docs/sync.md) served under /sync. It turns an authenticated HTTP request
// into a sync::SyncRequest (path below /sync, query, X-Replica, X-Push-Cursor, X-Protocol, body), binds it to
// the caller's principal ("key", "key:read-only", "tenant:<name>", "jwt:<sub>", "open") and to the REST API's
// per-collection access rules, hands it to the engine's SyncService over the database's change feeds, and
// turns the answer back into a reply: with X-Server-Time-Ms and X-Server-HLC, and for blobs Range (206, 416),
// ETag and X-Content-SHA256.
//
// Pulls with wait_ms are long-polls: the reply comes later, from the thread of the commit that ends the wait
// or from the endpoint's timer thread, which also expires waits and runs the tombstone GC every gc_interval.
//
// Thread safety: Handle may be called from any number of threads at once; SetDraining from any thread.
#ifndef QUIVER_SERVER_SYNC_ENDPOINT_H_
#define QUIVER_SERVER_SYNC_ENDPOINT_H_

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "access.h"
#include "auth.h"
#include "config.h"
#include "service.h"
#include "tenants.h"

namespace quiver::sync {
class FeedStore;
class SyncService;
}  // namespace quiver::sync

namespace quiver::server {

class SyncEndpoint {
 public:
  SyncEndpoint(const Config& config, Database& db, AccessPolicy& access, Tenants& tenants);
  ~SyncEndpoint();  // stops the timer thread; parked pulls are answered first

  // Starts the timer thread.
  void Start();

  // Answers `request` (its path starts with /sync) for `principal`, whose limits are `tenant`'s: `done` runs
  // exactly once, before Handle returns or later on another thread.
  void Handle(const HttpRequest& request, const Principal& principal, const std::string& tenant,
              std::function<void(HttpReply)> done);

  // Shutting down: parked pulls are answered now and new ones are not parked.
  void SetDraining();
  size_t parked() const;

 private:
  void Tick();
  // `path` is the request's path, `range` its Range header; `shared`, when set, is the body instead of `body`
  // (a blob, not copied unless a range of it is asked for).
  HttpReply ToReply(const std::string& path, const std::string& range, int status, std::string content_type,
                    std::string body, std::shared_ptr<const std::string> shared = nullptr) const;

  const Config& config_;
  Database& db_;
  AccessPolicy& access_;
  Tenants& tenants_;
  std::unique_ptr<sync::FeedStore> store_;
  std::unique_ptr<sync::SyncService> service_;
  std::atomic<bool> draining_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // guarded by mu_
  std::thread timer_;
};

// The name a principal's replicas are bound to.
std::string PrincipalName(const Principal& p);

}  // namespace quiver::server

#endif  // QUIVER_SERVER_SYNC_ENDPOINT_H_
