// The typed requests of the request layer (quiver/api.h): one struct per operation, filled once from the JSON
// body by ParseRequest (parse.cc) and run by Execute (execute.cc). Payloads and filters are held parsed, so
// they reach the collection (and its write-ahead log) without being printed and parsed again.
//
// Thread safety: plain values.
#ifndef QUIVER_API_REQUEST_H_
#define QUIVER_API_REQUEST_H_

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "db/collection_core.h"
#include "db/query.h"
#include "payload/filter.h"
#include "quiver/api.h"
#include "quiver/types.h"

namespace quiver::api {

// Points chosen by ids or by a filter.
using Selector = db::Selection;

// One point of an upsert: vectors and sparse vectors (documents already embedded) sorted by name, the payload
// parsed.
struct PointWrite {
  PointId id;
  std::vector<std::pair<std::string, std::vector<float>>> vectors;
  std::vector<std::pair<std::string, SparseVector>> sparse;
  boost::json::object payload;
};

struct NoBody {};
struct CreateCollectionRequest {
  CollectionConfig config;
};
struct UpdateCollectionRequest {
  CollectionUpdate update;
};
struct UpdateAliasesRequest {
  std::vector<AliasAction> actions;
};
struct UpsertRequest {
  std::vector<PointWrite> points;
  db::UpsertCondition condition;   // update_mode and update_filter
};
struct GetPointRequest {
  PointId id;
};
struct GetPointsRequest {
  std::vector<PointId> ids;
  PayloadSelector with_payload = PayloadSelector::All();
  VectorSelector with_vector;
};
struct DeletePointsRequest {
  Selector points;
};
// set_payload (merge keys) and overwrite_payload (replace the payload).
struct PayloadWriteRequest {
  Selector points;
  boost::json::object payload;
};
struct DeletePayloadRequest {
  Selector points;
  std::vector<std::string> keys;
};
struct ClearPayloadRequest {
  Selector points;
};

// One operation of a batch update, with its kind.
struct BatchOperation {
  enum class Kind : uint8_t { kUpsert, kDelete, kSetPayload, kOverwritePayload, kDeletePayload, kClearPayload };
  Kind kind = Kind::kUpsert;
  UpsertRequest upsert;
  Selector points;
  boost::json::object payload;
  std::vector<std::string> keys;
};
struct BatchUpdateRequest {
  std::vector<BatchOperation> operations;
};

// The public request with its filter held parsed (the request's text filter is left empty).
template <typename T>
struct Filtered {
  T request;
  std::optional<payload::Filter> filter;
};
using ScrollPointsRequest = Filtered<ScrollRequest>;
using SearchPointsRequest = Filtered<SearchRequest>;
using RecommendPointsRequest = Filtered<RecommendRequest>;
struct CountPointsRequest {
  std::optional<payload::Filter> filter;
};
struct SearchBatchRequest {
  std::vector<SearchPointsRequest> searches;
};
struct RecommendBatchRequest {
  std::vector<RecommendPointsRequest> searches;
};
struct CreateFieldIndexRequest {
  std::string field;
  std::string type;
};
struct DeleteFieldIndexRequest {
  std::string field;
};

// The Query API (db/query.h; parsed by parse_query.cc, run by query_exec.cc).
struct QueryPointsRequest {
  db::QueryRequest query;
};
struct QueryBatchRequest {
  std::vector<db::QueryRequest> searches;
};
struct QueryGroupsPointsRequest {
  db::QueryGroupsRequest groups;
};

using Request =
    std::variant<NoBody, CreateCollectionRequest, UpdateCollectionRequest, UpdateAliasesRequest, UpsertRequest,
                 GetPointRequest, GetPointsRequest, DeletePointsRequest, PayloadWriteRequest, DeletePayloadRequest,
                 ClearPayloadRequest, BatchUpdateRequest, ScrollPointsRequest, CountPointsRequest,
                 SearchPointsRequest, SearchBatchRequest, RecommendPointsRequest, RecommendBatchRequest,
                 CreateFieldIndexRequest, DeleteFieldIndexRequest, QueryPointsRequest, QueryBatchRequest,
                 QueryGroupsPointsRequest>;

// Parses the body (and path parameters) of `operation` into its typed request.
Result<Request> ParseRequest(Operation operation, const Target& target, std::string_view body);

// A search body without "vector" (the options of many searches).
Result<SearchPointsRequest> ParseSearchWithoutVector(std::string_view body);

// The body of a query operation (kQueryPoints, kQueryBatch, kQueryGroups), errors named from `root`.
Result<Request> ParseQueryRequest(Operation operation, const boost::json::object& body, std::string_view root);
// Runs a query operation; `db` (may be null) finds the other collections a query names.
Result<Response> ExecuteQuery(Database* db, Collection& collection, Operation operation, Request&& request);

// Runs a parsed request. `collection` is the target collection for collection operations (null for the
// others); `db` is null when the caller holds only a collection (then database operations are refused).
Result<Response> Execute(Database* db, Collection* collection, Operation operation, Request&& request);

}  // namespace quiver::api

#endif  // QUIVER_API_REQUEST_H_
