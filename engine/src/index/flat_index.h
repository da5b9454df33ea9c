// FlatIndex: exact search by scanning every row. The right index for small segments and the oracle HNSW is
// measured against. Also provides ExactSearch, the scan the HNSW index uses when asked for exact results.
//
// Thread safety: see vector_index.h.
#ifndef QUIVER_INDEX_FLAT_INDEX_H_
#define QUIVER_INDEX_FLAT_INDEX_H_

#include <memory>

#include "index/deleted_set.h"
#include "index/vector_index.h"
#include "index/vector_store.h"

namespace quiver::index {

// Scans rows [0, store.size()) that are not deleted and allowed, and writes the k closest to `prepared_query`
// (stored form, see VectorStore::Prepare) into *out, closest first. A null `allow` admits every row.
void ExactSearch(const VectorStore& store, const DeletedSet& deleted, const float* prepared_query, size_t k,
                 const RowPredicate* allow, std::vector<Neighbor>* out);

// The same over the listed rows only.
void ExactSearchRows(const VectorStore& store, const DeletedSet& deleted, const float* prepared_query,
                     std::span<const uint32_t> rows, size_t k, std::vector<Neighbor>* out);

// Exact search for several queries at once: the rows are read in blocks small enough to stay in cache while
// every query measures them, so memory is read once per block for all the queries instead of once per query.
// `queries` are nq raw vectors (dim floats each), prepared here; outs[i] as ExactSearch's *out for query i.
Status ExactSearchBatch(const VectorStore& store, const DeletedSet& deleted, const float* queries, size_t nq,
                        size_t k, std::vector<Neighbor>* outs);

class FlatIndex final : public VectorIndex {
 public:
  // InvalidArgument unless 1 <= dim <= kMaxDimension.
  static Result<std::unique_ptr<FlatIndex>> Create(uint32_t dim, Metric metric);
  // Repair: the vectors of a flat or HNSW index image whose graph sections are damaged, as a flat index with
  // the same rows (deleted rows stay deleted). Corruption when META, VECS or DELS are damaged too.
  static Result<std::unique_ptr<FlatIndex>> Salvage(std::span<const uint8_t> bytes, const std::string& name);
  static Result<std::unique_ptr<FlatIndex>> Deserialize(std::span<const uint8_t> bytes,
                                                        std::shared_ptr<const void> keepalive = nullptr,
                                                        SectionChecks checks = SectionChecks::kAll);

  IndexKind kind() const override { return IndexKind::kFlat; }
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
  Status SearchRows(const float* query, std::span<const uint32_t> rows, size_t k,
                    std::vector<Neighbor>* out) const override;
  Status SearchExactBatch(const float* queries, size_t nq, size_t k, std::vector<Neighbor>* outs) const override {
    return ExactSearchBatch(store_, deleted_, queries, nq, k, outs);
  }
  ByteChunks SerializeChunks() const override;
  size_t MemoryUsage() const override { return store_.MemoryUsage() + deleted_.MemoryUsage(); }
  const VectorStore& store() const { return store_; }
  // Room for `rows` vectors without moving them (a write segment that will hold that many before it seals).
  void Reserve(size_t rows) { store_.Reserve(rows); }

 private:
  FlatIndex(uint32_t dim, Metric metric) : store_(dim, metric) {}

  VectorStore store_;
  DeletedSet deleted_;
};

}  // namespace quiver::index

#endif  // QUIVER_INDEX_FLAT_INDEX_H_
