// Runtime choice of the kernel set on x86-64: xsimd's dispatch walks the list best first and picks the first
// architecture the CPU supports. Done once; later calls return the cached table.
#include <xsimd/xsimd.hpp>

#include "simd/distance.h"
#include "simd/kernels_for.h"

namespace quiver::simd {
namespace {

using ArchList = xsimd::arch_list<xsimd::avx512f, xsimd::fma3<xsimd::avx2>, xsimd::avx, xsimd::sse2>;

struct Pick {
  template <class Arch>
  const Kernels* operator()(Arch) const {
    return &KernelsFor<Arch>();
  }
};

template <class... Archs>
void CollectAvailable(xsimd::arch_list<Archs...>, std::vector<const Kernels*>* out) {
  const auto available = xsimd::available_architectures();
  ((available.has(Archs{}) ? out->push_back(&KernelsFor<Archs>()) : void()), ...);
}

}  // namespace

const Kernels& Best() {
  static const Kernels* best = xsimd::dispatch<ArchList>(Pick{})();
  return *best;
}

std::vector<const Kernels*> Available() {
  std::vector<const Kernels*> out;
  CollectAvailable(ArchList{}, &out);
  out.push_back(&Scalar());
  return out;
}

}  // namespace quiver::simd
