// Collection: a named set of points (id, vectors, payload) with vector and payload indexes, searched with
// Qdrant's semantics. Obtained from a Database.
//
// Every write becomes one Op per point, stamped by the database's hybrid logical clock, and goes through the same
// apply path a replicated Op takes (a per-register last-writer-wins merge, DESIGN.md "Versions"). A batch is
// validated whole before anything is applied: bad input changes nothing.
//
// Thread safety: all methods may be called from any thread. Writes are serialised; reads run concurrently with
// each other and never observe half of a batch.
#ifndef QUIVER_COLLECTION_H_
#define QUIVER_COLLECTION_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "quiver/status.h"
#include "quiver/types.h"

namespace quiver {

namespace db {
class CollectionCore;
class CollectionFactory;
}

class Collection {
 public:
  ~Collection();
  Collection(const Collection&) = delete;
  Collection& operator=(const Collection&) = delete;

  const std::string& name() const;
  CollectionInfo Info() const;

  // Inserts or replaces points. Duplicate ids in one batch: the last one wins, as in Qdrant. InvalidArgument
  // (naming the point and the problem) for a wrong dimension, NaN/Inf, an unknown vector name, a payload that is
  // not a JSON object; the batch is then not applied at all.
  Status Upsert(std::span<const PointInput> points);
  // Fast form: one point per id, with its vector of `vector_name` taken from `vectors` (row after row, so
  // ids.size() times the vector's dimension floats; InvalidArgument names the mismatch otherwise), and optional
  // payloads (empty, or one JSON object text per point; "" for none).
  Status UpsertDense(std::span<const PointId> ids, std::string_view vector_name, std::span<const float> vectors,
                     std::span<const std::string> payloads = {});

  // Points by id, in the order asked; ids that do not exist are skipped.
  Result<std::vector<Record>> Get(std::span<const PointId> ids, const PayloadSelector& with_payload,
                                  const VectorSelector& with_vector) const;

  // Deletes the selected points; returns how many existed.
  Result<size_t> Delete(const PointsSelector& points);

  // Payload operations on the selected points; they return how many points were changed. NotFound when an id
  // selector names a point that does not exist (nothing is changed then).
  Result<size_t> SetPayload(const PointsSelector& points, std::string_view payload_json);        // merge keys
  Result<size_t> OverwritePayload(const PointsSelector& points, std::string_view payload_json);  // replace all
  Result<size_t> DeletePayloadKeys(const PointsSelector& points, const std::vector<std::string>& keys);
  Result<size_t> ClearPayload(const PointsSelector& points);

  Result<ScrollResult> Scroll(const ScrollRequest& request) const;
  // Exact count of live points matching the filter (JSON; empty counts all).
  Result<size_t> Count(std::string_view filter_json) const;

  Result<std::vector<ScoredPoint>> Search(const SearchRequest& request) const;
  Result<std::vector<std::vector<ScoredPoint>>> SearchBatch(std::span<const SearchRequest> requests) const;
  // Qdrant's average_vector strategy: searches with avg(positive) + (avg(positive) - avg(negative)) and leaves
  // the positive and negative example points out of the results.
  Result<std::vector<ScoredPoint>> Recommend(const RecommendRequest& request) const;

  // Payload indexes, as in Qdrant: type is "keyword", "integer", "float", "bool", "uuid", "datetime", "geo" or
  // "text". An index changes only the speed of a filter, never its result.
  Status CreatePayloadIndex(std::string_view field, std::string_view type);
  Status DeletePayloadIndex(std::string_view field);

  // Seals the write segment, merges segments and builds their graph indexes now, dropping removed points and
  // expired tombstones. Returns when done.
  Status Optimize();
  // A consistent point-in-time copy of the collection as one file (docs/formats.md, "Snapshot"): the same bytes
  // natively and in WASM for the same data. Database::RestoreSnapshot reads it.
  Result<std::string> CreateSnapshot() const;
  CollectionStats Stats() const;
  // Checks everything that can be checked: re-reads every segment and deletion file of a stored collection
  // (checksums and structure) and every graph index's invariants. Returns the problems found, empty when all is
  // well; an error only when the check itself cannot run.
  Result<std::vector<std::string>> Verify() const;

  // The core that holds the state; for the storage and sync layers and tests.
  db::CollectionCore& core() { return *core_; }
  const db::CollectionCore& core() const { return *core_; }

 private:
  friend class db::CollectionFactory;
  explicit Collection(std::unique_ptr<db::CollectionCore> core);

  std::unique_ptr<db::CollectionCore> core_;
};

}  // namespace quiver

#endif  // QUIVER_COLLECTION_H_
