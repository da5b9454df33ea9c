// Segment: a set of points with their register state (point_state.h), one vector index per vector space and
// the payload indexes, answering lookups, scans and filtered searches. The collection applies validated ops
// to it and merges results across its segments.
//
// Points are kept in "slots": a dense array of PointState, one per id ever written (tombstones included), and
// an ordered map from id to slot for scroll order. Vector rows map back to slots.
//
// Thread safety: const methods may run concurrently; Apply and index changes need exclusive access (the
// collection holds its lock).
#ifndef QUIVER_DB_SEGMENT_H_
#define QUIVER_DB_SEGMENT_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "db/op.h"
#include "db/point_state.h"
#include "index/sparse_index.h"
#include "index/vector_index.h"
#include "payload/filter.h"
#include "payload/payload_index.h"
#include "quiver/types.h"

namespace quiver::db {

// One named vector's configuration inside a segment.
struct VectorSpace {
  std::string name;
  VectorParams params;
  HnswConfig hnsw;  // effective (collection default or the vector's override)
  std::optional<ScalarQuantization> quantization;  // effective, as hnsw
};

// One named sparse vector's configuration inside a segment.
struct SparseSpace {
  std::string name;
  SparseVectorParams params;
};

// Qdrant's default of SparseIndexParams.full_scan_threshold, in points.
inline constexpr size_t kDefaultSparseFullScanThreshold = 5000;

// A point's state and its stored vectors (one per space, empty when absent), as moved between segments.
struct MovedPoint {
  PointState state;
  std::vector<std::vector<float>> vectors;  // stored form (stride floats), per space
  std::vector<std::optional<SparseVector>> sparse;  // per sparse space; nullopt when absent
};

// A hit inside one segment: the slot and the index's internal distance (smaller is closer).
struct SlotHit {
  uint32_t slot;
  float distance;
};

// How a search was answered, for tests and stats.
// kGraphThenFilter: most points match, so an unfiltered walk fetches enough neighbours for k matches among them
// (the filtered walk when it does not).
// kSparse*: a sparse search by the postings, with or without a filter checked on the best candidates.
enum class SearchPlan : uint8_t {
  kGraph,
  kFilteredGraph,
  kGraphThenFilter,
  kExactAll,
  kExactFiltered,
  kExactCandidates,
  kSparse,
  kSparseFiltered
};

// Orders a segment's slots by their points' ids; finds a slot by id too.
struct SlotIdLess {
  using is_transparent = void;
  const PointStates* states;
  bool operator()(uint32_t a, uint32_t b) const { return (*states)[a].id < (*states)[b].id; }
  bool operator()(uint32_t a, const PointId& b) const { return (*states)[a].id < b; }
  bool operator()(const PointId& a, uint32_t b) const { return a < (*states)[b].id; }
};
using IdOrder = std::set<uint32_t, SlotIdLess>;

class Segment {
 public:
  // `spaces` in the order the collection numbers them. `index_kind_override`, when set, replaces every
  // space's configured index kind (the storage layer keeps unsealed segments flat).
  static Result<std::unique_ptr<Segment>> Create(std::vector<VectorSpace> spaces,
                                                 std::vector<SparseSpace> sparse_spaces = {},
                                                 std::optional<IndexKind> index_kind_override = std::nullopt);

  const std::vector<VectorSpace>& spaces() const { return spaces_; }
  const std::vector<SparseSpace>& sparse_spaces() const { return sparse_spaces_; }
  // Live points (not deleted, not removed).
  size_t live_count() const { return live_; }
  size_t slot_count() const { return states_.size(); }
  // Slots not removed (live points and tombstones).
  size_t present_count() const { return states_.size() - removed_count_; }

  // Merges one op into the point's registers (op.h). The op must be valid for this segment's spaces (the
  // collection checks vector names, sizes and finiteness before stamping).
  void Apply(const Op& op);

  // The point's state, or null if the id was never written here or was removed.
  const PointState* Find(const PointId& id) const;
  // The slot of a present (not removed) id.
  std::optional<uint32_t> FindSlot(const PointId& id) const;

  // Removes a slot from this segment (its point moved to a newer segment or was dropped by compaction): it
  // stops being found, counted, scanned or searched. The slot's state stays readable for compaction
  // snapshots.
  void Remove(uint32_t slot);
  bool IsRemoved(uint32_t slot) const { return slot < removed_.size() && removed_[slot]; }
  const std::vector<uint8_t>& removed() const { return removed_; }
  // A copy of a slot's state and stored vectors, to move it to another segment.
  MovedPoint Extract(uint32_t slot) const;
  // Takes in a point moved from another segment. Its id must not be present here.
  void Adopt(const MovedPoint& point);
  const PointState& state(uint32_t slot) const { return states_[slot]; }
  // Change feed (collection_feed.cc): the slot's state, for setting register seqs only (they affect nothing
  // else the segment keeps).
  PointState& state_for_feed(uint32_t slot) { return states_[slot]; }
  // Change feed: turns a present slot back into a point never written (zero stamps, no payload, no vectors), so
  // ops applied next rebuild its registers from scratch (a sync client replacing a point's state).
  void ClearForFeed(uint32_t slot);
  // Slots in the order of their points' ids (tombstones and removed slots included; check IsRemoved).
  const IdOrder& id_order() const { return ids_; }
  // The stored form of a live point's vector in space `space`, or null.
  const float* StoredVector(const PointState& st, size_t space) const;
  // A live point's sparse vector in sparse space `space`, or nullopt.
  std::optional<index::SparseView> StoredSparse(const PointState& st, size_t space) const;

  // Searches space `space` for the k closest live points matching `filter` (null for none). `query` has the
  // space's dimension and is already validated.
  Status Search(size_t space, const float* query, size_t k, size_t ef, bool exact,
                const QuantizationSearchParams& quantization, const payload::Filter* filter,
                std::vector<SlotHit>* out, SearchPlan* plan = nullptr) const;
  // Exact searches for `nq` validated queries (row-major) in one pass over the space's vectors: out[i] (nq
  // vectors) as Search with exact and no filter would give for query i.
  Status SearchExactBatch(size_t space, const float* queries, size_t nq, size_t k,
                          std::vector<SlotHit>* out) const;

  // The `k` live points matching `filter` (null for none) with the highest scores against a sparse query of
  // sparse space `space` (normalised; weights already multiplied by any IDF), at least `threshold` when given,
  // highest score first and equal scores by id. Only points sharing an index with the query are candidates.
  // SlotHit::distance holds minus the score.
  Status SearchSparse(size_t space, index::SparseView query, size_t k, std::optional<float> threshold,
                      const payload::Filter* filter, std::vector<SlotHit>* out, SearchPlan* plan = nullptr) const;
  // The IDF statistics of a sparse space: live points with the vector, and those of them holding `index`.
  size_t SparseLiveRows(size_t space) const;
  uint32_t SparseDocumentFrequency(size_t space, uint32_t index) const;

  // Quantizes the graph indexes of spaces configured for it (VectorSpace::quantization): always when `force`,
  // otherwise only a graph of at least kQuantizeMinRows rows that has doubled since it was last quantized.
  void Quantize(bool force);
  static constexpr size_t kQuantizeMinRows = 1024;
  // Takes new graph and quantization settings for the same vector spaces (a collection update): the full-scan
  // threshold applies at once, quantization is learnt again or dropped, the graph settings apply to graphs
  // built from then on.
  void UpdateSpaces(const std::vector<VectorSpace>& spaces);

  // Live points matching the filter (null: all), calling fn(slot) in id order from `start` (inclusive) until
  // it returns false.
  template <typename Fn>
  void ScanInOrder(const std::optional<PointId>& start, const payload::Filter* filter, Fn fn) const {
    auto it = start ? ids_.lower_bound(*start) : ids_.begin();
    for (; it != ids_.end(); ++it) {
      const PointState& st = states_[*it];
      if (st.deleted || IsRemoved(*it)) continue;
      if (filter && !payload::Matches(*filter, st.id, st.payload)) continue;
      if (!fn(*it)) return;
    }
  }
  // Exact number of live points matching the filter (null: all), using payload indexes to narrow the scan.
  size_t Count(const payload::Filter* filter) const;
  // Slots of live points matching the filter, in id order.
  std::vector<uint32_t> Select(const payload::Filter& filter) const;

  Status CreatePayloadIndex(std::string_view field, payload::FieldIndexType type);
  // Room for `rows` vectors in each flat space, so a write segment that fills up to its seal size never moves
  // its vectors (each move touches fresh pages again).
  void ReserveRows(size_t rows);
  Status DeletePayloadIndex(std::string_view field);
  const payload::PayloadIndex& payload_index() const { return payload_index_; }
  size_t indexed_vectors() const;

  // Appends every present point's registers and values to `out` as (id, digest text), tombstones included.
  void Digest(std::vector<std::pair<PointId, std::string>>* out) const;
  // The vector index of a space (for persistence and stats).
  const index::VectorIndex& vector_index(size_t space) const { return *indexes_[space].index; }
  index::VectorIndex& vector_index(size_t space) { return *indexes_[space].index; }
  const std::vector<uint32_t>& row_slots(size_t space) const { return indexes_[space].row_slot; }
  const index::SparseIndex& sparse_index(size_t space) const { return *sparse_[space].index; }

  // Assembles a segment from loaded parts (segment_file.cc): states in slot order, one index per space and
  // per sparse space. Validates that ids are unique and rows consistent (each live row belongs to exactly one
  // point); Corruption otherwise.
  static Result<std::unique_ptr<Segment>> FromParts(std::vector<VectorSpace> spaces,
                                                    std::vector<SparseSpace> sparse_spaces,
                                                    PointStates states,
                                                    std::vector<std::unique_ptr<index::VectorIndex>> indexes,
                                                    std::vector<std::unique_ptr<index::SparseIndex>> sparse_indexes,
                                                    const std::string& what);
  // Makes the payload indexes exactly those listed: drops the others and builds the missing ones (after
  // loading).
  Status IndexPayloadFields(const std::vector<std::pair<std::string, payload::FieldIndexType>>& fields);
  // OK when every payload index holds exactly what indexing the live points' payloads afresh gives;
  // Corruption naming the first field that differs.
  Status CheckPayloadIndex() const;
  // Loads stored payload indexes (the segment file's SPIX section) into a segment that has none yet.
  Status LoadPayloadIndex(std::span<const uint8_t> bytes, const std::string& what, size_t base_offset);
  size_t MemoryUsage() const;

 private:
  // After loading: keeps the codes the images hold where the space's quantization (spaces_) asks for the same
  // quantile, drops them where it asks for none, and trains where they are missing or differ.
  void AdoptStoredQuantization();
  struct Space {
    std::unique_ptr<index::VectorIndex> index;
    std::vector<uint32_t> row_slot;  // index row -> slot
    size_t threshold_points = 0;     // below this many matches a filtered search scans exactly
    size_t quantized_rows = 0;       // rows when the graph was last quantized (0: never)
  };
  struct Sparse {
    std::unique_ptr<index::SparseIndex> index;
    std::vector<uint32_t> row_slot;  // sparse row -> slot
  };

  Segment() = default;
  // ids_ orders slots through a pointer to states_: a segment stays where it was made.
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;
  uint32_t SlotFor(const PointId& id);
  void RemoveRows(PointState& st);
  void AddRows(uint32_t slot, PointState& st, const Op& op);
  Result<uint32_t> AddStoredForm(Space& sp, const std::vector<float>& values);
  void AddSparseRow(uint32_t slot, PointState& st, size_t space, index::SparseView v);
  size_t EstimateMatches(size_t space, const payload::Filter& filter) const;

  std::vector<VectorSpace> spaces_;
  std::vector<Space> indexes_;
  std::vector<SparseSpace> sparse_spaces_;
  std::vector<Sparse> sparse_;
  PointStates states_;
  // Id -> slot: the slots ordered by their states' ids (a set node of 48 bytes where a map from a copy of the
  // id took 80), so the ids are kept once.
  IdOrder ids_{SlotIdLess{&states_}};
  std::vector<uint8_t> removed_;  // per slot, 1 when removed
  size_t removed_count_ = 0;
  payload::PayloadIndex payload_index_;
  size_t live_ = 0;
};

// A point lives in exactly one segment: OK when no id is present (not removed) in two of `segments`, else
// Corruption naming both (`names[i]` names segments[i]). Opening checks the loaded segment files with it, so a
// stale or forged file cannot make a point appear twice. O(points * log(segments)).
Status CheckSegmentsDisjoint(std::span<const Segment* const> segments, std::span<const std::string> names);

}  // namespace quiver::db

#endif  // QUIVER_DB_SEGMENT_H_
