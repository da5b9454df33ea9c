// Sync in the WebAssembly module: the engine's SyncClient (engine/src/sync/client.h) driven from JavaScript, with
// a Transport whose requests the TypeScript wrapper (ts/sync.ts) performs with fetch.
//
// The module cannot block on the network, so a request leaves through the host object's send(...) and its answer
// comes back later as a call of complete(id, ...) or fail(id, ...), on the same (the only) thread. The round
// goes on from inside that call; a round's end is reported through the callback given to run().
//
// The host is a JavaScript object with:
//   send(id, method, path, queryJson, replica, pushCursor, protocol, body, collection)   perform the request
//        (path below /sync, queryJson an array of [name, value] pairs, collection the local name it is for or
//        ""); answer with complete() or fail() exactly once, after placing the answer's body in module memory:
//        bodyBuffer(id, size) returns where (the host copies the bytes there as they arrive, so a large blob
//        crosses from JavaScript once, without a JavaScript copy of its own)
//   conflict(conflictJson) -> "keep_server" | "reapply_local"                 the app's onConflict
//   applied(collection, idsJson, snapshot)                                   pulled changes were committed
// None of them may throw (the wrapper catches the app's exceptions) or call back into this object synchronously
// except send's later answer.
//
// Authentication is the wrapper's: it sets the Authorization header itself and, after a 401, asks the app for a
// fresh token (asynchronously) and repeats the request before answering. The engine's token hook stays unused.
//
// Thread safety: the module is single-threaded.
#ifndef QUIVER_BINDINGS_JS_JS_SYNC_H_
#define QUIVER_BINDINGS_JS_JS_SYNC_H_

#include <emscripten/val.h>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "js_api.h"
#include "sync/client.h"
#include "sync/transport.h"

namespace quiver::js {

// The Transport: each request waits in `pending_` for the host's answer.
class JsTransport : public sync::Transport {
 public:
  explicit JsTransport(emscripten::val host) : host_(std::move(host)) {}
  void Send(sync::SyncRequest request, std::function<void(Result<sync::SyncResponse>)> done) override;
  // Makes the body of request `id`'s answer `size` bytes long (keeping what it held) and returns where it starts
  // in module memory, valid until the request is answered or dropped; nullptr when the request is unknown or
  // the memory cannot hold it.
  char* BodyBuffer(uint64_t id, size_t size);
  // The answer to request `id` (a response takes the body placed through BodyBuffer); false when it is unknown
  // (answered already, or dropped by Drop()).
  bool Complete(uint64_t id, Result<sync::SyncResponse> response);
  // Forgets every request in flight without answering (the client is closing).
  void Drop() { pending_.clear(); }
  size_t in_flight() const { return pending_.size(); }

 private:
  struct Pending {
    std::function<void(Result<sync::SyncResponse>)> done;
    std::string body;
  };
  emscripten::val host_;
  uint64_t next_id_ = 0;
  std::map<uint64_t, Pending> pending_;
};

class JsSync : public CallState {
 public:
  // `options_json`: {"collections": [...], "client": "...", "backoff_initial_ms": n, "backoff_max_ms": n,
  // "on_conflict": bool, "check_digest": bool}. The database must stay open while this object lives (the
  // wrapper closes syncs before their database).
  int Start(JsDatabase& db, const std::string& options_json, emscripten::val host);
  // Runs a round: kind 0 full, 1 push only, 2 pull only (sync::RoundKind), ending with a long-poll of wait_ms,
  // comparing the digest when caught up if check_digest; done(code, message) when it ends (code 0: success),
  // possibly before run returns.
  void Run(int kind, double wait_ms, bool check_digest, emscripten::val done);
  bool CancelWait();
  bool Busy() const { return client_ && client_->busy(); }
  double RetryDelayMs() const { return client_ ? static_cast<double>(client_->RetryDelayMs()) : 0; }
  // {"rounds": n, ...}: sync::SyncStats.
  std::string Stats() const;
  // Points not yet acknowledged by the server, or -1 with the error kept.
  double Pending(const std::string& collection);
  // The conflicts recorded for a collection: [{"id": ..., "reason": ..., "local": PointDelta|null,
  // "server": PointDelta|null}], or "" with the error kept.
  std::string Conflicts(const std::string& collection);
  int ClearConflicts(const std::string& collection);
  // The host's answers: the body's place (JsTransport::BodyBuffer; 0 when it cannot be had), then the status,
  // content type and, optionally, the SHA-256 of the body (64 hex digits) if the host computed it while receiving
  // (JsTransport::Complete).
  double BodyBuffer(double id, double size);
  void Complete(double id, int status, const std::string& content_type, const std::string& sha256);
  void FailRequest(double id, const std::string& message);
  void Close();

 private:
  std::unique_ptr<JsTransport> transport_;
  std::unique_ptr<sync::SyncClient> client_;
};

}  // namespace quiver::js

#endif  // QUIVER_BINDINGS_JS_JS_SYNC_H_
