// quiverd's request handling without a socket: raw bytes parsed as one or more HTTP/1.1 requests by Beast's
// request_parser under the limits the session sets (session.h), then answered by the real Service (router,
// authentication, tenants, access, the request layer, snapshots, the sync endpoint) over an in-memory database
// seeded with two small collections. Two more modes feed quiverd's other parsers: the multipart body of a
// snapshot upload (multipart.h) and the config file (config.h).
//
// Input: byte 0 is the mode. Bits 0-1: 0 or 3 HTTP, 1 multipart (Content-Type, a newline, the body), 2 config
// file (its bytes). For HTTP, bit 2 configures keys (an admin key, a read-only key, a tenant key, a read-only
// tenant key and JWTs signed with the admin key; see kAdminKey below), bit 3 allows CORS from any origin and
// bit 4 sets small limits (1 KB headers, 2 KB bodies, 4 KB uploads) so the 413 and 431 paths are reached.
//
// Checks, per request: every answer has a status Qdrant or the sync protocol uses (never 500), a reason phrase,
// and a body of its content type: Qdrant's {"result", "status": "ok", "time"} or {"status": {"error"}, "time"}
// for JSON (the sync protocol's {"error": ...} under /sync), nothing for 204. No request is left in flight. A
// refused request (status >= 400) leaves the stored data (collections, configs, points, payloads, aliases) as
// it was, and when keys are configured a request without a writing credential never changes it. At the end
// every collection passes Verify. FUZZ_VERBOSE=1 prints each request's answer (to see what a seed reaches).
#include <unistd.h>

#include <boost/beast/http.hpp>
#include <algorithm>
#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config.h"
#include "db/collection_core.h"
#include "fuzz_util.h"
#include "multipart.h"
#include "quiver/api.h"
#include "service.h"

using namespace quiver;
using namespace quiver::server;
namespace http = boost::beast::http;
namespace fs = std::filesystem;

namespace {

// The credentials of the keyed mode (the seeds use them; make_corpus.cc signs its JWTs with kAdminKey).
constexpr std::string_view kAdminKey = "fuzz-admin-key";
constexpr std::string_view kReadKey = "fuzz-read-key";
constexpr std::string_view kTenantKey = "fuzz-tenant-key";
constexpr std::string_view kTenantReadKey = "fuzz-tenant-read-key";

constexpr uint8_t kModeMask = 3, kMultipart = 1, kConfigFile = 2;
constexpr uint8_t kKeys = 4, kCors = 8, kSmallLimits = 16;

// A folder of this process for the server's files (snapshots, tenant ownership, the config mode's file): made
// empty for each input and removed after it (libFuzzer leaves with _Exit, so an atexit handler would not run).
const fs::path& DataFolder() {
  static const fs::path folder = [] {
    // The environment must not add settings to the config mode's.
    for (const char* name : {"QUIVERD_CONFIG", "QUIVERD_DATA", "QUIVERD_API_KEY", "QUIVERD_HOST"}) ::unsetenv(name);
    return fs::temp_directory_path() / ("quiver-fuzz-http-" + std::to_string(::getpid()));
  }();
  return folder;
}

// Empties the folder now and removes it when the input is done.
struct ScopedDataFolder {
  ScopedDataFolder() {
    std::error_code ec;
    fs::remove_all(DataFolder(), ec);
    fs::create_directories(DataFolder());
  }
  ~ScopedDataFolder() {
    std::error_code ec;
    fs::remove_all(DataFolder(), ec);
  }
};

Config MakeConfig(uint8_t mode) {
  Config c;
  c.data = DataFolder().string();
  c.log_requests = false;
  if (mode & kKeys) {
    c.api_key = kAdminKey;
    c.read_only_api_key = kReadKey;
    c.jwt_rbac = true;
    TenantConfig t;
    t.name = "acme";
    t.api_key = kTenantKey;
    t.limits.max_collections = 2;
    t.limits.max_points = 24;
    c.tenants.push_back(t);
    TenantConfig j;
    j.name = "acme-jwt";
    j.jwt_subject = "acme-user";
    j.limits.max_points = 30;
    c.tenants.push_back(j);
    TenantConfig r;
    r.name = "reader";
    r.api_key = kTenantReadKey;
    r.read_only = true;
    c.tenants.push_back(r);
    c.jwt_default_limits.requests_per_second = 1000;
  }
  if (mode & kCors) c.cors_origins = {"*"};
  if (mode & kSmallLimits) {
    c.max_header_kb = 1;
    c.max_body_mb = 2.0 / 1024;
    c.max_upload_mb = 4.0 / 1024;
    c.max_json_depth = 8;
  }
  return c;
}

// "named" (fuzz::SeedConfig) and "single" (one unnamed 4-d Dot vector, alias "alias"), eight points each.
std::unique_ptr<Database> NewDatabase() {
  DatabaseOptions o;
  o.replica_id = 7;
  auto wall = std::make_shared<uint64_t>(1'767'225'600'000ull);
  o.wall_clock_ms = [wall] { return (*wall) += 3; };
  auto db = std::move(*Database::Open(o));
  FUZZ_CHECK_OK(db->CreateCollection("named", fuzz::SeedConfig()));
  CollectionConfig single;
  single.vectors[""] = VectorParams{4, Distance::kDot, IndexKind::kHnsw, std::nullopt, std::nullopt};
  FUZZ_CHECK_OK(db->CreateCollection("single", single));
  FUZZ_CHECK_OK(db->CreateAlias("alias", "single"));
  for (const char* name : {"named", "single"}) {
    auto c = *db->GetCollection(name);
    FUZZ_CHECK_OK(c->CreatePayloadIndex("city", "keyword"));
    std::vector<PointInput> points;
    for (int i = 0; i < 8; ++i) {
      PointInput p;
      p.id = PointId::Number(static_cast<uint64_t>(i));
      if (std::string_view(name) == "named") {
        p.vectors["text"] = {float(i % 3), 1, 0, float(i % 5), 0, 1, 0, 2};
        if (i % 2) p.vectors["image"] = {float(i), 0, 1, 0};
      } else {
        p.vectors[""] = {float(i % 3), 1, float(i % 5), 0.5f};
      }
      p.payload = R"({"city":")" + std::string(i % 2 ? "Oslo" : "Lima") + R"(","n":)" + std::to_string(i) + "}";
      points.push_back(std::move(p));
    }
    FUZZ_CHECK_OK(c->Upsert(points));
  }
  return db;
}

// What a refused request must not change: collections with their info as the API prints it, their registers and
// values, and the aliases.
std::string StoredState(Database& db) {
  std::string out;
  for (const std::string& name : db.ListCollections()) {
    auto c = db.GetCollection(name);
    if (!c.ok()) continue;
    out += name + "\n" + (*c)->core().StateDigest() + "\n";
    auto info = api::Call(db, api::Operation::kGetCollection, api::Target{name, "", ""}, "");
    if (info.ok()) out += api::Print(*info) + "\n";
  }
  for (const auto& [alias, target] : db.ListAliases()) out += alias + "->" + target + "\n";
  return out;
}

// Whether the request carries a credential that may write (as auth.cc reads it): the admin key, the tenant's
// key, or anything shaped like a JWT (the seeds hold JWTs signed with the admin key).
bool MayWrite(const HttpRequest& r) {
  std::string_view key = r.api_key;
  if (key.empty() && std::string_view(r.authorization).substr(0, 7) == "Bearer ") {
    key = std::string_view(r.authorization).substr(7);
  }
  if (key == kAdminKey || key == kTenantKey) return true;
  return std::count(key.begin(), key.end(), '.') == 2;
}

bool KnownStatus(unsigned s) {
  switch (s) {
    case 200: case 204: case 206: case 400: case 401: case 403: case 404: case 405: case 408: case 409:
    case 410: case 413: case 416: case 422: case 426: case 429: case 431: case 503: case 507:
      return true;
    default:
      return false;
  }
}

// A broken check of an answer: the request and the answer, then FUZZ_CHECK's report.
#define REPLY_CHECK(cond)                                                                                  \
  do {                                                                                                     \
    if (!(cond)) {                                                                                         \
      std::fprintf(stderr, "%s %s answered %u %s: %.500s\n", request.method.c_str(), request.target.c_str(), \
                   reply.status, reply.content_type.c_str(), reply.body.c_str());                           \
      FUZZ_CHECK(cond);                                                                                    \
    }                                                                                                      \
  } while (0)

void CheckReply(const HttpRequest& request, const HttpReply& reply) {
  REPLY_CHECK(KnownStatus(reply.status));
  REPLY_CHECK(http::obsolete_reason(static_cast<http::status>(reply.status)) != "<unknown-status>");
  const std::string_view body = reply.shared_body ? std::string_view(*reply.shared_body) : reply.body;
  if (reply.status == 204) {
    REPLY_CHECK(body.empty());
    return;
  }
  if (!reply.file.empty()) {
    REPLY_CHECK(reply.status == 200 && fs::is_regular_file(reply.file));
    return;
  }
  if (reply.content_type != "application/json") {
    REPLY_CHECK(reply.content_type.starts_with("text/plain") || reply.content_type == "application/octet-stream");
    return;
  }
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(body, ec);
  REPLY_CHECK(!ec && v.is_object());
  const boost::json::object& o = v.get_object();
  const boost::json::value* status = o.if_contains("status");
  const bool sync = request.target.starts_with("/sync/");
  if (status == nullptr && sync) {
    // The sync protocol's own messages; its errors name themselves.
    if (reply.status >= 400) REPLY_CHECK(o.contains("error") && o.at("error").is_string());
    return;
  }
  // GET / answers Qdrant's {"title", "version", ...} without the envelope, as Qdrant does.
  if (status == nullptr && request.target.substr(0, request.target.find('?')) == "/" && reply.status == 200) {
    REPLY_CHECK(o.contains("title") && o.contains("version"));
    return;
  }
  REPLY_CHECK(status != nullptr);
  REPLY_CHECK(o.contains("time") && o.at("time").is_number());
  if (reply.status < 300) {
    REPLY_CHECK(status->is_string() && status->get_string() == "ok" && o.contains("result"));
  } else {
    REPLY_CHECK(status->is_object() && status->get_object().contains("error") &&
               status->get_object().at("error").is_string());
  }
}

// One request through the service, as Session::OnBody hands it on. False when the connection would now wait
// (a parked long-poll: answered here by draining, and the connection is done).
bool Serve(Service& service, Database& db, HttpRequest& request, bool keys) {
  const std::string before = StoredState(db);
  std::vector<HttpReply> replies;
  bool parked = false;
  if (Service::IsDeferrable(request.target)) {
    service.HandleAsync(request, [&](HttpReply r) { replies.push_back(std::move(r)); });
    if (replies.empty()) {
      parked = true;
      service.SetDraining();
    }
  } else {
    replies.push_back(service.Handle(request));
  }
  FUZZ_CHECK(replies.size() == 1);
  if (std::getenv("FUZZ_VERBOSE")) {
    std::fprintf(stderr, "%s %s: %u %.200s\n", request.method.c_str(), request.target.c_str(), replies[0].status,
                 replies[0].body.c_str());
  }
  FUZZ_CHECK(service.metrics().requests_in_flight.load() == 0);
  CheckReply(request, replies[0]);
  const bool changed = StoredState(db) != before;
  if (changed && replies[0].status >= 400) {
    std::fprintf(stderr, "refused with %u but changed: %s %s\n", replies[0].status, request.method.c_str(),
                 request.target.c_str());
  }
  FUZZ_CHECK(!(changed && replies[0].status >= 400));
  if (keys && changed) FUZZ_CHECK(MayWrite(request));
  return !parked;
}

// As Session::Refuse: the error reply for a request that was not read whole, then the connection closes.
void Refuse(Service& service, Database& db, const HttpRequest& request, unsigned status) {
  const std::string before = StoredState(db);
  HttpReply reply = service.Reject(request, status, "refused", Service::Clock::now());
  FUZZ_CHECK(reply.status == status);
  FUZZ_CHECK(service.metrics().requests_in_flight.load() == 0);
  CheckReply(request, reply);
  FUZZ_CHECK(StoredState(db) == before);
}

void FuzzHttp(uint8_t mode, std::string_view input) {
  ScopedDataFolder folder;
  const Config config = MakeConfig(mode);
  auto db = NewDatabase();
  // Not Service::Start: its timer thread would expire long-polls at times of its own; Serve answers them.
  Service service(config, *db);
  const uint64_t body_limit = static_cast<uint64_t>(config.max_body_mb * 1024 * 1024);
  const uint64_t upload_limit = static_cast<uint64_t>(config.max_upload_mb * 1024 * 1024);
  boost::beast::error_code ec;
  for (int n = 0; n < 8 && !input.empty(); ++n) {
    HttpRequest request;
    request.remote = "127.0.0.1:40000";
    http::request_parser<http::string_body> parser;
    parser.header_limit(static_cast<uint32_t>(config.max_header_kb * 1024));
    parser.body_limit(std::max(body_limit, upload_limit));
    size_t used = parser.put(boost::asio::buffer(input.data(), input.size()), ec);
    input.remove_prefix(used);
    if (ec == http::error::need_more) break;  // the connection ends mid-head: closed without a reply
    if (ec == http::error::header_limit) return Refuse(service, *db, request, 431);
    if (ec == http::error::body_limit) return Refuse(service, *db, request, 413);
    if (ec) return Refuse(service, *db, request, 400);
    FUZZ_CHECK(parser.is_header_done());
    request.method = std::string(parser.get().method_string());
    request.target = std::string(parser.get().target());
    const bool upload = request.method == "POST" &&
                        request.target.substr(0, request.target.find('?')).ends_with("/snapshots/upload");
    const uint64_t limit = upload ? upload_limit : body_limit;
    if (auto length = parser.content_length(); length && *length > limit) {
      return Refuse(service, *db, request, 413);
    }
    parser.body_limit(limit);
    parser.eager(true);
    while (!parser.is_done()) {
      used = parser.put(boost::asio::buffer(input.data(), input.size()), ec);
      input.remove_prefix(used);
      if (ec == http::error::body_limit) return Refuse(service, *db, request, 413);
      if (ec || used == 0) return;  // a broken or unfinished body: the session closes without a reply
    }
    auto req = parser.release();
    request.api_key = std::string(req["api-key"]);
    request.authorization = std::string(req[http::field::authorization]);
    request.origin = std::string(req[http::field::origin]);
    request.content_type = std::string(req[http::field::content_type]);
    request.access_control_request_headers = std::string(req[http::field::access_control_request_headers]);
    request.replica = std::string(req["x-replica"]);
    request.push_cursor = std::string(req["x-push-cursor"]);
    request.protocol = std::string(req["x-protocol"]);
    request.range = std::string(req[http::field::range]);
    request.body = std::move(req.body());
    if (!Serve(service, *db, request, mode & kKeys) || !req.keep_alive()) break;
  }
  for (const std::string& name : db->ListCollections()) {
    auto c = db->GetCollection(name);
    FUZZ_CHECK_OK(c);
    // (fuzz_request reads every collection every way after its writes; here Verify is enough.)
    auto problems = (*c)->Verify();
    FUZZ_CHECK(problems.ok() && problems->empty());
  }
}

void FuzzMultipart(std::string_view input) {
  const size_t newline = input.find('\n');
  const std::string_view content_type = input.substr(0, newline);
  const std::string body(newline == std::string_view::npos ? std::string_view() : input.substr(newline + 1));
  auto part = MultipartField(content_type, body, "snapshot");
  if (!part.ok()) {
    FUZZ_CHECK(part.status().code() == StatusCode::kInvalidArgument);
    return;
  }
  // A view into the body.
  FUZZ_CHECK(part->data() >= body.data() && part->data() + part->size() <= body.data() + body.size());
}

void FuzzConfig(std::string_view input) {
  ScopedDataFolder folder;
  const std::string file = (DataFolder() / "quiverd.json").string();
  std::ofstream(file, std::ios::binary | std::ios::trunc) << input;
  std::string data = DataFolder().string();
  const char* argv[] = {"quiverd", "--config", file.c_str(), "--data", data.c_str()};
  bool help = true;
  auto config = LoadConfig(5, const_cast<char**>(argv), &help);
  FUZZ_CHECK(!help);
  if (!config.ok()) {
    FUZZ_CHECK(config.status().code() == StatusCode::kInvalidArgument ||
               config.status().code() == StatusCode::kNotFound);
    return;
  }
  FUZZ_CHECK(config->data == data && config->config_file == file);
  FUZZ_CHECK(config->tls_cert.empty() == config->tls_key.empty());
  // A loaded configuration authenticates its own keys.
  Authenticator auth(*config);
  Principal p;
  if (!config->api_key.empty()) {
    FUZZ_CHECK(!auth.Authenticate(config->api_key, "", 0, &p));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  switch (mode & kModeMask) {
    case kMultipart:
      FuzzMultipart(input);
      break;
    case kConfigFile:
      FuzzConfig(input);
      break;
    default:
      FuzzHttp(mode, input);
  }
  return 0;
}
