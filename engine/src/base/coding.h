// Little-endian fixed-width encoding and a bounds-checked reader for decoding stored bytes.
//
// Every Quiver file and wire format is little-endian. Writers append to a std::string; ByteReader walks a byte
// span and reports a Corruption status naming what it tried to read and at which offset, instead of reading out
// of bounds. It keeps its own copy of the label, so temporaries may name it.
//
// Thread safety: the functions are pure; a ByteReader is used by one thread at a time.
#ifndef QUIVER_BASE_CODING_H_
#define QUIVER_BASE_CODING_H_

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <string_view>

#include "quiver/status.h"

namespace quiver {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "Quiver's formats assume a little-endian target");

inline void EncodeFixed16(char* dst, uint16_t v) { std::memcpy(dst, &v, 2); }
inline void EncodeFixed32(char* dst, uint32_t v) { std::memcpy(dst, &v, 4); }
inline void EncodeFixed64(char* dst, uint64_t v) { std::memcpy(dst, &v, 8); }

inline uint16_t DecodeFixed16(const void* src) {
  uint16_t v;
  std::memcpy(&v, src, 2);
  return v;
}
inline uint32_t DecodeFixed32(const void* src) {
  uint32_t v;
  std::memcpy(&v, src, 4);
  return v;
}
inline uint64_t DecodeFixed64(const void* src) {
  uint64_t v;
  std::memcpy(&v, src, 8);
  return v;
}

inline void PutFixed8(std::string* dst, uint8_t v) { dst->push_back(static_cast<char>(v)); }
inline void PutFixed16(std::string* dst, uint16_t v) { dst->append(reinterpret_cast<const char*>(&v), 2); }
inline void PutFixed32(std::string* dst, uint32_t v) { dst->append(reinterpret_cast<const char*>(&v), 4); }
inline void PutFixed64(std::string* dst, uint64_t v) { dst->append(reinterpret_cast<const char*>(&v), 8); }
inline void PutFloat(std::string* dst, float v) { dst->append(reinterpret_cast<const char*>(&v), 4); }
inline void PutDouble(std::string* dst, double v) { dst->append(reinterpret_cast<const char*>(&v), 8); }

// Appends a LEB128 varint (7 bits per byte, low bits first).
void PutVarint64(std::string* dst, uint64_t v);
// Appends varint length + bytes.
void PutLengthPrefixed(std::string* dst, std::string_view bytes);
// Appends zero bytes until dst->size() is a multiple of `alignment` (a power of two).
void PadTo(std::string* dst, size_t alignment);

// Reads fixed-width values from a byte span. Each Read* call fails with Corruption (and leaves the position
// unchanged) when fewer bytes remain than it needs. `what` names the structure being decoded in messages.
class ByteReader {
 public:
  ByteReader(std::span<const uint8_t> bytes, std::string_view what, size_t base_offset = 0)
      : bytes_(bytes), what_(what), base_offset_(base_offset) {}
  ByteReader(std::span<const uint8_t> bytes, std::string&& what, size_t base_offset = 0)
      : bytes_(bytes), what_(std::move(what)), base_offset_(base_offset) {}
  ByteReader(std::string_view bytes, std::string_view what, size_t base_offset = 0)
      : ByteReader(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), what,
                   base_offset) {}

  size_t position() const { return pos_; }
  size_t remaining() const { return bytes_.size() - pos_; }
  bool empty() const { return pos_ == bytes_.size(); }

  Status ReadU8(uint8_t* v, std::string_view field);
  Status ReadU16(uint16_t* v, std::string_view field);
  Status ReadU32(uint32_t* v, std::string_view field);
  Status ReadU64(uint64_t* v, std::string_view field);
  Status ReadFloat(float* v, std::string_view field);
  Status ReadDouble(double* v, std::string_view field);
  Status ReadVarint64(uint64_t* v, std::string_view field);
  // Points *out at the next n bytes (no copy).
  Status ReadBytes(size_t n, std::span<const uint8_t>* out, std::string_view field);
  Status ReadLengthPrefixed(std::string_view* out, std::string_view field);
  Status Skip(size_t n, std::string_view field);

  // A Corruption status "<what>: <reason> at offset <n>" for callers that detect a semantic error.
  Status Error(std::string_view reason) const;

 private:
  Status Truncated(size_t need, std::string_view field) const;

  std::span<const uint8_t> bytes_;
  std::string what_;
  size_t base_offset_;
  size_t pos_ = 0;
};

}  // namespace quiver

#endif  // QUIVER_BASE_CODING_H_
