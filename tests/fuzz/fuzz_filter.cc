// The filter language (payload/filter_parser.cc, payload/filter.cc, the payload indexes): any text parses to a
// filter or gives InvalidArgument, and a parsed filter means the same thing everywhere. Three oracles must
// agree on every input: Matches() evaluated point by point over the payloads, a collection that counts,
// scrolls and searches with payload indexes on every field, and the same collection without indexes ("an
// index changes only the speed of a filter, never its result").
#include <cstddef>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "fuzz_util.h"
#include "payload/filter.h"
#include "payload/json_util.h"

using namespace quiver;

namespace {

struct Fixture {
  std::unique_ptr<Database> db;
  std::shared_ptr<Collection> indexed, plain;
  std::vector<std::pair<PointId, boost::json::object>> points;  // in id order
};

std::string Payload(int i) {
  static const char* kCities[] = {"Oslo", "Lima", "Pune", "Kyiv"};
  std::string p = "{";
  switch (i % 6) {
    case 0: p += R"("city":null,)"; break;
    case 1: p += R"("city":["Oslo","Lima"],)"; break;
    case 2: break;
    default: p += std::string(R"("city":")") + kCities[i % 4] + R"(",)";
  }
  if (i % 7 == 3) {
    p += R"("year":1995.5,)";
  } else if (i % 7 == 5) {
    p += R"("year":"2001",)";
  } else {
    p += R"("year":)" + std::to_string(1990 + i) + ",";
  }
  p += R"("price":)" + std::to_string(i * 1.25) + ",";
  if (i % 5 == 0) {
    p += R"("tags":[],)";
  } else if (i % 5 != 1) {
    p += R"("tags":["t)" + std::to_string(i % 3) + R"(","all"],)";
  }
  p += std::string(R"("flag":)") + (i % 2 ? "true" : "false") + ",";
  p += R"("uid":"550e8400-e29b-41d4-a716-4466554400)" + std::to_string(10 + i % 4) + R"(",)";
  p += R"("date":"2024-01-)" + std::to_string(10 + i % 9) + R"(T10:00:00Z",)";
  p += R"("loc":{"lon":)" + std::to_string(10 + i) + R"(.5,"lat":)" + std::to_string(50 + i % 9) + ".25},";
  p += R"("desc":"the quick brown fox number )" + std::to_string(i % 4) + R"(",)";
  if (i % 4 == 2) p += R"("n":null,)";
  p += R"("nested":[{"a":)" + std::to_string(i) + R"(,"b":"x"},{"a":)" + std::to_string(i + 1) + R"(,"b":"y"}])";
  return p + "}";
}

Fixture* MakeFixture() {
  auto* f = new Fixture;
  DatabaseOptions o;
  o.replica_id = 7;
  o.wall_clock_ms = [] { return uint64_t{1'767'225'600'000}; };
  f->db = std::move(*Database::Open(o));
  CollectionConfig config;
  config.vectors["v"] = VectorParams{3, Distance::kEuclid};
  FUZZ_CHECK_OK(f->db->CreateCollection("indexed", config));
  FUZZ_CHECK_OK(f->db->CreateCollection("plain", config));
  f->indexed = *f->db->GetCollection("indexed");
  f->plain = *f->db->GetCollection("plain");
  for (const auto& [field, type] :
       std::vector<std::pair<const char*, const char*>>{{"city", "keyword"}, {"year", "integer"},
                                                         {"price", "float"}, {"flag", "bool"},
                                                         {"uid", "uuid"}, {"date", "datetime"},
                                                         {"loc", "geo"}, {"desc", "text"},
                                                         {"tags", "keyword"}, {"nested[].a", "integer"}}) {
    FUZZ_CHECK_OK(f->indexed->CreatePayloadIndex(field, type));
  }
  std::vector<PointInput> points;
  for (int i = 0; i < 24; ++i) {
    PointInput p;
    if (i % 8 == 7) {
      PointId::UuidBytes u{};
      u[6] = 0x40;
      u[8] = 0x80;
      u[15] = static_cast<uint8_t>(i);
      p.id = PointId::Uuid(u);
    } else {
      p.id = PointId::Number(static_cast<uint64_t>(i));
    }
    if (i % 9 != 4) p.vectors["v"] = {float(i % 5), float(i % 3), 1.0f};
    p.payload = Payload(i);
    points.push_back(p);
    f->points.emplace_back(p.id, *payload::ParsePayloadText(p.payload));
  }
  FUZZ_CHECK_OK(f->indexed->Upsert(points));
  FUZZ_CHECK_OK(f->plain->Upsert(points));
  std::sort(f->points.begin(), f->points.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  return f;
}

std::vector<PointId> Scrolled(const Collection& c, const std::string& filter) {
  ScrollRequest r;
  r.filter = filter;
  r.limit = 100;
  r.with_payload = PayloadSelector::None();
  auto result = c.Scroll(r);
  FUZZ_CHECK_OK(result);
  std::vector<PointId> ids;
  for (const Record& rec : result->points) ids.push_back(rec.id);
  return ids;
}

std::set<PointId> Searched(const Collection& c, const std::string& filter) {
  SearchRequest r;
  r.vector = {1, 1, 1};
  r.vector_name = "v";
  r.filter = filter;
  r.limit = 100;
  auto result = c.Search(r);
  FUZZ_CHECK_OK(result);
  std::set<PointId> ids;
  for (const ScoredPoint& p : *result) ids.insert(p.id);
  return ids;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Fixture* fixture = MakeFixture();
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (text.empty()) return 0;  // no filter, to the collection
  auto filter = payload::ParseFilterText(text);
  if (!filter.ok()) {
    FUZZ_CHECK(filter.status().IsInvalidArgument());
    FUZZ_CHECK(!fixture->plain->Count(text).ok());
    return 0;
  }
  std::vector<PointId> expected;
  std::set<PointId> expected_with_vector;
  for (const auto& [id, obj] : fixture->points) {
    if (!payload::Matches(*filter, id, obj)) continue;
    expected.push_back(id);
    if (id.is_uuid() || id.number() % 9 != 4) expected_with_vector.insert(id);
  }
  for (const Collection* c : {fixture->indexed.get(), fixture->plain.get()}) {
    auto n = c->Count(text);
    FUZZ_CHECK_OK(n);
    FUZZ_CHECK(*n == expected.size());
    FUZZ_CHECK(Scrolled(*c, text) == expected);
    FUZZ_CHECK(Searched(*c, text) == expected_with_vector);
  }
  return 0;
}
