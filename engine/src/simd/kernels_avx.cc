// Kernels compiled for avx; see kernels_impl.h.
#include "simd/kernels_for.h"
#include "simd/kernels_impl.h"

namespace quiver::simd {

QUIVER_DEFINE_KERNELS(xsimd::avx, "avx")

}  // namespace quiver::simd
