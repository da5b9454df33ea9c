// Kernels compiled for avx512f; see kernels_impl.h.
#include "simd/kernels_for.h"
#include "simd/kernels_impl.h"

namespace quiver::simd {

QUIVER_DEFINE_KERNELS(xsimd::avx512f, "avx512f")

}  // namespace quiver::simd
