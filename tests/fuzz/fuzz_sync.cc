// The sync protocol's messages (engine/src/sync/wire.h, codec.h; docs/sync.md) through their decoders and, when
// they reach it, the code that applies them: the server's SyncService for registrations, collection identities
// and pushes, and a SyncClient's apply of a pull page.
//
// Input: byte 0 picks the kind (modulo 13); the rest is the message body.
//   0-9  a message decoder: register request, register response, put-collection request and response, push
//        request and response, pull response, snapshot manifest, digest response, error body
//   10   pull query parameters, one "key=value" a line
//   11   the codec's text forms (hex16, stamp, uid, cursor, base64 of bytes, floats and u32s), the body whole
//   12   a pull response handed to a SyncClient in the middle of a round, in place of the server's first page
// Kinds 0, 2 and 4 also go to a SyncService over a small database (sync_world.h): a registration, an identity
// of a new collection, a push to "docs" by the replica the push names (registered first).
//
// Checks: a decoder fails only with InvalidArgument; a decoded message encodes to bytes that decode and encode
// to the same bytes (round trip); the codec's parsers accept only canonical text (parse then print gives the
// input). The service answers with a status of the protocol and a body the client's decoders read (the
// response type for 200, an error body otherwise); a refused request changes nothing stored; a push changes
// no point it rejected (ids pushed once) and the same push again changes nothing (idempotent). The client's
// round ends; a page it cannot decode changes nothing; its database stays consistent and passes Verify.
// FUZZ_VERBOSE=1 prints the service's answers and the client's rounds (to see what a seed reaches).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "db/collection_core.h"
#include "fuzz_util.h"
#include "quiver/api.h"
#include "sync/codec.h"
#include "sync/wire.h"
#include "sync_world.h"

using namespace quiver;
using namespace quiver::sync;

namespace {

constexpr size_t kKinds = 13;

template <typename T>
void RoundTrip(Result<T> (*decode)(std::string_view), std::string_view body) {
  auto m = decode(body);
  if (!m.ok()) {
    FUZZ_CHECK(m.status().code() == StatusCode::kInvalidArgument);
    return;
  }
  const std::string once = Encode(*m);
  auto again = decode(once);
  if (!again.ok()) std::fprintf(stderr, "re-decoding %s: %s\n", once.c_str(), again.status().ToString().c_str());
  FUZZ_CHECK_OK(again);
  const std::string twice = Encode(*again);
  if (twice != once) std::fprintf(stderr, "encoded\n%s\nthen\n%s\n", once.c_str(), twice.c_str());
  FUZZ_CHECK(twice == once);
}

void PullQuery(std::string_view body) {
  std::vector<std::pair<std::string, std::string>> query;
  while (!body.empty()) {
    const size_t nl = body.find('\n');
    const std::string_view line = body.substr(0, nl);
    const size_t eq = line.find('=');
    query.emplace_back(std::string(line.substr(0, eq)), eq == std::string_view::npos ? "" : std::string(line.substr(eq + 1)));
    body = nl == std::string_view::npos ? std::string_view() : body.substr(nl + 1);
  }
  auto r = DecodePullQuery(query);
  if (!r.ok()) {
    FUZZ_CHECK(r.status().code() == StatusCode::kInvalidArgument);
    return;
  }
  const auto once = EncodePullQuery(*r);
  auto again = DecodePullQuery(once);
  FUZZ_CHECK_OK(again);
  FUZZ_CHECK(EncodePullQuery(*again) == once);
}

void Codec(std::string_view s) {
  if (auto v = ParseHex16(s)) FUZZ_CHECK(Hex16(*v) == s);
  if (auto v = ParseStamp(s)) FUZZ_CHECK(StampText(*v) == s);
  if (auto v = ParseId128(s)) FUZZ_CHECK(Id128Text(*v) == s);
  if (auto v = ParseCursor(s)) FUZZ_CHECK(CursorText(*v) == s);
  if (auto v = Base64Decode(s)) FUZZ_CHECK(Base64Encode(*v) == s);
  if (auto v = Base64ToFloats(s)) FUZZ_CHECK(FloatsToBase64(*v) == s);
  if (auto v = Base64ToU32s(s)) FUZZ_CHECK(U32sToBase64(*v) == s);
  // And the printers' output parses back.
  const std::string bytes(s);
  FUZZ_CHECK(Base64Decode(Base64Encode(bytes)) == bytes);
}

// What a refused request must not change: the collections, their registers and the aliases.
std::string Stored(Database& db) {
  std::string out;
  for (const std::string& name : db.ListCollections()) {
    auto c = db.GetCollection(name);
    if (c.ok()) out += name + "\n" + (*c)->core().StateDigest() + "\n";
  }
  for (const auto& [alias, target] : db.ListAliases()) out += alias + "->" + target + "\n";
  return out;
}

std::string PointText(Database& db, const PointId& id) {
  auto r = api::Call(db, api::Operation::kGetPoint, api::Target{"docs", id.ToString(), ""}, "");
  return r.ok() ? api::Print(*r) : std::string(r.status().message());
}

// The service's answer: a protocol status, and a body the client reads.
template <typename T>
void CheckAnswer(const SyncResponse& r, Result<T> (*decode)(std::string_view)) {
  if (std::getenv("FUZZ_VERBOSE")) std::fprintf(stderr, "service: %d %.300s\n", r.status, r.body.c_str());
  switch (r.status) {
    case 200: case 400: case 401: case 403: case 404: case 405: case 409: case 410: case 413: case 426:
      break;
    default:
      std::fprintf(stderr, "status %d: %s\n", r.status, r.body.c_str());
      FUZZ_CHECK(false);
  }
  if (r.status == 200) {
    auto m = decode(r.body);
    if (!m.ok()) std::fprintf(stderr, "answer %s: %s\n", r.body.c_str(), m.status().ToString().c_str());
    FUZZ_CHECK_OK(m);
  } else {
    auto e = DecodeErrorBody(r.body);
    FUZZ_CHECK_OK(e);
    FUZZ_CHECK(!e->error.empty());
  }
}

// Every collection of `db` answers reads and passes Verify.
void CheckCollections(Database& db) {
  for (const std::string& name : db.ListCollections()) {
    auto c = db.GetCollection(name);
    FUZZ_CHECK_OK(c);
    fuzz::ExerciseCollection(**c, /*check_filters=*/false);
    auto problems = (*c)->Verify();
    FUZZ_CHECK(problems.ok() && problems->empty());
  }
}

void ServerApply(size_t kind, std::string_view body) {
  fuzz::SyncWorld w(/*with_client=*/false);
  Database& db = *w.server_db;
  if (kind == 0) {
    const std::string before = Stored(db);
    auto r = w.Call("POST", "/v1/replicas", std::string(body), 0);
    CheckAnswer(r, DecodeRegisterReplicaResponse);
    FUZZ_CHECK(Stored(db) == before);  // a registration writes no collection
    return;
  }
  if (kind == 2) {
    const std::string uid = w.Identify(fuzz::kClientReplica);
    FUZZ_CHECK(!uid.empty());
    const std::string before = Stored(db);
    auto r = w.Call("PUT", "/v1/collections/by-name/fresh", std::string(body), fuzz::kClientReplica);
    CheckAnswer(r, DecodePutCollectionResponse);
    if (r.status != 200) FUZZ_CHECK(Stored(db) == before);
    return;
  }
  // A push, by the replica it names.
  auto m = DecodePushRequest(body);
  const uint64_t replica = m.ok() && m->replica != 0 ? m->replica : fuzz::kClientReplica;
  const std::string uid = w.Identify(replica);
  FUZZ_CHECK(!uid.empty());
  std::map<PointId, int> pushed;
  std::map<PointId, std::string> points;
  if (m.ok()) {
    for (const PointDelta& p : m->points) ++pushed[p.id];
    for (const auto& [id, n] : pushed) points[id] = PointText(db, id);
  }
  const std::string before = Stored(db);
  auto r = w.Call("POST", "/v1/collections/" + uid + "/push", std::string(body), replica);
  CheckAnswer(r, DecodePushResponse);
  if (r.status != 200) {
    FUZZ_CHECK(Stored(db) == before);
    return;
  }
  auto answer = DecodePushResponse(r.body);
  for (const Rejection& rejected : answer->rejected) {
    auto it = pushed.find(rejected.id);
    FUZZ_CHECK(it != pushed.end());
    if (it->second == 1) FUZZ_CHECK(PointText(db, rejected.id) == points[rejected.id]);
  }
  const std::string after = Stored(db);
  auto again = w.Call("POST", "/v1/collections/" + uid + "/push", std::string(body), replica);
  CheckAnswer(again, DecodePushResponse);
  FUZZ_CHECK(Stored(db) == after);
  CheckCollections(db);
}

void ClientPull(std::string_view body) {
  fuzz::SyncWorld w(/*with_client=*/true);
  Database& db = *w.client_db;
  bool replaced = false;
  std::string before;
  w.transport->hook = [&](const SyncRequest& request, SyncResponse* response) {
    if (replaced || request.method != "GET" || !request.path.ends_with("/pull")) return;
    replaced = true;
    before = Stored(db);
    *response = SyncResponse(200, "application/json", std::string(body));
  };
  const Status round = w.Round();  // errors are allowed; the round must end
  if (std::getenv("FUZZ_VERBOSE")) {
    std::fprintf(stderr, "client: page %s, round %s\n", replaced ? "replaced" : "not reached", round.ToString().c_str());
  }
  if (replaced && !DecodePullResponse(body).ok()) FUZZ_CHECK(Stored(db) == before);
  CheckCollections(db);
  // A second round against the real server ends too.
  w.transport->hook = nullptr;
  (void)w.Round();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const size_t kind = data[0] % kKinds;
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (kind) {
    case 0: RoundTrip(DecodeRegisterReplicaRequest, body); break;
    case 1: RoundTrip(DecodeRegisterReplicaResponse, body); break;
    case 2: RoundTrip(DecodePutCollectionRequest, body); break;
    case 3: RoundTrip(DecodePutCollectionResponse, body); break;
    case 4: RoundTrip(DecodePushRequest, body); break;
    case 5: RoundTrip(DecodePushResponse, body); break;
    case 6: RoundTrip(DecodePullResponse, body); break;
    case 7: RoundTrip(DecodeSnapshotManifest, body); break;
    case 8: RoundTrip(DecodeDigestResponse, body); break;
    case 9: RoundTrip(DecodeErrorBody, body); break;
    case 10: PullQuery(body); break;
    case 11: Codec(body); break;
    case 12: ClientPull(body); break;
  }
  if (kind == 0 || kind == 2 || kind == 4) ServerApply(kind, body);
  return 0;
}
