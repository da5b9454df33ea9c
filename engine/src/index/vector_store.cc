#include "index/vector_store.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

namespace quiver::index {

namespace {
// A full chunk's size, at least: a chunk of this size is mapped on its own (base/huge_pages.h).
constexpr size_t kChunkBytes = kHugePageThreshold;
}  // namespace

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
  // The fewest rows (a power of two) that fill kChunkBytes.
  const size_t row_bytes = size_t{stride_} * sizeof(float);
  shift_ = 0;
  while ((size_t{1} << shift_) * row_bytes < kChunkBytes) ++shift_;
  mask_ = (uint32_t{1} << shift_) - 1;
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

std::vector<std::span<const float>> VectorStore::Runs() const {
  std::vector<std::span<const float>> runs;
  for (size_t first = 0, c = 0; first < rows_; first += chunk_rows(), ++c) {
    runs.emplace_back(chunks_[c], std::min(chunk_rows(), rows_ - first) * stride_);
  }
  return runs;
}

void VectorStore::Reserve(size_t rows) {
  Own();
  for (size_t first = 0, c = 0; first < rows; first += chunk_rows(), ++c) {
    if (c == owned_.size()) {
      owned_.emplace_back();
      chunks_.push_back(nullptr);
    }
    // Half again what the chunk holds, at least (callers reserve a few rows more at a time), up to full size.
    AlignedArray<float>& chunk = owned_[c];
    const size_t want = std::min(chunk_rows(), rows - first) * stride_, full = chunk_rows() * stride_;
    if (chunk.capacity() < want) chunk.ReserveExact(std::min(full, std::max(want, chunk.capacity() * 3 / 2)));
    chunks_[c] = chunk.data();
  }
}

float* VectorStore::Room(size_t k) {
  const size_t c = rows_ >> shift_, in = rows_ & mask_;
  if (c == owned_.size()) {
    owned_.emplace_back();
    chunks_.push_back(nullptr);
  }
  AlignedArray<float>& chunk = owned_[c];
  const size_t need = (in + k) * stride_, full = chunk_rows() * stride_;
  if (chunk.capacity() < need) {
    // The first chunk grows by half again, up to full size; a later one is made full at once (the store is
    // large already), unless Reserve sized it.
    const size_t grown = c == 0 ? std::max(need, chunk.capacity() + chunk.capacity() / 2) : full;
    chunk.ReserveExact(std::min(grown, full));
    chunks_[c] = chunk.data();
  }
  chunk.ResizeForOverwrite(need);
  return chunk.data() + in * stride_;
}

void VectorStore::Own() {
  if (!keepalive_) return;
  const float* rows = chunks_.empty() ? nullptr : chunks_[0];  // adopted rows are one run
  const size_t n = rows_;
  std::shared_ptr<const void> keep = std::move(keepalive_);
  keepalive_.reset();
  chunks_.clear();
  rows_ = 0;
  Reserve(n);
  AppendPrepared(rows, n);
}

void VectorStore::AdoptExternal(const float* rows, size_t n, std::shared_ptr<const void> keepalive) {
  owned_.clear();
  chunks_.clear();
  for (size_t first = 0; first < n; first += chunk_rows()) chunks_.push_back(rows + first * stride_);
  rows_ = n;
  keepalive_ = std::move(keepalive);
}

Result<uint32_t> VectorStore::Append(const float* v) {
  if (rows_ >= UINT32_MAX) return Status::ResourceExhausted("an index holds at most 2^32 - 1 vectors");
  QUIVER_RETURN_IF_ERROR(CheckFinite(v, dim_));
  Own();
  float* row = Room(1);
  std::memcpy(row, v, dim_ * sizeof(float));
  std::memset(row + dim_, 0, (stride_ - dim_) * sizeof(float));
  if (metric_ == Metric::kCosine) simd::Normalize(row, stride_);
  return static_cast<uint32_t>(rows_++);
}

void VectorStore::AppendPrepared(const float* rows, size_t n) {
  Own();
  while (n > 0) {
    const size_t k = std::min(n, chunk_rows() - (rows_ & mask_));
    std::memcpy(Room(k), rows, k * stride_ * sizeof(float));
    rows_ += k;
    rows += k * stride_;
    n -= k;
  }
}

}  // namespace quiver::index
