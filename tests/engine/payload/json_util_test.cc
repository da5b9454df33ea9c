#include "payload/json_util.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace quiver::payload {
namespace {

boost::json::object Obj(const char* text) {
  Result<boost::json::object> o = ParsePayloadText(text);
  INFO(text);
  REQUIRE(o.ok());
  return *o;
}

std::string Canon(const boost::json::object& o) { return CanonicalJson(boost::json::value(o)); }

TEST_CASE("json util: canonical text sorts keys and drops whitespace", "[payload][json]") {
  CHECK(CanonicalJson(
            boost::json::value(Obj(R"({ "b": 1, "a": [true, null, 1.5, "x\"y"], "c": {"z": 1, "y": {}},
                                                   "B": -2, "é": 0 })"))) ==
        R"({"B":-2,"a":[true,null,1.5E0,"x\"y"],"b":1,"c":{"y":{},"z":1},"é":0})");
  // Key order in the input does not matter.
  CHECK(Canon(Obj(R"({"x":{"q":1,"p":2},"w":[]})")) == Canon(Obj(R"({"w":[],"x":{"p":2,"q":1}})")));
  CHECK(CanonicalJson(boost::json::value(nullptr)) == "null");
  CHECK(CanonicalJson(boost::json::value("a\nb")) == "\"a\\nb\"");
}

TEST_CASE("json util: readable text prints numbers as users wrote them", "[payload][json]") {
  auto text = [](std::string_view in) { return ReadableJson(*ParsePayloadText(in)); };
  CHECK(
      text(
          R"({"b":1.5,"a":2.0,"c":-0.1,"d":1e300,"e":3,"f":-4,"g":18446744073709551615,"h":0.30000000000000004})") ==
      R"({"b":1.5,"a":2.0,"c":-0.1,"d":1e+300,"e":3,"f":-4,"g":18446744073709551615,"h":0.30000000000000004})");
  CHECK(text(R"({"s":"x\"y\u00e9","n":null,"t":[true,false,[],{}],"z":-0.0,"m":1.25e-7})") ==
        "{\"s\":\"x\\\"y\xc3\xa9\",\"n\":null,\"t\":[true,false,[],{}],\"z\":-0.0,\"m\":1.25e-07}");
  // Every double reads back bit for bit.
  for (double d : {0.1, 1.0 / 3, 123456.789, 5e-324, 1.7976931348623157e308, -2.5e-10}) {
    boost::json::object o;
    o["x"] = d;
    const std::string t = ReadableJson(o);
    INFO(t);
    CHECK(ParsePayloadText(t)->at("x").as_double() == d);
  }
}

TEST_CASE("json util: payload parsing errors", "[payload][json]") {
  auto error = [](const std::string& text) {
    Result<boost::json::object> o = ParsePayloadText(text);
    REQUIRE_FALSE(o.ok());
    CHECK(o.status().IsInvalidArgument());
    return std::string(o.status().message());
  };
  CHECK(error("[1]") == "payload: expected a JSON object, got an array");
  CHECK(error("null") == "payload: expected a JSON object, got null");
  CHECK(error("\"x\"") == "payload: expected a JSON object, got a string");
  CHECK(error("{") == "payload: malformed JSON (incomplete JSON) at offset 1");
  CHECK(error("{\"a\":1,}") == "payload: malformed JSON (syntax error) at offset 7");
  CHECK(error("{\"a\":{\"b\":[0,1e400]}}") ==
        "payload.a.b[1]: number is out of range (it does not fit a double)");
  CHECK(error("{\"a\":\"\xff\"}").rfind("payload: malformed JSON (", 0) == 0);
  std::string deep = "1";
  for (int i = 0; i < 64; ++i) deep = "{\"a\":" + deep + "}";
  CHECK(ParsePayloadText(deep).ok());  // 64 levels
  CHECK(error("{\"a\":" + deep + "}") ==
        "payload: malformed JSON (nested deeper than 64 levels) at offset 320");
  Result<boost::json::object> named = ParsePayloadText("5", "points[3].payload");
  CHECK(named.status().message() == "points[3].payload: expected a JSON object, got a number");
}

TEST_CASE("json util: DeletePath follows Qdrant's value_remove", "[payload][json]") {
  boost::json::object p = Obj(R"({"a":1,"b":{"c":123,"e":{"f":[1,2,3],"g":7,"h":"text",
                                  "i":[{"j":1,"k":2},{"j":3,"k":4}]}}})");
  auto del = [&](const char* path) {
    Result<bool> r = DeletePath(&p, path);
    REQUIRE(r.ok());
    return *r;
  };
  CHECK(del("b.c"));
  CHECK(Canon(p) == R"({"a":1,"b":{"e":{"f":[1,2,3],"g":7,"h":"text","i":[{"j":1,"k":2},{"j":3,"k":4}]}}})");
  CHECK(del("b.e.i[0].j"));
  CHECK(del("b.e.i[].k"));
  CHECK(Canon(p) == R"({"a":1,"b":{"e":{"f":[1,2,3],"g":7,"h":"text","i":[{},{"j":3}]}}})");
  CHECK(del("b.e.i[]"));
  CHECK(Canon(p) == R"({"a":1,"b":{"e":{"f":[1,2,3],"g":7,"h":"text","i":[]}}})");
  CHECK_FALSE(del("b.e.i[]"));  // already empty
  CHECK(del("b.e.i"));
  CHECK_FALSE(del("b.e.f[0]"));  // positions are not deleted
  CHECK(del("b.e.f"));
  CHECK_FALSE(del("k"));
  CHECK_FALSE(del("b.e.l"));
  CHECK_FALSE(del("a.x"));  // a is not an object
  CHECK(del("a"));
  CHECK(del("b.e"));
  CHECK(Canon(p) == R"({"b":{}})");
  CHECK(del("b"));
  CHECK(p.empty());
  Result<bool> bad = DeletePath(&p, "a..b");
  CHECK(bad.status().IsInvalidArgument());
  CHECK(bad.status().message() == "'a..b' is not a valid key path: expected a key at offset 2");
  CHECK(ValidateKeyPath("a[].b").ok());
  CHECK(ValidateKeyPath("a[.b").IsInvalidArgument());
}

TEST_CASE("json util: include and exclude selectors", "[payload][json]") {
  const boost::json::object p =
      Obj(R"({"a":{"b":[{"c":1},{"c":2},{"d":{"e":3}}]},"f":3,"g":["g0","g1","g2"]})");
  using Paths = std::vector<std::string>;
  CHECK(Canon(IncludePaths(p, Paths{"a.b[].c"})) == R"({"a":{"b":[{"c":1},{"c":2},{}]}})");
  CHECK(Canon(IncludePaths(p, Paths{"f", "g"})) == R"({"f":3,"g":["g0","g1","g2"]})");
  CHECK(Canon(IncludePaths(p, Paths{"g[1]"})) == R"({"g":["g1"]})");
  CHECK(Canon(IncludePaths(p, Paths{"a.x"})) == R"({"a":{}})");
  CHECK(Canon(IncludePaths(p, Paths{"f.x"})) == R"({"f":3})");  // a scalar on the way stays, as in Qdrant
  CHECK(Canon(IncludePaths(p, Paths{"nothing", "a..b"})) == "{}");
  CHECK(Canon(IncludePaths(p, Paths{})) == "{}");

  CHECK(Canon(ExcludePaths(p, Paths{"a.b[].c"})) ==
        R"({"a":{"b":[{},{},{"d":{"e":3}}]},"f":3,"g":["g0","g1","g2"]})");
  CHECK(Canon(ExcludePaths(p, Paths{"a", "f"})) == R"({"g":["g0","g1","g2"]})");
  CHECK(Canon(ExcludePaths(p, Paths{"g[]"})) ==
        R"({"a":{"b":[{"c":1},{"c":2},{"d":{"e":3}}]},"f":3,"g":[]})");
  CHECK(Canon(ExcludePaths(p, Paths{"g[0]"})) ==
        R"({"a":{"b":[{"c":1},{"c":2},{"d":{"e":3}}]},"f":3,"g":["g1","g2"]})");
  CHECK(Canon(ExcludePaths(p, Paths{"missing", "a..b"})) == Canon(p));
}

}  // namespace
}  // namespace quiver::payload
