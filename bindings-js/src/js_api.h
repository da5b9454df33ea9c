// The engine as the WebAssembly module sees it: a Database and its Collections behind methods that take and
// return Qdrant's JSON bodies (quiver/json.h), plain numbers, and pointers into the module's memory for bulk
// floats and bytes. No exception crosses this boundary: a failed call returns an empty string, -1 or a non-zero
// code, and keeps its StatusCode and message on the object until the next call (code(), message()); the
// TypeScript wrapper turns them into a QuiverError.
//
// Results that carry vectors print each vector as [offset, length] into a float buffer owned by the object
// (floats()); the wrapper copies them out into Float32Arrays before the next call.
//
// Thread safety: the module is single-threaded; one object is used by one caller at a time.
#ifndef QUIVER_BINDINGS_JS_JS_API_H_
#define QUIVER_BINDINGS_JS_JS_API_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "quiver/api.h"
#include "quiver/collection.h"
#include "quiver/database.h"
#include "quiver/status.h"
#include "quiver/types.h"

namespace quiver::js {

// The code and message of the last failed call, and the buffers of the last result.
class CallState {
 public:
  int code() const { return code_; }
  const std::string& message() const { return message_; }
  // Address (in the module's memory) and length of the floats of the last result's vectors.
  uintptr_t floats() const { return reinterpret_cast<uintptr_t>(floats_.data()); }
  // Address and length of the bytes of the last snapshot.
  uintptr_t bytes() const { return reinterpret_cast<uintptr_t>(bytes_.data()); }
  double bytes_size() const { return static_cast<double>(bytes_.size()); }
  void ReleaseBytes() { std::string().swap(bytes_); }

 protected:
  // Records a failure; returns its code (never 0).
  int Fail(const Status& status);
  void Begin() {
    code_ = 0;
    message_.clear();
    floats_.clear();
  }
  int Done(const Status& status) { return status.ok() ? 0 : Fail(status); }
  // How results print for JavaScript: big integers as strings, vectors into floats_.
  api::PrintOptions PrintOptions();
  // The printed result, or "" with the failure recorded.
  std::string Printed(Result<api::Response> response);
  // The points a write changed (or a count), or -1 with the failure recorded.
  double Affected(Result<api::Response> response);

  int code_ = 0;
  std::string message_;
  std::vector<float> floats_;
  std::string bytes_;
};

class JsCollection : public CallState {
 public:
  explicit JsCollection(std::shared_ptr<Collection> collection) : c_(std::move(collection)) {}

  std::string Info();
  std::string Stats();
  // {"points": [...]} or {"batch": {...}}.
  int Upsert(const std::string& body);
  // One point per id with its vector of `vector_name` from the `floats` floats at `vectors` (row after row; the
  // engine names a count that does not make one vector per id); ids as a JSON array, payloads as a JSON array
  // of objects or nulls, or "" for none.
  int UpsertDense(const std::string& ids_json, const std::string& vector_name, uintptr_t vectors, double floats,
                  const std::string& payloads_json);
  std::string Get(const std::string& body);
  // Selector bodies ({"points": [...]} or {"filter": {...}}); the number of points affected, or -1.
  double Delete(const std::string& body);
  double SetPayload(const std::string& body);
  double OverwritePayload(const std::string& body);
  double DeletePayloadKeys(const std::string& body);
  double ClearPayload(const std::string& body);
  std::string Search(const std::string& body);
  // A search whose query vector is `dim` floats at `vector`; `options` is a search body without "vector". The
  // parsed options are cached, so a loop of queries with the same options parses them once.
  std::string SearchVector(const std::string& vector_name, uintptr_t vector, double dim, const std::string& options);
  std::string SearchBatch(const std::string& body);
  std::string Recommend(const std::string& body);
  std::string Scroll(const std::string& body);
  double Count(const std::string& body);
  int CreatePayloadIndex(const std::string& body);
  int DeletePayloadIndex(const std::string& field);
  int Optimize();
  // The snapshot into bytes(); returns 0 or a code.
  int CreateSnapshot();
  std::string Verify();

 private:
  std::string CallJson(api::Operation op, const std::string& body);
  double CallCount(api::Operation op, const std::string& body);

  std::shared_ptr<Collection> c_;
  std::string cached_options_;
  std::string cached_name_;
  std::unique_ptr<api::PreparedSearch> prepared_;
};

class JsDatabase : public CallState {
 public:
  // path "" keeps the database in memory. durability: 0 sync, 1 batched, 2 none (quiver::Durability).
  int Open(const std::string& path, bool read_only, int durability, double segment_points, double replica_id);
  int Close();
  int Flush();
  bool is_open() const { return db_ != nullptr; }
  // The open database (null when closed), for the sync client (js_sync.h).
  Database* database() { return db_.get(); }
  std::string ReplicaId();
  int CreateCollection(const std::string& name, const std::string& config_json);
  int DeleteCollection(const std::string& name);
  std::string ListCollections();
  bool CollectionExists(const std::string& name);
  // A handle the caller owns (JS: .delete()), or null with the error kept here.
  JsCollection* GetCollection(const std::string& name);
  // From `size` bytes at `data`.
  int RestoreSnapshot(const std::string& name, uintptr_t data, double size);
  int CreateAlias(const std::string& alias, const std::string& collection);
  int DeleteAlias(const std::string& alias);
  std::string ListAliases();
  // Database::Repair of collection `name`: its report as JSON, or "" with the error kept here.
  std::string Repair(const std::string& name);
  // Qdrant's Query API on collection `name` (or alias): kind 0 query_points, 1 query_batch_points, 2
  // query_points_groups, with its JSON body. Called on the database so that a query may name other collections
  // (lookup_from, with_lookup). Vectors print into floats() as for a collection's results.
  std::string Query(const std::string& name, int kind, const std::string& body);

 private:
  Status CheckOpen() const;

  std::unique_ptr<Database> db_;
};

// The distance kernels this module runs ("wasm-simd128").
std::string SimdIsa();

}  // namespace quiver::js

#endif  // QUIVER_BINDINGS_JS_JS_API_H_
