#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "engine/db/db_test_util.h"
#include "engine/index/test_data.h"

namespace quiver {
namespace {

using testing::Ids;
using testing::MakeCollection;
using testing::OpenTestDatabase;
using testing::P;
using testing::SingleVector;

std::vector<PointId> Nums(std::initializer_list<uint64_t> ids) {
  std::vector<PointId> out;
  for (uint64_t id : ids) out.push_back(PointId::Number(id));
  return out;
}

TEST_CASE("collection: upsert, get, overwrite, delete", "[db][collection]") {
  auto db = OpenTestDatabase();
  auto col = MakeCollection(*db, "c", SingleVector(3, Distance::kEuclid));
  std::vector<PointInput> pts = {P(1, {1, 0, 0}, R"({"color":"red","n":1})"), P(2, {0, 1, 0}),
                                 P(3, {0, 0, 1}, R"({"color":"blue"})")};
  REQUIRE(col->Upsert(pts).ok());
  CHECK(col->Info().points_count == 3);

  auto got = col->Get(Nums({3, 99, 1}), PayloadSelector::All(), VectorSelector::All());
  REQUIRE(got.ok());
  REQUIRE(got->size() == 2);  // 99 does not exist
  CHECK((*got)[0].id.number() == 3);
  CHECK(*(*got)[0].payload == R"({"color":"blue"})");
  CHECK((*got)[1].vectors.at("") == std::vector<float>{1, 0, 0});
  CHECK(*(*got)[1].payload == R"({"color":"red","n":1})");

  // Upsert replaces the whole point, payload included.
  std::vector<PointInput> again = {P(1, {2, 2, 2})};
  REQUIRE(col->Upsert(again).ok());
  got = col->Get(Nums({1}), PayloadSelector::All(), VectorSelector::None());
  CHECK(*(*got)[0].payload == "{}");
  CHECK((*got)[0].vectors.empty());

  auto deleted = col->Delete(PointsSelector::Ids(Nums({1, 5})));
  REQUIRE(deleted.ok());
  CHECK(*deleted == 1);
  CHECK(col->Info().points_count == 2);
  CHECK(col->Get(Nums({1}), PayloadSelector::All(), VectorSelector::All())->empty());
  // A deleted id can be written again.
  REQUIRE(col->Upsert(again).ok());
  CHECK(col->Info().points_count == 3);
}

TEST_CASE("collection: duplicate ids in a batch, the last one wins", "[db][collection]") {
  auto db = OpenTestDatabase();
  auto col = MakeCollection(*db, "c", SingleVector(2, Distance::kDot));
  std::vector<PointInput> pts = {P(7, {1, 0}, R"({"v":1})"), P(7, {0, 1}, R"({"v":2})"), P(8, {1, 1})};
  REQUIRE(col->Upsert(pts).ok());
  CHECK(col->Info().points_count == 2);
  auto got = col->Get(Nums({7}), PayloadSelector::All(), VectorSelector::All());
  CHECK(*(*got)[0].payload == R"({"v":2})");
  CHECK((*got)[0].vectors.at("") == std::vector<float>{0, 1});
}

TEST_CASE("collection: bad input gets a clear error and changes nothing", "[db][collection]") {
  auto db = OpenTestDatabase();
  auto col = MakeCollection(*db, "c", SingleVector(3, Distance::kCosine));
  std::vector<PointInput> seed = {P(1, {1, 2, 3}, R"({"a":1})")};
  REQUIRE(col->Upsert(seed).ok());
  const std::string before = col->core().StateDigest();
  const float nan = std::numeric_limits<float>::quiet_NaN();

  auto expect = [&](Status s, StatusCode code, const std::string& message) {
    INFO(s.ToString());
    CHECK(s.code() == code);
    CHECK(s.message() == message);
    CHECK(col->core().StateDigest() == before);
  };
  std::vector<PointInput> wrong_dim = {P(2, {1, 2, 3}), P(3, {1, 2})};
  expect(col->Upsert(wrong_dim), StatusCode::kInvalidArgument,
         "points[1]: point 3: vector has 2 dimensions, expected 3");
  std::vector<PointInput> with_nan = {P(2, {1, nan, 3})};
  expect(col->Upsert(with_nan), StatusCode::kInvalidArgument,
         "points[0]: point 2: vector: vector[1] is NaN; vectors must hold finite numbers");
  std::vector<PointInput> with_inf = {P(2, {std::numeric_limits<float>::infinity(), 0, 0})};
  expect(col->Upsert(with_inf), StatusCode::kInvalidArgument,
         "points[0]: point 2: vector: vector[0] is infinite; vectors must hold finite numbers");
  PointInput named = P(2, {1, 2, 3});
  named.vectors["image"] = {1, 2, 3};
  std::vector<PointInput> unknown_name = {named};
  expect(col->Upsert(unknown_name), StatusCode::kInvalidArgument,
         "points[0]: collection c has no vector named 'image'");
  std::vector<PointInput> no_vector = {PointInput{PointId::Number(2), {}, ""}};
  expect(col->Upsert(no_vector), StatusCode::kInvalidArgument, "points[0]: point 2: a vector is required");
  std::vector<PointInput> array_payload = {P(2, {1, 2, 3}, "[1,2]")};
  Status s = col->Upsert(array_payload);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message().find("points[0]: payload") == 0);
  CHECK(col->core().StateDigest() == before);
  std::vector<PointInput> broken_payload = {P(2, {1, 2, 3}, R"({"a":)")};
  s = col->Upsert(broken_payload);
  CHECK(s.IsInvalidArgument());
  CHECK(col->core().StateDigest() == before);

  // Payload operations: not an object, unknown ids.
  CHECK(col->SetPayload(PointsSelector::Ids(Nums({1})), "3").status().IsInvalidArgument());
  expect(col->SetPayload(PointsSelector::Ids(Nums({1, 42})), R"({"b":2})").status(), StatusCode::kNotFound,
         "no point with id 42 in collection c");
  expect(col->ClearPayload(PointsSelector::Ids(Nums({42}))).status(), StatusCode::kNotFound,
         "no point with id 42 in collection c");

  // Searches: wrong dimension, NaN, unknown vector, malformed filter, zero limit.
  SearchRequest req;
  req.vector = {1, 2};
  CHECK(col->Search(req).status().message() == "query vector has 2 dimensions, expected 3");
  req.vector = {1, nan, 0};
  CHECK(col->Search(req).status().message() == "query: vector[1] is NaN; vectors must hold finite numbers");
  req.vector = {1, 0, 0};
  req.vector_name = "text";
  CHECK(col->Search(req).status().message() == "collection c has no vector named 'text'");
  req.vector_name = "";
  req.filter = R"({"must": [{"key": "a", "match": {"value": 1}}, )";
  CHECK(col->Search(req).status().IsInvalidArgument());
  req.filter = R"({"must": [{"key": "a", "range": {"gte": "x"}}]})";
  Status fs = col->Search(req).status();
  CHECK(fs.IsInvalidArgument());
  CHECK(fs.message().find("filter.must[0].range") == 0);
  req.filter.clear();
  req.limit = 0;
  CHECK(col->Search(req).status().message() == "limit must be at least 1");

  CHECK(PointId::Parse("12x").status().message() ==
        "'12x' is not a valid point id: expected an unsigned integer or a UUID");
  CHECK(PointId::Parse("99999999999999999999").status().IsInvalidArgument());
  CHECK(col->core().StateDigest() == before);
}

TEST_CASE("collection: point ids in every UUID form Qdrant accepts name one point", "[db][collection]") {
  // The Rust uuid crate's forms (issue 10): hyphenated, simple, braced, URN; hex digits in either case.
  const char* canonical = "550e8400-e29b-41d4-a716-446655440000";
  for (const char* form :
       {"550e8400-e29b-41d4-a716-446655440000", "550E8400E29B41D4A716446655440000",
        "{550e8400-E29B-41d4-a716-446655440000}", "urn:uuid:550e8400-e29b-41d4-a716-446655440000"}) {
    INFO(form);
    Result<PointId> id = PointId::Parse(form);
    REQUIRE(id.ok());
    CHECK(id->ToString() == canonical);
  }
  for (const char* bad :
       {"{550e8400e29b41d4a716446655440000}", "URN:UUID:550e8400-e29b-41d4-a716-446655440000",
        "urn:uuid:{550e8400-e29b-41d4-a716-446655440000}", "{550e8400-e29b-41d4-a716-446655440000",
        "550e8400-e29b-41d4-a716-4466554400001", " 550e8400-e29b-41d4-a716-446655440000"}) {
    INFO(bad);
    CHECK(PointId::Parse(bad).status().message() ==
          "'" + std::string(bad) + "' is not a valid point id: expected an unsigned integer or a UUID");
  }
  auto db = OpenTestDatabase();
  auto col = MakeCollection(*db, "c", SingleVector(2, Distance::kCosine));
  PointInput p = P(0, {1, 2});
  p.id = *PointId::Parse("{550e8400-e29b-41d4-a716-446655440000}");
  REQUIRE(col->Upsert({&p, 1}).ok());
  const PointId urn = *PointId::Parse("urn:uuid:550E8400-E29B-41D4-A716-446655440000");
  Result<std::vector<Record>> got = col->Get({&urn, 1}, PayloadSelector{}, VectorSelector{});
  REQUIRE(got.ok());
  REQUIRE(got->size() == 1);
  CHECK((*got)[0].id.ToString() == canonical);
}

TEST_CASE("collection: payload operations", "[db][collection]") {
  auto db = OpenTestDatabase();
  auto col = MakeCollection(*db, "c", SingleVector(2, Distance::kDot));
  std::vector<PointInput> pts = {P(1, {1, 0}, R"({"a":1,"b":{"c":2,"d":3}})"), P(2, {0, 1}, R"({"a":2})")};
  REQUIRE(col->Upsert(pts).ok());
  auto payload_of = [&](uint64_t id) {
    auto got = col->Get(Nums({id}), PayloadSelector::All(), VectorSelector::None());
    REQUIRE(got->size() == 1);
    return *(*got)[0].payload;
  };

  CHECK(*col->SetPayload(PointsSelector::Ids(Nums({1})), R"({"a":5,"z":true})") == 1);
  CHECK(payload_of(1) == R"({"a":5,"b":{"c":2,"d":3},"z":true})");
  CHECK(*col->DeletePayloadKeys(PointsSelector::Ids(Nums({1})), {"z", "missing"}) == 1);
  CHECK(payload_of(1) == R"({"a":5,"b":{"c":2,"d":3}})");
  CHECK(*col->DeletePayloadKeys(PointsSelector::Ids(Nums({1})), {"b.c"}) == 1);
  CHECK(payload_of(1) == R"({"a":5,"b":{"d":3}})");
  CHECK(*col->OverwritePayload(PointsSelector::Ids(Nums({1})), R"({"x":1})") == 1);
  CHECK(payload_of(1) == R"({"x":1})");
  CHECK(*col->ClearPayload(PointsSelector::Ids(Nums({1}))) == 1);
  CHECK(payload_of(1) == "{}");

  // By filter.
  CHECK(*col->SetPayload(PointsSelector::Filter(R"({"must":[{"key":"a","match":{"value":2}}]})"),
                         R"({"t":1})") == 1);
  CHECK(payload_of(2) == R"({"a":2,"t":1})");
  CHECK(*col->Delete(PointsSelector::Filter(R"({"must":[{"key":"t","match":{"value":1}}]})")) == 1);
  CHECK(col->Info().points_count == 1);

  // Selectors.
  REQUIRE(col->Upsert(std::vector<PointInput>{P(3, {1, 1}, R"({"a":1,"b":{"c":2,"d":3},"e":4})")}).ok());
  auto inc = col->Get(Nums({3}), PayloadSelector::Include({"a", "b.c"}), VectorSelector::None());
  CHECK(*(*inc)[0].payload == R"({"a":1,"b":{"c":2}})");
  auto exc = col->Get(Nums({3}), PayloadSelector::Exclude({"b"}), VectorSelector::None());
  CHECK(*(*exc)[0].payload == R"({"a":1,"e":4})");
  auto none = col->Get(Nums({3}), PayloadSelector::None(), VectorSelector::None());
  CHECK_FALSE((*none)[0].payload.has_value());
}

TEST_CASE("collection: scroll pages in id order, numbers before UUIDs", "[db][collection]") {
  auto db = OpenTestDatabase();
  auto col = MakeCollection(*db, "c", SingleVector(2, Distance::kCosine));
  std::vector<PointInput> pts;
  for (uint64_t i : {5, 1, 9, 3, 7}) pts.push_back(P(i, {1, float(i)}, R"({"odd":true})"));
  PointInput u = P(0, {1, 1});
  u.id = *PointId::Parse("550e8400-e29b-41d4-a716-446655440000");
  pts.push_back(u);
  pts.push_back(P(4, {1, 4}, R"({"odd":false})"));
  REQUIRE(col->Upsert(pts).ok());

  ScrollRequest req;
  req.limit = 3;
  auto page = col->Scroll(req);
  REQUIRE(page.ok());
  CHECK(Ids(page->points) == std::vector<uint64_t>{1, 3, 4});
  REQUIRE(page->next_page_offset);
  CHECK(page->next_page_offset->number() == 5);
  req.offset = page->next_page_offset;
  page = col->Scroll(req);
  CHECK(Ids(page->points) == std::vector<uint64_t>{5, 7, 9});
  req.offset = page->next_page_offset;
  page = col->Scroll(req);
  REQUIRE(page->points.size() == 1);
  CHECK(page->points[0].id.is_uuid());
  CHECK(page->points[0].id.ToString() == "550e8400-e29b-41d4-a716-446655440000");
  CHECK_FALSE(page->next_page_offset);

  ScrollRequest filtered;
  filtered.limit = 10;
  filtered.filter = R"({"must":[{"key":"odd","match":{"value":true}}]})";
  CHECK(Ids(col->Scroll(filtered)->points) == std::vector<uint64_t>{1, 3, 5, 7, 9});
  CHECK(*col->Count(filtered.filter) == 5);
  CHECK(*col->Count("") == 7);
  CHECK(col->Scroll(ScrollRequest{"", 0}).status().IsInvalidArgument());
}

TEST_CASE("collection: scores follow Qdrant for every distance", "[db][collection]") {
  auto db = OpenTestDatabase();
  struct Case {
    Distance d;
    float expected_first, expected_second;
  };
  // Points (3,4) and (1,0); query (1,0).
  for (Case c : {Case{Distance::kCosine, 1.0f, 0.6f}, Case{Distance::kDot, 1.0f, 3.0f},
                 Case{Distance::kEuclid, 0.0f, std::sqrt(20.0f)}, Case{Distance::kManhattan, 0.0f, 6.0f}}) {
    const std::string name = std::string(DistanceName(c.d));
    INFO(name);
    for (IndexKind kind : {IndexKind::kHnsw, IndexKind::kFlat}) {
      auto col =
          MakeCollection(*db, name + (kind == IndexKind::kFlat ? "-flat" : ""), SingleVector(2, c.d, kind));
      std::vector<PointInput> pts = {P(1, {3, 4}), P(2, {1, 0})};
      REQUIRE(col->Upsert(pts).ok());
      SearchRequest req;
      req.vector = {1, 0};
      auto res = col->Search(req);
      REQUIRE(res.ok());
      REQUIRE(res->size() == 2);
      if (c.d == Distance::kDot) {
        CHECK(Ids(*res) == std::vector<uint64_t>{1, 2});  // dot: 3 beats 1
        CHECK((*res)[0].score == Approx(3.0f));
        CHECK((*res)[1].score == Approx(1.0f));
      } else {
        CHECK(Ids(*res) == std::vector<uint64_t>{2, 1});
        CHECK((*res)[0].score == Approx(c.expected_first));
        CHECK((*res)[1].score == Approx(c.expected_second));
      }
      // score_threshold keeps only results at least as good as the threshold.
      req.score_threshold = c.d == Distance::kDot ? 2.0f : (c.d == Distance::kCosine ? 0.9f : 1.0f);
      auto thr = col->Search(req);
      CHECK(thr->size() == 1);
      // offset skips the best.
      req.score_threshold.reset();
      req.offset = 1;
      auto off = col->Search(req);
      REQUIRE(off->size() == 1);
      CHECK(off->front().id == (*res)[1].id);
    }
  }
}

TEST_CASE("collection: a batch of exact searches answers as each search alone", "[db][collection]") {
  // Several segments (an in-memory database seals every 300 points), deletions, cosine (queries normalised),
  // graph and flat segments, and requests of different limits, offsets and thresholds: the batch reads each
  // segment's vectors once for all the queries, in blocks, four rows per kernel call.
  DatabaseOptions options;
  options.replica_id = 1;
  options.segment_points = 300;
  auto opened = Database::Open(options);
  REQUIRE(opened.ok());
  auto db = std::move(*opened);
  constexpr uint32_t kDim = 19;  // not a multiple of the kernels' widths
  auto col = MakeCollection(*db, "c", SingleVector(kDim, Distance::kCosine));
  const std::vector<float> base = index::testing::Mixture(1000, kDim, 5);
  std::vector<PointId> ids;
  for (uint64_t i = 0; i < 1000; ++i) ids.push_back(PointId::Number(i));
  REQUIRE(col->UpsertDense(ids, "", base, {}).ok());
  std::vector<PointId> gone;
  for (uint64_t i = 0; i < 1000; i += 7) gone.push_back(PointId::Number(i));
  REQUIRE(col->Delete(PointsSelector{gone, ""}).ok());
  const std::vector<float> queries = index::testing::Mixture(9, kDim, 6);
  std::vector<SearchRequest> batch;
  for (size_t q = 0; q < 9; ++q) {
    SearchRequest r;
    r.vector.assign(queries.begin() + q * kDim, queries.begin() + (q + 1) * kDim);
    r.exact = true;
    r.limit = 3 + q * 5;
    r.offset = q % 3;
    if (q == 4) r.score_threshold = 0.9f;
    if (q == 5) r.with_payload = PayloadSelector::All();
    batch.push_back(r);
  }
  auto together = col->SearchBatch(batch);
  REQUIRE(together.ok());
  REQUIRE(together->size() == batch.size());
  for (size_t q = 0; q < batch.size(); ++q) {
    INFO("query " << q);
    auto alone = col->Search(batch[q]);
    REQUIRE(alone.ok());
    CHECK(Ids((*together)[q]) == Ids(*alone));
    REQUIRE((*together)[q].size() == alone->size());
    for (size_t i = 0; i < alone->size(); ++i) {
      CHECK((*together)[q][i].score == Approx((*alone)[i].score).epsilon(1e-5));
    }
    for (const ScoredPoint& p : (*together)[q]) CHECK(p.id.number() % 7 != 0);
  }
  CHECK((*together)[0].size() == 3);
  // A bad request in the batch names itself, as searched one by one.
  batch[2].vector.pop_back();
  auto bad = col->SearchBatch(batch);
  REQUIRE(!bad.ok());
  CHECK(bad.status().message() == "searches[2]: query vector has 18 dimensions, expected 19");
}

TEST_CASE("collection: named vectors, batch search and recommend", "[db][collection]") {
  auto db = OpenTestDatabase();
  CollectionConfig cfg;
  cfg.vectors["image"] = VectorParams{2, Distance::kEuclid};
  cfg.vectors["text"] = VectorParams{3, Distance::kCosine};
  auto col = MakeCollection(*db, "c", cfg);
  std::vector<PointInput> pts(4);
  for (uint64_t i = 0; i < 4; ++i) {
    pts[i].id = PointId::Number(i + 1);
    pts[i].vectors["image"] = {float(i), 0};
    if (i != 3) pts[i].vectors["text"] = {1, float(i), 0};  // point 4 has no text vector
  }
  REQUIRE(col->Upsert(pts).ok());
  SearchRequest by_image;
  by_image.vector_name = "image";
  by_image.vector = {3.1f, 0};
  by_image.limit = 2;
  by_image.with_vector = VectorSelector::Only({"text"});
  SearchRequest by_text;
  by_text.vector_name = "text";
  by_text.vector = {1, 0, 0};
  by_text.limit = 10;
  std::vector<SearchRequest> batch = {by_image, by_text};
  auto res = col->SearchBatch(batch);
  REQUIRE(res.ok());
  CHECK(Ids((*res)[0]) == std::vector<uint64_t>{4, 3});
  CHECK((*res)[0][0].vectors.empty());  // point 4 has no text vector
  CHECK((*res)[0][1].vectors.count("text") == 1);
  CHECK(Ids((*res)[1]) == std::vector<uint64_t>{1, 2, 3});

  SearchRequest unnamed;
  unnamed.vector = {1, 0};
  CHECK(col->Search(unnamed).status().message() == "collection c has only named vectors; name one");

  RecommendRequest rec;
  rec.vector_name = "image";
  rec.positive = Nums({3});
  rec.negative = Nums({1});
  rec.limit = 2;
  auto r = col->Recommend(rec);
  REQUIRE(r.ok());
  // avg(pos) + (avg(pos) - avg(neg)) = 2*(2,0) - (0,0) = (4,0): point 4 first, examples excluded.
  CHECK(Ids(*r) == std::vector<uint64_t>{4, 2});
  rec.positive = Nums({77});
  CHECK(col->Recommend(rec).status().IsNotFound());
  rec.positive.clear();
  CHECK(col->Recommend(rec).status().message() == "positive: at least one positive example is required");
}

TEST_CASE("collection: payload indexes never change results", "[db][collection]") {
  auto db = OpenTestDatabase();
  auto plain = MakeCollection(*db, "plain", SingleVector(4, Distance::kEuclid));
  auto indexed = MakeCollection(*db, "indexed", SingleVector(4, Distance::kEuclid));
  REQUIRE(indexed->CreatePayloadIndex("city", "keyword").ok());
  REQUIRE(indexed->CreatePayloadIndex("n", "integer").ok());
  std::vector<PointInput> pts;
  const char* cities[] = {"Paris", "Oslo", "Lima"};
  for (uint64_t i = 0; i < 300; ++i) {
    pts.push_back(P(i, {float(i % 17), float(i % 5), float(i % 3), 1},
                    std::string(R"({"city":")") + cities[i % 3] + R"(","n":)" + std::to_string(i) + "}"));
  }
  REQUIRE(plain->Upsert(pts).ok());
  REQUIRE(indexed->Upsert(pts).ok());
  REQUIRE(indexed->CreatePayloadIndex("later", "float").ok());  // created after the data
  CHECK(indexed->CreatePayloadIndex("n", "keyword").code() == StatusCode::kAlreadyExists);
  CHECK(indexed->CreatePayloadIndex("n", "vector").IsInvalidArgument());
  CollectionInfo info = indexed->Info();
  REQUIRE(info.payload_schema.size() == 3);

  for (const char* filter :
       {R"({"must":[{"key":"city","match":{"value":"Oslo"}}]})",
        R"({"must":[{"key":"n","range":{"gte":10,"lt":40}}]})",
        R"({"should":[{"key":"city","match":{"value":"Lima"}},{"key":"n","range":{"lt":5}}]})",
        R"({"must_not":[{"key":"city","match":{"any":["Paris","Oslo"]}}]})"}) {
    INFO(filter);
    CHECK(*plain->Count(filter) == *indexed->Count(filter));
    SearchRequest req;
    req.vector = {3, 2, 1, 1};
    req.limit = 15;
    req.filter = filter;
    req.exact = true;
    CHECK(Ids(*plain->Search(req)) == Ids(*indexed->Search(req)));
    ScrollRequest sr;
    sr.limit = 1000;
    sr.filter = filter;
    CHECK(Ids(plain->Scroll(sr)->points) == Ids(indexed->Scroll(sr)->points));
  }
  // Payload changes keep the index in step.
  REQUIRE(indexed->SetPayload(PointsSelector::Ids(Nums({1})), R"({"city":"Oslo"})").ok());
  REQUIRE(plain->SetPayload(PointsSelector::Ids(Nums({1})), R"({"city":"Oslo"})").ok());
  REQUIRE(indexed->Delete(PointsSelector::Ids(Nums({4}))).ok());
  REQUIRE(plain->Delete(PointsSelector::Ids(Nums({4}))).ok());
  const char* oslo = R"({"must":[{"key":"city","match":{"value":"Oslo"}}]})";
  CHECK(*plain->Count(oslo) == *indexed->Count(oslo));
  REQUIRE(indexed->DeletePayloadIndex("city").ok());
  CHECK(indexed->DeletePayloadIndex("city").IsNotFound());
  CHECK(*plain->Count(oslo) == *indexed->Count(oslo));
}

}  // namespace
}  // namespace quiver
