// Service: one HTTP request in, one reply out, with no sockets involved. It routes the request, authenticates
// the caller, applies the tenant's rate limit and quotas, checks access, runs the operation (through the
// request layer, api::Call, or the snapshot store), wraps the result in Qdrant's {result, status, time}
// envelope (errors as {status: {error}, time} with Qdrant's HTTP status), adds CORS headers, counts the
// request in the metrics and writes one JSON log line for it.
//
// Thread safety: Handle and Reject may be called from any number of threads at once.
#ifndef QUIVER_SERVER_SERVICE_H_
#define QUIVER_SERVER_SERVICE_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "access.h"
#include "auth.h"
#include "config.h"
#include "metrics.h"
#include "quiver/database.h"
#include "router.h"
#include "snapshots.h"
#include "tenants.h"

namespace quiver::server {

class SyncEndpoint;

struct HttpRequest {
  std::string method;
  std::string target;   // path and query
  std::string api_key;  // header values, "" when absent
  std::string authorization;
  std::string origin;
  std::string content_type;
  std::string access_control_request_headers;
  std::string body;
  std::string remote;  // "127.0.0.1:54321"
  // The sync protocol's headers (X-Replica, X-Push-Cursor, X-Protocol) and Range.
  std::string replica;
  std::string push_cursor;
  std::string protocol;
  std::string range;
};

struct HttpReply {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  // When set, the reply's body is these bytes instead of `body` (sync blobs: shared with the blob cache, not
  // copied).
  std::shared_ptr<const std::string> shared_body;
  std::string file;  // when set, the reply's body is this file (snapshot downloads)
  std::vector<std::pair<std::string, std::string>> headers;
};

class Service {
 public:
  using Clock = std::chrono::steady_clock;

  Service(const Config& config, Database& db);
  ~Service();
  Status Start();  // loads tenant ownership, starts the sync endpoint's timer

  // Answers a request. Never throws; every failure is an error reply.
  HttpReply Handle(HttpRequest& request);
  // The same, for requests that may be answered later (sync long-polls): `done` runs exactly once, before
  // HandleAsync returns or later on another thread. `request` must stay valid until then.
  void HandleAsync(HttpRequest& request, std::function<void(HttpReply)> done);
  // Whether a request may be answered later (HandleAsync): the sync protocol's.
  static bool IsDeferrable(std::string_view target);
  // Whether a request is answered quickly without touching stored data (health checks), so the I/O thread may
  // answer it itself instead of queueing it behind slow requests.
  static bool IsLight(std::string_view method, std::string_view target);

  // An error found before the request reached Handle (413, 408, a malformed request, 503 at the connection
  // cap): the reply, logged and counted like any other. `request` may be partly filled.
  HttpReply Reject(const HttpRequest& request, unsigned status, std::string message, Clock::time_point start);

  // After SIGTERM: /readyz answers 503 from now on, parked sync pulls are answered and no more are parked.
  void SetDraining();
  bool draining() const { return draining_; }

  Metrics& metrics() { return metrics_; }
  const Config& config() const { return config_; }

 private:
  struct Context;

  // Routes, authenticates and checks access: a reply when the request ends there.
  std::optional<HttpReply> Admit(Context& ctx);
  HttpReply Dispatch(Context& ctx);
  HttpReply RunApi(Context& ctx);
  HttpReply RunSnapshot(Context& ctx);
  HttpReply RunServiceEndpoint(Context& ctx);

  // The collection an alias names, or `name` itself.
  std::string Resolved(std::string_view name) const;

  HttpReply Finish(Context& ctx, HttpReply reply);
  void AddCors(const HttpRequest& request, HttpReply* reply) const;
  void Log(const Context& ctx, const HttpReply& reply, double seconds) const;

  const Config& config_;
  Database& db_;
  Authenticator auth_;
  Tenants tenants_;
  AccessPolicy access_;
  SnapshotStore snapshots_;
  std::unique_ptr<SyncEndpoint> sync_;
  Metrics metrics_;
  std::atomic<bool> draining_{false};
};

// Qdrant's HTTP status for an engine status code.
unsigned HttpStatusOf(StatusCode code);
// {"status": {"error": message}, "time": seconds}
std::string ErrorBody(std::string_view message, double seconds);

}  // namespace quiver::server

#endif  // QUIVER_SERVER_SERVICE_H_
