// HnswIndex: a hierarchical navigable small world graph over a VectorStore.
//
// Layout, chosen for the search loop: vectors in aligned chunks of rows that never move (VectorStore); level-0
// links in one array of fixed blocks [count][2m neighbours] per row, so a row's links are one contiguous read; the
// sparse upper levels in a second array reached through a per-row offset. A search keeps its visited marks (16-bit
// epochs, cleared only on wrap-around) and heaps in a pooled context, so steady-state searches allocate nothing.
//
// Construction follows the published algorithm with the neighbour-selection heuristic. Levels are drawn from a
// hash of (seed, row), so a single-threaded build is fully deterministic for a given seed and insertion order. A
// build given a multi-threaded Executor links rows concurrently under per-row locks; its graph is equally good
// but depends on thread timing.
//
// Deleted rows stay in the graph as waypoints and never appear in results; compaction (in the storage layer)
// rebuilds without them.
//
// Thread safety: see vector_index.h. Searches use a pool of contexts guarded by a mutex.
#ifndef QUIVER_INDEX_HNSW_INDEX_H_
#define QUIVER_INDEX_HNSW_INDEX_H_

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "base/aligned_array.h"
#include "index/deleted_set.h"
#include "index/scalar_quantizer.h"
#include "index/vector_index.h"
#include "index/vector_store.h"

namespace quiver::index {

struct HnswOptions {
  uint32_t m = 16;                 // links per row on upper levels; level 0 keeps up to 2 * m
  uint32_t ef_construction = 200;  // beam width while inserting
  uint64_t seed = 42;              // drives level assignment
};

inline constexpr uint32_t kMinHnswM = 2;
inline constexpr uint32_t kMaxHnswM = 128;
inline constexpr int kMaxHnswLevel = 31;

class HnswIndex final : public VectorIndex {
 public:
  // InvalidArgument unless 1 <= dim <= kMaxDimension, kMinHnswM <= m <= kMaxHnswM and ef_construction >= 1.
  static Result<std::unique_ptr<HnswIndex>> Create(uint32_t dim, Metric metric, const HnswOptions& options);
  // Loads an image written by Serialize. Corruption (naming section and offset) for anything malformed.
  static Result<std::unique_ptr<HnswIndex>> Deserialize(std::span<const uint8_t> bytes,
                                                        std::shared_ptr<const void> keepalive = nullptr,
                                                        SectionChecks checks = SectionChecks::kAll);

  ~HnswIndex() override;

  IndexKind kind() const override { return IndexKind::kHnsw; }
  uint32_t dim() const override { return store_.dim(); }
  uint32_t stride() const override { return store_.stride(); }
  Metric metric() const override { return store_.metric(); }
  size_t size() const override { return store_.size(); }
  size_t live_size() const override { return store_.size() - deleted_.count(); }
  bool IsDeleted(uint32_t row) const override { return deleted_.Contains(row); }
  const float* Vector(uint32_t row) const override { return store_.Row(row); }

  Result<uint32_t> Add(const float* vector) override;
  Status AddBatch(const float* vectors, size_t n, Executor* executor) override;
  Status AddPrepared(const float* rows, size_t n, Executor* executor) override;
  Status Remove(uint32_t row) override;
  Status Search(const float* query, const SearchParams& params, const RowPredicate* allow,
                std::vector<Neighbor>* out) const override;
  // Continues one walk: the rows a narrower beam measured are kept (their distances and visited marks), so a
  // wider beam measures only the rows it adds.
  Status SearchWidening(const float* query, const SearchParams& params, Widen widen,
                        std::vector<Neighbor>* out) const override;
  Status SearchRows(const float* query, std::span<const uint32_t> rows, size_t k,
                    std::vector<Neighbor>* out) const override;
  Status SearchExactBatch(const float* queries, size_t nq, size_t k, std::vector<Neighbor>* outs) const override;
  ByteChunks SerializeChunks() const override;
  size_t MemoryUsage() const override;

  const HnswOptions& options() const { return options_; }
  int max_level() const { return max_level_; }
  uint32_t entry_point() const { return entry_point_; }
  int Level(uint32_t row) const { return levels_[row]; }
  // The neighbours of `row` at `level` (which must be <= Level(row)).
  std::span<const uint32_t> Links(uint32_t row, int level) const;

  // Checks every structural invariant: neighbour ids in range and distinct, no self links, degrees within
  // bounds, upper-level neighbours present on that level, entry point on the top level. Corruption if not.
  Status CheckInvariants() const;

  // Scalar quantization (scalar_quantizer.h): learns int8 codes from the rows held now and encodes rows added
  // later with the same range. Searches then walk the codes and rescore with the floats unless their params
  // say otherwise. Calling it again retrains on all rows. The quantizer and its codes are part of the image
  // (Serialize, layout version 2), so a loaded index walks the same codes.
  void Quantize(float quantile) { quantizer_ = ScalarQuantizer::Train(store_, quantile); }
  void ClearQuantization() { quantizer_.reset(); }
  const ScalarQuantizer* quantizer() const { return quantizer_ ? &*quantizer_ : nullptr; }

 private:
  struct SearchContext;
  class ContextLease;

  HnswIndex(uint32_t dim, Metric metric, const HnswOptions& options);

  int DrawLevel(uint32_t row) const;
  uint32_t* LinkBlock(uint32_t row, int level) {
    return level == 0 ? links0_.data() + static_cast<size_t>(row) * (1 + m0_)
                      : upper_links_.data() + upper_offset_[row] + static_cast<size_t>(level - 1) * (1 + m_);
  }
  const uint32_t* LinkBlock(uint32_t row, int level) const {
    return const_cast<HnswIndex*>(this)->LinkBlock(row, level);
  }
  // Grows the link arrays for rows [first, store_.size()) and draws their levels.
  void PrepareRows(size_t first);
  // Links rows [first, store_.size()) into the graph, in parallel when the executor allows.
  void LinkRows(size_t first, Executor* executor);
  // Links one row (already in store_) into the graph.
  template <bool kLocked>
  void Insert(uint32_t row, SearchContext& ctx);
  // Greedy descent from `ep` on levels top .. stop + 1; returns the closest row found and its distance.
  template <bool kLocked, class Q>
  void Descend(const Q& q, int top, int stop, uint32_t* ep, float* ep_dist) const;
  // Beam search on one level; leaves up to `ef` closest admitted rows in ctx.results. With kKeepSeen, every
  // row it measures is also listed in ctx.seen, so that WidenLevel can continue the walk.
  template <bool kLocked, bool kFiltered, bool kKeepSeen = false, class Q>
  void SearchLevel(const Q& q, uint32_t ep, float ep_dist, int level, size_t ef, const RowPredicate* allow,
                   SearchContext& ctx) const;
  // The loop of SearchLevel: expands candidates closer than the beam's bound.
  template <bool kLocked, bool kFiltered, bool kKeepSeen, class Q>
  void ExpandLevel(const Q& q, int level, const RowPredicate* allow, SearchContext& ctx) const;
  // Runs walk(query space) over the int8 codes (a quantized index, unless params.ignore_quantization; *beam
  // then at least k * oversampling) or the floats; walk leaves ctx.found, of which the first `keep` are
  // ordered by float distance after rescoring (when params.rescore).
  template <class Walk>
  void WalkCodesOrFloats(const SearchParams& params, const float* q, size_t keep, size_t* beam,
                         SearchContext& ctx, Walk&& walk) const;
  // Continues a level-0 walk of SearchLevel<false, kFiltered, true> with a beam of `ef` (wider than before).
  template <bool kFiltered, class Q>
  void WidenLevel(const Q& q, size_t ef, SearchContext& ctx) const;
  // The neighbour-selection heuristic: keeps a candidate only if it is closer to the base than to every kept
  // one. `cands` is sorted closest first; at most `max_links` are kept in *out.
  void SelectNeighbors(const std::vector<Neighbor>& cands, uint32_t max_links, std::vector<Neighbor>* out) const;
  template <bool kLocked>
  void AddLink(uint32_t from, uint32_t to, int level, SearchContext& ctx);
  // Copies a row's links at `level` into buf (under the row's lock when kLocked); returns the count.
  template <bool kLocked>
  uint32_t ReadLinks(uint32_t row, int level, uint32_t* buf) const;
  float Dist(const float* q, uint32_t row) const { return store_.Distance(q, store_.Row(row)); }

  HnswOptions options_;
  uint32_t m_;
  uint32_t m0_;
  double level_mult_;
  VectorStore store_;
  std::optional<ScalarQuantizer> quantizer_;
  DeletedSet deleted_;
  AlignedArray<uint32_t> links0_;     // rows * (1 + m0): [count][neighbours...]
  std::vector<uint8_t> levels_;       // top level of each row
  std::vector<uint32_t> upper_offset_;  // start of a row's level-1 block in upper_links_
  std::vector<uint32_t> upper_links_;   // per row with level L > 0: L blocks of [count][m neighbours]
  int max_level_ = -1;
  uint32_t entry_point_ = 0;

  // Only during a multi-threaded AddBatch.
  std::unique_ptr<std::mutex[]> row_locks_;
  std::mutex entry_mu_;

  mutable std::mutex pool_mu_;
  mutable std::vector<std::unique_ptr<SearchContext>> pool_;
};

}  // namespace quiver::index

#endif  // QUIVER_INDEX_HNSW_INDEX_H_
