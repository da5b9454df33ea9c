#include "js_sync.h"

#include <emscripten/bind.h>

#include <boost/json.hpp>
#include <cstdint>
#include <cstdlib>
#include <utility>

#include "payload/json_parse.h"
#include "sync/wire.h"

namespace quiver::js {
namespace json = boost::json;
using emscripten::val;

// ---- JsTransport ----

void JsTransport::Send(sync::SyncRequest r, std::function<void(Result<sync::SyncResponse>)> done) {
  const uint64_t id = ++next_id_;
  pending_.emplace(id, Pending{std::move(done), {}});
  json::array query;
  for (auto& [k, v] : r.query) query.push_back(json::array{json::string(k), json::string(v)});
  host_.call<void>("send", static_cast<double>(id), r.method, r.path, std::string(json::serialize(query)),
                   r.replica, r.push_cursor, r.protocol, r.body, r.collection);
}

char* JsTransport::BodyBuffer(uint64_t id, size_t size) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return nullptr;
  std::string& body = it->second.body;
  if (size > body.size()) {
    // The module has no exceptions: a failed std::string allocation would abort. Ask malloc (which answers
    // null when memory cannot grow) for the room first; the string's allocation then reuses it.
    void* probe = std::malloc(size + 64);
    if (!probe) return nullptr;
    std::free(probe);
  }
  body.resize(size);
  return body.data();
}

bool JsTransport::Complete(uint64_t id, Result<sync::SyncResponse> response) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return false;
  Pending p = std::move(it->second);
  pending_.erase(it);
  if (response.ok()) response->body = std::move(p.body);
  p.done(std::move(response));
  return true;
}

// ---- JsSync ----

namespace {

Result<uint64_t> OptionalU64(const json::object& o, std::string_view key, uint64_t fallback) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return fallback;
  if (auto p = it->value().if_uint64()) return *p;
  if (auto p = it->value().if_int64(); p && *p >= 0) return static_cast<uint64_t>(*p);
  if (auto p = it->value().if_double(); p && *p >= 0 && *p < 9e15) return static_cast<uint64_t>(*p);
  return Status::InvalidArgument("sync." + std::string(key) + ": expected a non-negative number");
}

}  // namespace

int JsSync::Start(JsDatabase& db, const std::string& options_json, val host) {
  Begin();
  if (client_) return Fail(Status::FailedPrecondition("sync: already started"));
  if (!db.database()) return Fail(Status::FailedPrecondition("the database is closed"));
  json::error_code ec;
  json::value parsed = payload::ParseJson(options_json, ec);
  if (ec || !parsed.is_object()) return Fail(Status::InvalidArgument("sync options: expected a JSON object"));
  const json::object& o = parsed.get_object();
  sync::SyncClientOptions options;
  auto cols = o.find("collections");
  if (cols == o.end() || !cols->value().is_array() || cols->value().get_array().empty()) {
    return Fail(Status::InvalidArgument("sync.collections: expected a non-empty array of collection names"));
  }
  for (const json::value& v : cols->value().get_array()) {
    if (!v.is_string() || v.get_string().empty()) {
      return Fail(Status::InvalidArgument("sync.collections: expected collection names (strings)"));
    }
    options.collections.emplace_back(v.get_string());
  }
  if (auto it = o.find("client"); it != o.end() && it->value().is_string()) options.client = it->value().get_string();
  auto initial = OptionalU64(o, "backoff_initial_ms", options.backoff_initial_ms);
  if (!initial.ok()) return Fail(initial.status());
  auto max = OptionalU64(o, "backoff_max_ms", options.backoff_max_ms);
  if (!max.ok()) return Fail(max.status());
  options.backoff_initial_ms = std::max<uint64_t>(1, *initial);
  options.backoff_max_ms = std::max(options.backoff_initial_ms, *max);
  if (auto it = o.find("check_digest"); it != o.end() && it->value().is_bool()) {
    options.check_digest = it->value().get_bool();
  }
  const bool ask = o.contains("on_conflict") && o.at("on_conflict").is_bool() && o.at("on_conflict").get_bool();
  options.on_conflict = [host, ask](const sync::Conflict& c) {
    json::object record{{"collection", c.collection},
                        {"id", c.id.ToString()},
                        {"reason", c.reason},
                        {"local", c.local ? sync::PointToJson(*c.local) : json::value(nullptr)},
                        {"server", c.server ? sync::PointToJson(*c.server) : json::value(nullptr)}};
    // The host is told of every conflict (the 'conflict' event); it asks the app only when it has onConflict.
    record.emplace("ask", ask);
    const std::string answer = host.call<std::string>("conflict", std::string(json::serialize(record)));
    return answer == "reapply_local" ? sync::Resolution::kReapplyLocal : sync::Resolution::kKeepServer;
  };
  options.on_applied = [host](const std::string& collection, const std::vector<PointId>& ids, bool snapshot) {
    json::array list;
    // Ids as text (a number's decimal digits, a UUID's hyphenated form): exact for ids above 2^53.
    for (const PointId& id : ids) list.push_back(json::string(id.ToString()));
    host.call<void>("applied", collection, std::string(json::serialize(list)), snapshot);
  };
  transport_ = std::make_unique<JsTransport>(host);
  client_ = std::make_unique<sync::SyncClient>(&db.database()->core(), transport_.get(), std::move(options));
  return 0;
}

void JsSync::Run(int kind, double wait_ms, bool check_digest, val done) {
  auto report = [done](Status s) {
    done(static_cast<int>(s.code()), std::string(s.message()));
  };
  if (!client_) return report(Status::FailedPrecondition("sync: closed"));
  if (kind < 0 || kind > 2) return report(Status::InvalidArgument("sync: round kind must be 0, 1 or 2"));
  if (!(wait_ms >= 0)) return report(Status::InvalidArgument("sync: wait_ms must be >= 0"));
  client_->Run(static_cast<sync::RoundKind>(kind), static_cast<uint64_t>(wait_ms), check_digest, std::move(report));
}

bool JsSync::CancelWait() { return client_ && client_->CancelWait(); }

std::string JsSync::Stats() const {
  if (!client_) return "{}";
  const sync::SyncStats& s = client_->stats();
  json::object o{{"rounds", s.rounds},
                 {"failedRounds", s.failed_rounds},
                 {"pushedPoints", s.pushed_points},
                 {"pulledPoints", s.pulled_points},
                 {"rejectedPoints", s.rejected_points},
                 {"resyncs", s.resyncs},
                 {"clockRepairs", s.clock_repairs},
                 {"digestMismatches", s.digest_mismatches},
                 {"requests", s.requests}};
  return json::serialize(o);
}

double JsSync::Pending(const std::string& collection) {
  Begin();
  if (!client_) return Fail(Status::FailedPrecondition("sync: closed")), -1;
  auto n = client_->PendingPoints(collection);
  if (!n.ok()) return Fail(n.status()), -1;
  return static_cast<double>(*n);
}

std::string JsSync::Conflicts(const std::string& collection) {
  Begin();
  if (!client_) return Fail(Status::FailedPrecondition("sync: closed")), "";
  json::array out;
  for (const sync::Conflict& c : client_->Conflicts(collection)) {
    out.push_back(json::object{{"id", c.id.ToString()},
                                      {"reason", c.reason},
                               {"local", c.local ? sync::PointToJson(*c.local) : json::value(nullptr)},
                               {"server", c.server ? sync::PointToJson(*c.server) : json::value(nullptr)}});
  }
  return json::serialize(out);
}

int JsSync::ClearConflicts(const std::string& collection) {
  Begin();
  if (!client_) return Fail(Status::FailedPrecondition("sync: closed"));
  return Done(client_->ClearConflicts(collection));
}

double JsSync::BodyBuffer(double id, double size) {
  if (!transport_ || !(size >= 0) || size > 4294967295.0) return 0;
  return static_cast<double>(
      reinterpret_cast<uintptr_t>(transport_->BodyBuffer(static_cast<uint64_t>(id), static_cast<size_t>(size))));
}

void JsSync::Complete(double id, int status, const std::string& content_type, const std::string& sha256) {
  if (!transport_) return;
  sync::SyncResponse r;
  r.status = status;
  r.content_type = content_type;
  r.sha256 = sha256;
  transport_->Complete(static_cast<uint64_t>(id), std::move(r));
}

void JsSync::FailRequest(double id, const std::string& message) {
  if (!transport_) return;
  transport_->Complete(static_cast<uint64_t>(id), Status::IOError(message));
}

void JsSync::Close() {
  if (client_) client_->Close();
  if (transport_) transport_->Drop();
  client_.reset();
  transport_.reset();
}

}  // namespace quiver::js

EMSCRIPTEN_BINDINGS(quiver_sync) {
  using quiver::js::JsDatabase;
  using quiver::js::JsSync;
  emscripten::class_<JsSync>("NativeSync")
      .constructor<>()
      .function("code", +[](JsSync& o) { return o.code(); })
      .function("message", +[](JsSync& o) { return std::string(o.message()); })
      .function("start", &JsSync::Start)
      .function("run", &JsSync::Run)
      .function("cancelWait", &JsSync::CancelWait)
      .function("busy", &JsSync::Busy)
      .function("retryDelayMs", &JsSync::RetryDelayMs)
      .function("stats", &JsSync::Stats)
      .function("pending", &JsSync::Pending)
      .function("conflicts", &JsSync::Conflicts)
      .function("clearConflicts", &JsSync::ClearConflicts)
      .function("bodyBuffer", &JsSync::BodyBuffer)
      .function("complete", &JsSync::Complete)
      .function("fail", &JsSync::FailRequest)
      .function("close", &JsSync::Close);
}
