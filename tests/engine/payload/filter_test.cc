// The filter table: every condition type and the edge cases of docs/filters.md, each checked (1) with
// Matches() against the expected points and (2) against PayloadIndexes holding indexes on the fields
// involved, with fitting types, other fitting types, and mismatched types: Candidates() must be a superset of
// the true matches and Estimate() must bound the true count.
#include "payload/filter.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/payload/test_points.h"
#include "payload/payload_index.h"

namespace quiver::payload {
namespace {

using testing::TestPoint;
using testing::TestPoints;

std::vector<int> All() {
  std::vector<int> v;
  for (int i = 1; i <= 15; ++i) v.push_back(i);
  return v;
}

std::vector<int> AllBut(std::vector<int> excluded) {
  std::vector<int> v;
  for (int i : All()) {
    if (std::find(excluded.begin(), excluded.end(), i) == excluded.end()) v.push_back(i);
  }
  return v;
}

// What the "typed" indexes must make of a case: no bound, a bound (Candidates() gives a superset), or an
// exact answer (Candidates() is the true set and Estimate() gives min == max == the true count).
enum IndexUse { kUnbounded, kBounded, kExact };

struct Case {
  const char* name;
  const char* filter;
  std::vector<int> expected;
  IndexUse index_use = kUnbounded;
};

const std::vector<Case>& Cases() {
  static const std::vector<Case> cases = {
      // match value
      {"match string", R"({"must":[{"key":"city","match":{"value":"Berlin"}}]})", {1, 3}, kExact},
      {"match integer: not 1.0 nor \"1\"",
       R"({"must":[{"key":"count","match":{"value":1}}]})",
       {1, 8},
       kExact},
      {"match string that looks like a number", R"({"must":[{"key":"count","match":{"value":"1"}}]})", {4}},
      {"match bool true", R"({"must":[{"key":"flag","match":{"value":true}}]})", {1, 6}, kExact},
      {"match bool false", R"({"must":[{"key":"flag","match":{"value":false}}]})", {2, 6}, kExact},
      {"match largest integer",
       R"({"must":[{"key":"count","match":{"value":9223372036854775807}}]})",
       {7},
       kExact},
      {"match empty string", R"({"must":[{"key":"city","match":{"value":""}}]})", {9}, kExact},
      // match any / except
      {"any strings", R"({"must":[{"key":"city","match":{"any":["London","Paris"]}}]})", {2, 3, 8}, kExact},
      {"any integers", R"({"must":[{"key":"count","match":{"any":[2,-3]}}]})", {2, 6, 8}, kExact},
      {"any empty list", R"({"must":[{"key":"city","match":{"any":[]}}]})", {}, kExact},
      {"except strings: missing and null never match",
       R"({"must":[{"key":"city","match":{"except":["Berlin"]}}]})",
       {2, 3, 6, 7, 8, 9}},
      {"except integers: floats, strings and big integers match",
       R"({"must":[{"key":"count","match":{"except":[1]}}]})",
       {2, 3, 4, 6, 7, 8, 9, 15}},
      {"except on arrays: [] and [null] never match, [[x]] always",
       R"({"must":[{"key":"tags","match":{"except":["red"]}}]})",
       {1, 2, 6}},
      {"except empty list: every non-null value",
       R"({"must":[{"key":"city","match":{"except":[]}}]})",
       {1, 2, 3, 6, 7, 8, 9}},
      // full text
      {"text: all tokens in one value, any case",
       R"({"must":[{"key":"text","match":{"text":"brown fox"}}]})",
       {1, 3, 4, 7},
       kBounded},
      {"text: one token", R"({"must":[{"key":"text","match":{"text":"Quick"}}]})", {1, 2, 4, 7}, kExact},
      {"text: whole words only", R"({"must":[{"key":"text","match":{"text":"dog"}}]})", {3}, kExact},
      {"text_any", R"({"must":[{"key":"text","match":{"text_any":"dogs lazy"}}]})", {2, 3}, kExact},
      {"phrase", R"({"must":[{"key":"text","match":{"phrase":"quick brown"}}]})", {1, 2, 4, 7}, kBounded},
      {"phrase in the wrong order",
       R"({"must":[{"key":"text","match":{"phrase":"brown quick"}}]})",
       {},
       kBounded},
      {"text without tokens matches every string",
       R"({"must":[{"key":"text","match":{"text":" !"}}]})",
       {1, 2, 3, 4, 6, 7}},
      {"text tokens split across values",
       R"({"must":[{"key":"text","match":{"text":"lazy fox"}}]})",
       {},
       kBounded},
      // range
      {"range on integers and floats",
       R"({"must":[{"key":"count","range":{"gte":1,"lte":2}}]})",
       {1, 2, 3, 8},
       kExact},
      {"range ignores strings that look like numbers",
       R"({"must":[{"key":"price","range":{"gt":1}}]})",
       {1, 6},
       kExact},
      {"range below zero", R"({"must":[{"key":"count","range":{"lt":0}}]})", {6}, kExact},
      {"range on huge integers", R"({"must":[{"key":"count","range":{"gte":9.2e18}}]})", {7, 15}, kExact},
      {"empty range: every number",
       R"({"must":[{"key":"count","range":{}}]})",
       {1, 2, 3, 6, 7, 8, 9, 15},
       kExact},
      {"range with a null bound",
       R"({"must":[{"key":"count","range":{"gte":null,"lt":2}}]})",
       {1, 3, 6, 8},
       kExact},
      // datetime range
      {"datetime: the same instant in two zones",
       R"({"must":[{"key":"ts","range":{"gte":"2023-02-08T10:49:00Z","lte":"2023-02-08T10:49:00Z"}}]})",
       {1, 2},
       kExact},
      {"datetime: microseconds count",
       R"({"must":[{"key":"ts","range":{"gt":"2023-02-08T10:49:00Z","lt":"2023-02-10"}}]})",
       {3, 6},
       kExact},
      {"datetime: arrays of datetimes",
       R"({"must":[{"key":"ts","range":{"lt":"2023-06-01"}}]})",
       {1, 2, 3, 6, 9},
       kExact},
      {"datetime: bounds with offsets and naive",
       R"({"must":[{"key":"ts","range":{"gte":"2023-02-08T12:49:00+02:00","lte":"2023-02-08T10:49:00"}}]})",
       {1, 2},
       kExact},
      {"datetime range on numbers and non-dates",
       R"({"must":[{"key":"price","range":{"gte":"2023-01-01"}}]})",
       {}},
      // is_empty / is_null
      {"is_empty: missing or null",
       R"({"must":[{"is_empty":{"key":"city"}}]})",
       {4, 5, 10, 11, 12, 13, 14, 15}},
      {"is_empty: [] but not [null]",
       R"({"must":[{"is_empty":{"key":"tags"}}]})",
       {3, 5, 9, 10, 11, 12, 13, 14, 15}},
      {"is_null", R"({"must":[{"is_null":{"key":"city"}}]})", {4}},
      {"is_null: [null] is not null", R"({"must":[{"is_null":{"key":"tags"}}]})", {}},
      {"is_null on null flag", R"({"must":[{"is_null":{"key":"flag"}}]})", {3}},
      {"field is_empty true",
       R"({"must":[{"key":"tags","is_empty":true}]})",
       {3, 5, 9, 10, 11, 12, 13, 14, 15}},
      {"field is_null true: [null] counts", R"({"must":[{"key":"tags","is_null":true}]})", {4}},
      {"field is_null false: missing counts", R"({"must":[{"key":"city","is_null":false}]})", AllBut({4})},
      // has_id
      {"has_id with integers and a UUID",
       R"({"must":[{"has_id":[1,3,"a0000000-0000-0000-0000-000000000001",99]}]})",
       {1, 3, 8}},
      // values_count
      {"values_count on an array", R"({"must":[{"key":"count","values_count":{"gte":2}}]})", {8}},
      {"values_count: missing, [] and null count 0; [null] counts 1; a scalar 1",
       R"({"must":[{"key":"tags","values_count":{"lt":1}}]})",
       {3, 5, 9, 10, 11, 12, 13, 14, 15}},
      {"values_count gt 0", R"({"must":[{"key":"city","values_count":{"gt":0}}]})", {1, 2, 3, 6, 7, 8, 9}},
      {"values_count adds up values through []",
       R"({"must":[{"key":"a.b[].c","values_count":{"gte":2}}]})",
       {9}},
      // nested
      {"nested: one element satisfies everything",
       R"({"must":[{"nested":{"key":"items","filter":{"must":[{"key":"name","match":{"value":"a"}},
          {"key":"qty","range":{"gt":2}}]}}}]})",
       {2},
       kBounded},
      {"without nested: conditions may hold in different elements",
       R"({"must":[{"key":"items[].name","match":{"value":"a"}},{"key":"items[].qty","range":{"gt":2}}]})",
       {1, 2, 6},
       kBounded},
      {"nested must_not",
       R"({"must":[{"nested":{"key":"items","filter":{"must_not":[{"key":"name","match":{"value":"a"}}]}}}]})",
       {1, 6, 7}},
      {"nested inside nested",
       R"({"must":[{"nested":{"key":"items","filter":{"must":[{"nested":{"key":"sub","filter":{"must":[
          {"key":"k","match":{"value":1}}]}}}]}}}]})",
       {7},
       kBounded},
      {"nested key with []",
       R"({"must":[{"nested":{"key":"items[]","filter":{"must":[{"key":"name","match":{"value":"a"}},
          {"key":"qty","range":{"gt":2}}]}}}]})",
       {2},
       kBounded},
      // key paths
      {"path through objects", R"({"must":[{"key":"nested.x.y","match":{"value":1}}]})", {1}, kExact},
      {"path through an array with []", R"({"must":[{"key":"a.b[].c","match":{"value":2}}]})", {9}, kExact},
      {"a key step does not enter arrays", R"({"must":[{"key":"a.b.c","match":{"value":1}}]})", {}},
      {"array index", R"({"must":[{"key":"arr[1]","match":{"value":2}}]})", {6}},
      {"array index then key", R"({"must":[{"key":"items[0].name","match":{"value":"b"}}]})", {7}},
      {"[] expands one more level",
       R"({"must":[{"key":"tags[]","match":{"value":"red"}}]})",
       {1, 6, 8},
       kExact},
      {"arrays in arrays are not flattened",
       R"({"must":[{"key":"tags","match":{"value":"red"}}]})",
       {1, 7, 8},
       kExact},
      // geo
      {"geo_radius",
       R"({"must":[{"key":"loc","geo_radius":{"center":{"lon":13.404954,"lat":52.520008},"radius":1000}}]})",
       {1, 3},
       kBounded},
      {"geo_radius 0 matches nothing",
       R"({"must":[{"key":"loc","geo_radius":{"center":{"lon":13.404954,"lat":52.520008},"radius":0}}]})",
       {},
       kBounded},
      {"geo_bounding_box",
       R"({"must":[{"key":"loc","geo_bounding_box":{"top_left":{"lon":13,"lat":53},"bottom_right":{"lon":14,"lat":52}}}]})",
       {1, 3},
       kBounded},
      {"geo_bounding_box across the antimeridian",
       R"({"must":[{"key":"loc","geo_bounding_box":{"top_left":{"lon":179,"lat":1},"bottom_right":{"lon":-179,"lat":-1}}}]})",
       {10, 11},
       kBounded},
      {"geo_radius across the antimeridian",
       R"({"must":[{"key":"loc","geo_radius":{"center":{"lon":179.95,"lat":0},"radius":20000}}]})",
       {10, 11},
       kBounded},
      {"geo_polygon with a hole, boundary excluded",
       R"({"must":[{"key":"loc","geo_polygon":{"exterior":{"points":[{"lon":0,"lat":0},{"lon":4,"lat":0},
          {"lon":4,"lat":4},{"lon":0,"lat":4},{"lon":0,"lat":0}]},"interiors":[{"points":[{"lon":1.5,"lat":1.5},
          {"lon":2.5,"lat":1.5},{"lon":2.5,"lat":2.5},{"lon":1.5,"lat":2.5},{"lon":1.5,"lat":1.5}]}]}}]})",
       {12},
       kBounded},
      // uuid strings
      {"match a UUID string exactly",
       R"({"must":[{"key":"uid","match":{"value":"550e8400-e29b-41d4-a716-446655440000"}}]})",
       {1},
       kBounded},
      {"match a non-UUID string on a UUID field",
       R"({"must":[{"key":"uid","match":{"value":"not-a-uuid"}}]})",
       {}},
      // logic
      {"should",
       R"({"should":[{"key":"city","match":{"value":"Berlin"}},{"key":"city","match":{"value":"London"}}]})",
       {1, 2, 3},
       kBounded},
      {"should [] matches nothing", R"({"should":[]})", {}, kExact},
      {"must [] matches everything", R"({"must":[]})", All()},
      {"empty filter matches everything", R"({})", All()},
      {"must_not", R"({"must_not":[{"key":"city","match":{"value":"Berlin"}}]})", AllBut({1, 3})},
      {"min_should 2 of 3",
       R"({"min_should":{"conditions":[{"key":"city","match":{"value":"Berlin"}},{"key":"count","match":{"value":1}},
          {"key":"flag","match":{"value":true}}],"min_count":2}})",
       {1},
       kBounded},
      {"min_should 0",
       R"({"min_should":{"conditions":[{"key":"city","match":{"value":"Nowhere"}}],"min_count":0}})", All()},
      // As Qdrant 1.18: "at least 0" holds for every point, also those where conditions match.
      {"min_should 0 where conditions match",
       R"({"min_should":{"conditions":[{"key":"city","match":{"value":"Berlin"}},{"key":"flag","match":{"value":true}}],
          "min_count":0}})",
       All()},
      {"min_should 0 of none", R"({"min_should":{"conditions":[],"min_count":0}})", All()},
      {"min_should 1 of none", R"({"min_should":{"conditions":[],"min_count":1}})", {}, kExact},
      {"min_should more than there are",
       R"({"min_should":{"conditions":[{"key":"city","match":{"value":"Berlin"}}],"min_count":2}})",
       {},
       kExact},
      {"filter as a condition",
       R"({"must":[{"should":[{"key":"city","match":{"value":"London"}},{"key":"count","match":{"value":9223372036854775807}}]}]})",
       {2, 7},
       kBounded},
      {"one condition instead of a list",
       R"({"must":{"key":"city","match":{"value":"London"}}})",
       {2},
       kExact},
      {"must and must_not",
       R"({"must":[{"key":"tags","match":{"value":"red"}}],"must_not":[{"key":"city","match":{"value":"Paris"}}]})",
       {1, 7},
       kBounded},
      {"should with has_id and is_empty",
       R"({"should":[{"has_id":[5]},{"is_empty":{"key":"city"}}]})",
       {4, 5, 10, 11, 12, 13, 14, 15}},
      {"filters inside filters",
       R"({"must":[{"must":[{"must":[{"key":"city","match":{"value":"Berlin"}}]}]}]})",
       {1, 3},
       kExact},
      {"must_not a range",
       R"({"must_not":[{"key":"count","range":{"gt":0}}]})",
       {4, 5, 6, 10, 11, 12, 13, 14}},
      {"must_not nested",
       R"({"must_not":[{"nested":{"key":"items","filter":{"must":[{"key":"qty","range":{"gte":5}}]}}}]})",
       AllBut({1, 2, 6})},
  };
  return cases;
}

// Index sets: "typed" gives each field the type its conditions want; "alternate" other types that still bound
// some conditions; "mismatched" types that hold few or none of the values.
const std::map<std::string, std::vector<std::pair<const char*, FieldIndexType>>>& IndexConfigs() {
  using T = FieldIndexType;
  static const std::map<std::string, std::vector<std::pair<const char*, FieldIndexType>>> configs = {
      {"typed",
       {{"city", T::kKeyword},
        {"count", T::kInteger},
        {"price", T::kFloat},
        {"flag", T::kBool},
        {"ts", T::kDatetime},
        {"loc", T::kGeo},
        {"text", T::kText},
        {"uid", T::kUuid},
        {"tags", T::kKeyword},
        {"tags[]", T::kKeyword},
        {"items[].name", T::kKeyword},
        {"items[].qty", T::kInteger},
        {"items[].sub[].k", T::kInteger},
        {"a.b[].c", T::kInteger},
        {"nested.x.y", T::kInteger}}},
      {"alternate",
       {{"city", T::kText},
        {"count", T::kFloat},
        {"price", T::kInteger},
        {"flag", T::kBool},
        {"ts", T::kKeyword},
        {"loc", T::kGeo},
        {"text", T::kKeyword},
        {"uid", T::kKeyword},
        {"tags", T::kText},
        {"items[].qty", T::kFloat},
        {"items[].name", T::kText}}},
      {"mismatched",
       {{"city", T::kInteger},
        {"count", T::kKeyword},
        {"price", T::kBool},
        {"flag", T::kKeyword},
        {"ts", T::kInteger},
        {"loc", T::kKeyword},
        {"text", T::kGeo},
        {"uid", T::kDatetime},
        {"tags", T::kFloat},
        {"items[].qty", T::kUuid},
        {"items[].name", T::kBool}}},
  };
  return configs;
}

PayloadIndex BuildIndex(const std::vector<std::pair<const char*, FieldIndexType>>& config,
                        const std::vector<TestPoint>& points) {
  PayloadIndex index;
  for (const auto& [path, type] : config) REQUIRE(index.CreateField(path, type).ok());
  for (const TestPoint& p : points) index.Insert(static_cast<uint32_t>(p.number - 1), p.payload);
  return index;
}

TEST_CASE("filter table: Matches() gives the expected points", "[payload][filter]") {
  const std::vector<TestPoint> points = TestPoints();
  for (const Case& c : Cases()) {
    INFO("case: " << c.name << "\nfilter: " << c.filter);
    Result<Filter> filter = ParseFilterText(c.filter);
    REQUIRE(filter.ok());
    std::vector<int> got;
    for (const TestPoint& p : points) {
      if (Matches(*filter, p.id, p.payload)) got.push_back(p.number);
    }
    CHECK(got == c.expected);
    // A copy evaluates the same.
    Filter copy = *filter;
    for (const TestPoint& p : points)
      CHECK(Matches(copy, p.id, p.payload) == Matches(*filter, p.id, p.payload));
  }
}

TEST_CASE("filter table: indexes bound the true matches", "[payload][filter][index]") {
  const std::vector<TestPoint> points = TestPoints();
  for (const auto& [config_name, config] : IndexConfigs()) {
    PayloadIndex index = BuildIndex(config, points);
    for (const Case& c : Cases()) {
      INFO("index config: " << config_name << "\ncase: " << c.name << "\nfilter: " << c.filter);
      Filter filter = *ParseFilterText(c.filter);
      std::vector<uint32_t> truth;
      for (const TestPoint& p : points) {
        if (Matches(filter, p.id, p.payload)) truth.push_back(static_cast<uint32_t>(p.number - 1));
      }
      std::optional<std::vector<uint32_t>> candidates = index.Candidates(filter);
      if (candidates) {
        CHECK(std::is_sorted(candidates->begin(), candidates->end()));
        CHECK(std::adjacent_find(candidates->begin(), candidates->end()) == candidates->end());
        CHECK(std::includes(candidates->begin(), candidates->end(), truth.begin(), truth.end()));
      }
      const CardinalityEstimate e = index.Estimate(filter, points.size());
      CHECK(e.min <= truth.size());
      CHECK(truth.size() <= e.max);
      CHECK(e.min <= e.expected);
      CHECK(e.expected <= e.max);
      CHECK(e.max <= points.size());
      if (config_name == "typed") {
        CHECK(candidates.has_value() == (c.index_use != kUnbounded));
        if (c.index_use == kExact) {
          CHECK(e.min == truth.size());
          CHECK(e.max == truth.size());
          if (candidates) CHECK(*candidates == truth);
        }
      }
    }
  }
}

// The outcomes Qdrant's own condition-checker test asserts
// (lib/segment/src/payload_storage/query_checker.rs), restated as JSON filters.
TEST_CASE("filter: Qdrant's condition checker outcomes", "[payload][filter]") {
  const boost::json::object payload = *ParsePayloadText(R"({"location":{"lon":13.404954,"lat":52.520008},
      "price":499.90,"amount":10,"rating":[3,7,9,9],"color":"red","has_delivery":true,
      "shipped_at":"2020-02-15T00:00:00Z","parts":[],"packaging":null,"not_null":[null]})");
  auto check = [&](const std::string& text, uint64_t id = 0) {
    Result<Filter> f = ParseFilterText(text);
    INFO(text);
    REQUIRE(f.ok());
    return Matches(*f, PointId::Number(id), payload);
  };
  auto must = [](const std::string& condition) { return R"({"must":[)" + condition + "]}"; };
  CHECK_FALSE(check(must(R"({"is_empty":{"key":"price"}})")));
  CHECK(check(must(R"({"is_empty":{"key":"something_new"}})")));
  CHECK(check(must(R"({"is_empty":{"key":"parts"}})")));
  CHECK_FALSE(check(must(R"({"is_empty":{"key":"not_null"}})")));
  CHECK_FALSE(check(must(R"({"is_null":{"key":"amount"}})")));
  CHECK_FALSE(check(must(R"({"is_null":{"key":"parts"}})")));
  CHECK_FALSE(check(must(R"({"is_null":{"key":"something_else"}})")));
  CHECK(check(must(R"({"is_null":{"key":"packaging"}})")));
  CHECK_FALSE(check(must(R"({"is_null":{"key":"not_null"}})")));
  CHECK_FALSE(check(must(R"({"key":"rating","values_count":{"gte":10}})")));
  CHECK(check(must(R"({"key":"rating","values_count":{"lt":5}})")));

  const std::string red = R"({"key":"color","match":{"value":"red"}})";
  const std::string blue = R"({"key":"color","match":{"value":"blue"}})";
  const std::string delivery = R"({"key":"has_delivery","match":{"value":true}})";
  const std::string berlin =
      R"({"key":"location","geo_bounding_box":{"top_left":{"lon":13.08835,"lat":52.67551},
      "bottom_right":{"lon":13.76116,"lat":52.33826}}})";
  const std::string moscow =
      R"({"key":"location","geo_bounding_box":{"top_left":{"lon":37.0366,"lat":56.1859},
      "bottom_right":{"lon":38.2532,"lat":55.317}}})";
  CHECK(check(must(red)));
  CHECK_FALSE(check(must(blue)));
  CHECK(check(R"({"must_not":[)" + blue + "]}"));
  CHECK_FALSE(check(R"({"must_not":[)" + red + "]}"));
  CHECK(check(R"({"should":[)" + red + "," + blue + R"(],"must":[)" + delivery + "," + berlin + "]}"));
  CHECK_FALSE(check(R"({"should":[)" + red + "," + blue + R"(],"must":[)" + delivery + "," + moscow + "]}"));
  CHECK_FALSE(check(R"({"should":[{"must":[)" + red + "," + moscow + R"(]},{"must":[)" + blue + "," + berlin +
                    "]}]}"));
  CHECK(check(R"({"should":[{"must":[)" + blue + "," + moscow + R"(]},{"must":[)" + red + "," + berlin +
              "]}]}"));
  CHECK(check(
      must(R"({"key":"shipped_at","range":{"gte":"2020-02-01T00:00:00Z","lt":"2020-03-01T00:00:00Z"}})")));
  CHECK_FALSE(check(
      must(R"({"key":"shipped_at","range":{"gte":"2020-03-01T00:00:00Z","lt":"2020-04-01T00:00:00Z"}})")));
  CHECK_FALSE(check(R"({"must_not":[{"key":"rating","range":{"lte":5}}]})"));
  CHECK_FALSE(check(R"({"must_not":[{"has_id":[1,2,3]}]})", 2));
  CHECK(check(R"({"must_not":[{"has_id":[1,2,3]}]})", 10));
  CHECK(check(R"({"must":[{"has_id":[1,2,3]}]})", 2));
}

// Qdrant's json_path test_is_empty: is_empty through `[]` looks at every reached value.
TEST_CASE("filter: is_empty through []", "[payload][filter]") {
  const boost::json::object payload =
      *ParsePayloadText(R"({"a":[{"b":1},{"b":2},{"b":null},{"d":[]},{"d":[]},{"f":null}]})");
  auto empty = [&](const char* key) {
    const std::string text = std::string(R"({"must":[{"is_empty":{"key":")") + key + R"("}}]})";
    return Matches(*ParseFilterText(text), PointId::Number(1), payload);
  };
  CHECK_FALSE(empty("a[].b"));
  CHECK(empty("a[].c"));
  CHECK(empty("a[].d"));
  CHECK(empty("a[].f"));
  CHECK_FALSE(empty("a"));
}

TEST_CASE("filter: has_id holds only at the top level of a point", "[payload][filter]") {
  const boost::json::object payload = *ParsePayloadText(R"({"a":[{"b":1}]})");
  Filter f = *ParseFilterText(R"({"must":[{"has_id":[7]}]})");
  CHECK(Matches(f, PointId::Number(7), payload));
  CHECK_FALSE(Matches(f, PointId::Number(8), payload));
  Filter uuid = *ParseFilterText(R"({"must":[{"has_id":["A0000000-0000-0000-0000-000000000001"]}]})");
  CHECK(Matches(uuid, *PointId::ParseUuid("a0000000-0000-0000-0000-000000000001"), payload));
  CHECK_FALSE(Matches(uuid, PointId::Number(1), payload));
}

TEST_CASE("filter: datetime forms Qdrant accepts agree between Matches() and a datetime index",
          "[payload][filter][index]") {
  // Qdrant's relaxed datetimes as payload values and as range bounds (issue 10); `t` without a zone is no
  // datetime, in either place.
  const std::vector<std::string> values = {
      "2023-2-8",                    // 0: midnight
      "2023-02-08T9:49:00Z",         // 1: 09:49
      "2023-02-08T10:49:00UTC",      // 2: 10:49
      "2023-02-08T10:49:00 +01:00",  // 3: 09:49
      "2023-02-08t10:49:00",         // 4: not a datetime
      "2023-02-08t10:49:00z",        // 5: 10:49
      "2023-02-08 11:49:00+01",      // 6: 10:49
  };
  PayloadIndex index;
  REQUIRE(index.CreateField("ts", FieldIndexType::kDatetime).ok());
  std::vector<boost::json::object> payloads;
  for (size_t i = 0; i < values.size(); ++i) {
    payloads.push_back(*ParsePayloadText(R"({"ts":")" + values[i] + "\"}"));
    index.Insert(static_cast<uint32_t>(i), payloads.back());
  }
  const std::vector<std::pair<std::string, std::vector<uint32_t>>> cases = {
      {R"({"gte":"2023-2-8T9:49:00Z","lte":"2023-02-08T9:49:00z"})", {1, 3}},
      {R"({"gt":"2023-02-08T10:49:00 +01:00","lte":"2023-02-08T10:49:00 utc"})", {2, 5, 6}},
      {R"({"lt":"2023-02-08T9:49"})", {0}},
      {R"({"gte":"2023-2-8"})", {0, 1, 2, 3, 5, 6}},
  };
  for (const auto& [range, expected] : cases) {
    INFO("range " << range);
    Result<Filter> filter = ParseFilterText(R"({"must":[{"key":"ts","range":)" + range + "}]}");
    REQUIRE(filter.ok());
    std::vector<uint32_t> matched;
    for (size_t i = 0; i < payloads.size(); ++i) {
      if (Matches(*filter, PointId::Number(i), payloads[i])) matched.push_back(static_cast<uint32_t>(i));
    }
    CHECK(matched == expected);
    std::optional<std::vector<uint32_t>> candidates = index.Candidates(*filter);
    REQUIRE(candidates.has_value());
    CHECK(*candidates == expected);
  }
  CHECK(
      ParseFilterText(R"({"must":[{"key":"ts","range":{"lt":"2023-02-08t10:49:00"}}]})").status().message() ==
      "filter.must[0].range.lt: '2023-02-08t10:49:00' is not a valid datetime (expected RFC 3339, e.g. "
      "2023-02-08T10:49:00Z)");
}

TEST_CASE("filter: a deep but legal filter evaluates", "[payload][filter]") {
  std::string text = R"({"key":"x","match":{"value":1}})";
  for (int i = 0; i < kMaxFilterDepth; ++i) text = R"({"must":[)" + text + "]}";  // exactly at the limit
  Result<Filter> f = ParseFilterText(text);
  REQUIRE(f.ok());
  CHECK(Matches(*f, PointId::Number(1), *ParsePayloadText(R"({"x":1})")));
  CHECK_FALSE(Matches(*f, PointId::Number(1), *ParsePayloadText(R"({"x":2})")));
}

}  // namespace
}  // namespace quiver::payload
