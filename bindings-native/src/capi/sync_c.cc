// The C API's sync handle (quiver.h, "Sync"): the engine's SyncClient (engine/src/sync/client.h) driven over the
// native HttpTransport (bindings-native/sync), one blocking round per qv_sync_run. Options arrive as JSON and are
// read once here into the client's and the transport's typed options.
#include <atomic>
#include <boost/json.hpp>

#include "capi/capi_internal.h"
#include "http_transport.h"
#include "sync/client.h"
#include "sync/wire.h"

namespace json = boost::json;

struct qv_sync {
  quiver::capi::ErrorSlot error;
  qv_database* db = nullptr;
  std::unique_ptr<quiver::sync::HttpTransport> transport;
  std::unique_ptr<quiver::sync::SyncClient> client;
  quiver::sync::SyncClientOptions options;  // what `client` was made with, to make it anew
  std::vector<std::string> collections;
  std::string api_key;
  qv_sync_token_fn token_fn = nullptr;
  void* token_user = nullptr;
  qv_sync_conflict_fn conflict_fn = nullptr;
  void* conflict_user = nullptr;
  // Set by qv_sync_interrupt until a round has ended because of it.
  std::atomic<bool> interrupt_pending{false};
  // The last round's outcome, for qv_sync_stats_json: "" before the first round, "ok", or the error.
  std::string last_round;
};

namespace quiver::capi {
namespace {

json::value ConflictJson(const sync::Conflict& c) {
  json::object o;
  o["collection"] = c.collection;
  if (c.id.is_uuid()) {
    o["id"] = c.id.ToString();
  } else {
    o["id"] = c.id.number();
  }
  o["reason"] = c.reason;
  o["local"] = c.local ? sync::PointToJson(*c.local) : json::value(nullptr);
  o["server"] = c.server ? sync::PointToJson(*c.server) : json::value(nullptr);
  return o;
}

Result<uint64_t> ReadCount(const json::value& v, const char* key, uint64_t max) {
  if (const auto* i = v.if_int64(); i && *i >= 0 && static_cast<uint64_t>(*i) <= max) return uint64_t(*i);
  if (const auto* u = v.if_uint64(); u && *u <= max) return *u;
  return Status::InvalidArgument(std::string("sync options: ") + key + ": expected an integer from 0 to " +
                                 std::to_string(max));
}

Result<std::string> ReadString(const json::value& v, const char* key) {
  if (!v.is_string()) return Status::InvalidArgument(std::string("sync options: ") + key + ": expected a string");
  return std::string(v.get_string());
}

// Reads options_json into the handle, the transport's and the client's options.
Status ReadOptions(const char* text, qv_sync* s, sync::HttpTransportOptions* t, sync::SyncClientOptions* o) {
  if (!text || !*text) return Status::OK();
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return Status::InvalidArgument(std::string("sync options: not JSON: ") + ec.message());
  const json::object* obj = v.if_object();
  if (!obj) return Status::InvalidArgument("sync options: expected a JSON object");
  for (const auto& kv : *obj) {
    const std::string_view key = kv.key();
    const json::value& val = kv.value();
    if (key == "collections") {
      const json::array* names = val.if_array();
      if (!names) return Status::InvalidArgument("sync options: collections: expected an array of names");
      for (size_t i = 0; i < names->size(); ++i) {
        if (!(*names)[i].is_string() || (*names)[i].get_string().empty()) {
          return Status::InvalidArgument("sync options: collections[" + std::to_string(i) +
                                         "]: expected a collection name");
        }
        s->collections.emplace_back((*names)[i].get_string());
      }
      if (s->collections.empty()) return Status::InvalidArgument("sync options: collections: the list is empty");
    } else if (key == "api_key") {
      QUIVER_ASSIGN_OR_RETURN(s->api_key, ReadString(val, "api_key"));
    } else if (key == "wait_ms") {
      QUIVER_ASSIGN_OR_RETURN(o->wait_ms, ReadCount(val, "wait_ms", 25'000));
    } else if (key == "ca_file") {
      QUIVER_ASSIGN_OR_RETURN(t->ca_file, ReadString(val, "ca_file"));
    } else if (key == "verify_tls") {
      if (!val.is_bool()) return Status::InvalidArgument("sync options: verify_tls: expected true or false");
      t->verify_peer = val.get_bool();
    } else if (key == "timeout_ms") {
      QUIVER_ASSIGN_OR_RETURN(t->timeout_ms, ReadCount(val, "timeout_ms", 3'600'000));
      if (t->timeout_ms == 0) return Status::InvalidArgument("sync options: timeout_ms: must be above 0");
    } else if (key == "client") {
      QUIVER_ASSIGN_OR_RETURN(o->client, ReadString(val, "client"));
    } else {
      return Status::InvalidArgument("sync options: unknown option '" + std::string(key) +
                                     "' (collections, api_key, wait_ms, ca_file, verify_tls, timeout_ms, client)");
    }
  }
  return Status::OK();
}

Status CheckOpen(qv_sync* s) {
  if (s->db->closed) return Status::FailedPrecondition("sync: the database is closed");
  return Status::OK();
}

// The collections a NULL argument stands for, or the one named.
std::vector<std::string> Chosen(qv_sync* s, const char* collection) {
  if (collection) return {collection};
  return s->collections;
}

}  // namespace
}  // namespace quiver::capi

using quiver::Result;
using quiver::Status;
using namespace quiver::capi;

extern "C" {

int qv_sync_open(qv_database* db, const char* url, const char* options_json, qv_sync** out) {
  if (!db || !out) return QV_MISUSE;
  *out = nullptr;
  return Guard(&db->error, [&]() -> Status {
    if (!url) return Misuse("url is NULL");
    if (db->closed) return Status::FailedPrecondition("the database is closed");
    auto s = std::make_unique<qv_sync>();
    s->db = db;
    quiver::sync::HttpTransportOptions t;
    t.base_url = url;
    t.user_agent = "quiver-c/" QUIVER_VERSION;
    quiver::sync::SyncClientOptions o;
    o.client = "quiver-c";
    QUIVER_RETURN_IF_ERROR(ReadOptions(options_json, s.get(), &t, &o));
    if (s->collections.empty()) {
      s->collections = db->db->ListCollections();
      if (s->collections.empty()) {
        return Status::InvalidArgument("sync: the database has no collections (create them, or name them in "
                                       "\"collections\")");
      }
    }
    QUIVER_ASSIGN_OR_RETURN(s->transport, quiver::sync::HttpTransport::Create(std::move(t)));
    o.collections = s->collections;
    qv_sync* h = s.get();
    o.get_token = [h](bool refresh) -> Result<std::string> {
      if (!h->token_fn) return h->api_key;
      const char* token = h->token_fn(h->token_user, refresh ? 1 : 0);
      if (!token) return Status::FailedPrecondition("sync: the token callback returned no token");
      return std::string(token);
    };
    o.on_conflict = [h](const quiver::sync::Conflict& c) {
      if (!h->conflict_fn) return quiver::sync::Resolution::kKeepServer;
      const std::string text = json::serialize(ConflictJson(c));
      return h->conflict_fn(h->conflict_user, text.c_str()) == QV_SYNC_REAPPLY_LOCAL
                 ? quiver::sync::Resolution::kReapplyLocal
                 : quiver::sync::Resolution::kKeepServer;
    };
    s->options = o;
    s->client = std::make_unique<quiver::sync::SyncClient>(&db->db->core(), s->transport.get(), std::move(o));
    *out = s.release();
    return Status::OK();
  });
}

int qv_sync_set_token_callback(qv_sync* sync, qv_sync_token_fn fn, void* user_data) {
  if (!sync) return QV_MISUSE;
  return Guard(&sync->error, [&]() -> Status {
    sync->token_fn = fn;
    sync->token_user = user_data;
    // The client asks for its first token when it is made: before the first round, make it anew so that the
    // callback gives that token. Later, the callback is asked at the next 401.
    if (sync->client->stats().rounds == 0) {
      sync->client = std::make_unique<quiver::sync::SyncClient>(&sync->db->db->core(), sync->transport.get(),
                                                                sync->options);
    }
    return Status::OK();
  });
}

int qv_sync_set_conflict_callback(qv_sync* sync, qv_sync_conflict_fn fn, void* user_data) {
  if (!sync) return QV_MISUSE;
  sync->conflict_fn = fn;
  sync->conflict_user = user_data;
  return sync->error.Set(QV_OK, "");
}

int qv_sync_run(qv_sync* sync) {
  if (!sync) return QV_MISUSE;
  return Guard(&sync->error, [&]() -> Status {
    QUIVER_RETURN_IF_ERROR(CheckOpen(sync));
    // The transport blocks, so the round ends (and `done` runs) before Sync returns.
    Status result = Status::Internal("sync: the round did not end");
    sync->client->Sync([&](Status s) { result = std::move(s); });
    // An interrupt is spent by the round it ended; one that came after a successful round ends the next.
    if (!result.ok() && sync->interrupt_pending.exchange(false)) sync->transport->Resume();
    sync->last_round = result.ok() ? "ok" : result.ToString();
    return result;
  });
}

int qv_sync_interrupt(qv_sync* sync) {
  if (!sync) return QV_MISUSE;
  sync->interrupt_pending.store(true);
  sync->transport->Interrupt();
  return QV_OK;
}

uint64_t qv_sync_retry_delay_ms(const qv_sync* sync) { return sync ? sync->client->RetryDelayMs() : 0; }

int qv_sync_stats_json(qv_sync* sync, char** out) {
  if (!sync || !out) return QV_MISUSE;
  *out = nullptr;
  return Guard(&sync->error, [&]() -> Status {
    const quiver::sync::SyncStats& st = sync->client->stats();
    json::object o;
    o["rounds"] = st.rounds;
    o["failed_rounds"] = st.failed_rounds;
    o["pushed_points"] = st.pushed_points;
    o["pulled_points"] = st.pulled_points;
    o["rejected_points"] = st.rejected_points;
    o["resyncs"] = st.resyncs;
    o["clock_repairs"] = st.clock_repairs;
    o["digest_mismatches"] = st.digest_mismatches;
    o["requests"] = st.requests;
    o["connections"] = sync->transport->connections();
    o["retry_delay_ms"] = sync->client->RetryDelayMs();
    o["last_round"] = sync->last_round.empty() ? json::value(nullptr) : json::value(sync->last_round);
    return Dup(json::serialize(o), out);
  });
}

int qv_sync_conflicts_json(qv_sync* sync, const char* collection, char** out) {
  if (!sync || !out) return QV_MISUSE;
  *out = nullptr;
  return Guard(&sync->error, [&]() -> Status {
    QUIVER_RETURN_IF_ERROR(CheckOpen(sync));
    json::array all;
    for (const std::string& name : Chosen(sync, collection)) {
      if (!sync->db->db->GetCollection(name).ok()) return Status::NotFound("sync: no collection '" + name + "'");
      for (const quiver::sync::Conflict& c : sync->client->Conflicts(name)) all.push_back(ConflictJson(c));
    }
    return Dup(json::serialize(all), out);
  });
}

int qv_sync_clear_conflicts(qv_sync* sync, const char* collection) {
  if (!sync) return QV_MISUSE;
  return Guard(&sync->error, [&]() -> Status {
    QUIVER_RETURN_IF_ERROR(CheckOpen(sync));
    for (const std::string& name : Chosen(sync, collection)) {
      QUIVER_RETURN_IF_ERROR(sync->client->ClearConflicts(name));
    }
    return Status::OK();
  });
}

const char* qv_sync_errmsg(const qv_sync* sync) { return sync ? sync->error.message.c_str() : ""; }
int qv_sync_errcode(const qv_sync* sync) { return sync ? sync->error.code : QV_OK; }

void qv_sync_destroy(qv_sync* sync) {
  if (!sync) return;
  try {
    sync->client->Close();
  } catch (...) {
  }
  delete sync;
}

}  // extern "C"
