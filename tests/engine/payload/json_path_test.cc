#include "payload/json_path.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "payload/json_util.h"

namespace quiver::payload {
namespace {

std::vector<std::string> Raw(const char* payload, const char* path) {
  boost::json::object o = *ParsePayloadText(payload);
  std::vector<std::string> out;
  ForEachRawValue(o, *JsonPath::Parse(path), [&](const boost::json::value& v) {
    out.push_back(CanonicalJson(v));
    return false;
  });
  return out;
}

std::vector<std::string> Expanded(const char* payload, const char* path) {
  boost::json::object o = *ParsePayloadText(payload);
  std::vector<std::string> out;
  ForEachValue(o, *JsonPath::Parse(path), [&](const boost::json::value& v) {
    out.push_back(CanonicalJson(v));
    return false;
  });
  return out;
}

TEST_CASE("json path: parses Qdrant's syntax", "[payload][path]") {
  Result<JsonPath> p = JsonPath::Parse("foo[1][50].bar-baz[].\"qux[.]quux\"");
  REQUIRE(p.ok());
  const auto& items = p->items();
  REQUIRE(items.size() == 6);
  CHECK(items[0].key == "foo");
  CHECK(items[1].kind == JsonPath::Item::Kind::kIndex);
  CHECK(items[1].index == 1);
  CHECK(items[2].index == 50);
  CHECK(items[3].key == "bar-baz");
  CHECK(items[4].kind == JsonPath::Item::Kind::kWildcard);
  CHECK(items[5].key == "qux[.]quux");
  CHECK(p->text() == "foo[1][50].bar-baz[].\"qux[.]quux\"");
  CHECK(JsonPath::Parse("\"a\".\"b\"")->text() == "a.b");
  CHECK(JsonPath::Parse("\"a b\"")->text() == "\"a b\"");
  CHECK(JsonPath::Parse("größe.x_1")->text() == "größe.x_1");
  CHECK(*JsonPath::Parse("a.\"b\"") == *JsonPath::Parse("a.b"));
  CHECK(JsonPath::Parse("a")->ArrayElements().text() == "a[]");
  CHECK(JsonPath::Parse("a[]")->ArrayElements().text() == "a[]");
  CHECK(JsonPath::Parse("a[]")->Concat(*JsonPath::Parse("b.c")).text() == "a[].b.c");
}

TEST_CASE("json path: rejects malformed paths with a reason", "[payload][path]") {
  auto error = [](const char* text) { return std::string(JsonPath::Parse(text).status().message()); };
  CHECK(error("") == "'' is not a valid key path: it is empty");
  CHECK(error("a..b") == "'a..b' is not a valid key path: expected a key at offset 2");
  CHECK(error(".a") == "'.a' is not a valid key path: expected a key at offset 0");
  CHECK(error("[]") == "'[]' is not a valid key path: expected a key at offset 0");
  CHECK(error("a.") == "'a.' is not a valid key path: expected a key at offset 2");
  CHECK(error("a[") == "'a[' is not a valid key path: expected '[]' or '[<index>]' at offset 1");
  CHECK(error("a[x]") == "'a[x]' is not a valid key path: expected '[]' or '[<index>]' at offset 1");
  CHECK(error("a b") == "'a b' is not a valid key path: expected '.', '[' or the end at offset 1");
  CHECK(error("a\"b\"") == "'a\"b\"' is not a valid key path: expected '.', '[' or the end at offset 1");
  CHECK(error("\"ab") == "'\"ab' is not a valid key path: unterminated quoted key at offset 0");
  CHECK(error("\"a\\\"b\"") ==
        "'\"a\\\"b\"' is not a valid key path: a quoted key cannot contain '\\' at offset 2");
  CHECK(error("a[99999999999999999999999]").find("array index is too large") != std::string::npos);
}

TEST_CASE("json path: traversal follows Qdrant's value_get", "[payload][path]") {
  const char* map = R"({"a":{"b":[{"c":1},{"c":2},{"d":{"e":3}}]},"f":3,"g":["g0","g1","g2"],
                       "n":null,"nn":[null,null],"e":[],"arr":[{"a":[1,2,3]},{"a":4},{"b":5}]})";
  CHECK(Raw(map, "a.b[].c") == std::vector<std::string>{"1", "2"});
  CHECK(Raw(map, "a.b[].d") == std::vector<std::string>{"{\"e\":3}"});
  CHECK(Raw(map, "a.b[1].c") == std::vector<std::string>{"2"});
  CHECK(Raw(map, "a.b[3]").empty());
  CHECK(Raw(map, "g[2]") == std::vector<std::string>{"\"g2\""});
  CHECK(Raw(map, "a.b.c").empty());  // a key step does not enter an array
  CHECK(Raw(map, "n") == std::vector<std::string>{"null"});
  CHECK(Raw(map, "n[]").empty());
  CHECK(Raw(map, "nn") == std::vector<std::string>{"[null,null]"});
  CHECK(Raw(map, "nn[]") == std::vector<std::string>{"null", "null"});
  CHECK(Raw(map, "e") == std::vector<std::string>{"[]"});
  CHECK(Raw(map, "e[]").empty());
  CHECK(Raw(map, "missing").empty());
  CHECK(Raw(map, "arr[].a") == std::vector<std::string>{"[1,2,3]", "4"});
  CHECK(Raw(map, "arr[].a[]") == std::vector<std::string>{"1", "2", "3"});
  CHECK(Expanded(map, "arr[].a") == std::vector<std::string>{"1", "2", "3", "4"});
  CHECK(Expanded(map, "g") == std::vector<std::string>{"\"g0\"", "\"g1\"", "\"g2\""});
  CHECK(Expanded(R"({"x":[[1],[2,[3]]]})", "x") == std::vector<std::string>{"[1]", "[2,[3]]"});

  // Early stop.
  boost::json::object o = *ParsePayloadText(map);
  int visited = 0;
  const bool stopped =
      ForEachValue(o, *JsonPath::Parse("g"), [&](const boost::json::value&) { return ++visited == 2; });
  CHECK(stopped);
  CHECK(visited == 2);
  CHECK_FALSE(ForEachValue(o, JsonPath(), [](const boost::json::value&) { return true; }));
}

}  // namespace
}  // namespace quiver::payload
