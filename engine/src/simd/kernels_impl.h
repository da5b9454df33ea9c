// The kernel templates, instantiated once per xsimd architecture by the kernels_<isa>.cc files, each compiled
// with that instruction set's flags. Private to engine/src/simd.
#ifndef QUIVER_SIMD_KERNELS_IMPL_H_
#define QUIVER_SIMD_KERNELS_IMPL_H_

#include <cmath>
#include <cstddef>

#include <xsimd/xsimd.hpp>

#include "simd/distance.h"

namespace quiver::simd {

// Four independent accumulators hide the latency of the fused multiply-add; the remainder runs one batch at a
// time, then element by element.
template <class Arch>
float L2SquaredImpl(const float* a, const float* b, size_t n) {
  using B = xsimd::batch<float, Arch>;
  constexpr size_t W = B::size;
  B s0(0.0f), s1(0.0f), s2(0.0f), s3(0.0f);
  size_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    B d0 = B::load_unaligned(a + i) - B::load_unaligned(b + i);
    B d1 = B::load_unaligned(a + i + W) - B::load_unaligned(b + i + W);
    B d2 = B::load_unaligned(a + i + 2 * W) - B::load_unaligned(b + i + 2 * W);
    B d3 = B::load_unaligned(a + i + 3 * W) - B::load_unaligned(b + i + 3 * W);
    s0 = xsimd::fma(d0, d0, s0);
    s1 = xsimd::fma(d1, d1, s1);
    s2 = xsimd::fma(d2, d2, s2);
    s3 = xsimd::fma(d3, d3, s3);
  }
  for (; i + W <= n; i += W) {
    B d = B::load_unaligned(a + i) - B::load_unaligned(b + i);
    s0 = xsimd::fma(d, d, s0);
  }
  float sum = xsimd::reduce_add((s0 + s1) + (s2 + s3));
  for (; i < n; ++i) {
    float d = a[i] - b[i];
    sum += d * d;
  }
  return sum;
}

template <class Arch>
float InnerProductImpl(const float* a, const float* b, size_t n) {
  using B = xsimd::batch<float, Arch>;
  constexpr size_t W = B::size;
  B s0(0.0f), s1(0.0f), s2(0.0f), s3(0.0f);
  size_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    s0 = xsimd::fma(B::load_unaligned(a + i), B::load_unaligned(b + i), s0);
    s1 = xsimd::fma(B::load_unaligned(a + i + W), B::load_unaligned(b + i + W), s1);
    s2 = xsimd::fma(B::load_unaligned(a + i + 2 * W), B::load_unaligned(b + i + 2 * W), s2);
    s3 = xsimd::fma(B::load_unaligned(a + i + 3 * W), B::load_unaligned(b + i + 3 * W), s3);
  }
  for (; i + W <= n; i += W) s0 = xsimd::fma(B::load_unaligned(a + i), B::load_unaligned(b + i), s0);
  float sum = xsimd::reduce_add((s0 + s1) + (s2 + s3));
  for (; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

template <class Arch>
float L1Impl(const float* a, const float* b, size_t n) {
  using B = xsimd::batch<float, Arch>;
  constexpr size_t W = B::size;
  B s0(0.0f), s1(0.0f), s2(0.0f), s3(0.0f);
  size_t i = 0;
  for (; i + 4 * W <= n; i += 4 * W) {
    s0 += xsimd::abs(B::load_unaligned(a + i) - B::load_unaligned(b + i));
    s1 += xsimd::abs(B::load_unaligned(a + i + W) - B::load_unaligned(b + i + W));
    s2 += xsimd::abs(B::load_unaligned(a + i + 2 * W) - B::load_unaligned(b + i + 2 * W));
    s3 += xsimd::abs(B::load_unaligned(a + i + 3 * W) - B::load_unaligned(b + i + 3 * W));
  }
  for (; i + W <= n; i += W) s0 += xsimd::abs(B::load_unaligned(a + i) - B::load_unaligned(b + i));
  float sum = xsimd::reduce_add((s0 + s1) + (s2 + s3));
  for (; i < n; ++i) sum += std::fabs(a[i] - b[i]);
  return sum;
}

// Defines KernelsFor<Arch>() in a kernels_<isa>.cc file.
#define QUIVER_DEFINE_KERNELS(Arch, name)                                                              \
  template <>                                                                                          \
  const Kernels& KernelsFor<Arch>() {                                                                  \
    static const Kernels kKernels{name, &L2SquaredImpl<Arch>, &InnerProductImpl<Arch>, &L1Impl<Arch>}; \
    return kKernels;                                                                                   \
  }

}  // namespace quiver::simd

#endif  // QUIVER_SIMD_KERNELS_IMPL_H_
