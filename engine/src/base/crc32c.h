// CRC-32C (Castagnoli), the checksum of every Quiver file format. Uses the SSE4.2 instruction natively when the
// CPU has it and a slicing-by-8 table otherwise (and in WASM); both give identical values.
//
// Thread safety: all functions are pure and may be called from any thread.
#ifndef QUIVER_BASE_CRC32C_H_
#define QUIVER_BASE_CRC32C_H_

#include <cstddef>
#include <cstdint>

namespace quiver::crc32c {

// Returns the CRC-32C of data[0, n) continued from `crc`, the CRC of the bytes before it (0 for none).
uint32_t Extend(uint32_t crc, const void* data, size_t n);

// Returns the CRC-32C of data[0, n).
inline uint32_t Value(const void* data, size_t n) { return Extend(0, data, n); }

// The portable table implementation; exposed so tests can compare it with the hardware path.
uint32_t ExtendPortable(uint32_t crc, const void* data, size_t n);

// True when Extend uses a hardware instruction on this CPU.
bool HardwareAccelerated();

}  // namespace quiver::crc32c

#endif  // QUIVER_BASE_CRC32C_H_
