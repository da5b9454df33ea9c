// VectorStore: the float32 vectors of one index, row after row in one 64-byte-aligned array. Each row is padded
// with zeros to `stride` floats (a multiple of 16 from 64 dimensions up, of 4 below) so rows start on aligned
// boundaries and kernels run over whole registers. Padding is zero in stored rows and in prepared queries, so it
// adds nothing to any metric.
//
// The store validates what enters it: a vector with NaN or Inf is rejected with InvalidArgument naming the
// position. For kCosine, rows and queries are normalised to unit length.
//
// A store can also use rows that live elsewhere, read-only (AdoptExternal): a segment file mapped into memory is
// searched in place. Appending to such a store first copies the rows into its own array.
//
// Thread safety: const methods may run concurrently; Append and Reserve need exclusive access (they may move the
// array).
#ifndef QUIVER_INDEX_VECTOR_STORE_H_
#define QUIVER_INDEX_VECTOR_STORE_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

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

  uint32_t dim() const { return dim_; }
  uint32_t stride() const { return stride_; }
  Metric metric() const { return metric_; }
  size_t size() const { return rows_; }
  const float* Row(uint32_t row) const { return base_ + static_cast<size_t>(row) * stride_; }
  const float* data() const { return base_; }
  // Bytes of memory the store owns (adopted rows are not counted).
  // The bytes of the rows it owns (reserved room that holds no row yet is address space, not memory: its pages
  // are untouched).
  size_t MemoryUsage() const { return data_.size() * sizeof(float); }
  bool external() const { return keepalive_ != nullptr; }

  void Reserve(size_t rows) {
    Own();
    data_.Reserve(rows * stride_);
    base_ = data_.data();
  }

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
  uint32_t dim_;
  uint32_t stride_;
  Metric metric_;
  bool negate_;
  simd::DistanceFn fn_;
  simd::DistanceX4Fn fn_x4_;
  // Copies adopted rows into data_.
  void Own();

  size_t rows_ = 0;
  AlignedArray<float> data_;
  const float* base_ = nullptr;                // data_.data() or adopted rows
  std::shared_ptr<const void> keepalive_;      // set while rows are adopted
};

}  // namespace quiver::index

#endif  // QUIVER_INDEX_VECTOR_STORE_H_
