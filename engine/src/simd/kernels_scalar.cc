// The scalar reference kernels: plain loops, summed in index order. They define the expected results and serve
// as the fallback on targets without a SIMD build.
#include <cmath>
#include <cstdlib>

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

int32_t ScalarCodeDot(const int8_t* a, const int8_t* b, size_t n) {
  int32_t sum = 0;
  for (size_t i = 0; i < n; ++i) sum += int32_t{a[i]} * int32_t{b[i]};
  return sum;
}

int32_t ScalarCodeL1(const int8_t* a, const int8_t* b, size_t n) {
  int32_t sum = 0;
  for (size_t i = 0; i < n; ++i) sum += std::abs(int32_t{a[i]} - int32_t{b[i]});
  return sum;
}

void ScalarCodeDotX4(const int8_t* q, const int8_t* const* v, size_t n, int32_t* out) {
  for (int j = 0; j < 4; ++j) out[j] = ScalarCodeDot(q, v[j], n);
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
                                &ScalarX4<ScalarL1>,
                                &ScalarCodeDot,
                                &ScalarCodeDotX4,
                                &ScalarCodeL1};
  return kKernels;
}

float Normalize(float* v, size_t n) {
  // In double precision and in index order: products of floats are exact in double and the sum's order is fixed,
  // so the result is bit-identical on every platform (natively and in WASM), which keeps stored vectors, and the
  // files and snapshots holding them, the same everywhere. Float inputs cannot overflow a double sum of squares.
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += double(v[i]) * double(v[i]);
  const double norm = std::sqrt(sum);
  if (norm > 0.0) {
    const double inv = 1.0 / norm;
    for (size_t i = 0; i < n; ++i) v[i] = static_cast<float>(double(v[i]) * inv);
  }
  return static_cast<float>(norm);
}

}  // namespace quiver::simd
