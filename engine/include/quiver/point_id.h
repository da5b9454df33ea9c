// PointId: a point's identity, an unsigned 64-bit integer or a UUID, as in Qdrant. Ordered numbers first (by
// value), then UUIDs (by their bytes), which is the order scroll returns points in.
//
// Thread safety: a value type.
#ifndef QUIVER_POINT_ID_H_
#define QUIVER_POINT_ID_H_

#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "quiver/status.h"

namespace quiver {

class PointId {
 public:
  using UuidBytes = std::array<uint8_t, 16>;

  PointId() = default;
  static PointId Number(uint64_t n) { return PointId(false, n, {}); }
  static PointId Uuid(const UuidBytes& bytes) { return PointId(true, 0, bytes); }

  // Parses a decimal integer ("42", 0 .. 2^64-1) or a UUID in any form Qdrant (the Rust uuid crate) accepts:
  // hex digits in either case, hyphenated ("550e8400-e29b-41d4-a716-446655440000"), 32 digits without
  // hyphens, braced ("{550e8400-...}") or as a URN ("urn:uuid:550e8400-..."). InvalidArgument names the text
  // otherwise.
  static Result<PointId> Parse(std::string_view text);
  // Parses a UUID only.
  static Result<PointId> ParseUuid(std::string_view text);
  // The bytes of a UUID in any form ParseUuid accepts, or nullopt. No allocation.
  static std::optional<UuidBytes> UuidBytesOf(std::string_view text);

  bool is_uuid() const { return is_uuid_; }
  uint64_t number() const { return number_; }
  const UuidBytes& uuid() const { return uuid_; }

  // The decimal number, or the UUID in lower-case hyphenated form.
  std::string ToString() const;

  friend bool operator==(const PointId& a, const PointId& b) {
    return a.is_uuid_ == b.is_uuid_ && a.number_ == b.number_ && a.uuid_ == b.uuid_;
  }
  friend std::strong_ordering operator<=>(const PointId& a, const PointId& b) {
    if (a.is_uuid_ != b.is_uuid_) return a.is_uuid_ ? std::strong_ordering::greater : std::strong_ordering::less;
    if (!a.is_uuid_) return a.number_ <=> b.number_;
    for (size_t i = 0; i < 16; ++i) {
      if (a.uuid_[i] != b.uuid_[i]) return a.uuid_[i] <=> b.uuid_[i];
    }
    return std::strong_ordering::equal;
  }

 private:
  PointId(bool is_uuid, uint64_t n, const UuidBytes& u) : is_uuid_(is_uuid), number_(n), uuid_(u) {}

  bool is_uuid_ = false;
  uint64_t number_ = 0;
  UuidBytes uuid_{};
};

struct PointIdHash {
  size_t operator()(const PointId& id) const {
    uint64_t h = id.number() * 0x9E3779B97F4A7C15ull;
    if (id.is_uuid()) {
      for (uint8_t b : id.uuid()) h = (h ^ b) * 0x100000001B3ull;
      h ^= 0x5555;
    }
    return static_cast<size_t>(h ^ (h >> 29));
  }
};

}  // namespace quiver

#endif  // QUIVER_POINT_ID_H_
