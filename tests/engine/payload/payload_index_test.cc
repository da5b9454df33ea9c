#include "payload/payload_index.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdio>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "engine/payload/test_points.h"
#include "payload/filter.h"
#include "payload/ordered_postings.h"

namespace quiver::payload {
namespace {

using testing::TestPoint;
using testing::TestPoints;

Filter F(const std::string& text) {
  Result<Filter> f = ParseFilterText(text);
  INFO(text << ": " << f.status().ToString());
  REQUIRE(f.ok());
  return *f;
}

std::vector<uint32_t> Slots(std::initializer_list<int> numbers) {
  std::vector<uint32_t> out;
  for (int n : numbers) out.push_back(static_cast<uint32_t>(n - 1));
  return out;
}

PayloadIndex Typed(const std::vector<TestPoint>& points) {
  PayloadIndex index;
  REQUIRE(index.CreateField("city", FieldIndexType::kKeyword).ok());
  REQUIRE(index.CreateField("count", FieldIndexType::kInteger).ok());
  REQUIRE(index.CreateField("text", FieldIndexType::kText).ok());
  REQUIRE(index.CreateField("loc", FieldIndexType::kGeo).ok());
  for (const TestPoint& p : points) index.Insert(static_cast<uint32_t>(p.number - 1), p.payload);
  return index;
}

TEST_CASE("payload index: type names", "[payload][index]") {
  for (FieldIndexType t :
       {FieldIndexType::kKeyword, FieldIndexType::kInteger, FieldIndexType::kFloat, FieldIndexType::kBool,
        FieldIndexType::kUuid, FieldIndexType::kDatetime, FieldIndexType::kGeo, FieldIndexType::kText}) {
    Result<FieldIndexType> parsed = ParseFieldIndexType(FieldIndexTypeName(t));
    REQUIRE(parsed.ok());
    CHECK(*parsed == t);
  }
  CHECK(FieldIndexTypeName(FieldIndexType::kDatetime) == "datetime");
  Result<FieldIndexType> bad = ParseFieldIndexType("Keyword");
  CHECK(bad.status().IsInvalidArgument());
  CHECK(bad.status().message() ==
        "'Keyword' is not a payload index type (expected keyword, integer, float, bool, uuid, datetime, geo "
        "or text)");
}

TEST_CASE("payload index: create, list and drop fields", "[payload][index]") {
  PayloadIndex index;
  CHECK(index.empty());
  CHECK(index.CreateField("city", FieldIndexType::kKeyword).ok());
  CHECK(index.CreateField("\"city\"", FieldIndexType::kKeyword).ok());  // same field, same type: no-op
  Status exists = index.CreateField("city", FieldIndexType::kText);
  CHECK(exists.code() == StatusCode::kAlreadyExists);
  CHECK(exists.message() == "field 'city' is already indexed as keyword");
  Status bad = index.CreateField("a..b", FieldIndexType::kKeyword);
  CHECK(bad.IsInvalidArgument());
  CHECK(bad.message() == "'a..b' is not a valid key path: expected a key at offset 2");
  CHECK(index.CreateField("items[].qty", FieldIndexType::kInteger).ok());
  CHECK(index.CreateField("a.\"b c\"", FieldIndexType::kGeo).ok());
  using Fields = std::vector<std::pair<std::string, FieldIndexType>>;
  CHECK(index.Fields() == Fields{{"a.\"b c\"", FieldIndexType::kGeo},
                                 {"city", FieldIndexType::kKeyword},
                                 {"items[].qty", FieldIndexType::kInteger}});
  CHECK_FALSE(index.empty());
  Status missing = index.DropField("town");
  CHECK(missing.IsNotFound());
  CHECK(missing.message() == "field 'town' is not indexed");
  CHECK(index.DropField("a..").IsInvalidArgument());
  CHECK(index.DropField("city").ok());
  CHECK(index.DropField("a.\"b c\"").ok());
  CHECK(index.Fields() == Fields{{"items[].qty", FieldIndexType::kInteger}});
  CHECK(index.IndexedPoints("city") == 0);
  CHECK(index.IndexedPoints("a..") == 0);
}

TEST_CASE("payload index: values of other types are not indexed", "[payload][index]") {
  const std::vector<TestPoint> points = TestPoints();
  PayloadIndex index = Typed(points);
  CHECK(index.IndexedPoints("city") == 6);   // strings only: 1, 2, 3, 6, 8, 9
  CHECK(index.IndexedPoints("count") == 5);  // integers only: 1, 2, 6, 7, 8
  CHECK(index.IndexedPoints("text") == 6);   // strings with a token: 1, 2, 3, 4, 6, 7
  CHECK(index.IndexedPoints("loc") == 8);    // valid geo points: 1, 2, 3, 10-14 (not point 4's lon 200)
  CHECK(index.IndexedPoints("price") == 0);
  CHECK(*index.Candidates(F(R"({"must":[{"key":"city","match":{"value":"Berlin"}}]})")) == Slots({1, 3}));
  CHECK(*index.Candidates(F(R"({"must":[{"key":"count","match":{"any":[1,2]}}]})")) == Slots({1, 2, 8}));
  // The keyword index holds no integer, so it cannot bound an integer match; the integer index no string.
  CHECK_FALSE(index.Candidates(F(R"({"must":[{"key":"city","match":{"value":5}}]})")));
  CHECK_FALSE(index.Candidates(F(R"({"must":[{"key":"count","match":{"value":"1"}}]})")));
  CHECK_FALSE(index.Candidates(F(R"({"must":[{"key":"city","match":{"except":["x"]}}]})")));
  CHECK_FALSE(index.Candidates(F(R"({"must":[{"is_empty":{"key":"city"}}]})")));
  CHECK_FALSE(index.Candidates(F(R"({"must_not":[{"key":"city","match":{"value":"Berlin"}}]})")));
  CHECK_FALSE(index.Candidates(F("{}")));
  // must intersects what is bounded and ignores the rest.
  CHECK(*index.Candidates(F(R"({"must":[{"key":"city","match":{"value":"Berlin"}},{"is_null":{"key":"x"}},
                                         {"key":"count","range":{"lte":1}}]})")) == Slots({1, 3}));
  // should unites only when every branch is bounded.
  CHECK(*index.Candidates(F(R"({"should":[{"key":"city","match":{"value":"London"}},
                                           {"key":"count","range":{"lt":0}}]})")) == Slots({2, 6}));
  CHECK_FALSE(
      index.Candidates(F(R"({"should":[{"key":"city","match":{"value":"London"}},{"has_id":[1]}]})")));
  CHECK(index.Candidates(F(R"({"should":[]})"))->empty());
  PayloadIndex none;
  CHECK_FALSE(none.Candidates(F(R"({"must":[{"key":"city","match":{"value":"Berlin"}}]})")));
}

TEST_CASE("payload index: estimates", "[payload][index]") {
  const std::vector<TestPoint> points = TestPoints();
  PayloadIndex index = Typed(points);
  auto est = [&](const std::string& text, size_t total = 15) { return index.Estimate(F(text), total); };
  CardinalityEstimate e = est(R"({"must":[{"key":"city","match":{"value":"Berlin"}}]})");
  CHECK((e.min == 2 && e.expected == 2 && e.max == 2));
  e = est(R"({"must_not":[{"key":"city","match":{"value":"Berlin"}}]})");
  CHECK((e.min == 13 && e.expected == 13 && e.max == 13));
  e = est(
      R"({"should":[{"key":"city","match":{"value":"Berlin"}},{"key":"city","match":{"value":"London"}}]})");
  CHECK((e.min == 2 && e.max == 3));
  e = est(R"({"must":[{"is_empty":{"key":"city"}}]})");
  CHECK((e.min == 0 && e.max == 15));
  e = est("{}");
  CHECK((e.min == 15 && e.expected == 15 && e.max == 15));
  e = est(R"({"must":[{"has_id":[1,2]}]})");
  CHECK((e.min == 0 && e.max == 2));
  e = est(R"({"must":[{"key":"loc","geo_radius":{"center":{"lon":13.4,"lat":52.52},"radius":5000}}]})");
  CHECK((e.min == 0 && e.max == 2));  // points 1 and 3 share a grid cell region; geo bounds are not exact
  e = est(
      R"({"must":[{"nested":{"key":"items","filter":{"must":[{"key":"name","match":{"value":"a"}}]}}}]})");
  CHECK((e.min == 0 && e.max == 15));  // no index on items[].name
  // Never more than the total the caller gives.
  e = est(R"({"must":[{"key":"loc","geo_bounding_box":{"top_left":{"lon":-180,"lat":90},
                       "bottom_right":{"lon":180,"lat":-90}}}]})",
          5);
  CHECK(e.max <= 5);
  CHECK(e.min <= e.expected);
  CHECK(e.expected <= e.max);
}

TEST_CASE("payload index: Erase undoes Insert; filling through the callback equals inserting",
          "[payload][index]") {
  const std::vector<TestPoint> points = TestPoints();
  const std::vector<std::string> filters = {
      R"({"must":[{"key":"city","match":{"any":["Berlin","Paris","London"]}}]})",
      R"({"must":[{"key":"count","range":{"gte":-10}}]})",
      R"({"must":[{"key":"text","match":{"text":"brown"}}]})",
      R"({"must":[{"key":"loc","geo_radius":{"center":{"lon":0,"lat":0},"radius":20000000}}]})",
  };
  PayloadIndex index = Typed(points);
  const size_t full_memory = index.MemoryUsage();
  std::vector<std::vector<uint32_t>> before;
  for (const std::string& f : filters) before.push_back(*index.Candidates(F(f)));
  for (const TestPoint& p : points) {
    if (p.number % 2 == 1) index.Erase(static_cast<uint32_t>(p.number - 1), p.payload);
  }
  for (size_t i = 0; i < filters.size(); ++i) {
    const std::vector<uint32_t> remaining = *index.Candidates(F(filters[i]));
    CHECK_FALSE(remaining.empty());
    for (uint32_t slot : remaining) CHECK(slot % 2 == 1);  // only even numbers (odd slots) remain
  }
  for (const TestPoint& p : points) {
    if (p.number % 2 == 0) index.Erase(static_cast<uint32_t>(p.number - 1), p.payload);
  }
  for (const char* field : {"city", "count", "text", "loc"}) CHECK(index.IndexedPoints(field) == 0);
  for (const std::string& f : filters) CHECK(index.Candidates(F(f))->empty());
  CHECK(index.MemoryUsage() < full_memory);
  for (const TestPoint& p : points) index.Insert(static_cast<uint32_t>(p.number - 1), p.payload);
  for (size_t i = 0; i < filters.size(); ++i) CHECK(*index.Candidates(F(filters[i])) == before[i]);

  PayloadIndex filled;
  for (const char* field : {"city", "count", "text", "loc"}) {
    const FieldIndexType type = field == std::string("city")    ? FieldIndexType::kKeyword
                                : field == std::string("count") ? FieldIndexType::kInteger
                                : field == std::string("text")  ? FieldIndexType::kText
                                                                : FieldIndexType::kGeo;
    int visits = 0;
    Status s = filled.CreateField(field, type, [&](PayloadIndex::PointVisitor visit) {
      for (const TestPoint& p : points) {
        ++visits;
        visit(static_cast<uint32_t>(p.number - 1), p.payload);
      }
    });
    REQUIRE(s.ok());
    CHECK(visits == 15);
    // Already there with this type: nothing is visited.
    REQUIRE(filled.CreateField(field, type, [&](PayloadIndex::PointVisitor) { FAIL("visited again"); }).ok());
  }
  for (size_t i = 0; i < filters.size(); ++i) CHECK(*filled.Candidates(F(filters[i])) == before[i]);
  CHECK(filled.IndexedPoints("loc") == index.IndexedPoints("loc"));
  CHECK(filled.MemoryUsage() > 0);

  REQUIRE(filled.DropField("loc").ok());
  CHECK_FALSE(filled.Candidates(F(filters[3])));
  PayloadIndex moved = std::move(filled);
  CHECK(*moved.Candidates(F(filters[0])) == before[0]);
}

// The bounded flag agrees with Candidates(filter), whose list fits max_candidates; Candidates(filter, limit)
// gives that same list exactly when limit >= max_candidates, else nothing.
void CheckBoundedAndLimits(const PayloadIndex& index, const Filter& filter, const CardinalityEstimate& e,
                           const std::optional<std::vector<uint32_t>>& candidates) {
  CHECK(e.bounded == candidates.has_value());
  CHECK(index.Bounded(filter) == e.bounded);
  if (!candidates) {
    CHECK(e.max_candidates == 0);
    CHECK_FALSE(index.Candidates(filter, SIZE_MAX));
    return;
  }
  CHECK(candidates->size() <= e.max_candidates);
  CHECK(e.max <= e.max_candidates);
  std::vector<size_t> limits = {0, e.max_candidates, e.max_candidates + 1, SIZE_MAX};
  if (e.max_candidates > 0) limits.push_back(e.max_candidates - 1);
  for (size_t limit : limits) {
    INFO("limit " << limit << ", max_candidates " << e.max_candidates);
    std::optional<std::vector<uint32_t>> limited = index.Candidates(filter, limit);
    CHECK(limited.has_value() == (limit >= e.max_candidates));
    if (limited) CHECK(*limited == *candidates);
  }
}

// Random payloads and random filters: whatever the shapes, Candidates() is a superset of the true matches and
// Estimate() bounds their count.
std::string RandomFilter(std::mt19937& rng, int depth, bool in_nested);

std::string Pick(std::mt19937& rng, std::initializer_list<const char*> options) {
  std::uniform_int_distribution<size_t> d(0, options.size() - 1);
  return *(options.begin() + d(rng));
}

std::string RandomCondition(std::mt19937& rng, int depth, bool in_nested) {
  std::uniform_int_distribution<int> kind(0, depth > 0 ? 13 : 11);
  if (in_nested) {
    switch (kind(rng) % 4) {
      case 0:
        return R"({"key":"x","match":{"value":)" + Pick(rng, {"1", "2", "3"}) + "}}";
      case 1:
        return R"({"key":"x","range":{"gte":)" + Pick(rng, {"1", "2", "2.5"}) + "}}";
      case 2:
        return R"({"key":"y","match":{"any":[)" + Pick(rng, {"\"p\"", "\"q\"", "\"p\",\"r\""}) + "]}}";
      default:
        return R"({"is_empty":{"key":"y"}})";
    }
  }
  switch (kind(rng)) {
    case 0:
      return R"({"key":"k","match":{"value":)" + Pick(rng, {"\"a\"", "\"b\"", "1", "true"}) + "}}";
    case 1:
      return R"({"key":"k","match":{"any":[)" + Pick(rng, {"\"a\",\"c\"", "1,2", ""}) + "]}}";
    case 2:
      return R"({"key":"k","match":{"except":[)" + Pick(rng, {"\"a\"", "1", ""}) + "]}}";
    case 3:
      return R"({"key":"n","range":{)" + Pick(rng, {"\"gt\":1", "\"lte\":2.5", "\"gte\":0,\"lt\":3", ""}) +
             "}}";
    case 4:
      return R"({"key":"t","match":{)" +
             Pick(rng, {"\"text\":\"red fox\"", "\"text_any\":\"blue dog\"", "\"phrase\":\"red fox\"",
                        "\"text\":\"fox\""}) +
             "}}";
    case 5:
      return R"({"key":"g","geo_radius":{"center":{"lon":)" + Pick(rng, {"0", "10", "179.9"}) +
             R"(,"lat":0},"radius":)" + Pick(rng, {"100000", "1000000", "10"}) + "}}";
    case 6:
      return R"({"key":"d","range":{"gte":")" + Pick(rng, {"2020-01-01", "2021-06-01T12:00:00Z"}) + "\"}}";
    case 7:
      return R"({"key":"k","values_count":{"gte":)" + Pick(rng, {"0", "1", "2"}) + "}}";
    case 8:
      return R"({"is_empty":{"key":")" + Pick(rng, {"k", "n", "arr"}) + "\"}}";
    case 9:
      return R"({"is_null":{"key":")" + Pick(rng, {"k", "n"}) + "\"}}";
    case 10:
      return R"({"has_id":[)" + Pick(rng, {"1,2,3", "5", ""}) + "]}";
    case 11:
      return R"({"key":"g","geo_bounding_box":{"top_left":{"lon":)" + Pick(rng, {"-10", "170"}) +
             R"(,"lat":10},"bottom_right":{"lon":)" + Pick(rng, {"10", "-170"}) + R"(,"lat":-10}}})";
    case 12:
      return R"({"nested":{"key":"arr","filter":)" + RandomFilter(rng, depth - 1, true) + "}}";
    default:
      return RandomFilter(rng, depth - 1, in_nested);
  }
}

std::string RandomList(std::mt19937& rng, int depth, bool in_nested) {
  std::uniform_int_distribution<int> count(0, 3);
  std::string out = "[";
  for (int i = 0, n = count(rng); i < n; ++i) {
    if (i > 0) out += ",";
    out += RandomCondition(rng, depth, in_nested);
  }
  return out + "]";
}

std::string RandomFilter(std::mt19937& rng, int depth, bool in_nested) {
  std::bernoulli_distribution coin(0.5);
  std::string out = "{";
  auto add = [&](const std::string& part) {
    if (out.size() > 1) out += ",";
    out += part;
  };
  if (coin(rng)) add("\"must\":" + RandomList(rng, depth, in_nested));
  if (coin(rng)) add("\"should\":" + RandomList(rng, depth, in_nested));
  if (coin(rng)) add("\"must_not\":" + RandomList(rng, depth, in_nested));
  if (coin(rng) && coin(rng)) {
    add("\"min_should\":{\"conditions\":" + RandomList(rng, depth, in_nested) +
        ",\"min_count\":" + Pick(rng, {"0", "1", "2"}) + "}");
  }
  return out + "}";
}

std::string RandomPayload(std::mt19937& rng) {
  std::bernoulli_distribution coin(0.5);
  std::string out = "{";
  auto add = [&](const std::string& key, const std::string& value) {
    if (out.size() > 1) out += ",";
    out += "\"" + key + "\":" + value;
  };
  if (coin(rng))
    add("k", Pick(rng, {"\"a\"", "\"b\"", "\"c\"", "1", "2", "1.0", "true", "null", "[]", "[\"a\",1]",
                        "[null]", "[[\"a\"]]", "{\"a\":1}"}));
  if (coin(rng)) add("n", Pick(rng, {"0", "1", "2", "2.5", "-1", "\"2\"", "[1,3]", "null", "[]"}));
  if (coin(rng)) {
    add("t", Pick(rng, {"\"the red fox\"", "\"Red Fox!\"", "\"fox red\"", "\"blue dog\"", "[\"red\",\"fox\"]",
                        "\"\"", "5"}));
  }
  if (coin(rng)) {
    add("g", Pick(rng, {"{\"lon\":0,\"lat\":0}", "{\"lon\":0.5,\"lat\":0.5}", "{\"lon\":5,\"lat\":5}",
                        "{\"lon\":179.95,\"lat\":0}", "{\"lon\":-179.95,\"lat\":0.01}",
                        "[{\"lon\":10,\"lat\":0}]", "{\"lon\":300,\"lat\":0}", "{\"lat\":1}"}));
  }
  if (coin(rng)) {
    add("d", Pick(rng, {"\"2019-12-31T23:59:59Z\"", "\"2020-01-01\"", "\"2021-06-01T14:00:00+02:00\"",
                        "\"2022-01-01 00:00\"", "\"garbage\"", "20200101"}));
  }
  if (coin(rng)) {
    add("arr", Pick(rng, {"[{\"x\":1,\"y\":\"p\"},{\"x\":3,\"y\":\"q\"}]", "[{\"x\":2}]", "[]",
                          "[{\"y\":\"r\"},5]", "{\"x\":1}", "[{\"x\":[1,2],\"y\":null}]"}));
  }
  return out + "}";
}

TEST_CASE("payload index: random payloads and filters keep the superset and the bounds", "[payload][index]") {
  std::mt19937 rng(20240611);
  constexpr int kPoints = 300;
  std::vector<boost::json::object> payloads;
  PayloadIndex index;
  REQUIRE(index.CreateField("k", FieldIndexType::kKeyword).ok());
  REQUIRE(index.CreateField("n", FieldIndexType::kFloat).ok());
  REQUIRE(index.CreateField("t", FieldIndexType::kText).ok());
  REQUIRE(index.CreateField("g", FieldIndexType::kGeo).ok());
  REQUIRE(index.CreateField("d", FieldIndexType::kDatetime).ok());
  REQUIRE(index.CreateField("arr[].x", FieldIndexType::kInteger).ok());
  REQUIRE(index.CreateField("arr[].y", FieldIndexType::kKeyword).ok());
  for (int i = 0; i < kPoints; ++i) {
    payloads.push_back(*ParsePayloadText(RandomPayload(rng)));
    index.Insert(static_cast<uint32_t>(i), payloads.back());
  }
  int bounded = 0;
  for (int round = 0; round < 400; ++round) {
    const std::string text = RandomFilter(rng, 2, false);
    INFO("filter: " << text);
    Result<Filter> filter = ParseFilterText(text);
    REQUIRE(filter.ok());
    std::vector<uint32_t> truth;
    for (int i = 0; i < kPoints; ++i) {
      if (Matches(*filter, PointId::Number(static_cast<uint64_t>(i)), payloads[i])) {
        truth.push_back(static_cast<uint32_t>(i));
      }
    }
    std::optional<std::vector<uint32_t>> candidates = index.Candidates(*filter);
    if (candidates) {
      ++bounded;
      CHECK(std::includes(candidates->begin(), candidates->end(), truth.begin(), truth.end()));
    }
    const CardinalityEstimate e = index.Estimate(*filter, kPoints);
    CHECK(e.min <= truth.size());
    CHECK(truth.size() <= e.max);
    CHECK(e.min <= e.expected);
    CHECK(e.expected <= e.max);
    CheckBoundedAndLimits(index, *filter, e, candidates);
  }
  CHECK(bounded > 50);  // the indexes are actually used
}

TEST_CASE("payload index: random updates leave the same index as building afresh", "[payload][index]") {
  std::mt19937 rng(77);
  constexpr int kPoints = 200;
  const std::vector<std::pair<const char*, FieldIndexType>> config = {
      {"k", FieldIndexType::kKeyword}, {"n", FieldIndexType::kInteger},  {"t", FieldIndexType::kText},
      {"g", FieldIndexType::kGeo},     {"d", FieldIndexType::kDatetime}, {"arr[].x", FieldIndexType::kFloat}};
  auto build = [&](const std::vector<boost::json::object>& payloads) {
    PayloadIndex index;
    for (const auto& [path, type] : config) REQUIRE(index.CreateField(path, type).ok());
    for (size_t i = 0; i < payloads.size(); ++i) index.Insert(static_cast<uint32_t>(i), payloads[i]);
    return index;
  };
  std::vector<boost::json::object> payloads;
  for (int i = 0; i < kPoints; ++i) payloads.push_back(*ParsePayloadText(RandomPayload(rng)));
  PayloadIndex updated = build(payloads);
  std::uniform_int_distribution<uint32_t> pick(0, kPoints - 1);
  for (int update = 0; update < 3000; ++update) {  // the database's Erase + Insert on every payload change
    const uint32_t slot = pick(rng);
    updated.Erase(slot, payloads[slot]);
    payloads[slot] = *ParsePayloadText(RandomPayload(rng));
    updated.Insert(slot, payloads[slot]);
  }
  const PayloadIndex fresh = build(payloads);
  for (const auto& [path, type] : config) CHECK(updated.IndexedPoints(path) == fresh.IndexedPoints(path));
  for (int round = 0; round < 300; ++round) {
    const std::string text = RandomFilter(rng, 2, false);
    INFO("filter: " << text);
    const Filter filter = F(text);
    CHECK(updated.Candidates(filter) == fresh.Candidates(filter));
    const CardinalityEstimate a = updated.Estimate(filter, kPoints);
    const CardinalityEstimate b = fresh.Estimate(filter, kPoints);
    CHECK(a.min == b.min);
    CHECK(a.expected == b.expected);
    CHECK(a.max == b.max);
    CHECK(a.bounded == b.bounded);
    CHECK(a.max_candidates == b.max_candidates);
  }
}

TEST_CASE("payload index: the stored form round-trips, renumbers slots and rejects damage",
          "[payload][index]") {
  std::mt19937 rng(4242);
  constexpr uint32_t kPoints = 300;
  const std::vector<std::pair<const char*, FieldIndexType>> config = {
      {"k", FieldIndexType::kKeyword}, {"n", FieldIndexType::kInteger},  {"t", FieldIndexType::kText},
      {"g", FieldIndexType::kGeo},     {"d", FieldIndexType::kDatetime}, {"arr[].x", FieldIndexType::kFloat},
      {"flag", FieldIndexType::kBool}, {"u", FieldIndexType::kUuid}};
  const char* uuids[] = {"6a3d2b0e-8f1c-4d5e-9a7b-1c2d3e4f5a6b", "00000000-0000-0000-0000-000000000001",
                         "ffffffffffffffffffffffffffffffff"};
  std::vector<boost::json::object> payloads;
  PayloadIndex original;
  for (const auto& [path, type] : config) REQUIRE(original.CreateField(path, type).ok());
  for (uint32_t i = 0; i < kPoints; ++i) {
    payloads.push_back(*ParsePayloadText(RandomPayload(rng)));
    if (i % 4 != 0) payloads.back()["flag"] = i % 3 == 0;
    if (i % 5 != 0) payloads.back()["u"] = uuids[i % 3];
    original.Insert(i, payloads.back());
  }
  // Every third point leaves (as removed points leave a segment when it is written); the rest are renumbered.
  std::vector<uint32_t> remap(kPoints, kDroppedSlot);
  std::vector<uint32_t> kept;
  for (uint32_t i = 0; i < kPoints; ++i) {
    if (i % 3 == 1) {
      original.Erase(i, payloads[i]);
    } else {
      remap[i] = static_cast<uint32_t>(kept.size());
      kept.push_back(i);
    }
  }
  const std::string bytes = original.Encode(remap);
  const std::span<const uint8_t> view(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  PayloadIndex loaded;
  REQUIRE(loaded.Decode(view, static_cast<uint32_t>(kept.size()), "test").ok());
  CHECK(loaded.Fields() == original.Fields());
  for (const auto& [path, type] : config) CHECK(loaded.IndexedPoints(path) == original.IndexedPoints(path));
  std::vector<uint32_t> identity(kept.size());
  for (uint32_t i = 0; i < identity.size(); ++i) identity[i] = i;
  CHECK(loaded.Encode(identity) == bytes);

  // The same answers, renumbered, as the index the bytes came from.
  std::vector<std::string> filters = {
      R"({"must":[{"key":"flag","match":{"value":true}}]})",
      R"({"must":[{"key":"flag","match":{"value":false}}]})",
      std::string(R"({"must":[{"key":"u","match":{"value":")") + uuids[1] + "\"}}]}"};
  for (int round = 0; round < 300; ++round) filters.push_back(RandomFilter(rng, 2, false));
  int bounded = 0;
  for (const std::string& text : filters) {
    INFO("filter: " << text);
    const Filter filter = F(text);
    std::optional<std::vector<uint32_t>> a = original.Candidates(filter);
    std::optional<std::vector<uint32_t>> b = loaded.Candidates(filter);
    REQUIRE(a.has_value() == b.has_value());
    if (a) {
      ++bounded;
      std::vector<uint32_t> renumbered;
      for (uint32_t slot : *a) renumbered.push_back(remap[slot]);
      CHECK(renumbered == *b);
    }
    const CardinalityEstimate ea = original.Estimate(filter, kept.size());
    const CardinalityEstimate eb = loaded.Estimate(filter, kept.size());
    CHECK(ea.min == eb.min);
    CHECK(ea.expected == eb.expected);
    CHECK(ea.max == eb.max);
    CHECK(ea.max_candidates == eb.max_candidates);
  }
  CHECK(bounded > 50);

  // Truncated anywhere: a Corruption error. Flipped bytes: an error or some index, never a crash (the segment
  // file's section checksum catches flips before this decoder sees them).
  for (size_t n = 0; n < bytes.size(); n += 1 + n / 64) {
    PayloadIndex damaged;
    Status s = damaged.Decode(view.first(n), static_cast<uint32_t>(kept.size()), "test");
    INFO("prefix of " << n << " bytes");
    CHECK(s.IsCorruption());
  }
  for (size_t at = 0; at < bytes.size(); at += 1 + at / 32) {
    std::string flipped = bytes;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x5a);
    PayloadIndex damaged;
    Status s = damaged.Decode({reinterpret_cast<const uint8_t*>(flipped.data()), flipped.size()},
                              static_cast<uint32_t>(kept.size()), "test");
    if (!s.ok()) CHECK(s.IsCorruption());
  }
  // A slot past the segment's end is named.
  PayloadIndex small;
  Status s = small.Decode(view, 10, "seg-1-2.qvs SPIX");
  REQUIRE(s.IsCorruption());
  CHECK(s.message().find("seg-1-2.qvs SPIX") != std::string::npos);

  // KeepOnly drops what the collection no longer indexes, and a field whose type changed.
  REQUIRE(loaded.KeepOnly({{"k", FieldIndexType::kKeyword}, {"n", FieldIndexType::kFloat}}).ok());
  CHECK(loaded.Fields() ==
        std::vector<std::pair<std::string, FieldIndexType>>{{"k", FieldIndexType::kKeyword}});
}

// Past a few dozen entries estimates come from counts alone; on fields with one value per point they stay
// exact, and the candidate bound is the count itself.
TEST_CASE("payload index: counts are exact on single-valued fields at any size", "[payload][index]") {
  constexpr int kPoints = 5000;
  PayloadIndex index;
  REQUIRE(index.CreateField("n", FieldIndexType::kInteger).ok());
  REQUIRE(index.CreateField("f", FieldIndexType::kFloat).ok());
  REQUIRE(index.CreateField("d", FieldIndexType::kDatetime).ok());
  REQUIRE(index.CreateField("b", FieldIndexType::kBool).ok());
  REQUIRE(index.CreateField("k", FieldIndexType::kKeyword).ok());
  REQUIRE(index.CreateField("t", FieldIndexType::kText).ok());
  std::vector<boost::json::object> payloads;
  for (int i = 0; i < kPoints; ++i) {
    char ts[32];
    std::snprintf(ts, sizeof ts, "2023-01-%02dT%02d:%02d:00Z", 1 + i % 28, i % 24, i % 60);
    const std::string text =
        "{\"n\":" + std::to_string((i * 7919) % 1000) + ",\"f\":" + std::to_string((i % 777) * 0.5) +
        ",\"d\":\"" + ts + "\",\"b\":" + (i % 3 == 0 ? "true" : "false") + ",\"k\":\"k" +
        std::to_string(i % 50) + "\",\"t\":\"word" + std::to_string(i % 20) + " common\"}";
    payloads.push_back(*ParsePayloadText(text));
  }
  // Inserted out of slot order, as slots get reused.
  for (int i = kPoints - 1; i >= 0; i -= 2) index.Insert(static_cast<uint32_t>(i), payloads[i]);
  for (int i = 0; i < kPoints; i += 2) index.Insert(static_cast<uint32_t>(i), payloads[i]);
  for (const char* text : {
           R"({"must":[{"key":"n","range":{"lt":500}}]})",
           R"({"must":[{"key":"n","range":{"gte":10.5,"lte":11}}]})",
           R"({"must":[{"key":"n","range":{"gt":-1e300}}]})",
           R"({"must":[{"key":"n","match":{"value":7}}]})",
           R"({"must":[{"key":"n","match":{"any":[1,2,3,999,5000]}}]})",
           R"({"must":[{"key":"f","range":{"gt":100,"lte":250.5}}]})",
           R"({"must":[{"key":"d","range":{"gte":"2023-01-10","lt":"2023-01-20T12:00:00Z"}}]})",
           R"({"must":[{"key":"b","match":{"value":true}}]})",
           R"({"must":[{"key":"k","match":{"any":["k1","k2","k49","nope"]}}]})",
           R"({"must":[{"key":"t","match":{"text":"word3"}}]})",
           R"({"must_not":[{"key":"n","range":{"lt":100}}]})",
       }) {
    INFO(text);
    const Filter filter = F(text);
    size_t truth = 0;
    for (int i = 0; i < kPoints; ++i) truth += Matches(filter, PointId::Number(i), payloads[i]) ? 1 : 0;
    const CardinalityEstimate e = index.Estimate(filter, kPoints);
    CHECK(e.min == truth);
    CHECK(e.expected == truth);
    CHECK(e.max == truth);
    if (e.bounded) {
      CHECK(e.max_candidates == truth);
      CHECK(index.Candidates(filter)->size() == truth);
    }
  }
  // Text values hold several tokens each, so a union of token lists is bounded, not counted exactly: at least
  // its largest list, at most their sum.
  CardinalityEstimate e =
      index.Estimate(F(R"({"must":[{"key":"t","match":{"text_any":"word3 word4"}}]})"), kPoints);
  CHECK((e.min == 250 && e.max == 500 && e.min <= e.expected));
  // All of several tokens: at most the smallest token list; the estimate assumes independence.
  e = index.Estimate(F(R"({"must":[{"key":"t","match":{"text":"word3 common"}}]})"), kPoints);
  CHECK((e.min == 0 && e.expected == 250 && e.max == 250 && e.max_candidates == 250));
}

// Several values per point: a count of (value, point) entries is not a count of points, but each entry past
// a point's first is known in total, which bounds the points from below; here that bound is tight.
TEST_CASE("payload index: counts over multi-valued points stay bounds", "[payload][index]") {
  constexpr int kPoints = 3000;
  PayloadIndex index;
  REQUIRE(index.CreateField("m", FieldIndexType::kInteger).ok());
  std::vector<boost::json::object> payloads;
  for (int i = 0; i < kPoints; ++i) {
    const std::string m = i % 10 == 0   ? "[" + std::to_string(i) + "," + std::to_string(100000 + i) + "]"
                          : i % 10 == 1 ? "[" + std::to_string(i) + "," + std::to_string(i) + ".5]"
                                        : std::to_string(i);
    payloads.push_back(*ParsePayloadText("{\"m\":" + m + "}"));
    index.Insert(static_cast<uint32_t>(i), payloads.back());
  }
  for (const char* text :
       {R"({"must":[{"key":"m","range":{}}]})", R"({"must":[{"key":"m","range":{"gte":0}}]})",
        R"({"must":[{"key":"m","range":{"lt":100000}}]})",
        R"({"must":[{"key":"m","range":{"gte":1000,"lt":2000}}]})",
        R"({"must":[{"key":"m","range":{"gt":100100}}]})",
        R"({"must":[{"key":"m","match":{"any":[10,11,12,100010]}}]})"}) {
    INFO(text);
    const Filter filter = F(text);
    size_t truth = 0;
    for (int i = 0; i < kPoints; ++i) truth += Matches(filter, PointId::Number(i), payloads[i]) ? 1 : 0;
    const CardinalityEstimate e = index.Estimate(filter, kPoints);
    CHECK(e.min <= truth);
    CHECK(truth <= e.max);
    CHECK(e.max_candidates >= index.Candidates(filter)->size());
  }
  // Every entry: 3600 entries over 3000 points; the 300 second integers are known extra, the 300 floats
  // (kept aside, on points the integer index already counts) are counted as extra too.
  // (A larger total keeps max from being clipped, and min with it.)
  const CardinalityEstimate all = index.Estimate(F(R"({"must":[{"key":"m","range":{}}]})"), 2 * kPoints);
  CHECK((all.min == 3000 && all.max == 3600 && all.max_candidates == 3600));
}

TEST_CASE("payload index: bounded flag and limited candidates", "[payload][index]") {
  const std::vector<TestPoint> points = TestPoints();
  PayloadIndex index = Typed(points);
  const Filter berlin = F(R"({"must":[{"key":"city","match":{"value":"Berlin"}}]})");
  CardinalityEstimate e = index.Estimate(berlin, 15);
  CHECK((e.bounded && e.max_candidates == 2));
  CHECK(index.Bounded(berlin));
  CHECK_FALSE(index.Candidates(berlin, 1));
  CHECK(*index.Candidates(berlin, 2) == Slots({1, 3}));
  for (const char* text : {R"({"must":[{"has_id":[1,2]}]})", R"({"must":[{"is_empty":{"key":"city"}}]})",
                           "{}", R"({"must_not":[{"key":"city","match":{"value":"Berlin"}}]})",
                           R"({"should":[{"key":"city","match":{"value":"Berlin"}},{"has_id":[1]}]})"}) {
    INFO(text);
    e = index.Estimate(F(text), 15);
    CHECK_FALSE(e.bounded);
    CHECK(e.max_candidates == 0);
    CHECK_FALSE(index.Bounded(F(text)));
    CHECK_FALSE(index.Candidates(F(text), SIZE_MAX));
  }
  // has_id narrows the estimate, not the candidates.
  e = index.Estimate(F(R"({"must":[{"has_id":[1]},{"key":"count","range":{"gte":-100}}]})"), 15);
  CHECK((e.bounded && e.max == 1 && e.max_candidates == 8));  // 10 entries listed (<= 64): 8 distinct slots
  // should: the sum of its branches' bounds.
  e = index.Estimate(
      F(R"({"should":[{"key":"city","match":{"value":"Berlin"}},{"key":"city","match":{"value":"London"}}]})"),
      15);
  CHECK((e.bounded && e.max_candidates == 3));
  const Filter nothing = F(R"({"should":[]})");
  CHECK((index.Estimate(nothing, 15).bounded && index.Estimate(nothing, 15).max_candidates == 0));
  CHECK(index.Candidates(nothing, 0)->empty());
  PayloadIndex none;
  CHECK_FALSE(none.Estimate(berlin, 15).bounded);
  CHECK_FALSE(none.Estimate(nothing, 15).bounded);  // as Candidates: no index, no list
  CHECK_FALSE(none.Bounded(nothing));
}

TEST_CASE("payload index: must intersects only bounds near the smallest", "[payload][index]") {
  PayloadIndex index;
  REQUIRE(index.CreateField("k", FieldIndexType::kKeyword).ok());
  REQUIRE(index.CreateField("n", FieldIndexType::kInteger).ok());
  for (int i = 0; i < 1000; ++i) {
    const std::string k = i < 3 ? "rare" : "common";
    index.Insert(static_cast<uint32_t>(i),
                 *ParsePayloadText("{\"k\":\"" + k + "\",\"n\":" + std::to_string(i) + "}"));
  }
  // n >= 1 holds 999 slots, more than kIntersectRatio times the 3 of k = rare: not listed, not intersected.
  CHECK(*index.Candidates(
            F(R"({"must":[{"key":"n","range":{"gte":1}},{"key":"k","match":{"value":"rare"}}]})")) ==
        std::vector<uint32_t>({0, 1, 2}));
  // 1 <= n < 20 holds 19 <= 8 * 3: intersected.
  CHECK(*index.Candidates(
            F(R"({"must":[{"key":"n","range":{"gte":1,"lt":20}},{"key":"k","match":{"value":"rare"}}]})")) ==
        std::vector<uint32_t>({1, 2}));
}

TEST_CASE("ordered postings: ranks and runs against a std::set through splits and merges",
          "[payload][index]") {
  std::mt19937 rng(5);
  OrderedPostings<int64_t> postings;
  std::set<std::pair<int64_t, uint32_t>> truth;
  auto check = [&] {
    REQUIRE(postings.size() == truth.size());
    std::vector<uint32_t> all;
    for (const auto& entry : truth) all.push_back(entry.second);
    for (int64_t x = -60; x <= 60; x += 7) {
      const size_t below = static_cast<size_t>(
          std::count_if(truth.begin(), truth.end(), [x](const auto& entry) { return entry.first < x; }));
      CHECK(postings.CountBelow([x](int64_t k) { return k < x; }) == below);
    }
    CHECK(postings.CountBelow([](int64_t) { return true; }) == truth.size());
    CHECK(postings.CountBelow([](int64_t) { return false; }) == 0);
    std::uniform_int_distribution<size_t> rank(0, truth.size());
    size_t from = rank(rng), to = rank(rng);
    if (from > to) std::swap(from, to);
    std::vector<uint32_t> got;
    postings.ForEachSlot(from, to, [&](uint32_t slot) { got.push_back(slot); });
    CHECK(got == std::vector<uint32_t>(all.begin() + static_cast<std::ptrdiff_t>(from),
                                       all.begin() + static_cast<std::ptrdiff_t>(to)));
  };
  std::uniform_int_distribution<int64_t> key(-50, 50);
  std::uniform_int_distribution<uint32_t> slot(0, 400);
  auto insert = [&](int64_t k, uint32_t s) { CHECK(postings.Insert(k, s) == truth.insert({k, s}).second); };
  auto erase = [&](int64_t k, uint32_t s) { CHECK(postings.Erase(k, s) == (truth.erase({k, s}) == 1)); };
  check();
  for (uint32_t s = 0; s < 3000; ++s) insert(static_cast<int64_t>(s / 100), s);  // ascending: bulk load
  check();
  for (uint32_t s = 0; s < 3000; ++s) insert(-static_cast<int64_t>(s / 100), 5000 - s);  // descending
  check();
  for (int round = 0; round < 20; ++round) {
    for (int i = 0; i < 500; ++i) {
      if (rng() % 3 == 0) {
        erase(key(rng), slot(rng));
      } else {
        insert(key(rng), slot(rng));
      }
    }
    check();
  }
  // Erase everything (blocks shrink, merge and go), in an order unrelated to the keys, then start again.
  std::vector<std::pair<int64_t, uint32_t>> entries(truth.begin(), truth.end());
  std::shuffle(entries.begin(), entries.end(), rng);
  for (size_t i = 0; i < entries.size(); ++i) {
    erase(entries[i].first, entries[i].second);
    if (i % 1000 == 0) check();
  }
  check();
  CHECK(postings.size() == 0);
  CHECK_FALSE(postings.Erase(1, 1));
  insert(3, 3);
  insert(3, 3);
  check();
  CHECK(postings.MemoryUsage() > 0);
}

}  // namespace
}  // namespace quiver::payload
