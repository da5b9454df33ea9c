// MurmurHash3, the 32-bit x86 variant (Austin Appleby's public-domain algorithm): the hash Qdrant's qdrant/bm25
// turns tokens into sparse vector indices with. Defined on bytes, little-endian blocks, so it gives the same
// value on every platform.
//
// Thread safety: a pure function.
#ifndef QUIVER_TEXT_MURMUR3_H_
#define QUIVER_TEXT_MURMUR3_H_

#include <cstdint>
#include <string_view>

namespace quiver::text {

uint32_t Murmur3_32(std::string_view bytes, uint32_t seed = 0);

}  // namespace quiver::text

#endif  // QUIVER_TEXT_MURMUR3_H_
