#include "sync/codec.h"

#include <cstring>

namespace quiver::sync {
namespace {

constexpr char kHex[] = "0123456789abcdef";
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int HexDigit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

int B64Digit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

std::string Hex16(uint64_t v) {
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[i] = kHex[v & 15];
  return out;
}

std::optional<uint64_t> ParseHex16(std::string_view s) {
  if (s.size() != 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    const int d = HexDigit(c);
    if (d < 0) return std::nullopt;
    v = v << 4 | static_cast<uint64_t>(d);
  }
  return v;
}

std::string StampText(const db::Stamp& s) { return Hex16(s.hlc) + Hex16(s.replica); }

std::optional<db::Stamp> ParseStamp(std::string_view s) {
  if (s.size() != 32) return std::nullopt;
  auto hlc = ParseHex16(s.substr(0, 16));
  auto replica = ParseHex16(s.substr(16));
  if (!hlc || !replica) return std::nullopt;
  return db::Stamp{*hlc, *replica};
}

std::string Id128Text(const Id128& id) { return Hex16(id.hi) + Hex16(id.lo); }

std::optional<Id128> ParseId128(std::string_view s) {
  if (s.size() != 32) return std::nullopt;
  auto hi = ParseHex16(s.substr(0, 16));
  auto lo = ParseHex16(s.substr(16));
  if (!hi || !lo) return std::nullopt;
  return Id128{*hi, *lo};
}

std::string CursorText(const Cursor& c) { return Id128Text(c.epoch) + ":" + Hex16(c.seq); }

std::optional<Cursor> ParseCursor(std::string_view s) {
  if (s.size() != 49 || s[32] != ':') return std::nullopt;
  auto epoch = ParseId128(s.substr(0, 32));
  auto seq = ParseHex16(s.substr(33));
  if (!epoch || !seq) return std::nullopt;
  return Cursor{*epoch, *seq};
}

std::string Base64Encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 3 <= bytes.size(); i += 3) {
    const uint32_t v = uint32_t{static_cast<uint8_t>(bytes[i])} << 16 |
                       uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8 | static_cast<uint8_t>(bytes[i + 2]);
    out.push_back(kB64[v >> 18]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back(kB64[v & 63]);
  }
  const size_t rest = bytes.size() - i;
  if (rest == 1) {
    const uint32_t v = uint32_t{static_cast<uint8_t>(bytes[i])} << 16;
    out.push_back(kB64[v >> 18]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.append("==");
  } else if (rest == 2) {
    const uint32_t v = uint32_t{static_cast<uint8_t>(bytes[i])} << 16 | uint32_t{static_cast<uint8_t>(bytes[i + 1])} << 8;
    out.push_back(kB64[v >> 18]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(kB64[(v >> 6) & 63]);
    out.push_back('=');
  }
  return out;
}

std::optional<std::string> Base64Decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    int d[4];
    int pad = 0;
    for (int j = 0; j < 4; ++j) {
      const char c = text[i + j];
      if (c == '=' && last && j >= 2) {
        d[j] = 0;
        ++pad;
        continue;
      }
      if (pad > 0) return std::nullopt;  // a digit after padding
      d[j] = B64Digit(c);
      if (d[j] < 0) return std::nullopt;
    }
    const uint32_t v = uint32_t(d[0]) << 18 | uint32_t(d[1]) << 12 | uint32_t(d[2]) << 6 | uint32_t(d[3]);
    // Canonical: the bits under the padding are zero.
    if ((pad == 1 && (v & 0xFF)) || (pad == 2 && (v & 0xFFFF))) return std::nullopt;
    out.push_back(static_cast<char>(v >> 16));
    if (pad < 2) out.push_back(static_cast<char>((v >> 8) & 0xFF));
    if (pad < 1) out.push_back(static_cast<char>(v & 0xFF));
  }
  return out;
}

std::string FloatsToBase64(const std::vector<float>& v) {
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float)));
}

std::optional<std::vector<float>> Base64ToFloats(std::string_view text) {
  auto bytes = Base64Decode(text);
  if (!bytes || bytes->size() % 4 != 0) return std::nullopt;
  std::vector<float> out(bytes->size() / 4);
  if (!out.empty()) std::memcpy(out.data(), bytes->data(), bytes->size());
  return out;
}

std::string U32sToBase64(const std::vector<uint32_t>& v) {
  return Base64Encode(std::string_view(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(uint32_t)));
}

std::optional<std::vector<uint32_t>> Base64ToU32s(std::string_view text) {
  auto bytes = Base64Decode(text);
  if (!bytes || bytes->size() % 4 != 0) return std::nullopt;
  std::vector<uint32_t> out(bytes->size() / 4);
  if (!out.empty()) std::memcpy(out.data(), bytes->data(), bytes->size());
  return out;
}

}  // namespace quiver::sync
