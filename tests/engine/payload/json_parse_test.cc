// ParseJson against Boost.JSON's own parser: the same trees and the same errors, with doubles read exactly, and
// number arrays read ahead giving what the parser's path gives.
#include "payload/json_parse.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/stream_parser.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <random>
#include <string>

namespace quiver::payload {
namespace {

namespace json = boost::json;

// Same kinds, same integers and strings, same member order; doubles compared by `same_double`.
template <typename SameDouble>
bool SameTree(const json::value& a, const json::value& b, SameDouble same_double) {
  if (a.kind() != b.kind()) return false;
  switch (a.kind()) {
    case json::kind::null:
      return true;
    case json::kind::bool_:
      return a.get_bool() == b.get_bool();
    case json::kind::int64:
      return a.get_int64() == b.get_int64();
    case json::kind::uint64:
      return a.get_uint64() == b.get_uint64();
    case json::kind::double_:
      return same_double(a.get_double(), b.get_double());
    case json::kind::string:
      return a.get_string() == b.get_string();
    case json::kind::array: {
      const json::array& x = a.get_array();
      const json::array& y = b.get_array();
      if (x.size() != y.size()) return false;
      for (size_t i = 0; i < x.size(); ++i) {
        if (!SameTree(x[i], y[i], same_double)) return false;
      }
      return true;
    }
    case json::kind::object: {
      const json::object& x = a.get_object();
      const json::object& y = b.get_object();
      if (x.size() != y.size()) return false;
      auto i = x.begin();
      auto j = y.begin();
      for (; i != x.end(); ++i, ++j) {
        if (i->key() != j->key() || !SameTree(i->value(), j->value(), same_double)) return false;
      }
      return true;
    }
  }
  return false;
}

bool Identical(double a, double b) { return std::memcmp(&a, &b, sizeof a) == 0; }
// Boost.JSON 1.81 can be a few units in the last place off the nearest double.
bool Near(double a, double b) {
  if (Identical(a, b)) return true;
  return std::fabs(a - b) <= 8 * std::fabs(std::nextafter(a, b) - a);
}

struct BoostResult {
  json::value value;
  boost::system::error_code ec;
  size_t offset = 0;
};

// What Boost.JSON's stream parser makes of `text` (ParseJsonText's parser before ParseJson).
BoostResult BoostParse(std::string_view text, size_t max_depth) {
  json::parse_options options;
  options.max_depth = max_depth;
  json::stream_parser parser(json::storage_ptr(), options);
  BoostResult r;
  r.offset = parser.write(text.data(), text.size(), r.ec);
  if (!r.ec) {
    parser.finish(r.ec);
    r.offset = text.size();
  }
  if (!r.ec && !parser.done()) r.ec = json::error::incomplete;
  if (!r.ec) r.value = parser.release();
  return r;
}

// A random document built as text and as the tree it must parse to: doubles printed with 17 significant digits
// (so the nearest double to the text is the double itself), integers of every range, strings holding brackets,
// quotes and escapes, number arrays short and long, and random whitespace.
class DocumentMaker {
 public:
  explicit DocumentMaker(uint32_t seed) : rng_(seed) {}

  json::value Make(std::string* text) { return Value(text, 0); }

 private:
  size_t Below(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }
  void Space(std::string* text) {
    static constexpr std::string_view kSpaces[] = {"", "", "", " ", "\n  ", "\t", "\r\n"};
    *text += kSpaces[Below(std::size(kSpaces))];
  }

  json::value Number(std::string* text) {
    char buf[64];
    switch (Below(6)) {
      case 0: {  // small integer, maybe negative zero
        const int64_t i = static_cast<int64_t>(Below(2001)) - 1000;
        if (i == 0 && Below(2) == 0) {
          *text += "-0";
          return json::value(int64_t{0});
        }
        *text += std::to_string(i);
        return json::value(i);
      }
      case 1: {  // full-range integers: int64, uint64 above INT64_MAX
        const uint64_t u = rng_() | (static_cast<uint64_t>(rng_()) << 32);
        if (Below(2) == 0) {
          const auto i = static_cast<int64_t>(u);
          *text += std::to_string(i);
          return json::value(i);
        }
        *text += std::to_string(u);
        return u <= static_cast<uint64_t>(INT64_MAX) ? json::value(static_cast<int64_t>(u)) : json::value(u);
      }
      default: {  // doubles of every magnitude, in shortest form or with an exponent
        double d;
        if (Below(2) == 0) {
          d = std::uniform_real_distribution<double>(-1, 1)(rng_);
        } else {
          uint64_t bits = rng_() | (static_cast<uint64_t>(rng_()) << 32);
          std::memcpy(&d, &bits, sizeof d);
          if (!std::isfinite(d)) d = 1.5;
        }
        // 17 significant digits read back as the same double (snprintf: Emscripten's libc++ has no
        // floating-point to_chars).
        std::snprintf(buf, sizeof buf, Below(3) == 0 ? "%.16e" : "%.17g", d);
        std::string s(buf);
        if (s.find_first_of(".eE") == std::string::npos) s += ".0";
        if (Below(4) == 0) {  // uppercase exponent
          for (char& c : s) c = c == 'e' ? 'E' : c;
        }
        *text += s;
        return json::value(d);
      }
    }
  }

  json::value String(std::string* text) {
    static constexpr std::string_view kPieces[] = {"a", "[1,2,3]", "\\\"", "\\\\", "]", "{", ":", ",",
                                                   "\\u0041", "\\n", "null", "\\\\\\\"["};
    static constexpr std::string_view kDecoded[] = {"a", "[1,2,3]", "\"", "\\", "]", "{", ":", ",",
                                                    "A", "\n", "null", "\\\"["};
    std::string decoded;
    *text += '"';
    for (size_t n = Below(6); n > 0; --n) {
      const size_t k = Below(std::size(kPieces));
      *text += kPieces[k];
      decoded += kDecoded[k];
    }
    *text += '"';
    return json::value(decoded);
  }

  json::value Value(std::string* text, int depth) {
    const size_t pick = depth >= 5 ? Below(4) : Below(8);
    switch (pick) {
      case 0:
        return Number(text);
      case 1:
        return String(text);
      case 2: {
        const int k = static_cast<int>(Below(3));
        *text += k == 0 ? "null" : k == 1 ? "true" : "false";
        return k == 0 ? json::value(nullptr) : json::value(k == 1);
      }
      case 3:
      case 4: {  // a number array, often long enough to be read ahead
        json::array a;
        const size_t n = Below(3) == 0 ? Below(20) : 14 + Below(40);
        *text += '[';
        for (size_t i = 0; i < n; ++i) {
          if (i > 0) *text += ',';
          Space(text);
          a.push_back(Number(text));
          Space(text);
        }
        *text += ']';
        return a;
      }
      case 5: {  // a mixed array
        json::array a;
        *text += '[';
        for (size_t i = 0, n = Below(5); i < n; ++i) {
          if (i > 0) *text += ',';
          Space(text);
          a.push_back(Value(text, depth + 1));
        }
        *text += ']';
        return a;
      }
      default: {
        json::object o;
        *text += '{';
        for (size_t i = 0, n = Below(5); i < n; ++i) {
          if (i > 0) *text += ',';
          Space(text);
          std::string key = "k" + std::to_string(i);
          *text += '"' + key + '"';
          Space(text);
          *text += ':';
          Space(text);
          o[key] = Value(text, depth + 1);
        }
        *text += '}';
        return o;
      }
    }
  }

  std::mt19937 rng_;
};

TEST_CASE("ParseJson reads random documents exactly, where Boost.JSON reads them nearly") {
  size_t boost_off = 0;
  size_t doubles = 0;
  for (uint32_t seed = 1; seed <= 3000; ++seed) {
    DocumentMaker maker(seed);
    std::string text;
    const json::value expected = maker.Make(&text);
    boost::system::error_code ec;
    const json::value got = ParseJson(text, ec, 64);
    INFO("seed " << seed << ": " << text);
    REQUIRE(!ec);
    REQUIRE(SameTree(got, expected, Identical));
    const BoostResult boost = BoostParse(text, 64);
    REQUIRE(!boost.ec);
    REQUIRE(SameTree(boost.value, expected, Near));
    if (!SameTree(boost.value, expected, Identical)) ++boost_off;
    doubles += text.size();
  }
  // Boost.JSON's imprecision is what the exact reading fixes: it shows up in these documents.
  CHECK(boost_off > 0);
  CHECK(doubles > 0);
}

TEST_CASE("ParseJson fails where Boost.JSON fails, with the same error at the same offset") {
  std::mt19937 rng(7);
  size_t failures = 0;
  for (uint32_t seed = 1; seed <= 400; ++seed) {
    DocumentMaker maker(seed);
    std::string text;
    maker.Make(&text);
    // Every truncation, and random damage: a byte replaced, removed or doubled.
    std::vector<std::string> variants;
    for (size_t cut = 0; cut < text.size(); cut += 1 + text.size() / 40) variants.push_back(text.substr(0, cut));
    for (int k = 0; k < 30; ++k) {
      std::string t = text;
      const size_t at = rng() % t.size();
      static constexpr char kBytes[] = {'[', ']', '{', '}', ',', ':', '"', '\\', '-', '.', 'e', '0', '9', ' ',
                                        'x', '\x01', '\xff'};
      switch (rng() % 3) {
        case 0:
          t[at] = kBytes[rng() % sizeof kBytes];
          break;
        case 1:
          t.erase(at, 1);
          break;
        default:
          t.insert(at, 1, t[at]);
      }
      variants.push_back(t);
    }
    for (const std::string& t : variants) {
      INFO("text: " << t);
      for (size_t depth : {size_t{2}, size_t{64}}) {
        boost::system::error_code ec;
        size_t offset = 0;
        const json::value got = ParseJson(t, ec, depth, &offset);
        const BoostResult boost = BoostParse(t, depth);
        REQUIRE(ec == boost.ec);
        if (ec) {
          CHECK(offset == boost.offset);
          CHECK(got.is_null());
          ++failures;
        } else {
          REQUIRE(SameTree(got, boost.value, Near));
        }
      }
    }
  }
  CHECK(failures > 1000);
}

TEST_CASE("a number array read ahead is the array the parser's path gives") {
  std::string run = "[";
  for (int i = 0; i < 20; ++i) run += (i ? "," : "") + std::to_string(i) + (i % 2 ? ".5" : "");
  run += "]";
  boost::system::error_code ec;

  SECTION("beside real nulls, in objects and arrays") {
    const std::string text = "{\"a\": null, \"v\": " + run + ", \"b\": [null, " + run + ", null], \"c\": null}";
    const json::value v = ParseJson(text, ec);
    REQUIRE(!ec);
    CHECK(v.at("a").is_null());
    CHECK(v.at("c").is_null());
    REQUIRE(v.at("v").as_array().size() == 20);
    CHECK(v.at("v").as_array()[0].is_int64());
    CHECK(v.at("v").as_array()[1].as_double() == 1.5);
    CHECK(v.at("v").as_array()[19].as_double() == 19.5);
    const json::array& b = v.at("b").as_array();
    REQUIRE(b.size() == 3);
    CHECK(b[0].is_null());
    CHECK(b[1] == v.at("v"));
    CHECK(b[2].is_null());
  }
  SECTION("a whole document, and arrays of arrays") {
    CHECK(ParseJson(run, ec).as_array().size() == 20);
    const json::value v = ParseJson("[" + run + "," + run + "]", ec);
    REQUIRE(!ec);
    CHECK(v.as_array().size() == 2);
    CHECK(v.as_array()[1].as_array().size() == 20);
  }
  SECTION("an array where a key belongs stays an error") {
    ParseJson("{" + run + ": 1}", ec);
    CHECK(ec == json::error::syntax);
    ParseJson("{\"a\": 1, " + run + ": 1}", ec);
    CHECK(ec == json::error::syntax);
    ParseJson("\"x\" " + run, ec);
    CHECK(ec == json::error::extra_data);
    ParseJson(run + run, ec);
    CHECK(ec == json::error::extra_data);
  }
  SECTION("inside strings it is text") {
    const json::value v = ParseJson("{\"s\": \"\\\"" + run + "\\\\\", \"t\": " + run + "}", ec);
    REQUIRE(!ec);
    CHECK(v.at("s").as_string() == "\"" + run + "\\");
    CHECK(v.at("t").as_array().size() == 20);
  }
  SECTION("a text spelling U+0000 is read without reading ahead, to the same values") {
    const json::value v = ParseJson("{\"s\": \"\\u00000\", \"v\": " + run + ", \"t\": \"\\u0000\"}", ec);
    REQUIRE(!ec);
    CHECK(v.at("s").as_string() == std::string_view("\0" "0", 2));
    CHECK(v.at("t").as_string() == std::string_view("\0", 1));
    CHECK(v.at("v").as_array().size() == 20);
  }
  SECTION("a member given twice keeps the last, as Boost.JSON does") {
    const json::value v = ParseJson("{\"v\": " + run + ", \"v\": [" + run.substr(1, run.size() - 2) + ",7]}", ec);
    REQUIRE(!ec);
    CHECK(v.at("v").as_array().size() == 21);
    CHECK(v.at("v").as_array()[20].as_int64() == 7);
  }
  SECTION("kept out of the tree only as the root object's member asked for") {
    KeptNumbers kept;
    kept.member = "vector";
    const std::string text = "{\"vector\": " + run + ", \"other\": " + run + ", \"inner\": {\"vector\": " + run +
                             "}}";
    const json::value v = ParseJson(text, ec, 32, nullptr, &kept);
    REQUIRE(!ec);
    REQUIRE(kept.arrays.size() == 1);
    const std::vector<double>* numbers = kept.Find(v.at("vector"));
    REQUIRE(numbers != nullptr);
    const json::value plain = ParseJson(text, ec);
    const json::array& expected = plain.at("vector").as_array();
    REQUIRE(numbers->size() == expected.size());
    for (size_t i = 0; i < expected.size(); ++i) CHECK((*numbers)[i] == expected[i].to_number<double>());
    CHECK(v.at("other") == plain.at("other"));
    CHECK(v.at("inner") == plain.at("inner"));
    CHECK(v.at("vector").is_string());
    CHECK(kept.Find(v.at("other")) == nullptr);
    // Without `kept` nothing is left out.
    CHECK(plain.at("vector").is_array());
    // A key spelled with an escape is not matched (it reads as any array), nor is a member given twice kept
    // where the last one is not.
    KeptNumbers escaped;
    escaped.member = "vector";
    const json::value e = ParseJson("{\"vect\\u006fr\": " + run + "}", ec, 32, nullptr, &escaped);
    REQUIRE(!ec);
    CHECK(e.at("vector").is_array());
    CHECK(escaped.arrays.empty());
    KeptNumbers twice;
    twice.member = "vector";
    const json::value t = ParseJson("{\"vector\": " + run + ", \"vect\\u006fr\": [1]}", ec, 32, nullptr, &twice);
    REQUIRE(!ec);
    CHECK(t.at("vector") == json::array{1});
  }
  SECTION("the depth limit counts it") {
    ParseJson("[[" + run + "]]", ec, 3);
    CHECK(!ec);
    ParseJson("[[" + run + "]]", ec, 2);
    CHECK(ec == json::error::too_deep);
  }
  SECTION("integers as Boost.JSON reads them, doubles exactly") {
    const std::vector<std::string> numbers = {"-0", "9223372036854775807", "-9223372036854775808",
                                              "18446744073709551615", "18446744073709551616",
                                              "123456789012345678", "0.11935319286735585", "1e400", "-1e400",
                                              "1e-400", "0e708"};
    std::string text = "[";
    for (const std::string& n : numbers) text += n + ", ";
    for (int i = 0; i < 16; ++i) text += i ? ", 0.5" : "0.5";
    text += "]";
    const json::value v = ParseJson(text, ec);
    REQUIRE(!ec);
    const json::array& a = v.as_array();
    CHECK(a[0].as_int64() == 0);
    CHECK(a[1].as_int64() == INT64_MAX);
    CHECK(a[2].as_int64() == INT64_MIN);
    CHECK(a[3].as_uint64() == UINT64_MAX);
    CHECK(a[4].as_double() == 18446744073709551616.0);
    CHECK(a[5].as_int64() == 123456789012345678);
    CHECK(a[6].as_double() == 0.11935319286735585);
    CHECK(std::isinf(a[7].as_double()));
    CHECK(a[7].as_double() > 0);
    CHECK(a[8].as_double() < 0);
    CHECK(a[9].as_double() == 0.0);
    CHECK(a[10].as_double() == 0.0);  // Boost.JSON 1.81 reads NaN (0 times its power of ten, infinity)
    // Each number alone (read by the parser's path, not ahead) gives the same value.
    for (size_t i = 0; i < numbers.size(); ++i) {
      INFO(numbers[i]);
      const json::value alone = ParseJson("[" + numbers[i] + "]", ec);
      REQUIRE(!ec);
      CHECK(alone.as_array()[0] == a[i]);
    }
  }
}

TEST_CASE("a number split across Boost.JSON's writes is still read exactly") {
  // ParseJson feeds the text in pieces around the arrays it reads ahead; a number right after one is whole in
  // its piece, and a long document's numbers are read the same wherever they fall.
  std::string text = "{\"v\": [";
  for (int i = 0; i < 16; ++i) text += (i ? "," : "") + std::string("0.1");
  text += "], \"x\": 0.11935319286735585}";
  boost::system::error_code ec;
  const json::value v = ParseJson(text, ec);
  REQUIRE(!ec);
  CHECK(v.at("x").as_double() == 0.11935319286735585);
  CHECK(v.at("v").as_array()[15].as_double() == 0.1);
}

}  // namespace
}  // namespace quiver::payload
