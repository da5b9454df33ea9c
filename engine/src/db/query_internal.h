// The parts of the Query API's executor that query.cc (queries) and query_groups.cc (groups) share.
//
// Thread safety: a QueryRunner serves one query on one thread.
#ifndef QUIVER_DB_QUERY_INTERNAL_H_
#define QUIVER_DB_QUERY_INTERNAL_H_

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "db/query.h"

namespace quiver::db::internal {

using FilterPtr = std::shared_ptr<const payload::Filter>;

// Both filters (either may be null).
FilterPtr And(FilterPtr a, FilterPtr b);
// a * b, at most kMaxStagePoints.
size_t ClampedProduct(size_t a, size_t b);

// A point a stage found.
struct Candidate {
  PointId id;
  float score = 0;
  std::optional<OrderValue> order;  // set when the stage ordered by a payload value
};

// What a stage returns: its points, best first.
struct Ranked {
  std::vector<Candidate> points;
  bool smaller_is_better = false;   // scores are distances (a nearest stage of a Euclid or Manhattan vector)
  bool ordered_by_payload = false;  // an order_by stage: Candidate::order is set
};

// A nearest or recommend stage's query, resolved against the collection: what the stage searches (as a leaf)
// or rescores (over its prefetches) with: a dense vector, or a sparse one when `vector_name` is sparse.
struct SourceQuery {
  std::string vector_name;
  std::vector<float> dense;
  std::optional<SparseVector> sparse;
  bool smaller_is_better = false;
};

class QueryRunner {
 public:
  QueryRunner(const CollectionCore& collection, const CollectionFinder& find);

  // Checks the stages against the collection and resolves their vectors (points named by id are read here,
  // before any search). Call once, before Run.
  Status Prepare(const QueryStage& stage, size_t depth);
  // A filter leaving out the points of this collection that the query named by id (null if none).
  FilterPtr Exclusions() const;
  // Prefetch limits are multiplied by this (a groups query: the number of groups).
  void set_limit_multiplier(size_t m) { limit_multiplier_ = m; }

  // Runs a prepared stage for at most `limit` points, under `inherited` (the filters of the stages above).
  Result<Ranked> Run(const QueryStage& stage, const FilterPtr& inherited, size_t limit);
  // The final points with the payloads and vectors the request asks for (points deleted meanwhile are left out).
  Status Fill(const QueryRequest& request, std::span<const Candidate> points, bool ordered, QueryResponse* out);

  // The collection `name` names (this one, or another through the finder), for the part of the request at
  // `path`.
  Result<const CollectionCore*> Named(const std::string& name, const std::string& path);
  const CollectionCore& collection() const { return collection_; }

 private:
  struct Prepared {
    FilterPtr filter;
    std::optional<SourceQuery> source;  // nearest and recommend stages
  };

  Status ResolveVector(const VectorInput& input, const QueryStage& stage, uint32_t dim, Distance distance,
                       std::vector<float>* out);
  Status ResolveSparse(const VectorInput& input, const QueryStage& stage, SparseVector* out);
  Status PrepareSparse(const QueryStage& stage, SourceQuery* source);
  Result<Ranked> RunLeaf(const QueryStage& stage, const FilterPtr& filter, size_t limit);
  Result<Ranked> SearchSource(const SourceQuery& source, const QueryStage& stage, const payload::Filter* filter,
                              size_t limit);
  Result<Ranked> ScoreSource(const SourceQuery& source, const QueryStage& stage, std::span<const PointId> ids,
                             size_t limit);

  const CollectionCore& collection_;
  const CollectionFinder& find_;
  std::vector<std::shared_ptr<Collection>> held_;  // collections named by the request, kept open
  std::unordered_map<const QueryStage*, Prepared> prepared_;
  std::vector<PointId> referenced_;  // points of this collection named by id
  size_t limit_multiplier_ = 1;
};

}  // namespace quiver::db::internal

#endif  // QUIVER_DB_QUERY_INTERNAL_H_
