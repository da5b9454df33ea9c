// The kernel templates, instantiated once per xsimd architecture by the kernels_<isa>.cc files, each compiled
// with that instruction set's flags. Private to engine/src/simd.
#ifndef QUIVER_SIMD_KERNELS_IMPL_H_
#define QUIVER_SIMD_KERNELS_IMPL_H_

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include <xsimd/xsimd.hpp>
#if defined(__wasm_simd128__)
#include <wasm_simd128.h>
#endif

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

// The four-at-once forms: the query chunk is loaded once for all four vectors, and two accumulators per vector
// (eight independent chains) keep the adds from waiting on each other. Each result equals what the single kernel
// computes up to summation order.
template <class Arch, class Op>
void X4Impl(const float* q, const float* const* v, size_t n, float* out, Op op) {
  using B = xsimd::batch<float, Arch>;
  constexpr size_t W = B::size;
  const float *v0 = v[0], *v1 = v[1], *v2 = v[2], *v3 = v[3];
  B a0(0.0f), a1(0.0f), a2(0.0f), a3(0.0f), b0(0.0f), b1(0.0f), b2(0.0f), b3(0.0f);
  size_t i = 0;
  for (; i + 2 * W <= n; i += 2 * W) {
    B x = B::load_unaligned(q + i);
    B y = B::load_unaligned(q + i + W);
    a0 = op(x, B::load_unaligned(v0 + i), a0);
    a1 = op(x, B::load_unaligned(v1 + i), a1);
    a2 = op(x, B::load_unaligned(v2 + i), a2);
    a3 = op(x, B::load_unaligned(v3 + i), a3);
    b0 = op(y, B::load_unaligned(v0 + i + W), b0);
    b1 = op(y, B::load_unaligned(v1 + i + W), b1);
    b2 = op(y, B::load_unaligned(v2 + i + W), b2);
    b3 = op(y, B::load_unaligned(v3 + i + W), b3);
  }
  if (i + W <= n) {
    B x = B::load_unaligned(q + i);
    a0 = op(x, B::load_unaligned(v0 + i), a0);
    a1 = op(x, B::load_unaligned(v1 + i), a1);
    a2 = op(x, B::load_unaligned(v2 + i), a2);
    a3 = op(x, B::load_unaligned(v3 + i), a3);
    i += W;
  }
  float r0 = xsimd::reduce_add(a0 + b0), r1 = xsimd::reduce_add(a1 + b1), r2 = xsimd::reduce_add(a2 + b2),
        r3 = xsimd::reduce_add(a3 + b3);
  for (; i < n; ++i) {
    r0 = op(q[i], v0[i], r0);
    r1 = op(q[i], v1[i], r1);
    r2 = op(q[i], v2[i], r2);
    r3 = op(q[i], v3[i], r3);
  }
  out[0] = r0;
  out[1] = r1;
  out[2] = r2;
  out[3] = r3;
}

struct L2Step {
  template <class T>
  T operator()(T x, T y, T acc) const {
    T d = x - y;
    return xsimd::fma(d, d, acc);
  }
  float operator()(float x, float y, float acc) const { return acc + (x - y) * (x - y); }
};
struct IpStep {
  template <class T>
  T operator()(T x, T y, T acc) const { return xsimd::fma(x, y, acc); }
  float operator()(float x, float y, float acc) const { return acc + x * y; }
};
struct L1Step {
  template <class T>
  T operator()(T x, T y, T acc) const { return acc + xsimd::abs(x - y); }
  float operator()(float x, float y, float acc) const { return acc + std::fabs(x - y); }
};

template <class Arch>
void L2SquaredX4Impl(const float* q, const float* const* v, size_t n, float* out) {
  X4Impl<Arch>(q, v, n, out, L2Step{});
}
template <class Arch>
void InnerProductX4Impl(const float* q, const float* const* v, size_t n, float* out) {
  X4Impl<Arch>(q, v, n, out, IpStep{});
}
template <class Arch>
void L1X4Impl(const float* q, const float* const* v, size_t n, float* out) {
  X4Impl<Arch>(q, v, n, out, L1Step{});
}

// The int8 code kernels. Natively these plain loops are vectorised by the compiler with the file's instruction
// set flags (sign extension to 16 bits and multiply-add pairs); simd128 has a direct form, i32x4.dot_i16x8_s,
// written out below because the compiler does not find it.
#if defined(__wasm_simd128__)
inline int32_t SumLanes(v128_t s) {
  return wasm_i32x4_extract_lane(s, 0) + wasm_i32x4_extract_lane(s, 1) + wasm_i32x4_extract_lane(s, 2) +
         wasm_i32x4_extract_lane(s, 3);
}
#endif

template <class Arch>
int32_t CodeDotImpl(const int8_t* a, const int8_t* b, size_t n) {
  size_t i = 0;
  int32_t sum = 0;
#if defined(__wasm_simd128__)
  v128_t s0 = wasm_i32x4_splat(0), s1 = s0;
  for (; i + 16 <= n; i += 16) {
    const v128_t x = wasm_v128_load(a + i), y = wasm_v128_load(b + i);
    s0 = wasm_i32x4_add(s0, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_low_i8x16(x), wasm_i16x8_extend_low_i8x16(y)));
    s1 = wasm_i32x4_add(s1, wasm_i32x4_dot_i16x8(wasm_i16x8_extend_high_i8x16(x), wasm_i16x8_extend_high_i8x16(y)));
  }
  sum = SumLanes(wasm_i32x4_add(s0, s1));
#endif
  for (; i < n; ++i) sum += int32_t{a[i]} * int32_t{b[i]};
  return sum;
}

template <class Arch>
void CodeDotX4Impl(const int8_t* q, const int8_t* const* v, size_t n, int32_t* out) {
#if defined(__wasm_simd128__)
  const int8_t *v0 = v[0], *v1 = v[1], *v2 = v[2], *v3 = v[3];
  v128_t a0 = wasm_i32x4_splat(0), a1 = a0, a2 = a0, a3 = a0;
  size_t i = 0;
  for (; i + 16 <= n; i += 16) {
    const v128_t x = wasm_v128_load(q + i);
    const v128_t lo = wasm_i16x8_extend_low_i8x16(x), hi = wasm_i16x8_extend_high_i8x16(x);
    auto step = [&](const int8_t* r, v128_t acc) {
      const v128_t y = wasm_v128_load(r + i);
      acc = wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(lo, wasm_i16x8_extend_low_i8x16(y)));
      return wasm_i32x4_add(acc, wasm_i32x4_dot_i16x8(hi, wasm_i16x8_extend_high_i8x16(y)));
    };
    a0 = step(v0, a0);
    a1 = step(v1, a1);
    a2 = step(v2, a2);
    a3 = step(v3, a3);
  }
  int32_t r0 = SumLanes(a0), r1 = SumLanes(a1), r2 = SumLanes(a2), r3 = SumLanes(a3);
  for (; i < n; ++i) {
    r0 += int32_t{q[i]} * int32_t{v0[i]};
    r1 += int32_t{q[i]} * int32_t{v1[i]};
    r2 += int32_t{q[i]} * int32_t{v2[i]};
    r3 += int32_t{q[i]} * int32_t{v3[i]};
  }
  out[0] = r0;
  out[1] = r1;
  out[2] = r2;
  out[3] = r3;
#else
  for (int j = 0; j < 4; ++j) out[j] = CodeDotImpl<Arch>(q, v[j], n);
#endif
}

template <class Arch>
int32_t CodeL1Impl(const int8_t* a, const int8_t* b, size_t n) {
  size_t i = 0;
  int32_t sum = 0;
#if defined(__wasm_simd128__)
  const v128_t ones = wasm_i16x8_splat(1);
  v128_t s0 = wasm_i32x4_splat(0), s1 = s0;
  for (; i + 16 <= n; i += 16) {
    const v128_t x = wasm_v128_load(a + i), y = wasm_v128_load(b + i);
    const v128_t lo = wasm_i16x8_abs(wasm_i16x8_sub(wasm_i16x8_extend_low_i8x16(x), wasm_i16x8_extend_low_i8x16(y)));
    const v128_t hi =
        wasm_i16x8_abs(wasm_i16x8_sub(wasm_i16x8_extend_high_i8x16(x), wasm_i16x8_extend_high_i8x16(y)));
    s0 = wasm_i32x4_add(s0, wasm_i32x4_dot_i16x8(lo, ones));
    s1 = wasm_i32x4_add(s1, wasm_i32x4_dot_i16x8(hi, ones));
  }
  sum = SumLanes(wasm_i32x4_add(s0, s1));
#endif
  for (; i < n; ++i) sum += std::abs(int32_t{a[i]} - int32_t{b[i]});
  return sum;
}

// Defines KernelsFor<Arch>() in a kernels_<isa>.cc file.
#define QUIVER_DEFINE_KERNELS(Arch, name)                                                                   \
  template <>                                                                                               \
  const Kernels& KernelsFor<Arch>() {                                                                       \
    static const Kernels kKernels{name,                        &L2SquaredImpl<Arch>,     &InnerProductImpl<Arch>, \
                                  &L1Impl<Arch>,               &L2SquaredX4Impl<Arch>,   &InnerProductX4Impl<Arch>, \
                                  &L1X4Impl<Arch>,             &CodeDotImpl<Arch>,       &CodeDotX4Impl<Arch>,      \
                                  &CodeL1Impl<Arch>};                                                       \
    return kKernels;                                                                                        \
  }

}  // namespace quiver::simd

#endif  // QUIVER_SIMD_KERNELS_IMPL_H_
