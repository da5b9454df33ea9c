#include "quiver/point_id.h"

#include <charconv>

namespace quiver {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<PointId> PointId::ParseUuid(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("'" + std::string(text.substr(0, 64)) +
                                   "' is not a valid point id: expected an unsigned integer or a UUID");
  };
  std::string hex;
  if (text.size() == 36) {
    for (size_t i = 0; i < 36; ++i) {
      const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
      if (dash != (text[i] == '-')) return bad();
      if (!dash) hex.push_back(text[i]);
    }
  } else if (text.size() == 32) {
    hex = std::string(text);
  } else {
    return bad();
  }
  UuidBytes bytes{};
  for (size_t i = 0; i < 16; ++i) {
    int hi = HexValue(hex[2 * i]), lo = HexValue(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return bad();
    bytes[i] = static_cast<uint8_t>(hi << 4 | lo);
  }
  return PointId::Uuid(bytes);
}

Result<PointId> PointId::Parse(std::string_view text) {
  if (!text.empty() && text.size() <= 20 && text.find_first_not_of("0123456789") == std::string_view::npos) {
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (ec == std::errc() && end == text.data() + text.size()) return PointId::Number(n);
    return Status::InvalidArgument("point id " + std::string(text) + " is out of range 0..18446744073709551615");
  }
  return ParseUuid(text);
}

std::string PointId::ToString() const {
  if (!is_uuid_) return std::to_string(number_);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string s;
  s.reserve(36);
  for (size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
    s.push_back(kHex[uuid_[i] >> 4]);
    s.push_back(kHex[uuid_[i] & 15]);
  }
  return s;
}

}  // namespace quiver
