#include "base/crc32c.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "base/random.h"

namespace quiver {
namespace {

TEST_CASE("crc32c: published check values", "[base][crc32c]") {
  CHECK(crc32c::Value("123456789", 9) == 0xE3069283u);
  std::string zeros(32, '\0');
  CHECK(crc32c::Value(zeros.data(), zeros.size()) == 0x8A9136AAu);
  std::string ones(32, '\xff');
  CHECK(crc32c::Value(ones.data(), ones.size()) == 0x62A8AB43u);
  std::string ascending(32, '\0');
  for (int i = 0; i < 32; ++i) ascending[i] = static_cast<char>(i);
  CHECK(crc32c::Value(ascending.data(), ascending.size()) == 0x46DD794Eu);
  CHECK(crc32c::Value("", 0) == 0u);
}

TEST_CASE("crc32c: hardware and portable paths agree at every length and alignment", "[base][crc32c]") {
  SplitMix64 rng(7);
  std::vector<uint8_t> buf(2048 + 8);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t n = 0; n <= 300; ++n) {
      REQUIRE(crc32c::Value(buf.data() + offset, n) == crc32c::ExtendPortable(0, buf.data() + offset, n));
    }
  }
  CHECK(crc32c::Value(buf.data(), 2048) == crc32c::ExtendPortable(0, buf.data(), 2048));
}

TEST_CASE("crc32c: Extend continues a checksum across pieces", "[base][crc32c]") {
  std::string s = "The quick brown fox jumps over the lazy dog";
  uint32_t whole = crc32c::Value(s.data(), s.size());
  for (size_t cut = 0; cut <= s.size(); ++cut) {
    uint32_t part = crc32c::Value(s.data(), cut);
    CHECK(crc32c::Extend(part, s.data() + cut, s.size() - cut) == whole);
  }
}

}  // namespace
}  // namespace quiver
