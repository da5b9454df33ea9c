// Kernels compiled for sse2; see kernels_impl.h.
#include "simd/kernels_for.h"
#include "simd/kernels_impl.h"

namespace quiver::simd {

QUIVER_DEFINE_KERNELS(xsimd::sse2, "sse2")

}  // namespace quiver::simd
