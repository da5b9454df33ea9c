#include "index/scalar_quantizer.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "base/coding.h"
#include "index/index_image.h"

namespace quiver::index {
namespace {

// Values sampled to learn the range: whole rows, evenly spread, up to about this many values.
constexpr size_t kTrainValues = size_t{1} << 20;

// The middle and step of a range [lo, hi] of finite floats, in double: hi - lo overflows a float for values
// near +-3.4e38, and a step that underflows to zero makes 1 / step infinite; either turned codes into NaN.
float MidOf(float lo, float hi) { return static_cast<float>((double(lo) + double(hi)) * 0.5); }
float StepOf(float lo, float hi) {
  if (!(hi > lo)) return 1.0f;
  return std::max(static_cast<float>((double(hi) - double(lo)) / 254.0), std::numeric_limits<float>::min());
}

}  // namespace

ScalarQuantizer::ScalarQuantizer(uint32_t dim, Metric metric, float quantile, float lo, float hi)
    : dim_(dim),
      code_stride_(CodeStrideFor(dim)),
      metric_(metric),
      quantile_(quantile),
      mid_(MidOf(lo, hi)),
      step_(StepOf(lo, hi)),
      inv_step_(1.0f / step_),
      kernels_(&simd::Best()) {}

ScalarQuantizer::ScalarQuantizer(uint32_t dim, Metric metric, float quantile, size_t trained_rows, float mid,
                                 float step)
    : dim_(dim),
      code_stride_(CodeStrideFor(dim)),
      metric_(metric),
      quantile_(quantile),
      trained_rows_(trained_rows),
      mid_(mid),
      step_(step),
      inv_step_(1.0f / step),
      kernels_(&simd::Best()) {}

ScalarQuantizer ScalarQuantizer::Train(const VectorStore& store, float quantile) {
  const size_t rows = store.size();
  const uint32_t dim = store.dim();
  std::vector<float> sample;
  if (rows > 0) {
    const size_t want = std::clamp<size_t>(kTrainValues / dim, 1, rows);
    sample.reserve(want * dim);
    for (size_t i = 0; i < want; ++i) {
      const float* row = store.Row(static_cast<uint32_t>(i * rows / want));
      sample.insert(sample.end(), row, row + dim);
    }
  }
  float lo = 0.0f, hi = 0.0f;
  if (!sample.empty()) {
    const double tail = (1.0 - std::clamp(double(quantile), 0.5, 1.0)) / 2.0;
    const size_t last = sample.size() - 1;
    const size_t lo_at = static_cast<size_t>(std::floor(tail * double(last)));
    const size_t hi_at = static_cast<size_t>(std::ceil((1.0 - tail) * double(last)));
    std::nth_element(sample.begin(), sample.begin() + lo_at, sample.end());
    lo = sample[lo_at];
    std::nth_element(sample.begin(), sample.begin() + hi_at, sample.end());
    hi = sample[hi_at];
  }
  ScalarQuantizer q(dim, store.metric(), quantile, lo, hi);
  q.trained_rows_ = rows;
  q.Append(store);
  return q;
}

void ScalarQuantizer::Encode(const float* v, float mid, float inv_step, int8_t* out) const {
  for (uint32_t i = 0; i < dim_; ++i) {
    const float c = std::nearbyint((v[i] - mid) * inv_step);
    out[i] = static_cast<int8_t>(std::clamp(c, -127.0f, 127.0f));
  }
  for (uint32_t i = dim_; i < code_stride_; ++i) out[i] = 0;
}

namespace {

int32_t CodeSum(const int8_t* c, uint32_t n) {
  int32_t sum = 0;
  for (uint32_t i = 0; i < n; ++i) sum += c[i];
  return sum;
}

float Norm2(const float* v, uint32_t n) {
  double sum = 0;
  for (uint32_t i = 0; i < n; ++i) sum += double(v[i]) * double(v[i]);
  return static_cast<float>(sum);
}

}  // namespace

ScalarQuantizer::QueryTerms ScalarQuantizer::EncodeQuery(const float* stored, int8_t* out) const {
  QueryTerms t;
  if (metric_ == Metric::kL1) {
    Encode(stored, mid_, inv_step_, out);
    return t;
  }
  const auto [lo, hi] = std::minmax_element(stored, stored + dim_);
  const float qmid = MidOf(*lo, *hi);
  const float qstep = StepOf(*lo, *hi);
  Encode(stored, qmid, 1.0f / qstep, out);
  t.constant = static_cast<float>(dim_) * qmid * mid_ + qstep * mid_ * static_cast<float>(CodeSum(out, dim_));
  t.per_sum = qmid * step_;
  t.per_dot = qstep * step_;
  if (metric_ == Metric::kL2) t.norm2 = Norm2(stored, dim_);
  return t;
}

void ScalarQuantizer::Append(const VectorStore& store) {
  const size_t first = code_sum_.size();
  const size_t rows = store.size();
  if (rows <= first) return;
  if (keepalive_) {
    // Own the image's codes before adding to them.
    AlignedArray<int8_t> owned;
    owned.Resize(rows * code_stride_);
    if (first > 0) std::memcpy(owned.data(), codes_base_, first * code_stride_);
    codes_.Swap(owned);
    keepalive_.reset();
  } else {
    codes_.Resize(rows * code_stride_);
  }
  codes_base_ = codes_.data();
  code_sum_.resize(rows);
  if (metric_ == Metric::kL2) norm2_.resize(rows);
  for (size_t r = first; r < rows; ++r) {
    const float* v = store.Row(static_cast<uint32_t>(r));
    int8_t* out = codes_.data() + r * code_stride_;
    Encode(v, mid_, inv_step_, out);
    code_sum_[r] = static_cast<float>(CodeSum(out, dim_));
    if (metric_ == Metric::kL2) norm2_[r] = Norm2(v, dim_);
  }
}

void ScalarQuantizer::Write(SectionFileWriter* w) const {
  std::string params;
  PutFloat(&params, quantile_);
  PutFloat(&params, mid_);
  PutFloat(&params, step_);
  PutFixed32(&params, code_stride_);
  PutFixed64(&params, trained_rows_);
  PutFixed64(&params, 0);
  w->Add(kTagQuantizer, params);
  w->AddRef(kTagCodes, codes_base_, size() * code_stride_);
  if (metric_ == Metric::kL2) w->AddRef(kTagCodeNorms, norm2_.data(), norm2_.size() * sizeof(float));
}

Result<ScalarQuantizer> ScalarQuantizer::Read(const SectionFileReader& reader, const VectorStore& store,
                                              std::shared_ptr<const void> keepalive) {
  const size_t rows = store.size();
  const uint32_t dim = store.dim();
  const uint32_t stride = CodeStrideFor(dim);
  QUIVER_ASSIGN_OR_RETURN(auto params, reader.Get(kTagQuantizer));
  ByteReader pr(params, reader.name() + " SQPR", reader.OffsetOf(kTagQuantizer));
  if (params.size() != kQuantizerParamsSize) {
    return pr.Error("section is " + std::to_string(params.size()) + " bytes, expected " +
                    std::to_string(kQuantizerParamsSize));
  }
  float quantile = 0, mid = 0, step = 0;
  uint32_t code_stride = 0;
  uint64_t trained = 0, reserved = 0;
  QUIVER_RETURN_IF_ERROR(pr.ReadFloat(&quantile, "quantile"));
  QUIVER_RETURN_IF_ERROR(pr.ReadFloat(&mid, "middle"));
  QUIVER_RETURN_IF_ERROR(pr.ReadFloat(&step, "step"));
  QUIVER_RETURN_IF_ERROR(pr.ReadU32(&code_stride, "code stride"));
  QUIVER_RETURN_IF_ERROR(pr.ReadU64(&trained, "trained rows"));
  QUIVER_RETURN_IF_ERROR(pr.ReadU64(&reserved, "reserved"));
  ByteReader at_params(params, reader.name() + " SQPR", reader.OffsetOf(kTagQuantizer));
  if (!(quantile >= 0.5f && quantile <= 1.0f)) return at_params.Error("quantile out of [0.5, 1]");
  if (!std::isfinite(mid)) return at_params.Error("middle of the range is not finite");
  if (!(step >= std::numeric_limits<float>::min() && step <= std::numeric_limits<float>::max())) {
    return at_params.Error("step is not a positive finite number");
  }
  if (code_stride != stride) {
    return at_params.Error("code stride " + std::to_string(code_stride) + " does not fit dim " +
                           std::to_string(dim));
  }
  if (trained > rows) return at_params.Error("trained on more rows than the image holds");
  if (reserved != 0) return at_params.Error("reserved field is not 0");

  QUIVER_ASSIGN_OR_RETURN(auto codes, reader.Get(kTagCodes));
  ByteReader cr(codes, reader.name() + " SQCD", reader.OffsetOf(kTagCodes));
  if (codes.size() != uint64_t{rows} * stride) {
    return cr.Error("section holds " + std::to_string(codes.size()) + " bytes, expected " +
                    std::to_string(rows) + " rows of " + std::to_string(stride));
  }
  ScalarQuantizer q(dim, store.metric(), quantile, trained, mid, step);
  if (keepalive && reinterpret_cast<uintptr_t>(codes.data()) % kCacheLine == 0) {
    // In place: checked where they are below (the section's checksum was checked already, or is skipped
    // because the segment file's was).
    q.codes_base_ = reinterpret_cast<const int8_t*>(codes.data());
    q.keepalive_ = std::move(keepalive);
  } else {
    q.codes_.Resize(rows * stride);
    if (rows > 0) std::memcpy(q.codes_.data(), codes.data(), codes.size());
    q.codes_base_ = q.codes_.data();
  }
  q.code_sum_.resize(rows);
  for (size_t r = 0; r < rows; ++r) {
    const int8_t* c = q.codes_base_ + r * stride;
    // One branch-free pass a row (it vectorises): the sum, and whether any code is out of range. -128 is
    // never written: the kernels rely on codes in [-127, 127].
    int32_t sum = 0;
    bool bad = false;
    for (uint32_t j = 0; j < dim; ++j) {
      sum += c[j];
      bad |= c[j] == -128;
    }
    for (uint32_t j = dim; j < stride; ++j) bad |= c[j] != 0;
    if (bad) {
      uint32_t j = 0;
      while (j < dim ? c[j] != -128 : c[j] == 0) ++j;
      (void)cr.Skip(r * stride + j, "codes");
      return cr.Error(std::string(j < dim ? "code -128" : "non-zero padding") + " in row " +
                      std::to_string(r));
    }
    q.code_sum_[r] = static_cast<float>(sum);
  }

  const bool l2 = store.metric() == Metric::kL2;
  if (l2 != reader.Has(kTagCodeNorms)) {
    return Status::Corruption(reader.name() + ": section SQN2 is " + (l2 ? "missing" : "present") +
                              " for the metric");
  }
  if (l2) {
    QUIVER_ASSIGN_OR_RETURN(auto norms, reader.Get(kTagCodeNorms));
    ByteReader nr(norms, reader.name() + " SQN2", reader.OffsetOf(kTagCodeNorms));
    if (norms.size() != uint64_t{rows} * sizeof(float)) {
      return nr.Error("section holds " + std::to_string(norms.size()) + " bytes, expected " +
                      std::to_string(rows) + " norms");
    }
    q.norm2_.resize(rows);
    if (rows > 0) std::memcpy(q.norm2_.data(), norms.data(), norms.size());
    for (size_t r = 0; r < rows; ++r) {
      // +inf is a norm the writer gives: the square of a row of finite values near the float maximum.
      if (!(q.norm2_[r] >= 0.0f)) {
        (void)nr.Skip(r * sizeof(float), "norms");
        return nr.Error("norm of row " + std::to_string(r) + " is not a number >= 0");
      }
    }
  }
  return q;
}

}  // namespace quiver::index
