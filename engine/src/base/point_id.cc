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

// 32 hex digits, or 36 characters with hyphens at 8, 13, 18 and 23 and hex digits elsewhere.
std::optional<PointId::UuidBytes> HexUuid(std::string_view text) {
  if (text.size() != 32 && text.size() != 36) return std::nullopt;
  const bool hyphenated = text.size() == 36;
  PointId::UuidBytes bytes{};
  size_t nibble = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (hyphenated && (i == 8 || i == 13 || i == 18 || i == 23)) {
      if (text[i] != '-') return std::nullopt;
      continue;
    }
    const int h = HexValue(text[i]);
    if (h < 0) return std::nullopt;
    bytes[nibble / 2] = static_cast<uint8_t>(nibble % 2 == 0 ? h << 4 : bytes[nibble / 2] | h);
    ++nibble;
  }
  return bytes;
}

Status NotAPointId(std::string_view text) {
  std::string message;
  message.reserve(128);
  message.append("'")
      .append(text.substr(0, 64))
      .append("' is not a valid point id: expected an unsigned integer or a UUID");
  return Status::InvalidArgument(message);
}

}  // namespace

std::optional<PointId::UuidBytes> PointId::UuidBytesOf(std::string_view text) {
  // The uuid crate's forms: simple and hyphenated, and hyphenated inside braces or after a lower-case URN
  // prefix.
  constexpr std::string_view kUrn = "urn:uuid:";
  if (text.size() == 38 && text.front() == '{' && text.back() == '}') {
    text = text.substr(1, 36);
  } else if (text.size() == 45 && text.substr(0, kUrn.size()) == kUrn) {
    text = text.substr(kUrn.size());
  } else if (text.size() != 32 && text.size() != 36) {
    return std::nullopt;
  }
  return HexUuid(text);
}

Result<PointId> PointId::ParseUuid(std::string_view text) {
  std::optional<UuidBytes> bytes = UuidBytesOf(text);
  if (!bytes) return NotAPointId(text);
  return PointId::Uuid(*bytes);
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
