#include "index/vector_store.h"

#include <cmath>
#include <cstring>
#include <string>

namespace quiver::index {

Status CheckFinite(const float* v, uint32_t dim) {
  // Fast path: an infinity or NaN has all exponent bits set; this loop vectorises.
  uint32_t bad = 0;
  for (uint32_t i = 0; i < dim; ++i) {
    uint32_t bits;
    std::memcpy(&bits, v + i, 4);
    bad |= static_cast<uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  if (!bad) return Status::OK();
  for (uint32_t i = 0; i < dim; ++i) {
    if (!std::isfinite(v[i])) {
      return Status::InvalidArgument("vector[" + std::to_string(i) + "] is " + (std::isnan(v[i]) ? "NaN" : "infinite") +
                                     "; vectors must hold finite numbers");
    }
  }
  return Status::OK();
}

VectorStore::VectorStore(uint32_t dim, Metric metric)
    : dim_(dim),
      stride_(StrideFor(dim)),
      metric_(metric),
      negate_(metric == Metric::kInnerProduct || metric == Metric::kCosine) {
  const simd::Kernels& k = simd::Best();
  switch (metric) {
    case Metric::kL2:
      fn_ = k.l2_squared;
      fn_x4_ = k.l2_squared_x4;
      break;
    case Metric::kInnerProduct:
    case Metric::kCosine:
      fn_ = k.inner_product;
      fn_x4_ = k.inner_product_x4;
      break;
    case Metric::kL1:
      fn_ = k.l1;
      fn_x4_ = k.l1_x4;
      break;
  }
}

Status VectorStore::Prepare(const float* v, float* out) const {
  QUIVER_RETURN_IF_ERROR(CheckFinite(v, dim_));
  std::memcpy(out, v, dim_ * sizeof(float));
  std::memset(out + dim_, 0, (stride_ - dim_) * sizeof(float));
  if (metric_ == Metric::kCosine) simd::Normalize(out, stride_);
  return Status::OK();
}

void VectorStore::Own() {
  if (!keepalive_) return;
  AlignedArray<float> owned(rows_ * stride_);
  if (rows_) std::memcpy(owned.data(), base_, rows_ * stride_ * sizeof(float));
  data_ = std::move(owned);
  base_ = data_.data();
  keepalive_.reset();
}

void VectorStore::AdoptExternal(const float* rows, size_t n, std::shared_ptr<const void> keepalive) {
  data_.Clear();
  rows_ = n;
  base_ = rows;
  keepalive_ = std::move(keepalive);
}

Result<uint32_t> VectorStore::Append(const float* v) {
  if (rows_ >= UINT32_MAX) return Status::ResourceExhausted("an index holds at most 2^32 - 1 vectors");
  QUIVER_RETURN_IF_ERROR(CheckFinite(v, dim_));
  Own();
  data_.ResizeForOverwrite((rows_ + 1) * stride_);
  base_ = data_.data();
  float* row = data_.data() + rows_ * stride_;
  std::memcpy(row, v, dim_ * sizeof(float));
  std::memset(row + dim_, 0, (stride_ - dim_) * sizeof(float));
  if (metric_ == Metric::kCosine) simd::Normalize(row, stride_);
  return static_cast<uint32_t>(rows_++);
}

void VectorStore::AppendPrepared(const float* rows, size_t n) {
  Own();
  data_.Resize((rows_ + n) * stride_);
  base_ = data_.data();
  std::memcpy(data_.data() + rows_ * stride_, rows, n * stride_ * sizeof(float));
  rows_ += n;
}

}  // namespace quiver::index
