// Distance kernels for float32 vectors: squared L2, inner product and L1, with one implementation per
// instruction set. Natively the best set the CPU supports is chosen once, at first use, through xsimd's runtime
// dispatch (SSE2, AVX, AVX2+FMA, AVX-512); the WASM build uses simd128. A scalar reference kernel exists for every
// metric and is the oracle the tests compare against.
//
// Kernels accept any length and any alignment. They follow IEEE arithmetic and do not reassociate beyond their
// documented order: a NaN anywhere in either input gives NaN; an infinity gives an infinity or NaN exactly as
// the scalar reference does. Vectors with NaN or Inf are rejected before they reach an index, so these cases only
// matter for direct callers.
//
// Thread safety: everything here is immutable after first use and safe from any thread.
#ifndef QUIVER_SIMD_DISTANCE_H_
#define QUIVER_SIMD_DISTANCE_H_

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace quiver::simd {

using DistanceFn = float (*)(const float* a, const float* b, size_t n);
// Four distances from one query at once: out[j] = f(q, v[j]). Streaming four vectors together keeps more
// memory reads in flight than four separate calls, which is what a graph search waits on.
using DistanceX4Fn = void (*)(const float* q, const float* const* v, size_t n, float* out);

// Kernels over int8 codes (scalar quantization, engine/src/index/scalar_quantizer.h). Sums are exact in int32 for
// every supported dimension (|a[i] * b[i]| <= 127 * 127 and at most 65,536 terms), so every instruction set gives
// the same result bit for bit.
using CodeFn = int32_t (*)(const int8_t* a, const int8_t* b, size_t n);
using CodeX4Fn = void (*)(const int8_t* q, const int8_t* const* v, size_t n, int32_t* out);

// One instruction set's kernels.
struct Kernels {
  std::string_view isa;            // "avx512f", "fma3+avx2", "avx", "sse2", "wasm-simd128" or "scalar"
  DistanceFn l2_squared;           // sum (a[i] - b[i])^2
  DistanceFn inner_product;        // sum a[i] * b[i]
  DistanceFn l1;                   // sum |a[i] - b[i]|
  DistanceX4Fn l2_squared_x4;
  DistanceX4Fn inner_product_x4;
  DistanceX4Fn l1_x4;
  CodeFn code_dot;                 // sum a[i] * b[i] over int8 codes
  CodeX4Fn code_dot_x4;
  CodeFn code_l1;                  // sum |a[i] - b[i]| over int8 codes
};

// The kernels for the best instruction set this CPU supports (chosen once).
const Kernels& Best();

// The scalar reference kernels.
const Kernels& Scalar();

// Every kernel set this CPU can run, best first, the scalar reference last. For tests and benchmarks.
std::vector<const Kernels*> Available();

// Scales v[0, n) to unit L2 norm in place; a zero vector is left as is. Returns the norm before scaling. Computed
// in double precision in a fixed order: the same bits on every platform.
float Normalize(float* v, size_t n);

}  // namespace quiver::simd

#endif  // QUIVER_SIMD_DISTANCE_H_
