// The sync protocol's JSON messages (SYNC.md 2.6, 2.7, 2.10, 2.11; docs/sync.md lists them all). Every message
// has a typed form, an encoder and a decoder. Decoders check every field (kinds, lengths, ranges, hex and base64
// forms, unknown fields are ignored for forward compatibility) and report InvalidArgument naming the part that
// is wrong ("push.points[3].fields.title.ts: expected a stamp of 32 hex digits"); they never throw or crash.
//
// Thread safety: pure functions.
#ifndef QUIVER_SYNC_WIRE_H_
#define QUIVER_SYNC_WIRE_H_

#include <boost/json/value.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sync/codec.h"
#include "sync/delta.h"

namespace quiver::sync {

// Server clock fields every response carries.
struct ServerClock {
  uint64_t server_time_ms = 0;
  uint64_t server_hlc = 0;
};

// POST /v1/replicas
struct RegisterReplicaRequest {
  uint64_t replica = 0;
  std::string client;
};
struct RegisterReplicaResponse {
  uint64_t replica = 0;
  ServerClock clock;
};

// A collection's identity (pull responses, PUT by-name).
struct CollectionIdentity {
  std::string uid;  // 32 hex digits
  std::string name;
  std::string config_hash;  // 16 hex digits
  std::optional<Stamp> deleted;
};

// PUT /v1/collections/by-name/{name}
struct PutCollectionRequest {
  std::string uid;
  boost::json::value config;  // Qdrant's create-collection body as Quiver reads it
};
struct PutCollectionResponse {
  CollectionIdentity collection;
  bool created = false;  // the server adopted the client's uid
  ServerClock clock;
};

// POST /v1/collections/{uid}/push
struct PushRequest {
  uint64_t replica = 0;
  uint64_t from_local_seq = 0;
  uint64_t to_local_seq = 0;
  uint64_t hlc = 0;
  std::vector<PointDelta> points;
};
struct Rejection {
  PointId id;
  std::string reason;  // stale_op, clock_skew, forbidden, invalid, collection_gone
  std::optional<PointDelta> server;  // the server's whole state of the point, or none
  std::string message;
};
struct PushResponse {
  uint64_t acked_local_seq = 0;
  std::vector<Rejection> rejected;
  // The tombstone horizon the batch was checked against (stale_op below it); 0 when the server did not say.
  uint64_t horizon_hlc = 0;
  ServerClock clock;
};

// GET /v1/collections/{uid}/pull?cursor&limit&max_bytes&wait_ms
struct PullRequest {
  std::string cursor;  // empty: from the start of the feed
  // The cursor this catch-up began at (docs/sync.md, "Pull"): registers changed after it are sent. Empty: the
  // cursor. A client keeps it while has_more is true and moves it to the cursor when a pull ends the catch-up.
  std::string since;
  uint64_t limit = 1000;
  uint64_t max_bytes = 4 << 20;
  uint64_t wait_ms = 0;
};
struct PullResponse {
  std::string epoch;
  std::string cursor;
  bool has_more = false;
  uint64_t horizon_hlc = 0;
  uint64_t acked_local_seq = 0;
  CollectionIdentity collection;
  std::vector<PointDelta> points;
  ServerClock clock;
};

// GET /v1/collections/{uid}/snapshot
struct SegmentRef {
  std::string sha256;
  uint64_t bytes = 0;
  uint64_t points = 0;
  std::string url;
};
struct SnapshotManifest {
  uint32_t format = 1;
  std::string epoch;
  uint64_t snapshot_seq = 0;
  uint64_t horizon_hlc = 0;
  boost::json::value config;
  std::string config_hash;
  std::string uid;
  std::vector<SegmentRef> segments;
  ServerClock clock;
};

// GET /v1/collections/{uid}/digest
struct DigestResponse {
  std::string epoch;
  std::string cursor;  // the feed's head the digest was taken at
  uint64_t horizon_hlc = 0;
  uint64_t digest = 0;
  uint64_t points = 0;
  ServerClock clock;
};

// Any error: {"error": ..., "reason": ..., "message": ..., "snapshot": ..., "deleted": ..., "min_protocol": ...}
struct ErrorBody {
  std::string error;    // resync_required, collection_gone, name_conflict, unauthorized, forbidden, invalid, ...
  std::string reason;   // cursor_too_old, epoch_changed, ...
  std::string message;  // for people
  std::string snapshot;
  std::optional<Stamp> deleted;
  uint32_t min_protocol = 0;
  ServerClock clock;
};

std::string Encode(const RegisterReplicaRequest& m);
std::string Encode(const RegisterReplicaResponse& m);
std::string Encode(const PutCollectionRequest& m);
std::string Encode(const PutCollectionResponse& m);
std::string Encode(const PushRequest& m);
std::string Encode(const PushResponse& m);
std::string Encode(const PullResponse& m);
std::string Encode(const SnapshotManifest& m);
std::string Encode(const DigestResponse& m);
std::string Encode(const ErrorBody& m);
boost::json::value PointToJson(const PointDelta& d);

Result<RegisterReplicaRequest> DecodeRegisterReplicaRequest(std::string_view body);
Result<RegisterReplicaResponse> DecodeRegisterReplicaResponse(std::string_view body);
Result<PutCollectionRequest> DecodePutCollectionRequest(std::string_view body);
Result<PutCollectionResponse> DecodePutCollectionResponse(std::string_view body);
Result<PushRequest> DecodePushRequest(std::string_view body);
Result<PushResponse> DecodePushResponse(std::string_view body);
Result<PullResponse> DecodePullResponse(std::string_view body);
Result<SnapshotManifest> DecodeSnapshotManifest(std::string_view body);
Result<DigestResponse> DecodeDigestResponse(std::string_view body);
Result<ErrorBody> DecodeErrorBody(std::string_view body);
// `where` prefixes error messages ("push.points[0]").
Result<PointDelta> PointFromJson(const boost::json::value& v, const std::string& where);

// The pull request's query parameters.
Result<PullRequest> DecodePullQuery(const std::vector<std::pair<std::string, std::string>>& query);
std::vector<std::pair<std::string, std::string>> EncodePullQuery(const PullRequest& r);

}  // namespace quiver::sync

#endif  // QUIVER_SYNC_WIRE_H_
