#include "base/hashes.h"

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "base/random.h"

namespace quiver {
namespace {

std::string Hex(const std::array<uint8_t, 32>& d) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : d) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 15]);
  }
  return out;
}

TEST_CASE("sha256: FIPS 180-2 test vectors", "[base][sha256]") {
  CHECK(Sha256Hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256Hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(Sha256Hex(std::string(1000000, 'a')) == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256: hardware and portable rounds agree at every length, alignment and split", "[base][sha256]") {
  INFO("hardware rounds: " << Sha256::HardwareAccelerated());
  SplitMix64 rng(11);
  std::vector<uint8_t> buf(4096 + 16);
  for (auto& b : buf) b = static_cast<uint8_t>(rng());
  for (size_t offset = 0; offset < 4; ++offset) {
    for (size_t n = 0; n <= 600; n += (n < 200 ? 1 : 37)) {
      const uint8_t* p = buf.data() + offset;
      Sha256 portable(/*use_hardware=*/false);
      portable.Update(p, n);
      const std::string want = Hex(portable.Finish());
      Sha256 whole;
      whole.Update(p, n);
      REQUIRE(Hex(whole.Finish()) == want);
      // The same bytes fed in pieces of random sizes.
      Sha256 pieces;
      for (size_t at = 0; at < n;) {
        const size_t take = std::min<size_t>(n - at, rng() % 150);
        pieces.Update(p + at, take);
        at += take;
      }
      REQUIRE(Hex(pieces.Finish()) == want);
    }
  }
  Sha256 big, big_portable(false);
  std::string large(1 << 20, '\0');
  for (auto& c : large) c = static_cast<char>(rng());
  big.Update(large);
  big_portable.Update(large);
  CHECK(Hex(big.Finish()) == Hex(big_portable.Finish()));
}

}  // namespace
}  // namespace quiver
