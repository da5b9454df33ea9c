// The scalar reference kernels: plain loops, summed in index order. They define the expected results and serve
// as the fallback on targets without a SIMD build.
#include <cmath>

#include "simd/distance.h"

namespace quiver::simd {
namespace {

float ScalarL2Squared(const float* a, const float* b, size_t n) {
  float sum = 0.0f;
  for (size_t i = 0; i < n; ++i) {
    float d = a[i] - b[i];
    sum += d * d;
  }
  return sum;
}

float ScalarInnerProduct(const float* a, const float* b, size_t n) {
  float sum = 0.0f;
  for (size_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

float ScalarL1(const float* a, const float* b, size_t n) {
  float sum = 0.0f;
  for (size_t i = 0; i < n; ++i) sum += std::fabs(a[i] - b[i]);
  return sum;
}

template <DistanceFn F>
void ScalarX4(const float* q, const float* const* v, size_t n, float* out) {
  for (int j = 0; j < 4; ++j) out[j] = F(q, v[j], n);
}

}  // namespace

const Kernels& Scalar() {
  static const Kernels kKernels{"scalar",
                                &ScalarL2Squared,
                                &ScalarInnerProduct,
                                &ScalarL1,
                                &ScalarX4<ScalarL2Squared>,
                                &ScalarX4<ScalarInnerProduct>,
                                &ScalarX4<ScalarL1>};
  return kKernels;
}

float Normalize(float* v, size_t n) {
  float norm = std::sqrt(Best().inner_product(v, v, n));
  if (std::isinf(norm)) {
    // The squares overflowed: scale by the largest magnitude first, then normalise what is left.
    float max_abs = 0.0f;
    for (size_t i = 0; i < n; ++i) max_abs = std::fmax(max_abs, std::fabs(v[i]));
    if (!std::isfinite(max_abs)) return norm;
    for (size_t i = 0; i < n; ++i) v[i] /= max_abs;
    return max_abs * Normalize(v, n);
  }
  if (norm > 0.0f && std::isfinite(norm)) {
    float inv = 1.0f / norm;
    for (size_t i = 0; i < n; ++i) v[i] *= inv;
  }
  return norm;
}

}  // namespace quiver::simd
