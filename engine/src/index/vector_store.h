// VectorStore: the float32 vectors of one index, row after row in 64-byte-aligned chunks of 2^k rows (4 MiB or
// more each, so each full chunk is mapped on its own and backed by huge pages). Each row is padded with zeros to
// `stride` floats (a multiple of 16 from 64 dimensions up, of 4 below) so rows start on aligned boundaries and
// kernels run over whole registers. Padding is zero in stored rows and in prepared queries, so it adds nothing to
// any metric.
//
// A full chunk never moves: growing the store allocates the next chunk instead of copying every row into a
// larger array. (WebAssembly's memory never shrinks, so there a copy made while growing was kept for good: the
// vectors took about three times their size. The first chunk grows by half again up to full size, so a small
// store stays small; later chunks are allocated whole.)
//
// The store validates what enters it: a vector with NaN or Inf is rejected with InvalidArgument naming the
// position. For kCosine, rows and queries are normalised to unit length.
//
// A store can also use rows that live elsewhere, read-only (AdoptExternal): a segment file mapped into memory is
// searched in place. Appending to such a store first copies the rows into its own chunks.
//
// Thread safety: const methods may run concurrently; Append and Reserve need exclusive access.
#ifndef QUIVER_INDEX_VECTOR_STORE_H_
#define QUIVER_INDEX_VECTOR_STORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/aligned_array.h"
#include "index/metric.h"
#include "quiver/status.h"
#include "simd/distance.h"

namespace quiver::index {

inline constexpr uint32_t kMaxDimension = 65536;

// The padded row length for `dim` dimensions.
constexpr uint32_t StrideFor(uint32_t dim) { return dim >= 64 ? (dim + 15) & ~15u : (dim + 3) & ~3u; }

// Checks that every value is finite; the error names the first bad position.
Status CheckFinite(const float* v, uint32_t dim);

class VectorStore {
 public:
  VectorStore(uint32_t dim, Metric metric);
  VectorStore(VectorStore&&) = default;
  VectorStore& operator=(VectorStore&&) = default;
  VectorStore(const VectorStore&) = delete;  // chunks_ points into owned_
  VectorStore& operator=(const VectorStore&) = delete;

  uint32_t dim() const { return dim_; }
  uint32_t stride() const { return stride_; }
  Metric metric() const { return metric_; }
  size_t size() const { return rows_; }
  const float* Row(uint32_t row) const { return chunks_[row >> shift_] + static_cast<size_t>(row & mask_) * stride_; }
  // Rows per chunk (a power of two).
  size_t chunk_rows() const { return size_t{1} << shift_; }
  // The rows in order, as runs of consecutive rows (one per chunk, each full but the last).
  std::vector<std::span<const float>> Runs() const;
  // The bytes of the rows it owns (adopted rows are not counted; reserved room that holds no row yet is address
  // space, not memory: its pages are untouched).
  size_t MemoryUsage() const { return external() ? 0 : rows_ * stride_ * sizeof(float); }
  bool external() const { return keepalive_ != nullptr; }

  // Makes room for `rows` rows in all, without copying a full chunk's rows. Growing a chunk makes room for half
  // again what it holds at least, so reserving a row more at a time stays amortised constant.
  void Reserve(size_t rows);

  // Validates, normalises (cosine) and appends `v` (dim floats); returns its row.
  Result<uint32_t> Append(const float* v);

  // Validates `v` and writes the stored form of it (normalised for cosine, zero padded) to out[0, stride).
  Status Prepare(const float* v, float* out) const;

  // Appends rows already in stored form (stride floats each), as read from an index image. No validation.
  void AppendPrepared(const float* rows, size_t n);
  // Uses `rows` (n rows in stored form, 64-byte aligned, kept alive by `keepalive`) instead of copying them. The
  // store must be empty.
  void AdoptExternal(const float* rows, size_t n, std::shared_ptr<const void> keepalive);

  // Distance between two stored-form vectors (stride floats each).
  float Distance(const float* a, const float* b) const {
    float raw = fn_(a, b, stride_);
    return negate_ ? -raw : raw;
  }
  // Distances from q to four stored-form vectors at once.
  void DistanceX4(const float* q, const float* const* rows, float* out) const {
    fn_x4_(q, rows, stride_, out);
    if (negate_) {
      for (int i = 0; i < 4; ++i) out[i] = -out[i];
    }
  }

 private:
  // Copies adopted rows into owned chunks.
  void Own();
  // Room for k more rows after the last, all in the last row's chunk (k <= the rows left in it); returns where
  // the first goes. The caller writes them and adds k to rows_.
  float* Room(size_t k);

  uint32_t dim_;
  uint32_t stride_;
  Metric metric_;
  bool negate_;
  simd::DistanceFn fn_;
  simd::DistanceX4Fn fn_x4_;
  uint32_t shift_;  // log2 of the rows per chunk
  uint32_t mask_;   // rows per chunk - 1

  size_t rows_ = 0;
  std::vector<const float*> chunks_;        // each chunk's first row: in owned_, or in the adopted rows
  std::vector<AlignedArray<float>> owned_;  // the chunks' storage, unless the rows are adopted
  std::shared_ptr<const void> keepalive_;   // set while rows are adopted
};

}  // namespace quiver::index

#endif  // QUIVER_INDEX_VECTOR_STORE_H_
