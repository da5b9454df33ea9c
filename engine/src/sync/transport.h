// The sync protocol's requests and responses in transport-neutral form, and the client's Transport.
//
// A SyncRequest is what an HTTP request of the protocol carries (SYNC.md 2.6): method, path below the sync prefix
// ("/v1/collections/<uid>/pull"), query parameters, the protocol's headers and the body. quiverd maps Beast
// requests to SyncService::Handle (service.h) and back; the sync client hands requests to a Transport: natively a
// Boost.Beast HTTP(S) client, in WASM the JS wrapper's fetch, in tests an in-memory network.
//
// Thread safety: value types; a Transport's thread safety is its own (the sync client calls it from one thread at
// a time).
#ifndef QUIVER_SYNC_TRANSPORT_H_
#define QUIVER_SYNC_TRANSPORT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "quiver/status.h"

namespace quiver::sync {

inline constexpr uint32_t kProtocolVersion = 1;

// What a request does with a collection, for the face's access check (SyncRequest::authorize).
enum class SyncAccess : uint8_t {
  kRead,    // pull, snapshot, digest, blobs; identifying an existing collection
  kWrite,   // push
  kCreate,  // identifying a collection the server does not have yet creates it
  kManage,  // delete the collection
};

struct SyncRequest {
  std::string method;  // GET, POST, PUT, DELETE
  std::string path;    // below the sync prefix: "/v1/replicas", "/v1/collections/<uid>/push", ...
  std::vector<std::pair<std::string, std::string>> query;  // decoded parameters
  // Headers: Authorization (the bearer token without "Bearer "), X-Replica, X-Push-Cursor, X-Protocol.
  std::string token;
  std::string replica;
  std::string push_cursor;
  std::string protocol = std::to_string(kProtocolVersion);
  std::string body;
  // Client side: the local name of the collection the request is for (empty for the replica's registration). Not
  // sent; for transports that report it (the JS wrapper names it when it asks the app about a refused point).
  std::string collection;
  // Server side: the principal the face authenticated the token as (empty: let SyncServiceOptions::authenticate
  // decide).
  std::string principal;
  // Server side: the face's access check for the caller on a collection (by name): OK, or a status whose
  // message says why not (answered 403 forbidden). Empty: every collection is allowed.
  std::function<Status(std::string_view collection, SyncAccess access)> authorize;
  // Server side: the face writes SyncResponse::shared_body out itself (quiverd), so a blob is answered with the
  // blob cache's bytes instead of a copy in `body`.
  bool share_blobs = false;
};

struct SyncResponse {
  SyncResponse() = default;
  SyncResponse(int status_code, std::string type, std::string bytes)
      : status(status_code), content_type(std::move(type)), body(std::move(bytes)) {}

  int status = 200;
  std::string content_type = "application/json";  // blobs: application/octet-stream
  std::string body;
  // Server side, instead of `body` when the request has share_blobs: a blob's bytes, shared with the service's
  // blob cache rather than copied.
  std::shared_ptr<const std::string> shared_body;
  // Client side, optional: the SHA-256 of `body` as 64 lower-case hex digits, when the transport computed it
  // while receiving (with the platform's hashing: Node's crypto, WebCrypto). Empty: the client hashes the body
  // itself where it must (snapshot blobs).
  std::string sha256;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends one request and calls `done` exactly once with the response, or with an error when none came (network
  // down, timeout, connection reset). `done` may run before Send returns (a blocking transport) or later, on the
  // thread that drives the client.
  virtual void Send(SyncRequest request, std::function<void(Result<SyncResponse>)> done) = 0;
};

}  // namespace quiver::sync

#endif  // QUIVER_SYNC_TRANSPORT_H_
