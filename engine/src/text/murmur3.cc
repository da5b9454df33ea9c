#include "text/murmur3.h"

#include <cstring>

namespace quiver::text {
namespace {

inline uint32_t Rotl(uint32_t x, int r) { return (x << r) | (x >> (32 - r)); }

inline uint32_t Mix(uint32_t k) {
  k *= 0xcc9e2d51u;
  k = Rotl(k, 15);
  return k * 0x1b873593u;
}

}  // namespace

uint32_t Murmur3_32(std::string_view bytes, uint32_t seed) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  uint32_t h = seed;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const uint32_t k = uint32_t{p[i]} | uint32_t{p[i + 1]} << 8 | uint32_t{p[i + 2]} << 16 | uint32_t{p[i + 3]} << 24;
    h ^= Mix(k);
    h = Rotl(h, 13);
    h = h * 5 + 0xe6546b64u;
  }
  uint32_t tail = 0;
  switch (n & 3) {
    case 3:
      tail ^= uint32_t{p[i + 2]} << 16;
      [[fallthrough]];
    case 2:
      tail ^= uint32_t{p[i + 1]} << 8;
      [[fallthrough]];
    case 1:
      tail ^= uint32_t{p[i]};
      h ^= Mix(tail);
  }
  h ^= static_cast<uint32_t>(n);
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return h;
}

}  // namespace quiver::text
