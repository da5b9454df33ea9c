// Targets without a tuned SIMD build use the scalar reference kernels.
#include "simd/distance.h"

namespace quiver::simd {

const Kernels& Best() { return Scalar(); }

std::vector<const Kernels*> Available() { return {&Scalar()}; }

}  // namespace quiver::simd
