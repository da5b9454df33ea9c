#include "base/coding.h"

#include <catch2/catch.hpp>
#include <limits>

namespace quiver {
namespace {

TEST_CASE("coding: fixed-width values are little-endian", "[base][coding]") {
  std::string s;
  PutFixed16(&s, 0x0102);
  PutFixed32(&s, 0x03040506);
  PutFixed64(&s, 0x0708090A0B0C0D0Eull);
  REQUIRE(s.size() == 14);
  CHECK(static_cast<uint8_t>(s[0]) == 0x02);
  CHECK(static_cast<uint8_t>(s[2]) == 0x06);
  CHECK(static_cast<uint8_t>(s[6]) == 0x0E);
  CHECK(DecodeFixed16(s.data()) == 0x0102);
  CHECK(DecodeFixed32(s.data() + 2) == 0x03040506);
  CHECK(DecodeFixed64(s.data() + 6) == 0x0708090A0B0C0D0Eull);
}

TEST_CASE("coding: varints round-trip at every width", "[base][coding]") {
  std::vector<uint64_t> values = {0, 1, 127, 128, 255, 300, 16383, 16384, (1ull << 35) + 5,
                                  std::numeric_limits<uint64_t>::max()};
  std::string s;
  for (uint64_t v : values) PutVarint64(&s, v);
  ByteReader r(s, "test");
  for (uint64_t v : values) {
    uint64_t got = 0;
    REQUIRE(r.ReadVarint64(&got, "v").ok());
    CHECK(got == v);
  }
  CHECK(r.empty());
}

TEST_CASE("coding: ByteReader reports truncation with the offset and keeps its place", "[base][coding]") {
  std::string s;
  PutFixed32(&s, 42);
  s.push_back('x');
  ByteReader r(s, "widget header", 100);
  uint32_t v = 0;
  REQUIRE(r.ReadU32(&v, "count").ok());
  CHECK(v == 42);
  uint32_t w = 0;
  Status st = r.ReadU32(&w, "flags");
  REQUIRE(st.IsCorruption());
  CHECK(st.message() == "widget header: truncated flags at offset 104 (needs 4 bytes, 1 left)");
  CHECK(r.position() == 4);
  uint8_t b = 0;
  REQUIRE(r.ReadU8(&b, "tail").ok());
  CHECK(b == 'x');
  CHECK(r.ReadU8(&b, "past end").IsCorruption());
}

TEST_CASE("coding: malformed varints and length prefixes are corruption", "[base][coding]") {
  std::string too_long(11, '\xff');
  ByteReader r1(too_long, "v");
  uint64_t v = 0;
  CHECK(r1.ReadVarint64(&v, "x").IsCorruption());

  std::string overflow(9, '\xff');
  overflow.push_back('\x02');  // bit 64 set
  ByteReader r2(overflow, "v");
  CHECK(r2.ReadVarint64(&v, "x").IsCorruption());

  std::string lp;
  PutVarint64(&lp, 1000);
  lp += "short";
  ByteReader r3(lp, "v");
  std::string_view out;
  CHECK(r3.ReadLengthPrefixed(&out, "name").IsCorruption());
  CHECK(r3.position() == 0);

  std::string good;
  PutLengthPrefixed(&good, "hello");
  ByteReader r4(good, "v");
  REQUIRE(r4.ReadLengthPrefixed(&out, "name").ok());
  CHECK(out == "hello");
}

TEST_CASE("coding: PadTo aligns with zero bytes", "[base][coding]") {
  std::string s = "abc";
  PadTo(&s, 8);
  CHECK(s.size() == 8);
  CHECK(s[7] == '\0');
  PadTo(&s, 8);
  CHECK(s.size() == 8);
}

}  // namespace
}  // namespace quiver
