// Small deterministic pseudo-random tools: SplitMix64 as a hash and seed expander, and a generator with the
// standard UniformRandomBitGenerator interface. Quiver never uses std::random_device inside the engine: given the
// same seed, the same results.
#ifndef QUIVER_BASE_RANDOM_H_
#define QUIVER_BASE_RANDOM_H_

#include <cstdint>
#include <limits>

namespace quiver {

// A strong 64-bit mix of x (SplitMix64's finalizer after adding the golden-ratio increment).
constexpr uint64_t Mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// A uniform double in (0, 1] from 64 random bits.
constexpr double ToUnitInterval(uint64_t bits) { return (static_cast<double>(bits >> 11) + 1.0) * 0x1.0p-53; }

class SplitMix64 {
 public:
  using result_type = uint64_t;
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  static constexpr result_type min() { return 0; }
  static constexpr result_type max() { return std::numeric_limits<uint64_t>::max(); }
  result_type operator()() {
    uint64_t out = Mix64(state_);
    state_ += 0x9E3779B97F4A7C15ull;
    return out;
  }
  double NextDouble() { return ToUnitInterval((*this)()); }

 private:
  uint64_t state_;
};

}  // namespace quiver

#endif  // QUIVER_BASE_RANDOM_H_
