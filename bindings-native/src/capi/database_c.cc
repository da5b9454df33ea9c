// The C API's database handle (quiver.h, "Database").
#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "capi/capi_internal.h"

namespace quiver::capi {
namespace {

Status CheckDb(qv_database* db) {
  if (db->closed) return Status::FailedPrecondition("the database is closed");
  return Status::OK();
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

// Runs a database-level request-layer operation with the body, printing its result into *out (may be NULL).
Status Run(qv_database* db, api::Operation operation, const api::Target& target, std::string_view body,
           char** out) {
  QUIVER_RETURN_IF_ERROR(CheckDb(db));
  QUIVER_ASSIGN_OR_RETURN(api::Response response, api::Call(*db->db, operation, target, body));
  if (out) return Dup(api::Print(response), out);
  return Status::OK();
}

}  // namespace
}  // namespace quiver::capi

using quiver::Status;
using namespace quiver::capi;

extern "C" {

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

int qv_db_request(qv_database* db, const char* operation, const char* collection, const char* key,
                  const char* body, char** result) {
  if (!db) return QV_MISUSE;
  if (result) *result = nullptr;
  return Guard(&db->error, [&]() -> Status {
    if (!operation) return Misuse("operation is NULL");
    auto op = quiver::api::FindOperation(operation);
    if (!op) return Status::InvalidArgument(std::string("unknown operation '") + operation + "'");
    quiver::api::Target target{Str(collection), Str(key), Str(key)};
    return Run(db, *op, target, Str(body), result);
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
    if (!name || !config_json) return Misuse("name or config_json is NULL");
    return Run(db, quiver::api::Operation::kCreateCollection, quiver::api::Target{name, {}, {}}, config_json, nullptr);
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
  return Guard(&db->error,
               [&]() -> Status { return Run(db, quiver::api::Operation::kListCollections, {}, {}, out); });
}

int qv_db_repair_json(qv_database* db, const char* name, char** out) {
  if (!db || !out) return QV_MISUSE;
  *out = nullptr;
  return Guard(&db->error, [&]() -> Status {
    if (!name) return Misuse("name is NULL");
    quiver::api::Target target;
    target.collection = name;
    return Run(db, quiver::api::Operation::kRepairCollection, target, {}, out);
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
  return Guard(&db->error, [&]() -> Status { return Run(db, quiver::api::Operation::kListAliases, {}, {}, out); });
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

}  // extern "C"
