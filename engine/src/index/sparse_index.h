// SparseIndex: the sparse vectors of one named sparse vector in one segment, and their inverted index. Rows are
// dense uint32 numbers given in insertion order, as in VectorIndex; removing a row marks it deleted and its
// number is never reused.
//
// Each row keeps its vector (indices strictly increasing, finite values) in one compressed-row store, so a
// point's vector can be returned, moved to another segment or written to a file. The postings map each index to
// the rows holding it, in row order, with their values; each posting list also counts its live rows (the
// document frequency the IDF modifier needs).
//
// Scoring is Qdrant's: the score of a row is the sum, over the indices it shares with the query, of query weight
// times stored value; only rows sharing at least one index are candidates. Sums run in single precision in
// increasing index order (term at a time over the query's sorted indices), so a brute-force merge of the same
// two vectors in index order gives the same bits.
//
// Thread safety: const methods may run concurrently with each other; Add and Remove need exclusive access.
#ifndef QUIVER_INDEX_SPARSE_INDEX_H_
#define QUIVER_INDEX_SPARSE_INDEX_H_

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "index/deleted_set.h"
#include "quiver/function_ref.h"
#include "quiver/status.h"
#include "quiver/types.h"

namespace quiver::index {

// Sorts a sparse vector by index (values follow their indices) and checks it: as many values as indices, no
// index twice, every value finite. InvalidArgument names the problem ("duplicate index 7", "values[2] is NaN").
Status NormalizeSparse(SparseVector* v);
// Checks a vector that must already be normalised (strictly increasing indices, finite values).
Status CheckSparse(std::span<const uint32_t> indices, std::span<const float> values);

// Qdrant's inverse document frequency of an index held by `with_index` of `points` vectors:
// ln((points - with_index + 0.5) / (with_index + 0.5) + 1), computed in double precision.
double SparseIdf(size_t points, size_t with_index);

// A sparse vector viewed in place.
struct SparseView {
  std::span<const uint32_t> indices;
  std::span<const float> values;
  SparseVector ToVector() const {
    return SparseVector{{indices.begin(), indices.end()}, {values.begin(), values.end()}};
  }
};

// The dot product over shared indices of two normalised vectors, summed in increasing index order in single
// precision; nullopt when they share no index.
std::optional<float> SparseDot(SparseView a, SparseView b);

class SparseIndex {
 public:
  SparseIndex() = default;
  SparseIndex(const SparseIndex&) = delete;
  SparseIndex& operator=(const SparseIndex&) = delete;

  // Rows ever added, deleted ones included.
  size_t size() const { return offsets_.size() - 1; }
  size_t live_size() const { return size() - deleted_.count(); }
  bool IsDeleted(uint32_t row) const { return deleted_.Contains(row); }
  const DeletedSet& deleted() const { return deleted_; }
  SparseView Vector(uint32_t row) const;
  // Stored (index, value) pairs over all rows.
  size_t entries() const { return indices_.size(); }
  // Live rows holding `index`.
  uint32_t DocumentFrequency(uint32_t index) const;

  // Adds a normalised vector (the caller checked it with NormalizeSparse or CheckSparse) and returns its row.
  uint32_t Add(SparseView v);
  // Marks a row deleted; deleting twice or a row past the end does nothing.
  void Remove(uint32_t row);

  // Scores every live row sharing an index with the query (strictly increasing indices, one weight each) and
  // calls fn(row, score) once per such row, in no particular order.
  void Score(SparseView query, FunctionRef<void(uint32_t, float)> fn) const;

  // The index image written into a segment file (docs/formats.md, "Sparse vector section"): rows, their
  // vectors and the deleted rows. Postings are rebuilt when an image is loaded.
  std::string Serialize() const;
  // Corruption naming `what` and the offset for any malformed or truncated image.
  static Result<std::unique_ptr<SparseIndex>> Load(std::span<const uint8_t> bytes, const std::string& what,
                                                   size_t base_offset = 0);
  size_t MemoryUsage() const;

 private:
  struct Posting {
    uint32_t row;
    float value;
  };
  struct PostingList {
    std::vector<Posting> entries;   // rows in increasing order, deleted ones included
    uint32_t live = 0;
  };
  void Index(uint32_t row);

  std::vector<uint64_t> offsets_{0};   // row r holds entries offsets_[r] .. offsets_[r + 1] - 1
  std::vector<uint32_t> indices_;
  std::vector<float> values_;
  DeletedSet deleted_;
  std::unordered_map<uint32_t, PostingList> postings_;
};

}  // namespace quiver::index

#endif  // QUIVER_INDEX_SPARSE_INDEX_H_
