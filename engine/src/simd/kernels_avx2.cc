// Kernels compiled for AVX2 with FMA; see kernels_impl.h.
#include "simd/kernels_for.h"
#include "simd/kernels_impl.h"

namespace quiver::simd {

QUIVER_DEFINE_KERNELS(xsimd::fma3<xsimd::avx2>, "fma3+avx2")

}  // namespace quiver::simd
