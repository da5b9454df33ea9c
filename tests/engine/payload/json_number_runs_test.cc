// The pre-pass for arrays of numbers (payload/json_number_runs.h) against Boost.JSON alone: every text must give
// the same value (serialized, so int64/uint64/double and every double's bits, -0 included, must agree) or the
// same error message with the same offset.
#include "payload/json_number_runs.h"

#include <boost/json/serialize.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "payload/json_read.h"
#include "payload/json_util.h"

namespace quiver::payload {
namespace {

namespace json = boost::json;

std::string Outcome(std::string_view text, bool number_runs, size_t max_depth = kMaxBodyDepth) {
  Result<json::value> v = ParseJsonTextWith(text, "body", max_depth, number_runs);
  if (!v.ok()) return "error: " + v.status().ToString();
  return json::serialize(*v);
}

void Same(const std::string& text, size_t max_depth = kMaxBodyDepth) {
  INFO(text);
  CHECK(Outcome(text, true, max_depth) == Outcome(text, false, max_depth));
}

// `x` repeated n times as an array, with `sep` between elements.
std::string Run(const std::string& x, size_t n = kMinNumberRun, const std::string& sep = ",") {
  std::string s = "[";
  for (size_t i = 0; i < n; ++i) {
    if (i) s += sep;
    s += x;
  }
  return s + "]";
}

// Each number in a run: at the start, in the middle and last of the array, with the array far from the end of
// the text and right at it (Boost.JSON converts some numbers differently with fewer than 33 bytes left).
void SameEverywhere(const std::string& x) {
  const std::string r = Run(x);
  const std::string mid = "[1.5,2.5,3.5," + x + ",4.5,5.5,6.5,7.5]";
  const std::string last = "[1.5,2.5,3.5,4.5,5.5,6.5,7.5," + x + "]";
  for (const std::string& a : {r, mid, last}) {
    Same(R"({"vector": )" + a + "}");
    Same(R"({"vector": )" + a + R"(, "pad": "................................................"})");
    Same(a);
  }
}

TEST_CASE("number runs: the same values as Boost.JSON", "[payload][json]") {
  const std::vector<std::string> numbers = {
      "0", "-0", "0.0", "-0.0", "1", "-1", "7", "123456789012345", "-123456789012345", "1234567890123456",
      "12345678901234567890", "-9223372036854775808", "9223372036854775807", "18446744073709551615",
      "18446744073709551616", "9007199254740993", "9007199254740993.0", "0.1", "-0.1", "0.5", "1.5", "3.14159",
      "0.123456789", "-0.0123456789", "0.12345678901234567", "0.123456789012345678", "0.1234567890123456789",
      "0.12345678901234567890123", "-0.012345678901234567", "1.2345678901234567", "12.345678901234567",
      "123.45678901234567", "9007199254740991.5", "0.000000000000000000001234", "1e0", "1E0", "1e+0", "1e-0",
      "1e5", "1E+5", "1e-5", "-1e-5", "2.5e10", "2.5E-10", "1e38", "3.4028235e38", "3.4028236e38", "-3.5e38",
      "1e39", "1e308", "1.7976931348623157e308", "1.8e308", "1e309", "1e400", "-1e400", "1e-400", "4.9e-324",
      "2.2250738585072014e-308", "2.225073858507201e-308", "1e-45", "1.4e-45", "1e-46", "1.17549435e-38",
      "1e-307", "1e-310", "1e-320", "1e-323", "1e-324", "0e0", "0e-5", "-0e5", "0.0e0", "1e0001", "1e00001",
      "1e9999", "1e-9999", "1e99999", "5e-1", "0.3", "0.7", "0.2999999999999999888977697537484345957636833",
      "123456789012345.6", "1.000000000000000000000000000001", "100000000000000000000", "1e22", "1e23",
      "1.0e-22", "8.589973e9", "0.00001", "-0.99999999", "0.017453292519943295", "2.718281828459045"};
  for (const std::string& x : numbers) SameEverywhere(x);
}

TEST_CASE("number runs: whitespace, nesting and neighbours", "[payload][json]") {
  for (const std::string sep : {",", " ,", ", ", "\n,\t", "\r\n , \r\n"}) {
    Same(R"({"v": )" + Run("0.25", 9, sep) + "}");
    Same(R"({"v": [ )" + Run("0.25", 9, sep).substr(1) + "}");
    Same(R"({"v": )" + Run("0.25", 9, sep).insert(9 * 5 - 3, " \n") + "}");
  }
  // Runs next to other values, in nested arrays, in strings (never touched), repeated, below the minimum.
  Same(R"({"batch": [)" + Run("0.5") + "," + Run("-1") + "," + Run("2e3") + R"(], "empty": [], "e2": [ ],)" +
       R"( "s": "[1,2,3,4,5,6,7,8,9]", "k\"[": )" + Run("1", 20) + R"(, "short": [1,2,3], "mixed": [1,2,3,4,5,6,7,"8"]})");
  Same(R"({"points": [{"id": 1, "vector": )" + Run("0.125") + R"(, "payload": {"a": )" + Run("3") +
       R"(}}, {"id": 2, "vector": )" + Run("-0.125") + "}]}");
  Same(Run(Run("0.5")));
  Same("[" + Run("1") + "," + Run("2") + "," + Run("3") + "]");
  // Depth: a run counts as an array; the limit is met or passed at the same place.
  std::string deep = Run("1");
  for (int i = 0; i < 5; ++i) deep = "[" + deep + "]";
  Same(deep, 6);
  Same(deep, 7);
  Same(R"({"a": )" + deep + "}", 6);
  Same(R"({"a": )" + deep + "}", 7);
}

TEST_CASE("number runs: malformed numbers and arrays give Boost.JSON's error", "[payload][json]") {
  const std::vector<std::string> bad = {"+1", "01", "-01", "00", ".5", "-.5", "1.", "1.e5", "1e", "1e+", "1E-",
                                        "-", "--1", "NaN", "nan", "Infinity", "-Infinity", "0x10", "1..2", "1e5.5",
                                        "1e5e5", "1ee5", "0.5f", "1_000", "\"1\"", "true", "null", "{}", "[]",
                                        "1e2147483648", "1e-2147483649", "1 2", "１"};
  for (const std::string& x : bad) SameEverywhere(x);
  Same(R"({"v": [1,2,3,4,5,6,7,8,]})");
  Same(R"({"v": [1,2,3,4,5,6,7,8)");
  Same(R"({"v": [1,2,3,4,5,6,7,8,9)");
  Same(R"({"v": [1,2,3,4,5,6,7,8,9]   )");
  Same(R"({"v": [1,2,3,4,5,6,7,8,9]} x)");
  Same(R"({"v": [1,2,3,4,5,6,7,8,9]}})");
  Same(R"({"v" [1,2,3,4,5,6,7,8,9]})");
  Same(R"({"v": [1,2,3,4,5,6,7,8,9] "w": 1})");
  Same(R"([1,2,3,4,5,6,7,8,9] [1,2,3,4,5,6,7,8,9])");
  Same(R"({"v": [1,2,3,4,5,6,7,8,9], "s": "unterminated)");
  Same(R"({"s": "\"[1,2,3,4,5,6,7,8,9]", "v": [1,2,3,4,5,6,7,8,9]})");
  Same("{\"s\": \"\xff\", \"v\": [1,2,3,4,5,6,7,8,9]}");
  Same("{\"v\": [1,2,3,4,5,6,7,8,9], \"s\": \"\xff\"}");
  Same(R"({"v": [1,2,3,4,5,6,7,8,9,,]})");
  Same(R"({"v": [,1,2,3,4,5,6,7,8,9]})");
}

TEST_CASE("number runs: random numbers and shapes", "[payload][json]") {
  std::mt19937_64 rng(20261206);
  auto digits = [&](size_t n, bool first_nonzero) {
    std::string s;
    for (size_t i = 0; i < n; ++i) s += static_cast<char>('0' + (i == 0 && first_nonzero ? 1 + rng() % 9 : rng() % 10));
    return s;
  };
  auto number = [&]() {
    std::string s;
    if (rng() % 3 == 0) s += '-';
    if (rng() % 3 == 0) {
      s += '0';
    } else {
      s += digits(1 + rng() % 17, true);
    }
    if (rng() % 4 != 0) s += "." + digits(1 + rng() % 24, false);
    if (rng() % 3 == 0) {
      s += rng() % 2 ? 'e' : 'E';
      const int sign = rng() % 3;
      if (sign == 1) s += '+';
      if (sign == 2) s += '-';
      s += digits(1 + rng() % 4, false);
    }
    if (rng() % 200 == 0) s.insert(rng() % (s.size() + 1), 1, "+.e-x0"[rng() % 6]);
    return s;
  };
  const std::string spaces[] = {"", " ", "\n", "  \t"};
  for (int trial = 0; trial < 3000; ++trial) {
    std::string a = "[";
    const size_t n = 1 + rng() % 24;
    for (size_t i = 0; i < n; ++i) {
      if (i) a += spaces[rng() % 4] + "," + spaces[rng() % 4];
      a += number();
    }
    a += spaces[rng() % 4] + "]";
    Same(R"({"vector": )" + a + std::string(rng() % 40, ' ') + "}");
  }
}

TEST_CASE("number runs: a vector's numbers read as before", "[payload][json]") {
  Result<json::value> body = ParseBody(R"({"vector": )" + Run("1e400") + "}", "search");
  REQUIRE(body.ok());
  Result<std::vector<float>> v = ReadVector(body->as_object().at("vector"), "search.vector");
  REQUIRE(!v.ok());
  CHECK(v.status().message() == "search.vector[0]: the number does not fit a finite float");
  body = ParseBody(R"({"vector": [0.1, -0.0, 1e-45, 3.4028235e38, 1, 2, 3, 4]})", "search");
  REQUIRE(body.ok());
  v = ReadVector(body->as_object().at("vector"), "search.vector");
  REQUIRE(v.ok());
  CHECK((*v)[0] == 0.1f);
  CHECK(std::signbit((*v)[1]));
  CHECK((*v)[2] == 1e-45f);
  CHECK((*v)[3] == 3.4028235e38f);
}

}  // namespace
}  // namespace quiver::payload
