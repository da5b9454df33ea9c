// VectorIndex: what every index kind (flat, HNSW) offers a segment. Rows are dense uint32 numbers given in
// insertion order; the owner maps them to point ids. Removing a row marks it deleted: it never appears in results
// again, and its number is not reused.
//
// Search takes an optional allow-list predicate so filters steer the search rather than trimming its output:
// only rows for which `(*allow)(row)` is true (and that are not deleted) are returned, while an HNSW walk may
// still pass through other rows to reach them. A null `allow` admits every row.
//
// Thread safety: const methods (Search, Serialize, ...) may run concurrently with each other. Add, AddBatch and
// Remove need exclusive access; AddBatch may use the given executor's threads internally.
#ifndef QUIVER_INDEX_VECTOR_INDEX_H_
#define QUIVER_INDEX_VECTOR_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "quiver/executor.h"
#include "quiver/function_ref.h"
#include "index/metric.h"
#include "base/byte_chunks.h"
#include "base/section_file.h"
#include "quiver/status.h"

namespace quiver::index {

struct Neighbor {
  uint32_t row;
  float distance;  // smaller is closer, see metric.h
  friend bool operator==(const Neighbor&, const Neighbor&) = default;
};

// Orders by distance, then row, so equal distances come out in a fixed order.
inline bool operator<(const Neighbor& a, const Neighbor& b) {
  return a.distance < b.distance || (a.distance == b.distance && a.row < b.row);
}

enum class IndexKind : uint8_t { kFlat = 0, kHnsw = 1 };

struct SearchParams {
  size_t k = 10;        // how many results at most
  size_t ef = 0;        // HNSW beam width; 0 picks max(k, 64). Raised to k when smaller.
  bool exact = false;   // scan every allowed row instead of walking the graph
  // For a quantized index (HnswIndex::Quantize): walk the float vectors instead of the codes; otherwise walk the
  // codes with a beam of at least k * oversampling and, when `rescore`, re-measure what the walk found with the
  // float vectors. Unquantized indexes ignore these.
  bool ignore_quantization = false;
  bool rescore = true;
  double oversampling = 1.0;
};

using RowPredicate = FunctionRef<bool(uint32_t)>;

class VectorIndex {
 public:
  virtual ~VectorIndex() = default;

  virtual IndexKind kind() const = 0;
  virtual uint32_t dim() const = 0;
  virtual Metric metric() const = 0;
  // Rows ever added, deleted ones included.
  virtual size_t size() const = 0;
  // Rows not deleted.
  virtual size_t live_size() const = 0;
  virtual bool IsDeleted(uint32_t row) const = 0;
  // The stored form of a row's vector (normalised for cosine; stride() floats, zero padded).
  virtual const float* Vector(uint32_t row) const = 0;
  virtual uint32_t stride() const = 0;

  // Adds one vector of dim() floats and returns its row. InvalidArgument for NaN/Inf; nothing changes then.
  virtual Result<uint32_t> Add(const float* vector) = 0;
  // Adds n vectors (n * dim() floats, row-major) as rows size() .. size() + n - 1. Every vector is validated
  // before any is added. `executor` may be null (run on the calling thread).
  virtual Status AddBatch(const float* vectors, size_t n, Executor* executor) = 0;
  // Adds vectors already in stored form (stride() floats each, as Vector() returns them: normalised for cosine,
  // zero padded), without validating or normalising again, so a vector moved between indexes keeps its exact
  // bits. Rows size() .. size() + n - 1.
  virtual Status AddPrepared(const float* rows, size_t n, Executor* executor) = 0;
  // Marks a row deleted. NotFound if the row does not exist; removing a deleted row is OK (idempotent).
  virtual Status Remove(uint32_t row) = 0;

  // Appends to *out (after clearing it) up to params.k allowed, live rows closest to `query` (dim() floats),
  // closest first. InvalidArgument for NaN/Inf in the query or k == 0.
  virtual Status Search(const float* query, const SearchParams& params, const RowPredicate* allow,
                        std::vector<Neighbor>* out) const = 0;

  // How a walk that may go deeper goes on: given the beam so far (closest first, by the distances the walk
  // measured), the wider beam to continue with, or 0 (or a beam no wider) to stop.
  using Widen = FunctionRef<size_t(std::span<const Neighbor> beam)>;

  // An unfiltered search that keeps a beam of params.ef rows (at least params.k), shows it to `widen` and
  // goes on, as long as `widen` asks, with the wider beam it returns; *out is the last beam, closest first
  // (after rescoring, for a quantized index). The planner's walk that checks a filter only on the rows it
  // returns. An HNSW index continues the same walk (what it measured stays measured); this default searches
  // again.
  virtual Status SearchWidening(const float* query, const SearchParams& params, Widen widen,
                                std::vector<Neighbor>* out) const;

  // Exact search restricted to `rows` (any order; deleted and out-of-range rows are skipped): the planner's path
  // when a filter admits few rows. Same output contract as Search.
  virtual Status SearchRows(const float* query, std::span<const uint32_t> rows, size_t k,
                            std::vector<Neighbor>* out) const = 0;

  // Exact searches for `nq` queries (row-major, dim() floats each) in one pass over the rows: outs[i] (nq
  // vectors) as Search with exact = true and no predicate would give for query i. InvalidArgument for NaN/Inf
  // in a query (naming it) or k == 0.
  virtual Status SearchExactBatch(const float* queries, size_t nq, size_t k, std::vector<Neighbor>* outs) const = 0;

  // The index image: a section file of this index kind (docs/formats.md).
  virtual ByteChunks SerializeChunks() const = 0;
  std::string Serialize() const { return SerializeChunks().Flatten(); }
  // Bytes of memory held.
  virtual size_t MemoryUsage() const = 0;
};

// Loads an index image written by Serialize of either kind. Corruption for any malformed or truncated input.
// With a `keepalive` owning `bytes`, vectors are used in place when aligned (see VectorStore::AdoptExternal).
// `checks`: SectionChecks::kSkipSectionCrcs when the image's bytes were checked already (the segment file section
// holding it); every structural check still runs.
Result<std::unique_ptr<VectorIndex>> LoadIndex(std::span<const uint8_t> bytes,
                                               std::shared_ptr<const void> keepalive = nullptr,
                                               SectionChecks checks = SectionChecks::kAll);

}  // namespace quiver::index

#endif  // QUIVER_INDEX_VECTOR_INDEX_H_
