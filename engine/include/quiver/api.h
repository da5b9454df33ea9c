// The request layer: every Qdrant operation Quiver serves, as one typed request parsed once from its JSON body,
// executed against a Database (or a Collection the caller holds), and its result printed once. The C API's
// *_json functions, the JS binding, the CLI and quiverd all go through Call(); none of them parses a Qdrant body
// or prints a Qdrant result itself.
//
//   auto r = api::Call(db, api::Operation::kSearchPoints, {.collection = "docs"}, R"({"vector": [...]})");
//   if (!r.ok()) ...                       // r.status(): InvalidArgument names the bad part by path
//   std::string json = api::Print(*r);     // Qdrant's "result" value: [{"id": 1, "score": 0.9, ...}]
//
// Bodies are Qdrant's (../docs/server.md lists every operation and what differs). A key Qdrant does not define
// is refused, naming it; keys that mean nothing for one embedded node (shard_number, on_disk, ...) are accepted
// and ignored. Payloads are parsed once, here, and reach the write-ahead log as parsed values.
//
// Thread safety: the functions are reentrant; Database and Collection are internally synchronised.
#ifndef QUIVER_API_H_
#define QUIVER_API_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "quiver/collection.h"
#include "quiver/database.h"
#include "quiver/query.h"
#include "quiver/status.h"
#include "quiver/types.h"

namespace quiver::api {

// Named after Qdrant's operationId; Quiver's own operations (after kCreateFieldIndex) follow the same style.
enum class Operation : uint8_t {
  kListCollections,       // GET    /collections
  kGetCollection,         // GET    /collections/{c}
  kCreateCollection,      // PUT    /collections/{c}
  kUpdateCollection,      // PATCH  /collections/{c}
  kDeleteCollection,      // DELETE /collections/{c}
  kCollectionExists,      // GET    /collections/{c}/exists
  kUpdateAliases,         // POST   /collections/aliases
  kListAliases,           // GET    /aliases
  kListCollectionAliases, // GET    /collections/{c}/aliases
  kUpsertPoints,          // PUT    /collections/{c}/points
  kGetPoint,              // GET    /collections/{c}/points/{id}
  kGetPoints,             // POST   /collections/{c}/points
  kDeletePoints,          // POST   /collections/{c}/points/delete
  kSetPayload,            // POST   /collections/{c}/points/payload
  kOverwritePayload,      // PUT    /collections/{c}/points/payload
  kDeletePayload,         // POST   /collections/{c}/points/payload/delete
  kClearPayload,          // POST   /collections/{c}/points/payload/clear
  kBatchUpdate,           // POST   /collections/{c}/points/batch
  kScrollPoints,          // POST   /collections/{c}/points/scroll
  kCountPoints,           // POST   /collections/{c}/points/count
  kSearchPoints,          // POST   /collections/{c}/points/search
  kSearchBatch,           // POST   /collections/{c}/points/search/batch
  kRecommendPoints,       // POST   /collections/{c}/points/recommend
  kRecommendBatch,        // POST   /collections/{c}/points/recommend/batch
  kCreateFieldIndex,      // PUT    /collections/{c}/index
  kDeleteFieldIndex,      // DELETE /collections/{c}/index/{field}
  kOptimize,              // Quiver: merge and index segments now
  kCollectionStats,       // Quiver: CollectionStats
  kVerify,                // Quiver: check every stored byte and index invariant
  kQueryPoints,           // POST   /collections/{c}/points/query
  kQueryBatch,            // POST   /collections/{c}/points/query/batch
  kQueryGroups,           // POST   /collections/{c}/points/query/groups
  kRepairCollection,      // Quiver: rebuild a damaged collection from what is intact (Database::Repair)
};
inline constexpr size_t kOperationCount = static_cast<size_t>(Operation::kRepairCollection) + 1;

struct OperationInfo {
  Operation operation;
  std::string_view name;   // "upsert_points"
  bool writes;             // changes stored data (refused by read-only access)
  bool collection;         // acts on one collection, named by Target::collection
  bool body;               // takes a JSON body (an empty body means {} for the others)
};
const OperationInfo& Describe(Operation operation);
// By name ("search_points"); nullopt for an unknown name.
std::optional<Operation> FindOperation(std::string_view name);

// Where an operation applies: the parameters of its REST path.
struct Target {
  std::string_view collection;  // a collection name or alias
  std::string_view point;       // kGetPoint: the id as text (decimal or UUID)
  std::string_view field;       // kDeleteFieldIndex: the payload key
};

// ---- Results ----

// Qdrant's UpdateResult, plus how many points the operation changed (for the faces that report it).
struct UpdateResult {
  uint64_t operation_id = 0;
  size_t points = 0;
};
struct Exists {
  bool exists = false;
};
struct CollectionList {
  std::vector<std::string> names;  // sorted
};
struct AliasList {
  std::vector<std::pair<std::string, std::string>> aliases;  // (alias, collection), sorted by alias
};
struct CountResult {
  size_t count = 0;
};
struct VerifyReport {
  std::vector<std::string> problems;
};

// What an operation returned. `true` (bool) for operations whose Qdrant result is `true`.
using Response = std::variant<bool, Exists, CollectionList, AliasList, CollectionInfo, CollectionStats,
                              UpdateResult, std::vector<UpdateResult>, Record, std::vector<Record>, ScrollResult,
                              CountResult, std::vector<ScoredPoint>, std::vector<std::vector<ScoredPoint>>,
                              VerifyReport, QueryResponse, std::vector<QueryResponse>, GroupsResponse,
                              RepairReport>;

// ---- Calls ----

// Parses `body` for `operation`, runs it, and returns its result. InvalidArgument names the bad part of the body
// by path ("search.limit: expected a positive integer"); NotFound names a missing collection or point.
Result<Response> Call(Database& db, Operation operation, const Target& target, std::string_view body);
// The same for an operation on a collection the caller already holds (target.collection is not looked up).
Result<Response> Call(Collection& collection, Operation operation, const Target& target, std::string_view body);

// The number a write or count reports: UpdateResult::points, CountResult::count, else 0.
size_t AffectedPoints(const Response& response);

// ---- Printing ----

struct PrintOptions {
  // Integers above 2^53 - 1 (JavaScript's largest exact integer) as decimal strings.
  bool big_ids_as_strings = false;
  // Leave out Qdrant's "version" of scored points.
  bool omit_version = false;
  // When set, vectors are appended here and printed as [offset, length] into it (the JS binding copies them
  // out of the module's memory in one piece).
  std::vector<float>* vector_sink = nullptr;
};

// Qdrant's "result" value as JSON text.
void Print(const Response& response, const PrintOptions& options, std::string* out);
std::string Print(const Response& response, const PrintOptions& options = {});
void PrintScoredPoints(std::span<const ScoredPoint> points, const PrintOptions& options, std::string* out);
void PrintRecords(std::span<const Record> records, const PrintOptions& options, std::string* out);
void PrintPointId(const PointId& id, const PrintOptions& options, std::string* out);

// ---- Faster paths than JSON, for the faces that hold vectors in memory ----

// An upsert of one vector per id from a float array (row after row: ids times the vector's dimension floats;
// InvalidArgument names the mismatch), ids as a JSON array, payloads as a JSON array of objects or nulls (""
// for none). Parsed once; the result is an UpdateResult.
Result<Response> UpsertDense(Collection& collection, std::string_view ids_json, std::string_view vector_name,
                             std::span<const float> vectors, std::string_view payloads_json);

// A search body without its vector, parsed once (filter included) and run with many query vectors.
class PreparedSearch {
 public:
  static Result<PreparedSearch> Parse(std::string_view options_body, std::string_view vector_name);
  PreparedSearch(PreparedSearch&&) noexcept;
  PreparedSearch& operator=(PreparedSearch&&) noexcept;
  ~PreparedSearch();
  Result<std::vector<ScoredPoint>> Run(Collection& collection, std::span<const float> vector) const;

 private:
  struct Impl;
  explicit PreparedSearch(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// ---- Typed bodies ----

Result<CollectionConfig> ParseCollectionConfig(std::string_view body);
std::string PrintCollectionConfig(const CollectionConfig& config);
// A search body ({"vector": ..., "filter": ..., "limit": ...}).
Result<SearchRequest> ParseSearch(std::string_view body);
// A search body without its "vector" (the face supplies the vector): options for many searches.
Result<SearchRequest> ParseSearchOptions(std::string_view body, std::string_view vector_name);
// A point id from text: a decimal integer or a UUID in any form Qdrant accepts.
Result<PointId> ParsePointIdText(std::string_view text);

}  // namespace quiver::api

#endif  // QUIVER_API_H_
