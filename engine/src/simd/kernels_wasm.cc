// Kernels compiled for wasm-simd128; see kernels_impl.h.
#include "simd/kernels_for.h"
#include "simd/kernels_impl.h"

namespace quiver::simd {

QUIVER_DEFINE_KERNELS(xsimd::wasm, "wasm-simd128")

}  // namespace quiver::simd
