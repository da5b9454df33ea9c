// ParseFilter / ParseFilterText: what they accept, and the exact message for each kind of bad input.
#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <variant>

#include "engine/payload/test_points.h"
#include "payload/filter.h"
#include "payload/json_util.h"

namespace quiver::payload {
namespace {

std::string ErrorOf(const std::string& text) {
  Result<Filter> f = ParseFilterText(text);
  if (f.ok()) return "OK";
  CHECK(f.status().IsInvalidArgument());
  return std::string(f.status().message());
}

TEST_CASE("filter parser: builds the tree", "[payload][filter][parser]") {
  Result<Filter> f = ParseFilterText(R"({
    "must": [{"key": "a.b[].c", "match": {"any": ["y", "x", "y"]}}],
    "should": {"key": "n", "range": {"gt": 1, "lte": 2.5}},
    "must_not": [{"is_empty": {"key": "e"}}, {"has_id": [3, 1, 3]}],
    "min_should": {"conditions": [{"must": []}], "min_count": 1}})");
  REQUIRE(f.ok());
  REQUIRE(f->must.size() == 1);
  const FieldCondition& fc = std::get<FieldCondition>(f->must[0]);
  CHECK(fc.key.text() == "a.b[].c");
  const MatchAny& any = std::get<MatchAny>(fc.predicate);
  CHECK_FALSE(any.list.integers);
  CHECK(any.list.strings == std::vector<std::string>{"x", "y"});
  REQUIRE(f->should.has_value());
  REQUIRE(f->should->size() == 1);
  const NumberRange& r = std::get<NumberRange>(std::get<FieldCondition>((*f->should)[0]).predicate);
  CHECK(*r.gt == 1);
  CHECK(*r.lte == 2.5);
  CHECK_FALSE(r.gte.has_value());
  REQUIRE(f->must_not.size() == 2);
  CHECK(std::get<IsEmptyCondition>(f->must_not[0]).key.text() == "e");
  CHECK(std::get<HasIdCondition>(f->must_not[1]).ids ==
        std::vector<PointId>{PointId::Number(1), PointId::Number(3)});
  REQUIRE(f->min_should.has_value());
  CHECK(f->min_should->min_count == 1);
  CHECK(std::holds_alternative<FilterCondition>(f->min_should->conditions[0]));

  Result<Filter> nested = ParseFilterText(R"({"must":[{"nested":{"key":"items","filter":{}}}]})");
  REQUIRE(nested.ok());
  CHECK(std::get<NestedCondition>(nested->must[0]).key.text() == "items[]");

  Result<Filter> text = ParseFilterText(R"({"must":[{"key":"t","match":{"phrase":"New  York, new"}}]})");
  REQUIRE(text.ok());
  const MatchText& mt = std::get<MatchText>(std::get<FieldCondition>(text->must[0]).predicate);
  CHECK(mt.mode == MatchText::Mode::kPhrase);
  CHECK(mt.tokens == std::vector<std::string>{"new", "york", "new"});

  CHECK(ParseFilterText("{}")->empty());
  CHECK(ParseFilterText(R"({"must":null,"should":null,"must_not":null,"min_should":null})")->empty());
  CHECK_FALSE(ParseFilterText(R"({"should":[]})")->empty());
}

TEST_CASE("filter parser: malformed JSON", "[payload][filter][parser]") {
  CHECK(ErrorOf(R"({"must": [)") == "filter: malformed JSON (incomplete JSON) at offset 10");
  CHECK(ErrorOf(R"({"must": [}])") == "filter: malformed JSON (syntax error) at offset 10");
  CHECK(ErrorOf(R"({} x)") == "filter: malformed JSON (extra data) at offset 3");
  CHECK(ErrorOf("") == "filter: malformed JSON (incomplete JSON) at offset 0");
  Result<Filter> named = ParseFilterText("[", "body.filter");
  CHECK(named.status().message() == "body.filter: malformed JSON (incomplete JSON) at offset 1");
}

TEST_CASE("filter parser: wrong shapes and types", "[payload][filter][parser]") {
  CHECK(ErrorOf("[]") == "filter: expected a filter object, got an array");
  CHECK(ErrorOf(R"({"must":[],"foo":1})") ==
        "filter: unknown field 'foo' (expected must, should, must_not or min_should)");
  CHECK(ErrorOf(R"({"must":"x"})") ==
        "filter.must: expected a condition or a list of conditions, got a string");
  CHECK(ErrorOf(R"({"must":[1]})") == "filter.must[0]: expected a condition object, got a number");
  CHECK(ErrorOf(R"({"should":[{"key":"a","match":{"value":1}},{"foo":1}]})") ==
        "filter.should[1]: unknown condition 'foo'");
  // A field predicate without "key" is named as such, not as an unknown condition.
  CHECK(ErrorOf(R"({"must": [{"match": {"value": 1}}]})") ==
        "filter.must[0]: the condition has \"match\" but no \"key\"");
  CHECK(ErrorOf(R"({"should":[{"key":"a","match":{"value":1}},{"range":{"gt":1}}]})") ==
        "filter.should[1]: the condition has \"range\" but no \"key\"");
  CHECK(ErrorOf(R"({"must":[{"must":[{"values_count":{"gt":1}}]}]})") ==
        "filter.must[0].must[0]: the condition has \"values_count\" but no \"key\"");
  CHECK(ErrorOf(R"({"must_not":{"geo_radius":{"center":{"lon":0,"lat":0},"radius":1}}})") ==
        "filter.must_not: the condition has \"geo_radius\" but no \"key\"");
  CHECK(ErrorOf(R"({"must":[{"must":[],"foo":1}]})") ==
        "filter.must[0]: unknown field 'foo' (expected must, should, must_not or min_should)");
  CHECK(ErrorOf(R"({"must":[{"key":1,"match":{"value":1}}]})") ==
        "filter.must[0].key: expected a key path string, got a number");
  CHECK(ErrorOf(R"({"must":[{"key":"a..b","match":{"value":1}}]})") ==
        "filter.must[0].key: 'a..b' is not a valid key path: expected a key at offset 2");
  CHECK(ErrorOf(R"({"must":[{"key":"a"}]})") ==
        "filter.must[0]: a field condition needs one of match, range, geo_radius, geo_bounding_box, "
        "geo_polygon, "
        "values_count, is_empty or is_null");
  CHECK(ErrorOf(R"({"must":[{"key":"a","match":{"value":1},"range":{"gt":1}}]})") ==
        "filter.must[0]: a field condition takes only one of match, range, geo_radius, geo_bounding_box, "
        "geo_polygon, values_count, is_empty or is_null (got 'match' and 'range')");
  CHECK(ErrorOf(R"({"must":[{"key":"a","mtch":{"value":1}}]})") ==
        "filter.must[0]: unknown field 'mtch' in a field condition (expected key and one of match, range, "
        "geo_radius, geo_bounding_box, geo_polygon, values_count, is_empty or is_null)");
  CHECK(ErrorOf(R"({"must":[{"is_empty":{"key":"a"},"must":[]}]})") ==
        "filter.must[0]: unexpected field 'must' in a is_empty condition");
  CHECK(ErrorOf(R"({"must":[{"is_null":"a"}]})") ==
        "filter.must[0].is_null: expected an object like {\"key\": \"...\"}, got a string");
  CHECK(ErrorOf(R"({"must":[{"has_vector":"v"}]})") == "filter.must[0]: has_vector is not supported");
  CHECK(ErrorOf(R"({"must":[{"key":"a","is_empty":"yes"}]})") ==
        "filter.must[0].is_empty: expected a boolean, got a string");
}

TEST_CASE("filter parser: match errors", "[payload][filter][parser]") {
  CHECK(ErrorOf(R"({"must":[{"key":"a","match":1}]})") ==
        "filter.must[0].match: expected an object, got a number");
  CHECK(ErrorOf(R"({"must":[{"key":"a","match":{}}]})") ==
        "filter.must[0].match: expected one of value, any, except, text, text_any or phrase");
  CHECK(ErrorOf(R"({"must":[{"key":"a","match":{"value":1,"any":[1]}}]})") ==
        "filter.must[0].match: expected only one of value, any, except, text, text_any or phrase (got "
        "'value' and "
        "'any')");
  CHECK(
      ErrorOf(R"({"must":[{"key":"a","match":{"values":1}}]})") ==
      "filter.must[0].match: unknown field 'values' (expected value, any, except, text, text_any or phrase)");
  CHECK(ErrorOf(R"({"must":[{"key":"a","match":{"value":1.5}}]})") ==
        "filter.must[0].match.value: expected a string, an integer or a boolean, got a number");
  CHECK(ErrorOf(R"({"must":[{"key":"a","match":{"value":1.0}}]})") ==
        "filter.must[0].match.value: expected a string, an integer or a boolean, got a number");
  CHECK(ErrorOf(R"({"must":[{"key":"a","match":{"value":null}}]})") ==
        "filter.must[0].match.value: expected a string, an integer or a boolean, got null");
  CHECK(ErrorOf(R"({"must":[{"key":"a","match":{"value":18446744073709551615}}]})") ==
        "filter.must[0].match.value: integer 18446744073709551615 is out of the 64-bit signed range");
  CHECK(ErrorOf(R"({"must":[{"key":"a","match":{"any":"x"}}]})") ==
        "filter.must[0].match.any: expected a list of strings or a list of integers, got a string");
  CHECK(ErrorOf(R"({"must":[{"key":"a","match":{"any":[1,18446744073709551615]}}]})") ==
        "filter.must[0].match.any[1]: integer 18446744073709551615 is out of the 64-bit signed range");
  CHECK(ErrorOf(R"({"must":[{"key":"a","match":{"any":["x",1]}}]})") ==
        "filter.must[0].match.any[1]: expected a string like the first element, got a number");
  CHECK(ErrorOf(R"({"must":[{"key":"a","match":{"except":[1,"x"]}}]})") ==
        "filter.must[0].match.except[1]: expected an integer like the first element, got a string");
  CHECK(ErrorOf(R"({"must":[{"key":"a","match":{"any":[true]}}]})") ==
        "filter.must[0].match.any[0]: expected a string or an integer, got a boolean");
  CHECK(ErrorOf(R"({"must":[{"key":"a","match":{"text":5}}]})") ==
        "filter.must[0].match.text: expected a string, got a number");
}

TEST_CASE("filter parser: range and datetime errors", "[payload][filter][parser]") {
  CHECK(ErrorOf(R"({"must":[{"key":"a","match":{"value":1}},{"key":"b","range":{"gt":1}},
                  {"key":"c","range":{"gte":true}}]})") ==
        "filter.must[2].range.gte: expected a number, got a boolean");
  CHECK(ErrorOf(R"({"must":[{"key":"a","range":{"gte":1e400}}]})") ==
        "filter.must[0].range.gte: expected a finite number");
  CHECK(ErrorOf(R"({"must":[{"key":"a","range":{"from":1}}]})") ==
        "filter.must[0].range: unknown field 'from' (expected gt, gte, lt or lte)");
  CHECK(ErrorOf(R"({"must":[{"key":"a","range":[1,2]}]})") ==
        "filter.must[0].range: expected an object with gt, gte, lt or lte, got an array");
  CHECK(ErrorOf(R"({"must":[{"key":"a","range":{"gte":"2023-01-01","lt":5}}]})") ==
        "filter.must[0].range.lt: expected a datetime string like the other bounds, got a number");
  CHECK(ErrorOf(R"({"must":[{"key":"a","range":{"gte":"2023-13-01"}}]})") ==
        "filter.must[0].range.gte: '2023-13-01' is not a valid datetime (expected RFC 3339, e.g. "
        "2023-02-08T10:49:00Z)");
  CHECK(ErrorOf(R"({"must":[{"key":"a","range":{"lt":"2023-02-29T00:00:00Z"}}]})") ==
        "filter.must[0].range.lt: '2023-02-29T00:00:00Z' is not a valid datetime (expected RFC 3339, e.g. "
        "2023-02-08T10:49:00Z)");
  CHECK(ErrorOf(R"({"must":[{"key":"a","range":{"lt":"yesterday"}}]})") ==
        "filter.must[0].range.lt: 'yesterday' is not a valid datetime (expected RFC 3339, e.g. "
        "2023-02-08T10:49:00Z)");
  CHECK(ErrorOf(R"({"must":[{"key":"a","values_count":{"gt":-1}}]})") ==
        "filter.must[0].values_count.gt: expected a non-negative integer, got a number");
  CHECK(ErrorOf(R"({"must":[{"key":"a","values_count":{"gt":1.5}}]})") ==
        "filter.must[0].values_count.gt: expected a non-negative integer, got a number");
}

TEST_CASE("filter parser: geo errors", "[payload][filter][parser]") {
  CHECK(ErrorOf(R"({"must":[{"key":"l","geo_radius":{"center":{"lon":1,"lat":95},"radius":10}}]})") ==
        "filter.must[0].geo_radius.center.lat: latitude 95 is out of range [-90, 90]");
  CHECK(ErrorOf(R"({"must":[{"key":"l","geo_radius":{"center":{"lon":-180.5,"lat":5},"radius":10}}]})") ==
        "filter.must[0].geo_radius.center.lon: longitude -180.5 is out of range [-180, 180]");
  CHECK(ErrorOf(R"({"must":[{"key":"l","geo_radius":{"center":{"lon":1},"radius":10}}]})") ==
        "filter.must[0].geo_radius.center: missing 'lat'");
  CHECK(ErrorOf(R"({"must":[{"key":"l","geo_radius":{"center":{"lon":1,"lat":"2"},"radius":10}}]})") ==
        "filter.must[0].geo_radius.center.lat: expected a number, got a string");
  CHECK(ErrorOf(R"({"must":[{"key":"l","geo_radius":{"center":{"lon":1,"lat":2},"radius":-1}}]})") ==
        "filter.must[0].geo_radius.radius: expected a non-negative number of meters");
  CHECK(ErrorOf(R"({"must":[{"key":"l","geo_radius":{"center":{"lon":1,"lat":2}}}]})") ==
        "filter.must[0].geo_radius: missing 'radius'");
  CHECK(ErrorOf(R"({"must":[{"key":"l","geo_bounding_box":{"top_left":{"lon":1,"lat":2}}}]})") ==
        "filter.must[0].geo_bounding_box: missing 'bottom_right'");
  CHECK(ErrorOf(R"({"must":[{"key":"l","geo_bounding_box":[1,2]}]})") ==
        "filter.must[0].geo_bounding_box: expected an object with top_left and bottom_right, got an array");
  CHECK(ErrorOf(R"({"must":[{"key":"l","geo_polygon":"square"}]})") ==
        "filter.must[0].geo_polygon: expected an object with exterior and interiors, got a string");
  CHECK(
      ErrorOf(R"({"must":[{"key":"l","geo_polygon":{"exterior":{"points":[{"lon":0,"lat":0},{"lon":1,"lat":0},
                  {"lon":1,"lat":1},{"lon":0,"lat":0}]},"interiors":{"points":[]}}}]})") ==
      "filter.must[0].geo_polygon.interiors: expected a list of rings, got an object");
  CHECK(
      ErrorOf(R"({"must":[{"key":"l","geo_polygon":{"exterior":{"points":[{"lon":0,"lat":0},{"lon":1,"lat":0},
                  {"lon":0,"lat":0}]}}}]})") ==
      "filter.must[0].geo_polygon.exterior.points: a polygon ring needs at least 4 points, got 3");
  CHECK(
      ErrorOf(R"({"must":[{"key":"l","geo_polygon":{"exterior":{"points":[{"lon":0,"lat":0},{"lon":1,"lat":0},
                  {"lon":1,"lat":1},{"lon":0,"lat":1}]}}}]})") ==
      "filter.must[0].geo_polygon.exterior.points: the first and the last point of a polygon ring must be "
      "the same");
  CHECK(
      ErrorOf(R"({"must":[{"key":"l","geo_polygon":{"exterior":{"points":[{"lon":0,"lat":0},{"lon":1,"lat":0},
                  {"lon":1,"lat":1},{"lon":0,"lat":0}]},"interiors":[{"points":[]}]}}]})") ==
      "filter.must[0].geo_polygon.interiors[0].points: a polygon ring needs at least 4 points, got 0");
  CHECK(
      ErrorOf(R"({"must":[{"key":"l","geo_polygon":{"exterior":{"points":[{"lon":0,"lat":0},{"lon":1,"lat":0},
                  {"lon":1,"lat":1},{"lon":0,"lat":0}]},"interiors":null}}]})") == "OK");
}

TEST_CASE("filter parser: has_id takes every UUID form Qdrant takes", "[payload][filter][parser]") {
  // The Rust uuid crate's forms: hyphenated, simple, braced and URN, hex digits in either case.
  Result<Filter> f = ParseFilterText(R"({"must":[{"has_id":[
      "550e8400-e29b-41d4-a716-446655440000", "550E8400E29B41D4A716446655440000",
      "{550e8400-e29b-41d4-a716-446655440000}", "urn:uuid:550e8400-E29B-41d4-a716-446655440000", 7]}]})");
  REQUIRE(f.ok());
  const std::vector<PointId>& ids = std::get<HasIdCondition>(f->must[0]).ids;
  REQUIRE(ids.size() == 2);
  CHECK(ids[0] == PointId::Number(7));
  CHECK(ids[1].ToString() == "550e8400-e29b-41d4-a716-446655440000");
  for (const char* bad :
       {"{550e8400e29b41d4a716446655440000}", "URN:UUID:550e8400-e29b-41d4-a716-446655440000",
        "urn:uuid:550e8400e29b41d4a716446655440000", "(550e8400-e29b-41d4-a716-446655440000)",
        "{550e8400-e29b-41d4-a716-446655440000", "550e8400-e29b-41d4-a716-44665544000g",
        "550e8400-e29b41d4-a716-4466554400000"}) {
    INFO(bad);
    CHECK_FALSE(ParseFilterText(std::string(R"({"must":[{"has_id":[")") + bad + "\"]}]}").ok());
  }
}

TEST_CASE("filter parser: has_id, nested and min_should errors", "[payload][filter][parser]") {
  CHECK(ErrorOf(R"({"must":[{"has_id":1}]})") ==
        "filter.must[0].has_id: expected a list of point ids, got a number");
  CHECK(ErrorOf(R"({"must":[{"has_id":[1,-2]}]})") ==
        "filter.must[0].has_id[1]: expected an unsigned integer or a UUID string, got a number");
  CHECK(ErrorOf(R"({"must":[{"has_id":[1,"42"]}]})") ==
        "filter.must[0].has_id[1]: '42' is not a valid point id (expected an unsigned integer or a UUID)");
  CHECK(ErrorOf(R"({"must":[{"has_id":["{550e8400-e29b-41d4-a716-446655440000"]}]})") ==
        "filter.must[0].has_id[0]: '{550e8400-e29b-41d4-a716-446655440000' is not a valid point id (expected "
        "an "
        "unsigned integer or a UUID)");
  CHECK(ErrorOf(R"({"must":[{"nested":{"key":"a"}}]})") == "filter.must[0].nested: missing 'filter'");
  CHECK(ErrorOf(R"({"must":[{"nested":{"key":"a","filter":{},"x":1}}]})") ==
        "filter.must[0].nested: unknown field 'x' (expected key and filter)");
  CHECK(ErrorOf(R"({"must":[{"nested":{"key":"a","filter":{"must":[{"has_id":[1]}]}}}]})") ==
        "filter.must[0].nested.filter.must[0]: has_id is not supported inside nested (put it next to the "
        "nested "
        "condition)");
  CHECK(
      ErrorOf(R"({"must":[{"nested":{"key":"a","filter":{"must":[{"key":"b","match":{"value":[1]}}]}}}]})") ==
      "filter.must[0].nested.filter.must[0].match.value: expected a string, an integer or a boolean, got an "
      "array");
  CHECK(ErrorOf(R"({"min_should":{"conditions":[]}})") == "filter.min_should: missing 'min_count'");
  CHECK(ErrorOf(R"({"min_should":{"conditions":{},"min_count":1}})") ==
        "filter.min_should.conditions: expected a list of conditions, got an object");
  CHECK(ErrorOf(R"({"min_should":{"conditions":[],"min_count":-1}})") ==
        "filter.min_should.min_count: expected a non-negative integer");
  CHECK(ErrorOf(R"({"min_should":[]})") ==
        "filter.min_should: expected an object with conditions and min_count, got an array");
}

TEST_CASE("filter parser: depth is capped", "[payload][filter][parser]") {
  std::string ok = R"({"key":"x","match":{"value":1}})";
  for (int i = 0; i < kMaxFilterDepth; ++i) ok = R"({"must":[)" + ok + "]}";
  CHECK(ErrorOf(ok) == "OK");
  const std::string too_deep = R"({"must":[)" + ok + "]}";
  std::string where = "filter";
  for (int i = 0; i < kMaxFilterDepth; ++i) where += ".must[0]";
  CHECK(ErrorOf(too_deep) == where + ": filter nested deeper than 64 levels");

  // Nested conditions count as levels too.
  std::string nested = "{}";
  for (int i = 0; i < kMaxFilterDepth; ++i)
    nested = R"({"must":[{"nested":{"key":"a","filter":)" + nested + "}}]}";
  CHECK(ErrorOf(nested).find("filter nested deeper than 64 levels") != std::string::npos);

  // Far deeper input never reaches the evaluator, whether it comes as text or as a value.
  std::string huge = "1";
  for (int i = 0; i < 100000; ++i) huge = "[" + huge;
  CHECK(ErrorOf(huge).find("malformed JSON (nested deeper than") != std::string::npos);
  std::string deep_filter;
  for (int i = 0; i < 5000; ++i) deep_filter += R"({"must":)";
  deep_filter += "{}";
  for (int i = 0; i < 5000; ++i) deep_filter += "}";
  CHECK(ErrorOf(deep_filter).find("nested deeper than") != std::string::npos);
  boost::json::value value = boost::json::object();
  for (int i = 0; i < 1000; ++i) {
    boost::json::object wrapper;
    wrapper["must"] = std::move(value);
    value = std::move(wrapper);
  }
  Result<Filter> from_value = ParseFilter(value);
  REQUIRE_FALSE(from_value.ok());
  CHECK(std::string(from_value.status().message()).find("filter nested deeper than 64 levels") !=
        std::string::npos);
}

TEST_CASE("filter parser: mangled input fails cleanly or evaluates safely", "[payload][filter][parser]") {
  const std::vector<std::string> seeds = {
      R"({"must":[{"key":"items[].name","match":{"any":["a","b"]}},{"key":"n","range":{"gte":1,"lt":5}}]})",
      R"({"should":[{"nested":{"key":"items","filter":{"must":[{"key":"qty","values_count":{"gt":1}}]}}},
         {"has_id":[1,"a0000000-0000-0000-0000-000000000001"]}],"must_not":{"is_empty":{"key":"city"}}})",
      R"({"min_should":{"conditions":[{"key":"loc","geo_polygon":{"exterior":{"points":[{"lon":0,"lat":0},
         {"lon":4,"lat":0},{"lon":4,"lat":4},{"lon":0,"lat":0}]}}},{"key":"ts","range":{"gt":"2023-02-08T10:49"}},
         {"key":"text","match":{"phrase":"quick brown"}}],"min_count":1}})",
      R"({"must":[{"key":"loc","geo_radius":{"center":{"lon":179.9,"lat":-89.9},"radius":1e7}},
         {"key":"a.\"b c\"[0][]","is_null":false},{"key":"tags","match":{"except":[1,2]}}]})",
  };
  const std::vector<testing::TestPoint> points = testing::TestPoints();
  std::mt19937 rng(7);
  const std::string alphabet = "{}[]\":,.-0123456789eE+ truefalsnmkyhv\\\x01\xff";
  int parsed = 0, rejected = 0;
  auto attempt = [&](const std::string& text) {
    Result<Filter> f = ParseFilterText(text);
    if (!f.ok()) {
      CHECK(f.status().IsInvalidArgument());
      CHECK(f.status().message().rfind("filter", 0) == 0);
      ++rejected;
      return;
    }
    ++parsed;
    for (const testing::TestPoint& p : points) (void)Matches(*f, p.id, p.payload);
  };
  for (const std::string& seed : seeds) {
    REQUIRE(ParseFilterText(seed).ok());
    for (size_t cut = 0; cut < seed.size(); ++cut) attempt(seed.substr(0, cut));
    for (int round = 0; round < 2000; ++round) {
      std::string text = seed;
      std::uniform_int_distribution<size_t> pos(0, text.size() - 1);
      std::uniform_int_distribution<size_t> pick(0, alphabet.size() - 1);
      std::uniform_int_distribution<int> edits(1, 3);
      for (int e = 0, n = edits(rng); e < n; ++e) {
        const size_t at = pos(rng);
        switch (rng() % 3) {
          case 0:
            text[at] = alphabet[pick(rng)];
            break;
          case 1:
            text.erase(at, 1);
            break;
          default:
            text.insert(at, 1, alphabet[pick(rng)]);
        }
        if (text.empty()) break;
        pos = std::uniform_int_distribution<size_t>(0, text.size() - 1);
      }
      attempt(text);
    }
  }
  CHECK(parsed > 100);
  CHECK(rejected > 1000);
}

TEST_CASE("filter parser: custom path prefix", "[payload][filter][parser]") {
  Result<Filter> f = ParseFilter(*ParseJsonText(R"({"must":[{"foo":1}]})", "x", 64), "query.filter");
  CHECK(f.status().message() == "query.filter.must[0]: unknown condition 'foo'");
}

}  // namespace
}  // namespace quiver::payload
