// ScalarQuantizer: int8 codes for an index's vectors (scalar quantization, "SQ8"), searched first and
// rescored with the float vectors.
//
// One range [lo, hi] for all dimensions, the central `quantile` of the stored values (1.0: min and max; 0.99
// clips the outer 1% so a few outliers do not waste the codes' resolution). A value x becomes the code
// c = round((x - mid) / step) clamped to [-127, 127], with mid = (lo + hi) / 2 and step = (hi - lo) / 254, so
// x ~ mid + step * c. Codes of a row are padded with zeros to a multiple of 16 bytes.
//
// A query is encoded with its own range (its minimum and maximum), so a query of another scale than the rows
// (an inner-product query of any length) loses no resolution; with q ~ qmid + qstep * cq the inner product is
//   q . x ~ dim qmid mid + qmid step sum c + qstep mid sum cq + qstep step sum cq c
// from one int32 kernel (sum cq c) and each row's sum of codes. L2 adds the exact squared norms of the query
// and the row: |q - x|^2 = |q|^2 + |x|^2 - 2 q . x. L1 cannot mix ranges: its queries use the rows' range,
// and |q - x|_1 ~ step sum |cq - c|. Cosine vectors are normalised before encoding, so cosine is the inner
// product here. Distances follow metric.h's convention (smaller is closer).
//
// Training is deterministic: the same rows give the same quantizer and codes on every platform. An index
// image stores the quantizer and its codes (docs/formats.md, "Index image": SQPR, SQCD, SQN2), so loading one
// neither trains nor encodes again, and keeps the range learnt from the rows there were at training.
//
// Thread safety: const methods may run concurrently; Append needs exclusive access.
#ifndef QUIVER_INDEX_SCALAR_QUANTIZER_H_
#define QUIVER_INDEX_SCALAR_QUANTIZER_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "base/aligned_array.h"
#include "base/section_file.h"
#include "index/metric.h"
#include "index/vector_store.h"
#include "simd/distance.h"

namespace quiver::index {

// Code bytes per row: the dimension rounded up to a multiple of 16 (the padding codes are zero).
constexpr uint32_t CodeStrideFor(uint32_t dim) { return (dim + 15) & ~15u; }

class ScalarQuantizer {
 public:
  // Learns the range from the store's rows (a fixed sample of at most about a million values) and encodes
  // every row. `quantile` is in [0.5, 1].
  static ScalarQuantizer Train(const VectorStore& store, float quantile);

  // Adds the SQPR, SQCD and (L2) SQN2 sections of an index image.
  void Write(SectionFileWriter* w) const;
  // The quantizer those sections hold for `store`, the image's rows (already read): Corruption naming the
  // section and offset when a size, a parameter or a code is out of range. Each row's sum of codes is
  // computed again from the codes. With a `keepalive` owning the image's bytes, the codes are used where they
  // are (as VectorStore::AdoptExternal uses the rows) and copied only when rows are appended.
  static Result<ScalarQuantizer> Read(const SectionFileReader& reader, const VectorStore& store,
                                      std::shared_ptr<const void> keepalive = nullptr);

  // Its codes point into itself or into a kept-alive image: moved, never copied.
  ScalarQuantizer(ScalarQuantizer&&) = default;
  ScalarQuantizer& operator=(ScalarQuantizer&&) = default;

  uint32_t dim() const { return dim_; }
  // Rows there were when the range was learnt.
  size_t trained_rows() const { return trained_rows_; }
  uint32_t code_stride() const { return code_stride_; }
  size_t size() const { return code_sum_.size(); }
  float quantile() const { return quantile_; }
  float lo() const { return mid_ - 127.0f * step_; }
  float hi() const { return mid_ + 127.0f * step_; }
  const int8_t* Codes(uint32_t row) const { return codes_base_ + static_cast<size_t>(row) * code_stride_; }
  // Whether the codes are the image's, used in place.
  bool external() const { return keepalive_ != nullptr; }

  // Encodes rows [size(), store.size()) of the store, which must hold every row encoded so far unchanged.
  void Append(const VectorStore& store);

  // What a search keeps of its encoded query besides the codes.
  struct QueryTerms {
    float constant = 0;  // dim qmid mid + qstep mid sum cq
    float per_sum = 0;   // qmid step, times a row's sum of codes
    float per_dot = 0;   // qstep step, times the code dot product
    float norm2 = 0;     // |q|^2 (L2)
  };

  // Encodes a query in stored form (store.stride() floats) into out[0, code_stride).
  QueryTerms EncodeQuery(const float* stored, int8_t* out) const;

  float Distance(const int8_t* q, const QueryTerms& t, uint32_t row) const {
    const int8_t* c = Codes(row);
    if (metric_ == Metric::kL1) return step_ * static_cast<float>(kernels_->code_l1(q, c, code_stride_));
    return Combine(kernels_->code_dot(q, c, code_stride_), t, row);
  }
  void DistanceX4(const int8_t* q, const QueryTerms& t, const uint32_t* rows, float* out) const {
    if (metric_ == Metric::kL1) {
      for (int j = 0; j < 4; ++j) out[j] = Distance(q, t, rows[j]);
      return;
    }
    const int8_t* c[4] = {Codes(rows[0]), Codes(rows[1]), Codes(rows[2]), Codes(rows[3])};
    int32_t dots[4];
    kernels_->code_dot_x4(q, c, code_stride_, dots);
    for (int j = 0; j < 4; ++j) out[j] = Combine(dots[j], t, rows[j]);
  }

  // Codes used in place are not counted, as VectorStore does not count adopted rows.
  size_t MemoryUsage() const {
    return codes_.bytes() + (code_sum_.capacity() + norm2_.capacity()) * sizeof(float);
  }

 private:
  ScalarQuantizer(uint32_t dim, Metric metric, float quantile, float lo, float hi);
  // From a stored middle and step (finite, step > 0), bit for bit.
  ScalarQuantizer(uint32_t dim, Metric metric, float quantile, size_t trained_rows, float mid, float step);

  void Encode(const float* v, float mid, float inv_step, int8_t* out) const;
  float Combine(int32_t dot, const QueryTerms& t, uint32_t row) const {
    const float ip = t.constant + t.per_sum * code_sum_[row] + t.per_dot * static_cast<float>(dot);
    return metric_ == Metric::kL2 ? t.norm2 + norm2_[row] - 2.0f * ip : -ip;
  }

  uint32_t dim_;
  uint32_t code_stride_;
  Metric metric_;
  float quantile_;
  size_t trained_rows_ = 0;
  float mid_;
  float step_;
  float inv_step_;
  const simd::Kernels* kernels_;
  AlignedArray<int8_t> codes_;             // the codes, unless used in place
  const int8_t* codes_base_ = nullptr;     // codes_.data(), or the image's codes
  std::shared_ptr<const void> keepalive_;  // set while the image's codes are used
  std::vector<float> code_sum_;  // per row: sum of its codes
  std::vector<float> norm2_;     // per row: its exact squared norm (L2 only)
};

}  // namespace quiver::index

#endif  // QUIVER_INDEX_SCALAR_QUANTIZER_H_
