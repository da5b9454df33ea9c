#include "service.h"

#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <ctime>

#include "json_limits.h"
#include "multipart.h"
#include "sync_endpoint.h"
#include "text/unicode.h"
#include "version.h"

namespace quiver::server {
namespace {

namespace json = boost::json;
using Op = api::Operation;

double Seconds(Service::Clock::time_point start) {
  return std::chrono::duration<double>(Service::Clock::now() - start).count();
}

// "%.6f", formatted from whole microseconds: snprintf's float path costs more than a small request's parse.
std::string TimeText(double seconds) {
  if (!(seconds >= 0) || seconds >= 1e12) {
    char buf[64];
    std::snprintf(buf, sizeof(buf), "%.6f", seconds);
    return buf;
  }
  const auto micros = static_cast<uint64_t>(std::llround(seconds * 1e6));
  char buf[32];
  char* end = std::to_chars(buf, buf + sizeof(buf), micros / 1000000).ptr;
  *end++ = '.';
  const uint64_t fraction = micros % 1000000;
  for (uint64_t scale = 100000; scale > 0; scale /= 10) *end++ = static_cast<char>('0' + fraction / scale % 10);
  return std::string(buf, end);
}

std::string Prefixed(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotSupported:
      return "Wrong input: " + std::string(s.message());
    case StatusCode::kNotFound:
      return "Not found: " + std::string(s.message());
    case StatusCode::kAlreadyExists:
      return "Already exists: " + std::string(s.message());
    default:
      return "Service internal error: " + s.ToString();
  }
}

HttpReply Json(unsigned status, std::string body) {
  HttpReply r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpReply Text(unsigned status, std::string body) {
  HttpReply r;
  r.status = status;
  r.content_type = "text/plain; charset=utf-8";
  r.body = std::move(body);
  return r;
}

std::string Ok(std::string_view result, double seconds) {
  std::string out;
  out.reserve(result.size() + 48);
  out += "{\"result\":";
  out += result;
  out += ",\"status\":\"ok\",\"time\":";
  out += TimeText(seconds);
  out += "}";
  return out;
}

// The envelope around a printed response, printed in place (no copy of the result).
std::string OkPrinted(const api::Response& response, Service::Clock::time_point start) {
  std::string out = "{\"result\":";
  api::Print(response, {}, &out);
  out += ",\"status\":\"ok\",\"time\":";
  out += TimeText(Seconds(start));
  out += "}";
  return out;
}

}  // namespace

unsigned HttpStatusOf(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kNotSupported:
      return 400;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kBusy:
      return 503;
    case StatusCode::kResourceExhausted:
      return 507;
    default:
      return 500;
  }
}

std::string ErrorBody(std::string_view message, double seconds) {
  std::string out = "{\"status\":{\"error\":";
  // Messages quote the request (its path, a collection name, a query parameter), which may be any bytes; the
  // body must stay JSON, and JSON text is UTF-8.
  out += json::serialize(json::string(text::ValidUtf8(message)));
  out += "},\"time\":" + TimeText(seconds) + "}";
  return out;
}

struct Service::Context {
  Context(HttpRequest& r, Clock::time_point s) : request(r), start(s) {}

  HttpRequest& request;
  Clock::time_point start;
  std::string path;
  std::string query_text;
  Query query;
  RouteMatch match;
  Principal principal;
  std::string tenant;  // whose limits apply, "" for none

  HttpReply Error(unsigned status, std::string_view message) const {
    return Json(status, ErrorBody(message, Seconds(start)));
  }
  HttpReply Error(const Status& s) const { return Error(HttpStatusOf(s.code()), Prefixed(s)); }
};

Service::Service(const Config& config, Database& db)
    : config_(config),
      db_(db),
      auth_(config),
      tenants_(config),
      access_(db, tenants_),
      snapshots_(config.data + "/snapshots"),
      sync_(std::make_unique<SyncEndpoint>(config, db, access_, tenants_)) {}

// The sync endpoint first: its timer thread stops and any pull still parked is answered while the metrics and
// the access policy it reports to are alive.
Service::~Service() { sync_.reset(); }

Status Service::Start() {
  QUIVER_RETURN_IF_ERROR(tenants_.Load());
  sync_->Start();
  return Status::OK();
}

void Service::SetDraining() {
  draining_ = true;
  sync_->SetDraining();
}

bool Service::IsDeferrable(std::string_view target) { return target.substr(0, 6) == "/sync/"; }

bool Service::IsLight(std::string_view method, std::string_view target) {
  if (method != "GET") return false;
  const std::string_view path = target.substr(0, target.find('?'));
  return path == "/healthz" || path == "/livez" || path == "/readyz" || path == "/";
}

HttpReply Service::Handle(HttpRequest& request) {
  Context ctx{request, Clock::now()};
  if (std::optional<HttpReply> early = Admit(ctx)) return Finish(ctx, std::move(*early));
  return Finish(ctx, Dispatch(ctx));
}

void Service::HandleAsync(HttpRequest& request, std::function<void(HttpReply)> done) {
  auto ctx = std::make_shared<Context>(request, Clock::now());
  if (std::optional<HttpReply> early = Admit(*ctx)) return done(Finish(*ctx, std::move(*early)));
  if (ctx->match.route->kind != RouteKind::kSync) return done(Finish(*ctx, Dispatch(*ctx)));
  sync_->Handle(request, ctx->principal, ctx->tenant, [this, ctx, done = std::move(done)](HttpReply reply) {
    done(Finish(*ctx, std::move(reply)));
  });
}

std::optional<HttpReply> Service::Admit(Context& ctx) {
  HttpRequest& request = ctx.request;
  metrics_.requests_in_flight.fetch_add(1);
  const size_t q = request.target.find('?');
  ctx.path = request.target.substr(0, q);
  if (q != std::string::npos) ctx.query_text = request.target.substr(q + 1);

  if (request.method == "OPTIONS") {
    HttpReply reply;
    reply.status = 204;
    reply.content_type.clear();
    return reply;
  }
  auto match = MatchRoute(request.method, ctx.path);
  if (!match.ok()) {
    const bool wrong_method = match.status().code() == StatusCode::kFailedPrecondition;
    return ctx.Error(wrong_method ? 405 : 404, match.status().message());
  }
  ctx.match = std::move(*match);
  if (ctx.match.route->kind != RouteKind::kSync) {
    // The sync endpoint reads its own query (its parameters are not Qdrant's).
    auto query = ParseQuery(ctx.query_text);
    if (!query.ok()) return ctx.Error(400, query.status().message());
    ctx.query = std::move(*query);
  }

  const Route& route = *ctx.match.route;
  if (route.need != Need::kNothing) {
    const int64_t now = static_cast<int64_t>(std::time(nullptr));
    if (auto failure = auth_.Authenticate(request.api_key, request.authorization, now, &ctx.principal)) {
      return ctx.Error(failure->http_status, failure->message);
    }
    ctx.tenant = ctx.principal.tenant;
    if (ctx.tenant.empty() && ctx.principal.kind == Principal::Kind::kJwt && !ctx.principal.subject.empty()) {
      ctx.tenant = "jwt:" + ctx.principal.subject;
    }
    if (!ctx.tenant.empty()) {
      tenants_.Count(ctx.tenant, Tenants::Counter::kRequests);
      if (auto wait = tenants_.TakeToken(ctx.tenant, ctx.start)) {
        tenants_.Count(ctx.tenant, Tenants::Counter::kRateLimited);
        HttpReply reply = ctx.Error(429, "Too many requests: tenant '" + ctx.tenant + "' is limited to " +
                                             TimeText(tenants_.LimitsOf(ctx.tenant).requests_per_second) +
                                             " requests per second");
        reply.headers.emplace_back("Retry-After", std::to_string(static_cast<int64_t>(std::ceil(*wait))));
        return reply;
      }
    }
    if (const auto& ve = ctx.principal.value_exists) {
      auto counted = api::Call(db_, Op::kCountPoints, api::Target{ve->collection, "", ""},
                               "{\"exact\":true,\"filter\":" + ve->filter_json + "}");
      if (!counted.ok()) return ctx.Error(403, "Forbidden: Invalid JWT, stateful validation failed");
      if (api::AffectedPoints(*counted) == 0) {
        return ctx.Error(401, "Unauthorized: Invalid JWT, stateful validation failed");
      }
    }
    if (Status s = access_.Check(ctx.principal, route.need, ctx.match.collection); !s.ok()) {
      return ctx.Error(403, s.message());
    }
  }
  return std::nullopt;
}

HttpReply Service::Dispatch(Context& ctx) {
  switch (ctx.match.route->kind) {
    case RouteKind::kApi:
      return RunApi(ctx);
    case RouteKind::kCreateSnapshot:
    case RouteKind::kListSnapshots:
    case RouteKind::kGetSnapshot:
    case RouteKind::kDeleteSnapshot:
    case RouteKind::kUploadSnapshot:
    case RouteKind::kRecoverSnapshot:
      return RunSnapshot(ctx);
    default:
      return RunServiceEndpoint(ctx);
  }
}

HttpReply Service::RunServiceEndpoint(Context& ctx) {
  switch (ctx.match.route->kind) {
    case RouteKind::kRoot: {
      json::object o{{"title", "quiverd - Quiver's server node (Qdrant REST API)"},
                     {"version", kQdrantApiVersion},
                     {"commit", nullptr},
                     {"quiver_version", kQuiverVersion}};
      return Json(200, json::serialize(o));
    }
    case RouteKind::kHealthz:
    case RouteKind::kLivez:
      return Text(200, "healthz check passed");
    case RouteKind::kReadyz:
      if (draining_) return Text(503, "shutting down: not accepting new work");
      return Text(200, "all shards are ready");
    case RouteKind::kMetrics: {
      HttpReply r = Text(200, metrics_.Render(db_, tenants_));
      r.content_type = "text/plain; version=0.0.4";
      return r;
    }
    default:
      return ctx.Error(500, "Service internal error: unrouted endpoint");
  }
}

HttpReply Service::RunApi(Context& ctx) {
  const Op op = ctx.match.route->operation;
  const std::string& body = ctx.request.body;
  if (JsonOpenings(body) > config_.max_json_depth) {
    if (size_t depth = JsonDepth(body); depth > config_.max_json_depth) {
      return ctx.Error(400, "Wrong input: the JSON body is nested " + std::to_string(depth) +
                                " levels deep; the limit is " + std::to_string(config_.max_json_depth));
    }
  }
  if (Status s = access_.CheckQuota(ctx.tenant, *ctx.match.route, ctx.match.collection, ctx.request.body);
      !s.ok()) {
    return ctx.Error(403, s.message());
  }
  const api::Target target{ctx.match.collection, ctx.match.point, ctx.match.field};
  auto result = api::Call(db_, op, target, body);
  if (!result.ok() && op == Op::kDeleteCollection && result.status().IsNotFound()) {
    return Json(200, Ok("false", Seconds(ctx.start)));  // as Qdrant: deleting nothing is not an error
  }
  if (!result.ok()) return ctx.Error(result.status());
  api::Response& response = *result;

  if (op == Op::kCreateCollection && !ctx.tenant.empty()) {
    if (Status s = tenants_.SetOwner(ctx.match.collection, ctx.tenant); !s.ok()) return ctx.Error(s);
  }
  if (op == Op::kDeleteCollection) {
    if (Status s = tenants_.Forget(ctx.match.collection); !s.ok()) return ctx.Error(s);
  }
  // Lists show what the caller may read.
  if (ctx.principal.global < Level::kRead) {
    if (auto* list = std::get_if<api::CollectionList>(&response)) {
      std::erase_if(list->names, [&](const std::string& n) { return !access_.CanRead(ctx.principal, n); });
    }
    if (auto* list = std::get_if<api::AliasList>(&response)) {
      std::erase_if(list->aliases, [&](const auto& a) { return !access_.CanRead(ctx.principal, a.second); });
    }
  }
  return Json(200, OkPrinted(response, ctx.start));
}

HttpReply Service::RunSnapshot(Context& ctx) {
  const std::string& name = ctx.match.collection;
  auto ok_true = [&] { return Json(200, Ok("true", Seconds(ctx.start))); };
  switch (ctx.match.route->kind) {
    case RouteKind::kCreateSnapshot: {
      auto c = db_.GetCollection(name);
      if (!c.ok()) return ctx.Error(c.status());
      auto d = snapshots_.Create(**c);
      if (!d.ok()) return ctx.Error(d.status());
      return Json(200, Ok(SnapshotJson(*d), Seconds(ctx.start)));
    }
    case RouteKind::kListSnapshots: {
      auto c = db_.GetCollection(name);
      if (!c.ok()) return ctx.Error(c.status());
      auto list = snapshots_.List((*c)->name());
      if (!list.ok()) return ctx.Error(list.status());
      std::string out = "[";
      for (size_t i = 0; i < list->size(); ++i) out += (i ? "," : "") + SnapshotJson((*list)[i]);
      out += "]";
      return Json(200, Ok(out, Seconds(ctx.start)));
    }
    case RouteKind::kGetSnapshot: {
      auto path = snapshots_.PathOf(Resolved(name), ctx.match.snapshot);
      if (!path.ok()) return ctx.Error(path.status());
      HttpReply r;
      r.content_type = "application/octet-stream";
      r.file = *path;
      r.headers.emplace_back("Content-Disposition", "attachment; filename=\"" + ctx.match.snapshot + "\"");
      return r;
    }
    case RouteKind::kDeleteSnapshot: {
      if (Status s = snapshots_.Delete(Resolved(name), ctx.match.snapshot); !s.ok()) return ctx.Error(s);
      return ok_true();
    }
    case RouteKind::kUploadSnapshot:
    case RouteKind::kRecoverSnapshot: {
      std::string file_bytes;
      std::string_view bytes;
      std::string checksum;
      if (const std::string* c = ctx.query.Find("checksum")) checksum = *c;
      if (ctx.match.route->kind == RouteKind::kUploadSnapshot) {
        auto part = MultipartField(ctx.request.content_type, ctx.request.body, "snapshot");
        if (!part.ok()) return ctx.Error(part.status());
        bytes = *part;
      } else {
        boost::system::error_code ec;
        json::value v = json::parse(ctx.request.body, ec);
        const json::object* o = ec ? nullptr : v.if_object();
        if (o == nullptr)
          return ctx.Error(400, "Wrong input: recover: expected a JSON object {\"location\": ...}");
        for (const auto& kv : *o) {
          if (kv.key() != "location" && kv.key() != "priority" && kv.key() != "checksum" &&
              kv.key() != "api_key") {
            return ctx.Error(400, "Wrong input: recover: unknown field '" + std::string(kv.key()) + "'");
          }
        }
        const json::value* location = o->if_contains("location");
        if (location == nullptr || !location->is_string()) {
          return ctx.Error(400, "Wrong input: recover.location: expected a string");
        }
        if (const json::value* c = o->if_contains("checksum"); c && c->is_string())
          checksum = c->get_string();
        auto path = snapshots_.ResolveLocation(location->get_string());
        if (!path.ok()) return ctx.Error(path.status());
        auto read = ReadWholeFile(*path);
        if (!read.ok()) return ctx.Error(read.status());
        file_bytes = std::move(*read);
        bytes = file_bytes;
      }
      if (Status s = access_.CheckQuota(ctx.tenant, *ctx.match.route, ctx.match.collection, ctx.request.body);
          !s.ok()) {
        return ctx.Error(403, s.message());
      }
      Status s = RestoreReplacing(db_, name, bytes, checksum);
      if (s.code() == StatusCode::kCorruption)
        return ctx.Error(400, "Wrong input: the snapshot is damaged: " + s.ToString());
      if (!s.ok()) return ctx.Error(s);
      if (!ctx.tenant.empty()) {
        if (Status o = tenants_.SetOwner(name, ctx.tenant); !o.ok()) return ctx.Error(o);
      }
      return ok_true();
    }
    default:
      return ctx.Error(500, "Service internal error: unrouted snapshot endpoint");
  }
}

std::string Service::Resolved(std::string_view name) const {
  auto c = db_.GetCollection(name);
  return c.ok() ? (*c)->name() : std::string(name);
}

HttpReply Service::Reject(const HttpRequest& request, unsigned status, std::string message,
                          Clock::time_point start) {
  HttpRequest copy = request;
  Context ctx{copy, start};
  ctx.path = request.target.substr(0, request.target.find('?'));
  metrics_.requests_in_flight.fetch_add(1);
  return Finish(ctx, ctx.Error(status, message));
}

HttpReply Service::Finish(Context& ctx, HttpReply reply) {
  AddCors(ctx.request, &reply);
  const double seconds = Seconds(ctx.start);
  const char* endpoint = ctx.match.route ? ctx.match.route->pattern : "unknown";
  metrics_.Observe(ctx.request.method, endpoint, reply.status, seconds);
  metrics_.requests_in_flight.fetch_sub(1);
  if (config_.log_requests) Log(ctx, reply, seconds);
  return reply;
}

void Service::AddCors(const HttpRequest& request, HttpReply* reply) const {
  if (request.origin.empty() || config_.cors_origins.empty()) return;
  bool allowed = false;
  for (const std::string& o : config_.cors_origins) allowed |= o == "*" || o == request.origin;
  if (!allowed) return;
  reply->headers.emplace_back("Access-Control-Allow-Origin", request.origin);
  reply->headers.emplace_back("Vary", "Origin");
  if (request.method == "OPTIONS") {
    reply->headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, PUT, PATCH, DELETE, OPTIONS");
    reply->headers.emplace_back("Access-Control-Allow-Headers", request.access_control_request_headers.empty()
                                                                    ? "content-type, api-key, authorization"
                                                                    : request.access_control_request_headers);
    reply->headers.emplace_back("Access-Control-Max-Age", "600");
  } else {
    reply->headers.emplace_back(
        "Access-Control-Expose-Headers",
        "Retry-After, X-Server-Time-Ms, X-Server-HLC, ETag, Content-Range, X-Content-SHA256");
  }
}

namespace {

// `text` as a JSON string, escaped as Boost.JSON's serializer escapes it.
void AppendJsonString(std::string_view raw, std::string* out) {
  // The request's bytes (its path) may be any bytes; a log line is JSON, and JSON text is UTF-8.
  std::string valid;
  std::string_view text = raw;
  if (std::any_of(raw.begin(), raw.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
    valid = text::ValidUtf8(raw);
    text = valid;
  }
  out->push_back('"');
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\b':
        out->append("\\b");
        break;
      case '\f':
        out->append("\\f");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (u < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", u);
          out->append(buf);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

void AppendField(std::string_view name, std::string_view value, std::string* out) {
  out->push_back(',');
  AppendJsonString(name, out);
  out->push_back(':');
  AppendJsonString(value, out);
}

void AppendNumber(std::string_view name, uint64_t value, std::string* out) {
  out->push_back(',');
  AppendJsonString(name, out);
  out->push_back(':');
  char buf[24];
  out->append(buf, std::to_chars(buf, buf + sizeof(buf), value).ptr);
}

}  // namespace

// The line is formatted by hand (no json::object of the fields) and written with one write(2), so each line
// reaches the log whole and at once, even if quiverd is killed right after.
void Service::Log(const Context& ctx, const HttpReply& reply, double seconds) const {
  const auto now = std::chrono::system_clock::now();
  const std::time_t t = std::chrono::system_clock::to_time_t(now);
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char stamp[64];
  std::snprintf(stamp, sizeof(stamp), "{\"time\":\"%04d-%02d-%02dT%02d:%02d:%02d.%03dZ\"", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms));
  std::string text = stamp;
  text.reserve(256);
  AppendField("remote", ctx.request.remote, &text);
  AppendField("method", ctx.request.method, &text);
  AppendField("path", ctx.path, &text);
  AppendField("operation", ctx.match.route ? ctx.match.route->name : "", &text);
  AppendNumber("status", reply.status, &text);
  AppendNumber("duration_us", static_cast<uint64_t>(std::llround(std::max(0.0, seconds) * 1e6)), &text);
  AppendNumber("request_bytes", ctx.request.body.size(), &text);
  AppendNumber("response_bytes", reply.shared_body ? reply.shared_body->size() : reply.body.size(), &text);
  if (!ctx.match.collection.empty()) AppendField("collection", ctx.match.collection, &text);
  if (ctx.match.route && ctx.match.route->need != Need::kNothing) AppendField("auth", ctx.principal.KindName(), &text);
  if (!ctx.tenant.empty()) AppendField("tenant", ctx.tenant, &text);
  if (reply.status >= 400 && reply.content_type == "application/json") {
    boost::system::error_code ec;
    json::value v = json::parse(reply.body, ec);
    if (!ec && v.is_object()) {
      if (const json::value* st = v.get_object().if_contains("status"); st && st->is_object()) {
        if (const json::value* e = st->get_object().if_contains("error")) {
          text += ",\"error\":";
          text += json::serialize(*e);
        }
      }
    }
  }
  text += "}\n";
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(STDOUT_FILENO, text.data() + done, text.size() - done);
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
}

}  // namespace quiver::server
