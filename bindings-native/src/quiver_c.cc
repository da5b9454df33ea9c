// The C API (quiver.h) over the engine's C++ API. Every entry point catches every exception (std::bad_alloc
// included) and turns it into a status code and a message on the handle; no exception leaves this file.
#include <algorithm>
#include <boost/json.hpp>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <vector>

#include "quiver.h"
#include "quiver/collection.h"
#include "quiver/database.h"
#include "quiver/json.h"
#include "quiver/thread_pool.h"

namespace {

using quiver::Status;
using quiver::StatusCode;
template <typename T>
using Result = quiver::Result<T>;

// A handle's last error. The message pointer handed out stays valid until the next failed call on the handle.
struct ErrorSlot {
  mutable std::mutex mu;
  int code = QV_OK;
  std::string message;

  int Set(int c, std::string_view msg) {
    std::lock_guard<std::mutex> lock(mu);
    code = c;
    if (c != QV_OK) {
      try {
        message.assign(msg);
      } catch (...) {
        message.clear();
      }
    }
    return c;
  }
  int Set(const Status& s) {
    if (s.ok()) return Set(QV_OK, "");
    return Set(static_cast<int>(s.code()), s.message());
  }
};

}  // namespace

struct qv_options {
  quiver::DatabaseOptions options;
  size_t threads = 0;
  bool auto_threads = false;
};

struct qv_database {
  ErrorSlot error;
  std::unique_ptr<quiver::ThreadPool> pool;  // declared before db: destroyed after it
  std::unique_ptr<quiver::Database> db;
  bool closed = false;
};

struct qv_collection {
  ErrorSlot error;
  std::shared_ptr<quiver::Collection> collection;
};

struct qv_result {
  enum class Kind { kScored, kRecords, kScroll };
  Kind kind = Kind::kScored;
  std::vector<quiver::ScoredPoint> points;
  std::vector<std::string> ids;  // text of each id
  std::optional<quiver::PointId> next_offset;
  std::string json;
  bool json_built = false;
};

namespace {

// Runs `body` (returning a Status), storing its outcome on `slot`. Catches everything.
template <typename F>
int Guard(ErrorSlot* slot, F&& body) {
  try {
    return slot->Set(body());
  } catch (const std::bad_alloc&) {
    return slot->Set(QV_NO_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return slot->Set(QV_INTERNAL, std::string("unexpected exception: ") + e.what());
  } catch (...) {
    return slot->Set(QV_INTERNAL, "unexpected exception");
  }
}

Status Misuse(const char* what) { return Status(StatusCode::kInvalidArgument, what); }

// Copies `s` into a malloc'd NUL-terminated string the caller frees with qv_free.
Status Dup(const std::string& s, char** out) {
  char* p = static_cast<char*>(std::malloc(s.size() + 1));
  if (!p) throw std::bad_alloc();
  std::memcpy(p, s.data(), s.size());
  p[s.size()] = '\0';
  *out = p;
  return Status::OK();
}

std::string_view Str(const char* s) { return s ? std::string_view(s) : std::string_view(); }

Status CheckDb(qv_database* db) {
  if (db->closed) return Status::FailedPrecondition("the database is closed");
  return Status::OK();
}

std::vector<quiver::PointId> Ids(const uint64_t* ids, size_t count) {
  std::vector<quiver::PointId> out;
  out.reserve(count);
  for (size_t i = 0; i < count; ++i) out.push_back(quiver::PointId::Number(ids[i]));
  return out;
}

// Points chosen by ids, or by the filter when it is not NULL.
Result<quiver::PointsSelector> Selector(const uint64_t* ids, size_t count, const char* filter_json);

quiver::PayloadSelector PayloadFlags(unsigned flags) {
  return (flags & QV_WITH_PAYLOAD) ? quiver::PayloadSelector::All() : quiver::PayloadSelector::None();
}
quiver::VectorSelector VectorFlags(unsigned flags) {
  return (flags & QV_WITH_VECTOR) ? quiver::VectorSelector::All() : quiver::VectorSelector::None();
}

std::unique_ptr<qv_result> MakeResult(qv_result::Kind kind, std::vector<quiver::ScoredPoint> points) {
  auto r = std::make_unique<qv_result>();
  r->kind = kind;
  r->points = std::move(points);
  r->ids.reserve(r->points.size());
  for (const auto& p : r->points) r->ids.push_back(p.id.ToString());
  return r;
}

std::vector<quiver::ScoredPoint> FromRecords(std::vector<quiver::Record> records) {
  std::vector<quiver::ScoredPoint> out;
  out.reserve(records.size());
  for (auto& rec : records) {
    quiver::ScoredPoint p;
    p.id = rec.id;
    p.payload = std::move(rec.payload);
    p.vectors = std::move(rec.vectors);
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<quiver::Record> ToRecords(const std::vector<quiver::ScoredPoint>& points) {
  std::vector<quiver::Record> out;
  out.reserve(points.size());
  for (const auto& p : points) out.push_back(quiver::Record{p.id, p.payload, p.vectors});
  return out;
}

Result<std::string> ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) return Status::NotFound("cannot open '" + path + "'");
  std::string data(static_cast<size_t>(in.tellg()), '\0');
  in.seekg(0);
  in.read(data.data(), static_cast<std::streamsize>(data.size()));
  if (!in) return Status::IOError("cannot read '" + path + "'");
  return data;
}

Status WriteWholeFile(const std::string& path, const std::string& data) {
  const std::string tmp = path + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) return Status::IOError("cannot create '" + tmp + "': " + std::strerror(errno));
  bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size();
  ok = (std::fflush(f) == 0) && ok;
  ok = (std::fclose(f) == 0) && ok;
  if (!ok) {
    std::remove(tmp.c_str());
    return Status::IOError("cannot write '" + tmp + "'");
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Status::IOError("cannot rename '" + tmp + "' to '" + path + "'");
  }
  return Status::OK();
}

Result<quiver::PointsSelector> Selector(const uint64_t* ids, size_t count, const char* filter_json) {
  if (filter_json) return quiver::PointsSelector::Filter(filter_json);
  if (count && !ids) return Misuse("ids is NULL but count is not 0");
  return quiver::PointsSelector::Ids(Ids(ids, count));
}

// The common shape of a collection entry point: misuse checks, then the body, guarded.
#define QV_COLLECTION_ENTRY(c)                  \
  if (!(c)) return QV_MISUSE;                   \
  ErrorSlot* slot_ = &(c)->error;               \
  quiver::Collection& coll_ = *(c)->collection; \
  (void)coll_;

Status SetCount(Result<size_t> r, uint64_t* out) {
  if (!r.ok()) return r.status();
  if (out) *out = *r;
  return Status::OK();
}

}  // namespace

extern "C" {

const char* qv_version(void) { return QUIVER_VERSION; }
int qv_version_number(void) { return QUIVER_VERSION_NUMBER; }

const char* qv_status_name(int code) {
  switch (code) {
    case QV_OK:
      return "ok";
    case QV_INVALID_ARGUMENT:
      return "invalid argument";
    case QV_NOT_FOUND:
      return "not found";
    case QV_ALREADY_EXISTS:
      return "already exists";
    case QV_CORRUPTION:
      return "corruption";
    case QV_IO_ERROR:
      return "I/O error";
    case QV_NOT_SUPPORTED:
      return "not supported";
    case QV_FAILED_PRECONDITION:
      return "failed precondition";
    case QV_BUSY:
      return "busy";
    case QV_RESOURCE_EXHAUSTED:
      return "resource exhausted";
    case QV_INTERNAL:
      return "internal error";
    case QV_NO_MEMORY:
      return "out of memory";
    case QV_MISUSE:
      return "API misuse";
    default:
      return "unknown";
  }
}

void qv_free(void* p) { std::free(p); }

// ---- Options ----

int qv_options_create(qv_options** out) {
  if (!out) return QV_MISUSE;
  *out = new (std::nothrow) qv_options();
  return *out ? QV_OK : QV_NO_MEMORY;
}

int qv_options_set(qv_options* options, const char* key, const char* value) {
  if (!options || !key || !value) return QV_MISUSE;
  try {
    std::string_view k(key), v(value);
    auto parse_bool = [&](bool* out) {
      if (v == "true" || v == "1")
        *out = true;
      else if (v == "false" || v == "0")
        *out = false;
      else
        return false;
      return true;
    };
    auto parse_size = [&](size_t* out) {
      if (v.empty() || v.size() > 18) return false;
      size_t n = 0;
      for (char ch : v) {
        if (ch < '0' || ch > '9') return false;
        n = n * 10 + size_t(ch - '0');
      }
      *out = n;
      return true;
    };
    if (k == "durability") {
      if (v == "sync")
        options->options.durability = quiver::Durability::kSync;
      else if (v == "batched")
        options->options.durability = quiver::Durability::kBatched;
      else if (v == "none")
        options->options.durability = quiver::Durability::kNone;
      else
        return QV_INVALID_ARGUMENT;
      return QV_OK;
    }
    if (k == "read_only") return parse_bool(&options->options.read_only) ? QV_OK : QV_INVALID_ARGUMENT;
    if (k == "auto_optimize")
      return parse_bool(&options->options.auto_optimize) ? QV_OK : QV_INVALID_ARGUMENT;
    if (k == "segment_points") {
      size_t n = 0;
      if (!parse_size(&n) || n == 0) return QV_INVALID_ARGUMENT;
      options->options.segment_points = n;
      return QV_OK;
    }
    if (k == "threads") {
      if (v == "auto") {
        options->auto_threads = true;
        return QV_OK;
      }
      size_t n = 0;
      if (!parse_size(&n) || n > 1024) return QV_INVALID_ARGUMENT;
      options->auto_threads = false;
      options->threads = n;
      return QV_OK;
    }
    return QV_INVALID_ARGUMENT;
  } catch (...) {
    return QV_NO_MEMORY;
  }
}

void qv_options_destroy(qv_options* options) { delete options; }

// ---- Database ----

int qv_open(const char* path, const qv_options* options, qv_database** out, char** errmsg) {
  if (errmsg) *errmsg = nullptr;
  if (!out) return QV_MISUSE;
  *out = nullptr;
  auto fail = [&](int code, const std::string& msg) {
    if (errmsg) {
      try {
        (void)Dup(msg, errmsg);
      } catch (...) {
        *errmsg = nullptr;
      }
    }
    return code;
  };
  try {
    auto handle = std::make_unique<qv_database>();
    quiver::DatabaseOptions opts;
    if (options) opts = options->options;
    opts.path = path ? path : "";
    if (options && (options->auto_threads || options->threads > 0)) {
      handle->pool = std::make_unique<quiver::ThreadPool>(options->auto_threads ? 0 : options->threads);
      opts.executor = handle->pool.get();
    }
    auto db = quiver::Database::Open(opts);
    if (!db.ok()) return fail(static_cast<int>(db.status().code()), std::string(db.status().message()));
    handle->db = std::move(db).value();
    *out = handle.release();
    return QV_OK;
  } catch (const std::bad_alloc&) {
    return fail(QV_NO_MEMORY, "out of memory");
  } catch (const std::exception& e) {
    return fail(QV_INTERNAL, std::string("unexpected exception: ") + e.what());
  } catch (...) {
    return fail(QV_INTERNAL, "unexpected exception");
  }
}

int qv_db_close(qv_database* db) {
  if (!db) return QV_MISUSE;
  return Guard(&db->error, [&]() -> Status {
    QUIVER_RETURN_IF_ERROR(CheckDb(db));
    db->closed = true;
    return db->db->Close();
  });
}

void qv_db_destroy(qv_database* db) {
  if (!db) return;
  try {
    if (!db->closed) (void)db->db->Close();
  } catch (...) {
  }
  delete db;
}

const char* qv_db_errmsg(const qv_database* db) { return db ? db->error.message.c_str() : ""; }
int qv_db_errcode(const qv_database* db) { return db ? db->error.code : QV_OK; }

int qv_db_flush(qv_database* db) {
  if (!db) return QV_MISUSE;
  return Guard(&db->error, [&]() -> Status {
    QUIVER_RETURN_IF_ERROR(CheckDb(db));
    return db->db->Flush();
  });
}

int qv_db_create_collection(qv_database* db, const char* name, uint32_t dim, int distance) {
  if (!db) return QV_MISUSE;
  return Guard(&db->error, [&]() -> Status {
    QUIVER_RETURN_IF_ERROR(CheckDb(db));
    if (!name) return Misuse("name is NULL");
    if (distance < QV_DISTANCE_COSINE || distance > QV_DISTANCE_MANHATTAN) {
      return Status::InvalidArgument("unknown distance " + std::to_string(distance) +
                                     " (QV_DISTANCE_COSINE, _EUCLID, _DOT or _MANHATTAN)");
    }
    quiver::CollectionConfig config;
    quiver::VectorParams params;
    params.size = dim;
    params.distance = static_cast<quiver::Distance>(distance);
    config.vectors[std::string(quiver::kDefaultVector)] = params;
    return db->db->CreateCollection(name, config);
  });
}

int qv_db_create_collection_json(qv_database* db, const char* name, const char* config_json) {
  if (!db) return QV_MISUSE;
  return Guard(&db->error, [&]() -> Status {
    QUIVER_RETURN_IF_ERROR(CheckDb(db));
    if (!name || !config_json) return Misuse("name or config_json is NULL");
    QUIVER_ASSIGN_OR_RETURN(auto config, quiver::json::ParseCollectionConfig(config_json));
    return db->db->CreateCollection(name, config);
  });
}

int qv_db_drop_collection(qv_database* db, const char* name) {
  if (!db) return QV_MISUSE;
  return Guard(&db->error, [&]() -> Status {
    QUIVER_RETURN_IF_ERROR(CheckDb(db));
    if (!name) return Misuse("name is NULL");
    return db->db->DeleteCollection(name);
  });
}

int qv_db_collection_exists(qv_database* db, const char* name) {
  if (!db || !name || db->closed) return 0;
  try {
    return db->db->CollectionExists(name) ? 1 : 0;
  } catch (...) {
    return 0;
  }
}

int qv_db_list_collections_json(qv_database* db, char** out) {
  if (!db || !out) return QV_MISUSE;
  *out = nullptr;
  return Guard(&db->error, [&]() -> Status {
    QUIVER_RETURN_IF_ERROR(CheckDb(db));
    boost::json::array list;
    std::vector<std::string> names = db->db->ListCollections();
    std::sort(names.begin(), names.end());
    for (const std::string& n : names) list.push_back(boost::json::object{{"name", n}});
    return Dup(boost::json::serialize(boost::json::object{{"collections", std::move(list)}}), out);
  });
}

int qv_db_collection(qv_database* db, const char* name_or_alias, qv_collection** out) {
  if (!db || !out) return QV_MISUSE;
  *out = nullptr;
  return Guard(&db->error, [&]() -> Status {
    QUIVER_RETURN_IF_ERROR(CheckDb(db));
    if (!name_or_alias) return Misuse("name is NULL");
    QUIVER_ASSIGN_OR_RETURN(auto coll, db->db->GetCollection(name_or_alias));
    auto handle = std::make_unique<qv_collection>();
    handle->collection = std::move(coll);
    *out = handle.release();
    return Status::OK();
  });
}

int qv_db_create_alias(qv_database* db, const char* alias, const char* collection) {
  if (!db) return QV_MISUSE;
  return Guard(&db->error, [&]() -> Status {
    QUIVER_RETURN_IF_ERROR(CheckDb(db));
    if (!alias || !collection) return Misuse("alias or collection is NULL");
    return db->db->CreateAlias(alias, collection);
  });
}

int qv_db_delete_alias(qv_database* db, const char* alias) {
  if (!db) return QV_MISUSE;
  return Guard(&db->error, [&]() -> Status {
    QUIVER_RETURN_IF_ERROR(CheckDb(db));
    if (!alias) return Misuse("alias is NULL");
    return db->db->DeleteAlias(alias);
  });
}

int qv_db_rename_alias(qv_database* db, const char* old_alias, const char* new_alias) {
  if (!db) return QV_MISUSE;
  return Guard(&db->error, [&]() -> Status {
    QUIVER_RETURN_IF_ERROR(CheckDb(db));
    if (!old_alias || !new_alias) return Misuse("old_alias or new_alias is NULL");
    return db->db->RenameAlias(old_alias, new_alias);
  });
}

int qv_db_list_aliases_json(qv_database* db, char** out) {
  if (!db || !out) return QV_MISUSE;
  *out = nullptr;
  return Guard(&db->error, [&]() -> Status {
    QUIVER_RETURN_IF_ERROR(CheckDb(db));
    boost::json::array list;
    for (const auto& [alias, coll] : db->db->ListAliases()) {
      list.push_back(boost::json::object{{"alias_name", alias}, {"collection_name", coll}});
    }
    return Dup(boost::json::serialize(boost::json::object{{"aliases", std::move(list)}}), out);
  });
}

int qv_db_restore_snapshot(qv_database* db, const char* name, const char* snapshot_path) {
  if (!db) return QV_MISUSE;
  return Guard(&db->error, [&]() -> Status {
    QUIVER_RETURN_IF_ERROR(CheckDb(db));
    if (!name || !snapshot_path) return Misuse("name or snapshot_path is NULL");
    QUIVER_ASSIGN_OR_RETURN(std::string bytes, ReadWholeFile(snapshot_path));
    return db->db->RestoreSnapshot(name, bytes).WithContext(snapshot_path);
  });
}

// ---- Collection ----

void qv_collection_destroy(qv_collection* collection) { delete collection; }

const char* qv_collection_errmsg(const qv_collection* c) { return c ? c->error.message.c_str() : ""; }
int qv_collection_errcode(const qv_collection* c) { return c ? c->error.code : QV_OK; }
const char* qv_collection_name(const qv_collection* c) { return c ? c->collection->name().c_str() : ""; }

int qv_collection_upsert(qv_collection* c, const char* vector_name, const uint64_t* ids, const float* vectors,
                         size_t count, size_t dim, const char* const* payloads) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    if (count && (!ids || !vectors)) return Misuse("ids or vectors is NULL");
    std::string name(Str(vector_name));
    auto info = coll_.Info();
    auto it = info.config.vectors.find(name);
    if (it == info.config.vectors.end()) {
      return Status::InvalidArgument("collection '" + coll_.name() + "' has no vector named '" + name + "'");
    }
    if (dim != it->second.size) {
      return Status::InvalidArgument("vectors have " + std::to_string(dim) + " dimensions, collection '" +
                                     coll_.name() + "' expects " + std::to_string(it->second.size));
    }
    std::vector<quiver::PointId> point_ids = Ids(ids, count);
    std::vector<std::string> texts;
    if (payloads) {
      texts.resize(count);
      for (size_t i = 0; i < count; ++i) {
        if (payloads[i]) texts[i] = payloads[i];
      }
    }
    return coll_.UpsertDense(point_ids, name, vectors, count, texts);
  });
}

int qv_collection_upsert_json(qv_collection* c, const char* body) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    if (!body) return Misuse("body is NULL");
    QUIVER_ASSIGN_OR_RETURN(auto points, quiver::json::ParseUpsert(body));
    return coll_.Upsert(points);
  });
}

int qv_collection_get(qv_collection* c, const uint64_t* ids, size_t count, unsigned flags, qv_result** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out) return QV_MISUSE;
  *out = nullptr;
  return Guard(slot_, [&]() -> Status {
    if (count && !ids) return Misuse("ids is NULL");
    QUIVER_ASSIGN_OR_RETURN(auto records,
                            coll_.Get(Ids(ids, count), PayloadFlags(flags), VectorFlags(flags)));
    *out = MakeResult(qv_result::Kind::kRecords, FromRecords(std::move(records))).release();
    return Status::OK();
  });
}

int qv_collection_get_json(qv_collection* c, const char* body, char** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out) return QV_MISUSE;
  *out = nullptr;
  return Guard(slot_, [&]() -> Status {
    if (!body) return Misuse("body is NULL");
    QUIVER_ASSIGN_OR_RETURN(auto req, quiver::json::ParseGet(body));
    QUIVER_ASSIGN_OR_RETURN(auto records, coll_.Get(req.ids, req.with_payload, req.with_vector));
    return Dup(quiver::json::RecordsToJson(records), out);
  });
}

int qv_collection_delete(qv_collection* c, const uint64_t* ids, size_t count, uint64_t* deleted) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    if (count && !ids) return Misuse("ids is NULL");
    return SetCount(coll_.Delete(quiver::PointsSelector::Ids(Ids(ids, count))), deleted);
  });
}

int qv_collection_delete_by_filter(qv_collection* c, const char* filter_json, uint64_t* deleted) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    if (!filter_json) return Misuse("filter_json is NULL");
    return SetCount(coll_.Delete(quiver::PointsSelector::Filter(filter_json)), deleted);
  });
}

int qv_collection_delete_json(qv_collection* c, const char* body, uint64_t* deleted) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    if (!body) return Misuse("body is NULL");
    QUIVER_ASSIGN_OR_RETURN(auto sel, quiver::json::ParsePointsSelector(body));
    return SetCount(coll_.Delete(sel), deleted);
  });
}

int qv_collection_set_payload(qv_collection* c, const uint64_t* ids, size_t count, const char* filter_json,
                              const char* payload_json, uint64_t* changed) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    if (!payload_json) return Misuse("payload_json is NULL");
    QUIVER_ASSIGN_OR_RETURN(auto sel, Selector(ids, count, filter_json));
    return SetCount(coll_.SetPayload(sel, payload_json), changed);
  });
}

int qv_collection_overwrite_payload(qv_collection* c, const uint64_t* ids, size_t count,
                                    const char* filter_json, const char* payload_json, uint64_t* changed) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    if (!payload_json) return Misuse("payload_json is NULL");
    QUIVER_ASSIGN_OR_RETURN(auto sel, Selector(ids, count, filter_json));
    return SetCount(coll_.OverwritePayload(sel, payload_json), changed);
  });
}

int qv_collection_delete_payload_keys(qv_collection* c, const uint64_t* ids, size_t count,
                                      const char* filter_json, const char* const* keys, size_t key_count,
                                      uint64_t* changed) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    if (key_count && !keys) return Misuse("keys is NULL");
    std::vector<std::string> k;
    for (size_t i = 0; i < key_count; ++i) {
      if (!keys[i]) return Misuse("a key is NULL");
      k.emplace_back(keys[i]);
    }
    QUIVER_ASSIGN_OR_RETURN(auto sel, Selector(ids, count, filter_json));
    return SetCount(coll_.DeletePayloadKeys(sel, k), changed);
  });
}

int qv_collection_clear_payload(qv_collection* c, const uint64_t* ids, size_t count, const char* filter_json,
                                uint64_t* changed) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    QUIVER_ASSIGN_OR_RETURN(auto sel, Selector(ids, count, filter_json));
    return SetCount(coll_.ClearPayload(sel), changed);
  });
}

int qv_collection_set_payload_json(qv_collection* c, const char* body, uint64_t* changed) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    if (!body) return Misuse("body is NULL");
    QUIVER_ASSIGN_OR_RETURN(auto req, quiver::json::ParseSetPayload(body));
    return SetCount(coll_.SetPayload(req.points, req.payload), changed);
  });
}

int qv_collection_overwrite_payload_json(qv_collection* c, const char* body, uint64_t* changed) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    if (!body) return Misuse("body is NULL");
    QUIVER_ASSIGN_OR_RETURN(auto req, quiver::json::ParseSetPayload(body));
    return SetCount(coll_.OverwritePayload(req.points, req.payload), changed);
  });
}

int qv_collection_delete_payload_json(qv_collection* c, const char* body, uint64_t* changed) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    if (!body) return Misuse("body is NULL");
    QUIVER_ASSIGN_OR_RETURN(auto req, quiver::json::ParseDeletePayloadKeys(body));
    return SetCount(coll_.DeletePayloadKeys(req.points, req.keys), changed);
  });
}

int qv_collection_clear_payload_json(qv_collection* c, const char* body, uint64_t* changed) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    if (!body) return Misuse("body is NULL");
    QUIVER_ASSIGN_OR_RETURN(auto sel, quiver::json::ParsePointsSelector(body));
    return SetCount(coll_.ClearPayload(sel), changed);
  });
}

namespace {

quiver::SearchRequest MakeSearch(const float* vector, size_t dim, size_t limit, size_t ef,
                                 const char* filter_json, unsigned flags) {
  quiver::SearchRequest req;
  req.vector.assign(vector, vector + dim);
  req.limit = limit;
  if (ef) req.hnsw_ef = ef;
  if (filter_json) req.filter = filter_json;
  req.with_payload = PayloadFlags(flags);
  req.with_vector = VectorFlags(flags);
  req.exact = (flags & QV_EXACT) != 0;
  return req;
}

}  // namespace

int qv_collection_search(qv_collection* c, const float* vector, size_t dim, size_t limit, size_t ef,
                         const char* filter_json, unsigned flags, qv_result** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out) return QV_MISUSE;
  *out = nullptr;
  return Guard(slot_, [&]() -> Status {
    if (!vector && dim) return Misuse("vector is NULL");
    QUIVER_ASSIGN_OR_RETURN(auto points,
                            coll_.Search(MakeSearch(vector, dim, limit, ef, filter_json, flags)));
    *out = MakeResult(qv_result::Kind::kScored, std::move(points)).release();
    return Status::OK();
  });
}

int qv_collection_search_batch(qv_collection* c, const float* vectors, size_t count, size_t dim, size_t limit,
                               size_t ef, const char* filter_json, unsigned flags, qv_result** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out && count) return QV_MISUSE;
  for (size_t i = 0; i < count; ++i) out[i] = nullptr;
  return Guard(slot_, [&]() -> Status {
    if (!vectors && count && dim) return Misuse("vectors is NULL");
    std::vector<quiver::SearchRequest> reqs;
    reqs.reserve(count);
    for (size_t i = 0; i < count; ++i)
      reqs.push_back(MakeSearch(vectors + i * dim, dim, limit, ef, filter_json, flags));
    QUIVER_ASSIGN_OR_RETURN(auto batches, coll_.SearchBatch(reqs));
    std::vector<std::unique_ptr<qv_result>> results;
    results.reserve(batches.size());
    for (auto& b : batches) results.push_back(MakeResult(qv_result::Kind::kScored, std::move(b)));
    for (size_t i = 0; i < results.size() && i < count; ++i) out[i] = results[i].release();
    return Status::OK();
  });
}

int qv_collection_search_json(qv_collection* c, const char* body, char** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out) return QV_MISUSE;
  *out = nullptr;
  return Guard(slot_, [&]() -> Status {
    if (!body) return Misuse("body is NULL");
    QUIVER_ASSIGN_OR_RETURN(auto req, quiver::json::ParseSearch(body));
    QUIVER_ASSIGN_OR_RETURN(auto points, coll_.Search(req));
    return Dup(quiver::json::ScoredPointsToJson(points), out);
  });
}

int qv_collection_search_batch_json(qv_collection* c, const char* body, char** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out) return QV_MISUSE;
  *out = nullptr;
  return Guard(slot_, [&]() -> Status {
    if (!body) return Misuse("body is NULL");
    QUIVER_ASSIGN_OR_RETURN(auto reqs, quiver::json::ParseSearchBatch(body));
    QUIVER_ASSIGN_OR_RETURN(auto batches, coll_.SearchBatch(reqs));
    std::string json = "[";
    for (size_t i = 0; i < batches.size(); ++i) {
      if (i) json.push_back(',');
      json += quiver::json::ScoredPointsToJson(batches[i]);
    }
    json.push_back(']');
    return Dup(json, out);
  });
}

int qv_collection_recommend(qv_collection* c, const uint64_t* positive, size_t positive_count,
                            const uint64_t* negative, size_t negative_count, size_t limit,
                            const char* filter_json, unsigned flags, qv_result** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out) return QV_MISUSE;
  *out = nullptr;
  return Guard(slot_, [&]() -> Status {
    if ((positive_count && !positive) || (negative_count && !negative))
      return Misuse("positive or negative is NULL");
    quiver::RecommendRequest req;
    req.positive = Ids(positive, positive_count);
    req.negative = Ids(negative, negative_count);
    req.limit = limit;
    if (filter_json) req.filter = filter_json;
    req.with_payload = PayloadFlags(flags);
    req.with_vector = VectorFlags(flags);
    req.exact = (flags & QV_EXACT) != 0;
    QUIVER_ASSIGN_OR_RETURN(auto points, coll_.Recommend(req));
    *out = MakeResult(qv_result::Kind::kScored, std::move(points)).release();
    return Status::OK();
  });
}

int qv_collection_recommend_json(qv_collection* c, const char* body, char** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out) return QV_MISUSE;
  *out = nullptr;
  return Guard(slot_, [&]() -> Status {
    if (!body) return Misuse("body is NULL");
    QUIVER_ASSIGN_OR_RETURN(auto req, quiver::json::ParseRecommend(body));
    QUIVER_ASSIGN_OR_RETURN(auto points, coll_.Recommend(req));
    return Dup(quiver::json::ScoredPointsToJson(points), out);
  });
}

int qv_collection_scroll(qv_collection* c, const char* filter_json, size_t limit, const uint64_t* offset,
                         unsigned flags, qv_result** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out) return QV_MISUSE;
  *out = nullptr;
  return Guard(slot_, [&]() -> Status {
    quiver::ScrollRequest req;
    if (filter_json) req.filter = filter_json;
    req.limit = limit;
    if (offset) req.offset = quiver::PointId::Number(*offset);
    req.with_payload = PayloadFlags(flags);
    req.with_vector = VectorFlags(flags);
    QUIVER_ASSIGN_OR_RETURN(auto page, coll_.Scroll(req));
    auto r = MakeResult(qv_result::Kind::kScroll, FromRecords(std::move(page.points)));
    r->next_offset = page.next_page_offset;
    *out = r.release();
    return Status::OK();
  });
}

int qv_collection_scroll_json(qv_collection* c, const char* body, char** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out) return QV_MISUSE;
  *out = nullptr;
  return Guard(slot_, [&]() -> Status {
    if (!body) return Misuse("body is NULL");
    QUIVER_ASSIGN_OR_RETURN(auto req, quiver::json::ParseScroll(body));
    QUIVER_ASSIGN_OR_RETURN(auto page, coll_.Scroll(req));
    return Dup(quiver::json::ScrollResultToJson(page), out);
  });
}

int qv_collection_count(qv_collection* c, const char* filter_json, uint64_t* count) {
  QV_COLLECTION_ENTRY(c);
  if (!count) return QV_MISUSE;
  return Guard(slot_, [&]() -> Status { return SetCount(coll_.Count(Str(filter_json)), count); });
}

int qv_collection_count_json(qv_collection* c, const char* body, uint64_t* count) {
  QV_COLLECTION_ENTRY(c);
  if (!count) return QV_MISUSE;
  return Guard(slot_, [&]() -> Status {
    if (!body) return Misuse("body is NULL");
    QUIVER_ASSIGN_OR_RETURN(std::string filter, quiver::json::ParseCount(body));
    return SetCount(coll_.Count(filter), count);
  });
}

int qv_collection_create_payload_index(qv_collection* c, const char* field, const char* type) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    if (!field || !type) return Misuse("field or type is NULL");
    return coll_.CreatePayloadIndex(field, type);
  });
}

int qv_collection_create_payload_index_json(qv_collection* c, const char* body) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    if (!body) return Misuse("body is NULL");
    QUIVER_ASSIGN_OR_RETURN(auto req, quiver::json::ParseCreatePayloadIndex(body));
    return coll_.CreatePayloadIndex(req.field, req.type);
  });
}

int qv_collection_delete_payload_index(qv_collection* c, const char* field) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    if (!field) return Misuse("field is NULL");
    return coll_.DeletePayloadIndex(field);
  });
}

int qv_collection_snapshot(qv_collection* c, const char* path) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status {
    if (!path) return Misuse("path is NULL");
    QUIVER_ASSIGN_OR_RETURN(std::string bytes, coll_.CreateSnapshot());
    return WriteWholeFile(path, bytes);
  });
}

int qv_collection_optimize(qv_collection* c) {
  QV_COLLECTION_ENTRY(c);
  return Guard(slot_, [&]() -> Status { return coll_.Optimize(); });
}

int qv_collection_info_json(qv_collection* c, char** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out) return QV_MISUSE;
  *out = nullptr;
  return Guard(slot_, [&]() -> Status { return Dup(quiver::json::CollectionInfoToJson(coll_.Info()), out); });
}

int qv_collection_stats_json(qv_collection* c, char** out) {
  QV_COLLECTION_ENTRY(c);
  if (!out) return QV_MISUSE;
  *out = nullptr;
  return Guard(slot_,
               [&]() -> Status { return Dup(quiver::json::CollectionStatsToJson(coll_.Stats()), out); });
}

int qv_collection_verify(qv_collection* c, size_t* problems, char** report) {
  QV_COLLECTION_ENTRY(c);
  if (report) *report = nullptr;
  return Guard(slot_, [&]() -> Status {
    QUIVER_ASSIGN_OR_RETURN(auto found, coll_.Verify());
    if (problems) *problems = found.size();
    if (report) {
      boost::json::array list;
      for (const std::string& p : found) list.emplace_back(p);
      return Dup(boost::json::serialize(list), report);
    }
    return Status::OK();
  });
}

// ---- Results ----

size_t qv_result_count(const qv_result* r) { return r ? r->points.size() : 0; }

uint64_t qv_result_id(const qv_result* r, size_t i) {
  if (!r || i >= r->points.size() || r->points[i].id.is_uuid()) return 0;
  return r->points[i].id.number();
}

const char* qv_result_id_str(const qv_result* r, size_t i) {
  return (r && i < r->ids.size()) ? r->ids[i].c_str() : nullptr;
}

float qv_result_score(const qv_result* r, size_t i) {
  return (r && i < r->points.size()) ? r->points[i].score : 0.0f;
}

const char* qv_result_payload(const qv_result* r, size_t i) {
  if (!r || i >= r->points.size() || !r->points[i].payload) return nullptr;
  return r->points[i].payload->c_str();
}

const float* qv_result_vector(const qv_result* r, size_t i, const char* name, size_t* dim) {
  if (dim) *dim = 0;
  if (!r || i >= r->points.size()) return nullptr;
  try {
    const auto& vectors = r->points[i].vectors;
    auto it = vectors.find(std::string(Str(name)));
    if (it == vectors.end()) return nullptr;
    if (dim) *dim = it->second.size();
    return it->second.data();
  } catch (...) {
    return nullptr;
  }
}

int qv_result_next_offset(const qv_result* r, uint64_t* offset) {
  if (!r || !r->next_offset || r->next_offset->is_uuid()) return 0;
  if (offset) *offset = r->next_offset->number();
  return 1;
}

const char* qv_result_json(qv_result* r) {
  if (!r) return nullptr;
  try {
    if (!r->json_built) {
      switch (r->kind) {
        case qv_result::Kind::kScored:
          r->json = quiver::json::ScoredPointsToJson(r->points);
          break;
        case qv_result::Kind::kRecords:
          r->json = quiver::json::RecordsToJson(ToRecords(r->points));
          break;
        case qv_result::Kind::kScroll: {
          quiver::ScrollResult page;
          page.points = ToRecords(r->points);
          page.next_page_offset = r->next_offset;
          r->json = quiver::json::ScrollResultToJson(page);
          break;
        }
      }
      r->json_built = true;
    }
    return r->json.c_str();
  } catch (...) {
    return nullptr;
  }
}

void qv_result_free(qv_result* r) { delete r; }

}  // extern "C"
