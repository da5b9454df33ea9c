// The Query API's typed request and its executor: Qdrant's /points/query, /points/query/batch and
// /points/query/groups (QueryRequest, Prefetch, QueryGroupsRequest), parsed once by the request layer
// (api/parse_query.cc) and run here against one collection.
//
// A request is a tree of stages. A stage without prefetches is a leaf: it reads the collection (a nearest or
// recommend search of one vector, an order_by walk, or, with no query, points in id order) through the stage's
// filter. A stage with prefetches runs them first and merges what they found with its own query: a fusion
// (rrf, dbsf) fuses their ranked lists; any other query rescores the union of the points they found (nearest and
// recommend measure each of those points exactly, with the float vectors; order_by orders them). As in Qdrant:
//   - a stage's filter applies to its leaves and to every stage below it (filters are and-ed going down), not
//     to the rescoring of points already filtered below;
//   - the points a query names by id (nearest by id, recommend examples) are left out of the results, when they
//     are points of this collection;
//   - the root asks its query for limit + offset points and skips offset of them; payloads and vectors are read
//     once, for the final points, and a point deleted meanwhile is left out.
//
// Sparse vectors: a nearest or recommend stage whose `using` names a sparse vector resolves its inputs into a
// sparse SourceQuery (query.cc, Prepare); the two functions that read a source (SearchSource, ScoreSource) call
// the collection's sparse search for it (exact dot product over shared indices, with the IDF modifier when the
// vector has it). Rescoring prefetched points by a sparse vector scores those sharing at least one index with it;
// the others drop out. Everything above them (prefetch, fusion, rescoring, groups) is the same for every source.
//
// Thread safety: the request is a plain value; running one reads the collection through its public, internally
// synchronised methods (each step takes the collection's lock), so queries run concurrently with writes. A
// write that lands between two steps of one query is seen by the later steps only.
#ifndef QUIVER_DB_QUERY_H_
#define QUIVER_DB_QUERY_H_

#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "db/fusion.h"
#include "db/order_by.h"
#include "payload/filter.h"
#include "quiver/collection.h"
#include "quiver/query.h"
#include "quiver/types.h"

namespace quiver::db {

class CollectionCore;

// One vector of a query (Qdrant's VectorInput): a dense vector, a sparse vector (checked and sorted; a Document
// {"text", "model": "qdrant/bm25"} arrives here already embedded as a BM25 query), or a point's stored vector
// (by id).
struct VectorInput {
  enum class Kind : uint8_t { kDense, kSparse, kPointId };
  Kind kind = Kind::kDense;
  std::vector<float> dense;
  SparseVector sparse;
  PointId id;
  std::string path;  // where it was in the body ("query.query.nearest"), for messages
};

struct NearestQuery {
  VectorInput vector;
};
// average_vector: searches with avg(positive) + (avg(positive) - avg(negative)).
struct RecommendQuery {
  std::vector<VectorInput> positive;
  std::vector<VectorInput> negative;
};
struct OrderByQuery {
  OrderBySpec spec;
  std::string key;  // as given, for messages
};
struct FusionQuery {
  enum class Method : uint8_t { kRrf, kDbsf };
  Method method = Method::kRrf;
  uint32_t k = kDefaultRrfK;
  std::vector<float> weights;  // rrf: empty, or one per prefetch
};
// std::monostate: no query (points in id order).
using StageQuery = std::variant<std::monostate, NearestQuery, RecommendQuery, OrderByQuery, FusionQuery>;

// Where the vectors of points named by id come from (Qdrant's LookupLocation).
struct LookupLocation {
  std::string collection;
  std::optional<std::string> vector;  // default: the stage's `using`
};

// A Prefetch, or the part of a QueryRequest that is one.
struct QueryStage {
  std::vector<QueryStage> prefetch;
  StageQuery query;
  std::string using_vector;  // "using"; "" for the unnamed vector
  std::optional<payload::Filter> filter;
  std::optional<float> score_threshold;
  size_t limit = 10;
  std::optional<size_t> hnsw_ef;
  bool exact = false;
  QuantizationSearchParams quantization;
  std::optional<LookupLocation> lookup_from;
  std::string path;  // "query", "query.prefetch[1]", for messages
};

struct QueryRequest {
  QueryStage root;
  size_t offset = 0;
  PayloadSelector with_payload;  // default none, as in Qdrant
  VectorSelector with_vector;
};

// Qdrant's WithLookup: which points of which collection to attach to each group.
struct WithLookup {
  std::string collection;
  PayloadSelector with_payload = PayloadSelector::All();
  VectorSelector with_vector;
};

struct QueryGroupsRequest {
  QueryRequest query;  // query.root.limit is the number of groups; offset is 0
  payload::JsonPath group_by;
  std::string group_by_text;
  size_t group_size = 3;
  std::optional<WithLookup> with_lookup;
};

// Deepest nesting of prefetches (Qdrant's).
inline constexpr size_t kMaxPrefetchDepth = 64;
// The most points one stage asks for: limit + offset always fits, and products (a groups query multiplies
// limits) are clamped to it.
inline constexpr size_t kMaxStagePoints = 2'000'000;

// Finds another collection by name or alias (for lookup_from and with_lookup). Empty when the caller holds only
// the collection; then only the collection itself can be named.
using CollectionFinder = std::function<Result<std::shared_ptr<Collection>>(std::string_view name)>;

// Runs a query. InvalidArgument / NotFound / NotSupported name the part of the request by its path.
Result<QueryResponse> RunQuery(const CollectionCore& collection, const QueryRequest& request,
                               const CollectionFinder& find);
Result<GroupsResponse> RunQueryGroups(const CollectionCore& collection, const QueryGroupsRequest& request,
                                      const CollectionFinder& find);

}  // namespace quiver::db

#endif  // QUIVER_DB_QUERY_H_
