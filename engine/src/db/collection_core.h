// CollectionCore: the state and logic behind a public Collection. It validates requests, turns writes into
// stamped ops, applies ops (local and replicated alike) to its segment under its lock, and answers reads by
// asking the segment and turning index distances into Qdrant scores.
//
// Thread safety: internally synchronised with a reader-writer lock; every public method may be called from
// any thread.
#ifndef QUIVER_DB_COLLECTION_CORE_H_
#define QUIVER_DB_COLLECTION_CORE_H_

#include <functional>
#include <memory>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "db/hlc.h"
#include "db/op.h"
#include "db/segment.h"
#include "payload/filter.h"
#include "quiver/types.h"

namespace quiver::db {

// Checks a collection configuration; InvalidArgument names the bad field.
Status ValidateConfig(const CollectionConfig& config);

class CollectionCore {
 public:
  // `clock` and `replica` are the database's; the clock must outlive the collection.
  static Result<std::unique_ptr<CollectionCore>> Create(std::string name, CollectionConfig config,
                                                        HybridClock* clock, uint64_t replica);

  const std::string& name() const { return name_; }
  const CollectionConfig& config() const { return config_; }
  CollectionInfo Info() const;

  Status Upsert(std::span<const PointInput> points);
  Status UpsertDense(std::span<const PointId> ids, std::string_view vector_name, const float* vectors,
                     size_t count, std::span<const std::string> payloads);
  Result<std::vector<Record>> Get(std::span<const PointId> ids, const PayloadSelector& with_payload,
                                  const VectorSelector& with_vector) const;
  Result<size_t> Delete(const PointsSelector& points);
  Result<size_t> SetPayload(const PointsSelector& points, std::string_view payload_json);
  Result<size_t> OverwritePayload(const PointsSelector& points, std::string_view payload_json);
  Result<size_t> DeletePayloadKeys(const PointsSelector& points, const std::vector<std::string>& keys);
  Result<size_t> ClearPayload(const PointsSelector& points);
  Result<ScrollResult> Scroll(const ScrollRequest& request) const;
  Result<size_t> Count(std::string_view filter_json) const;
  Result<std::vector<ScoredPoint>> Search(const SearchRequest& request, SearchPlan* plan = nullptr) const;
  Result<std::vector<std::vector<ScoredPoint>>> SearchBatch(std::span<const SearchRequest> requests) const;
  Result<std::vector<ScoredPoint>> Recommend(const RecommendRequest& request) const;
  Status CreatePayloadIndex(std::string_view field, std::string_view type);
  Status DeletePayloadIndex(std::string_view field);

  // The one apply path: merges ops (local or replicated) into the state. Each op is checked against the
  // configuration first; an invalid op fails the whole call before anything is applied.
  Status ApplyOps(std::span<const Op> ops);
  // Called with every batch of locally made ops before they are applied (the storage layer logs them here).
  // An error aborts the write and nothing is applied.
  void SetOpListener(std::function<Status(std::span<const Op>)> listener);
  // Digest text of all registers and values, for comparing replicas in tests.
  std::string StateDigest() const;
  // Vector spaces in index order.
  const std::vector<VectorSpace>& spaces() const { return spaces_; }

 private:
  CollectionCore(std::string name, CollectionConfig config, HybridClock* clock, uint64_t replica);

  Stamp NextStamp() { return Stamp{clock_->Now(), replica_}; }
  Result<size_t> FindSpace(std::string_view vector_name) const;
  Status CheckOp(const Op& op) const;
  // Logs (listener) and applies locally made ops; the caller holds the write lock.
  Status Commit(std::vector<Op>&& ops);
  // Ids of the live points a selector names. With ids, NotFound for any that do not exist when `must_exist`.
  Result<std::vector<PointId>> Resolve(const PointsSelector& points, bool must_exist) const;
  Result<std::optional<payload::Filter>> ParseOptionalFilter(std::string_view json) const;
  Record MakeRecord(const PointState& st, const PayloadSelector& wp, const VectorSelector& wv) const;
  Result<std::vector<ScoredPoint>> SearchLocked(size_t space, const std::vector<float>& query,
                                                const payload::Filter* filter, size_t limit, size_t offset,
                                                std::optional<float> threshold, const PayloadSelector& wp,
                                                const VectorSelector& wv, std::optional<size_t> ef,
                                                bool exact, const std::vector<PointId>& exclude,
                                                SearchPlan* plan) const;
  float Score(size_t space, float distance) const;
  bool PassesThreshold(size_t space, float score, float threshold) const;

  std::string name_;
  CollectionConfig config_;
  std::vector<VectorSpace> spaces_;
  HybridClock* clock_;
  uint64_t replica_;
  std::function<Status(std::span<const Op>)> listener_;
  mutable std::shared_mutex mu_;
  std::unique_ptr<Segment> segment_;
};

}  // namespace quiver::db

#endif  // QUIVER_DB_COLLECTION_CORE_H_
