#include "base/coding.h"

namespace quiver {

void PutVarint64(std::string* dst, uint64_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}

void PutLengthPrefixed(std::string* dst, std::string_view bytes) {
  PutVarint64(dst, bytes.size());
  dst->append(bytes);
}

void PadTo(std::string* dst, size_t alignment) {
  size_t rem = dst->size() & (alignment - 1);
  if (rem != 0) dst->append(alignment - rem, '\0');
}

Status ByteReader::Truncated(size_t need, std::string_view field) const {
  return Status::Corruption(std::string(what_) + ": truncated " + std::string(field) + " at offset " +
                            std::to_string(base_offset_ + pos_) + " (needs " + std::to_string(need) +
                            " bytes, " + std::to_string(remaining()) + " left)");
}

Status ByteReader::Error(std::string_view reason) const {
  return Status::Corruption(std::string(what_) + ": " + std::string(reason) + " at offset " +
                            std::to_string(base_offset_ + pos_));
}

#define QUIVER_READ_FIXED(type, n, decode)           \
  if (remaining() < n) return Truncated(n, field);   \
  *v = static_cast<type>(decode(bytes_.data() + pos_)); \
  pos_ += n;                                         \
  return Status::OK()

Status ByteReader::ReadU8(uint8_t* v, std::string_view field) {
  if (remaining() < 1) return Truncated(1, field);
  *v = bytes_[pos_++];
  return Status::OK();
}
Status ByteReader::ReadU16(uint16_t* v, std::string_view field) { QUIVER_READ_FIXED(uint16_t, 2, DecodeFixed16); }
Status ByteReader::ReadU32(uint32_t* v, std::string_view field) { QUIVER_READ_FIXED(uint32_t, 4, DecodeFixed32); }
Status ByteReader::ReadU64(uint64_t* v, std::string_view field) { QUIVER_READ_FIXED(uint64_t, 8, DecodeFixed64); }
#undef QUIVER_READ_FIXED

Status ByteReader::ReadFloat(float* v, std::string_view field) {
  if (remaining() < 4) return Truncated(4, field);
  std::memcpy(v, bytes_.data() + pos_, 4);
  pos_ += 4;
  return Status::OK();
}

Status ByteReader::ReadDouble(double* v, std::string_view field) {
  if (remaining() < 8) return Truncated(8, field);
  std::memcpy(v, bytes_.data() + pos_, 8);
  pos_ += 8;
  return Status::OK();
}

Status ByteReader::ReadVarint64(uint64_t* v, std::string_view field) {
  uint64_t result = 0;
  size_t p = pos_;
  for (int shift = 0; shift <= 63; shift += 7) {
    if (p >= bytes_.size()) return Truncated(p - pos_ + 1, field);
    uint8_t byte = bytes_[p++];
    if (shift == 63 && byte > 1) return Error(std::string("varint overflow in ") + std::string(field));
    result |= static_cast<uint64_t>(byte & 0x7F) << shift;
    if ((byte & 0x80) == 0) {
      *v = result;
      pos_ = p;
      return Status::OK();
    }
  }
  return Error(std::string("varint too long in ") + std::string(field));
}

Status ByteReader::ReadBytes(size_t n, std::span<const uint8_t>* out, std::string_view field) {
  if (remaining() < n) return Truncated(n, field);
  *out = bytes_.subspan(pos_, n);
  pos_ += n;
  return Status::OK();
}

Status ByteReader::ReadLengthPrefixed(std::string_view* out, std::string_view field) {
  size_t start = pos_;
  uint64_t n = 0;
  QUIVER_RETURN_IF_ERROR(ReadVarint64(&n, field));
  if (n > remaining()) {
    Status s = Truncated(n, field);
    pos_ = start;
    return s;
  }
  *out = std::string_view(reinterpret_cast<const char*>(bytes_.data() + pos_), n);
  pos_ += n;
  return Status::OK();
}

Status ByteReader::Skip(size_t n, std::string_view field) {
  if (remaining() < n) return Truncated(n, field);
  pos_ += n;
  return Status::OK();
}

}  // namespace quiver
