// Hashes the sync protocol names (SYNC.md 2.7, 2.10): SHA-256 for content-addressed snapshot segments, and
// xxHash64 (XXH64, seed 0 by default) for the order-independent anti-entropy digest. Portable C++, the same
// results natively and in WASM.
//
// Thread safety: pure functions; a Sha256 object is used by one thread at a time.
#ifndef QUIVER_BASE_HASHES_H_
#define QUIVER_BASE_HASHES_H_

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace quiver {

class Sha256 {
 public:
  // `use_hardware` false keeps to the portable rounds (tests compare the two).
  explicit Sha256(bool use_hardware = true);
  void Update(const void* data, size_t n);
  void Update(std::string_view s) { Update(s.data(), s.size()); }
  std::array<uint8_t, 32> Finish();
  // True when the SHA extensions of the processor do the rounds (x86-64 with SHA-NI; never in WASM).
  static bool HardwareAccelerated();

 private:
  void Blocks(const uint8_t* p, size_t blocks);
  uint32_t h_[8];
  uint8_t buffer_[64];
  size_t buffered_ = 0;
  uint64_t length_ = 0;
  [[maybe_unused]] bool use_hardware_ = true;  // read only where there are hardware rounds
};

// The SHA-256 of `data` as 64 lower-case hex digits.
std::string Sha256Hex(std::string_view data);

uint64_t XxHash64(const void* data, size_t n, uint64_t seed = 0);
inline uint64_t XxHash64(std::string_view s, uint64_t seed = 0) { return XxHash64(s.data(), s.size(), seed); }

}  // namespace quiver

#endif  // QUIVER_BASE_HASHES_H_
