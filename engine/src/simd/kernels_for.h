// KernelsFor<Arch>(): the kernel set of one xsimd architecture. Each specialization lives in its own
// kernels_<isa>.cc file compiled with that instruction set's flags. Private to engine/src/simd.
#ifndef QUIVER_SIMD_KERNELS_FOR_H_
#define QUIVER_SIMD_KERNELS_FOR_H_

#include "simd/distance.h"

namespace quiver::simd {

template <class Arch>
const Kernels& KernelsFor();

}  // namespace quiver::simd

#endif  // QUIVER_SIMD_KERNELS_FOR_H_
