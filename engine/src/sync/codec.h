// Text forms of the sync protocol's identifiers and binary values (SYNC.md 2.2, 2.6): replica ids and HLC values
// as 16 lower-case hex digits, stamps as 32 (hlc then replica, so string order is stamp order), 128-bit uids and
// epochs as 32, cursors as "<epoch>:<seq hex16>", and base64 (RFC 4648, padded) of little-endian float32 and
// uint32 arrays for vectors. Parsers are strict: exact lengths, lower-case hex, canonical padding.
//
// Thread safety: pure functions.
#ifndef QUIVER_SYNC_CODEC_H_
#define QUIVER_SYNC_CODEC_H_

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/hlc.h"

namespace quiver::sync {

// 128 bits: collection uids and feed epochs.
struct Id128 {
  uint64_t hi = 0, lo = 0;
  friend bool operator==(const Id128&, const Id128&) = default;
  bool zero() const { return hi == 0 && lo == 0; }
};

std::string Hex16(uint64_t v);
std::optional<uint64_t> ParseHex16(std::string_view s);
std::string StampText(const db::Stamp& s);
std::optional<db::Stamp> ParseStamp(std::string_view s);
std::string Id128Text(const Id128& id);
std::optional<Id128> ParseId128(std::string_view s);

// "<epoch hex32>:<seq hex16>"; clients treat it as opaque.
struct Cursor {
  Id128 epoch;
  uint64_t seq = 0;
};
std::string CursorText(const Cursor& c);
std::optional<Cursor> ParseCursor(std::string_view s);

std::string Base64Encode(std::string_view bytes);
std::optional<std::string> Base64Decode(std::string_view text);
std::string FloatsToBase64(const std::vector<float>& v);
std::optional<std::vector<float>> Base64ToFloats(std::string_view text);
std::string U32sToBase64(const std::vector<uint32_t>& v);
std::optional<std::vector<uint32_t>> Base64ToU32s(std::string_view text);

}  // namespace quiver::sync

#endif  // QUIVER_SYNC_CODEC_H_
