// WASM builds always use simd128 (the module is compiled with -msimd128); there is nothing to choose at runtime.
#include <xsimd/xsimd.hpp>

#include "simd/distance.h"
#include "simd/kernels_for.h"

namespace quiver::simd {

const Kernels& Best() { return KernelsFor<xsimd::wasm>(); }

std::vector<const Kernels*> Available() { return {&Best(), &Scalar()}; }

}  // namespace quiver::simd
