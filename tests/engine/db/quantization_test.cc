// Scalar quantization through the database: the config (JSON, validation, persistence), per-search params,
// and results: rescored searches keep recall and report float scores, `ignore` walks the floats, and a
// reopened database searches exactly as before closing.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <set>

#include "db/database_core.h"
#include "db/segment.h"
#include "db/segment_file.h"
#include "engine/db/db_test_util.h"
#include "engine/index/test_data.h"
#include "index/hnsw_index.h"
#include "quiver/api.h"
#include "storage/storage_memory.h"

namespace quiver {
namespace {

constexpr uint32_t kDim = 32;
constexpr size_t kPoints = 3000;

CollectionConfig QuantizedConfig(Distance distance, bool quantized) {
  CollectionConfig c = testing::SingleVector(kDim, distance);
  c.hnsw.full_scan_threshold_kb = 0;  // always walk the graph
  if (quantized) c.quantization = ScalarQuantization{0.99, true};
  return c;
}

void Fill(Collection& c, const std::vector<float>& base) {
  std::vector<PointInput> batch;
  for (size_t i = 0; i < kPoints; ++i) {
    batch.push_back(testing::P(i, std::vector<float>(base.begin() + i * kDim, base.begin() + (i + 1) * kDim),
                               "{\"even\":" + std::string(i % 2 == 0 ? "true" : "false") + "}"));
    if (batch.size() == 500) {
      REQUIRE(c.Upsert(batch).ok());
      batch.clear();
    }
  }
}

SearchRequest Query(const std::vector<float>& queries, size_t q) {
  SearchRequest r;
  r.vector.assign(queries.begin() + q * kDim, queries.begin() + (q + 1) * kDim);
  r.limit = 10;
  r.hnsw_ef = 128;
  return r;
}

TEST_CASE("quantization: the config round-trips through JSON and bad configs are named", "[db][sq8]") {
  auto c = api::ParseCollectionConfig(
      R"({"vectors":{"a":{"size":4,"distance":"Dot","quantization_config":{"scalar":{"type":"int8","quantile":0.95}}},)"
      R"("b":{"size":2,"distance":"Euclid"}},"quantization_config":{"scalar":{"type":"int8","always_ram":false}}})");
  INFO(c.status().ToString());
  REQUIRE(c.ok());
  REQUIRE(c->quantization);
  CHECK(c->quantization->quantile == 1.0);
  CHECK_FALSE(c->quantization->always_ram);
  REQUIRE(c->vectors.at("a").quantization);
  CHECK(c->vectors.at("a").quantization->quantile == 0.95);
  CHECK_FALSE(c->vectors.at("b").quantization);
  const std::string text = api::PrintCollectionConfig(*c);
  CHECK(
      text.find(R"("quantization_config":{"scalar":{"type":"int8","quantile":0.95,"always_ram":true}})") !=
      std::string::npos);
  auto again = api::ParseCollectionConfig(text);
  REQUIRE(again.ok());
  CHECK(api::PrintCollectionConfig(*again) == text);

  struct Bad {
    const char* body;
    const char* message;
  };
  for (
      Bad b : {
          Bad{R"({"vectors":{"size":4,"distance":"Dot"},"quantization_config":{"scalar":{"type":"int4"}}})",
              "config.quantization_config.scalar.type: expected \"int8\""},
          Bad{R"({"vectors":{"size":4,"distance":"Dot"},"quantization_config":{"scalar":{"type":"int8","quantile":0.3}}})",
              "config.quantization_config.scalar.quantile: expected a number from 0.5 to 1"},
          Bad{R"({"vectors":{"size":4,"distance":"Dot"},"quantization_config":{"product":{"compression":"x4"}}})",
              "config.quantization_config: only scalar quantization is supported"},
          Bad{R"({"vectors":{"size":4,"distance":"Dot"},"quantization_config":{"scalar":{}}})",
              "config.quantization_config.scalar: missing 'type'"},
          Bad{R"({"vectors":{"size":4,"distance":"Dot","quantization_config":[1]}})",
              "config.vectors.quantization_config: expected an object"},
          Bad{R"({"vectors":{"size":4,"distance":"Dot"},"quantization_config":{"scalar":{"type":"int8","always_ram":1}}})",
              "config.quantization_config.scalar.always_ram: expected true or false"},
      }) {
    auto r = api::ParseCollectionConfig(b.body);
    INFO(b.body);
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().code() == StatusCode::kInvalidArgument);
    CHECK(std::string(r.status().message()).find(b.message) == 0);
  }
  // The C++ API validates too.
  auto db = testing::OpenTestDatabase();
  CollectionConfig bad = QuantizedConfig(Distance::kCosine, true);
  bad.quantization->quantile = 1.5;
  Status s = db->CreateCollection("x", bad);
  CHECK(s.code() == StatusCode::kInvalidArgument);
  CHECK(std::string(s.message()).find("quantization_config.scalar.quantile: 1.5") != std::string::npos);
  CHECK(db->ListCollections().empty());
}

TEST_CASE("quantization: search params are parsed and checked", "[db][sq8]") {
  auto r = api::ParseSearch(
      R"({"vector":[1,2],"limit":3,"params":{"hnsw_ef":20,"quantization":{"ignore":true,"rescore":false,"oversampling":2.5}}})");
  REQUIRE(r.ok());
  CHECK(r->quantization.ignore);
  CHECK_FALSE(r->quantization.rescore);
  CHECK(r->quantization.oversampling == 2.5);
  auto d = api::ParseSearch(R"({"vector":[1,2]})");
  REQUIRE(d.ok());
  CHECK_FALSE(d->quantization.ignore);
  CHECK(d->quantization.rescore);
  CHECK(d->quantization.oversampling == 1.0);
  for (auto [body, message] : {
           std::pair{R"({"vector":[1],"params":{"quantization":{"oversampling":0.5}}})",
                     "search.params.quantization.oversampling: expected a number from 1 to 1000"},
           std::pair{R"({"vector":[1],"params":{"quantization":{"ignore":"yes"}}})",
                     "search.params.quantization.ignore: expected true or false"},
           std::pair{R"({"vector":[1],"params":{"quantization":{"bits":2}}})",
                     "search.params.quantization: unknown field 'bits'"},
       }) {
    auto bad = api::ParseSearch(body);
    INFO(body);
    REQUIRE_FALSE(bad.ok());
    CHECK(std::string(bad.status().message()).find(message) == 0);
  }
}

TEST_CASE("quantization: in memory, rescored code searches keep recall and float scores", "[db][sq8]") {
  auto base = index::testing::Mixture(kPoints, kDim, 91);
  auto queries = index::testing::Mixture(100, kDim, 92);
  for (Distance distance : {Distance::kCosine, Distance::kEuclid}) {
    INFO("distance " << DistanceName(distance));
    auto db = testing::OpenTestDatabase();
    auto plain = testing::MakeCollection(*db, "plain", QuantizedConfig(distance, false));
    auto sq = testing::MakeCollection(*db, "sq", QuantizedConfig(distance, true));
    Fill(*plain, base);
    Fill(*sq, base);
    // 3,000 points: quantized at 1,024 and again at 2,048; the codes take memory.
    CHECK(sq->Stats().memory_bytes > plain->Stats().memory_bytes + kPoints * kDim / 2);
    REQUIRE(sq->Optimize().ok());

    size_t hits = 0, total = 0, differ = 0;
    for (size_t q = 0; q < 100; ++q) {
      SearchRequest req = Query(queries, q);
      SearchRequest exact = req;
      exact.exact = true;
      auto truth = plain->Search(exact);
      auto got = sq->Search(req);
      REQUIRE(got.ok());
      REQUIRE(got->size() == 10);
      std::set<uint64_t> want;
      for (const ScoredPoint& p : *truth) want.insert(p.id.number());
      for (const ScoredPoint& p : *got) hits += want.count(p.id.number());
      total += 10;
      // Rescored: the scores are the float scores an exact search reports for the same point.
      for (const ScoredPoint& p : *got) {
        SearchRequest one = exact;
        one.limit = 1;
        one.filter = R"({"must":[{"has_id":[)" + std::to_string(p.id.number()) + "]}]}";
        auto e = plain->Search(one);
        REQUIRE(e->size() == 1);
        REQUIRE(p.score == Approx((*e)[0].score).epsilon(1e-5).margin(1e-6));
      }
      // Ignoring the codes gives the unquantized collection's answer.
      req.quantization.ignore = true;
      CHECK(testing::Ids(*sq->Search(req)) == testing::Ids(*plain->Search(req)));
      // Without rescoring the scores are the codes' estimates.
      req.quantization = {false, false, 1.0};
      auto raw = sq->Search(req);
      REQUIRE(raw.ok());
      for (size_t i = 0; i < raw->size() && i < got->size(); ++i)
        differ += (*raw)[i].score != (*got)[i].score;
      // A filter walks the codes too and returns only matches.
      req.quantization = {};
      req.filter = R"({"must":[{"key":"even","match":{"value":true}}]})";
      auto filtered = sq->Search(req);
      REQUIRE(filtered.ok());
      CHECK(filtered->size() == 10);
      for (const ScoredPoint& p : *filtered) CHECK(p.id.number() % 2 == 0);
    }
    CHECK(double(hits) / double(total) >= 0.95);
    CHECK(differ > 0);
  }
}

TEST_CASE("quantization: a stored collection reopens with the config and the same results",
          "[db][sq8][storage]") {
  storage::MemoryStorage st;
  DatabaseOptions o;
  o.replica_id = 3;
  o.path = "mem";
  o.segment_points = 1000;
  auto base = index::testing::Mixture(kPoints, kDim, 93);
  auto queries = index::testing::Mixture(30, kDim, 94);
  std::vector<std::vector<ScoredPoint>> before;
  {
    auto db = db::DatabaseCore::OpenStorage(o, &st);
    REQUIRE(db.ok());
    REQUIRE((*db)->CreateCollection("c", QuantizedConfig(Distance::kDot, true)).ok());
    auto c = *(*db)->GetCollection("c");
    Fill(*c, base);
    REQUIRE(c->Optimize().ok());
    CHECK(c->Stats().unindexed_vectors == 0);
    for (size_t q = 0; q < 30; ++q) before.push_back(*c->Search(Query(queries, q)));
    REQUIRE((*db)->Close().ok());
  }
  auto db = db::DatabaseCore::OpenStorage(o, &st);
  REQUIRE(db.ok());
  auto c = *(*db)->GetCollection("c");
  const CollectionInfo info = c->Info();
  REQUIRE(info.config.quantization);
  CHECK(info.config.quantization->quantile == 0.99);
  CHECK(api::Print(api::Response(info)).find(
            R"("quantization_config":{"scalar":{"type":"int8","quantile":0.99)") != std::string::npos);
  for (size_t q = 0; q < 30; ++q) {
    auto after = c->Search(Query(queries, q));
    REQUIRE(after.ok());
    REQUIRE(after->size() == before[q].size());
    for (size_t i = 0; i < after->size(); ++i) {
      CHECK((*after)[i].id == before[q][i].id);
      CHECK((*after)[i].score == before[q][i].score);
    }
  }
  auto problems = c->Verify();
  REQUIRE(problems.ok());
  CHECK(problems->empty());
}

TEST_CASE("quantization: a segment file keeps the codes, trained on the rows there were then",
          "[db][sq8][storage]") {
  // In memory, the points' segment is a graph built as they arrive. 2,500 points in batches of 500: the codes
  // are learnt at 1,500 rows (the first batch past Segment::kQuantizeMinRows) and the later, wider rows are
  // encoded with that range, as the graph is not yet twice as large. The segment's file holds that quantizer,
  // and loading it keeps it instead of learning one from all 2,500 rows. (Stored segments are trained when
  // built, on all their rows; what loading saves them is the time to train and encode.)
  DatabaseOptions o;
  o.replica_id = 3;
  o.segment_points = 5000;
  constexpr size_t kStored = 2500;
  auto base = index::testing::Mixture(kStored, kDim, 95);
  for (size_t i = 1500 * kDim; i < base.size(); ++i) base[i] *= 3.0f;
  auto db = *db::DatabaseCore::Open(o);
  REQUIRE(db->CreateCollection("c", QuantizedConfig(Distance::kEuclid, true)).ok());
  auto c = *db->GetCollection("c");
  for (size_t first = 0; first < kStored; first += 500) {
    std::vector<PointInput> batch;
    for (size_t i = first; i < first + 500; ++i) {
      batch.push_back(
          testing::P(i, std::vector<float>(base.begin() + i * kDim, base.begin() + (i + 1) * kDim)));
    }
    REQUIRE(c->Upsert(batch).ok());
  }
  std::set<const db::Segment*> segs;
  c->core().VisitPoints([&](const db::PointState&, const db::Segment& seg) { segs.insert(&seg); });
  REQUIRE(segs.size() == 1);
  const db::Segment& seg = **segs.begin();
  auto* hnsw = dynamic_cast<const index::HnswIndex*>(&seg.vector_index(0));
  REQUIRE(hnsw != nullptr);
  REQUIRE(hnsw->quantizer() != nullptr);
  const index::ScalarQuantizer& q = *hnsw->quantizer();
  CHECK(q.trained_rows() == 1500);
  CHECK(q.size() == kStored);

  const std::string file = db::EncodeSegment(seg).Flatten();
  auto loaded = db::DecodeSegment({reinterpret_cast<const uint8_t*>(file.data()), file.size()}, seg.spaces(),
                                  seg.sparse_spaces(), nullptr, "segment");
  REQUIRE(loaded.ok());
  auto* again = dynamic_cast<const index::HnswIndex*>(&(*loaded)->vector_index(0));
  REQUIRE(again != nullptr);
  REQUIRE(again->quantizer() != nullptr);
  const index::ScalarQuantizer& r = *again->quantizer();
  CHECK(r.trained_rows() == 1500);
  CHECK(r.size() == kStored);
  CHECK(r.lo() == q.lo());
  CHECK(r.hi() == q.hi());
  CHECK(std::memcmp(r.Codes(0), q.Codes(0), kStored * q.code_stride()) == 0);
  // The same bytes when written again.
  CHECK(db::EncodeSegment(**loaded).Flatten() == file);

  // A collection whose quantization changed since the file was written: another quantile is learnt again,
  // none drops the codes.
  std::vector<db::VectorSpace> spaces = seg.spaces();
  spaces[0].quantization->quantile = 0.9;
  loaded = db::DecodeSegment({reinterpret_cast<const uint8_t*>(file.data()), file.size()}, spaces,
                             seg.sparse_spaces(), nullptr, "segment");
  REQUIRE(loaded.ok());
  again = dynamic_cast<const index::HnswIndex*>(&(*loaded)->vector_index(0));
  REQUIRE(again->quantizer() != nullptr);
  CHECK(again->quantizer()->quantile() == 0.9f);
  CHECK(again->quantizer()->trained_rows() == kStored);
  spaces[0].quantization.reset();
  loaded = db::DecodeSegment({reinterpret_cast<const uint8_t*>(file.data()), file.size()}, spaces,
                             seg.sparse_spaces(), nullptr, "segment");
  REQUIRE(loaded.ok());
  CHECK(dynamic_cast<const index::HnswIndex*>(&(*loaded)->vector_index(0))->quantizer() == nullptr);
}

}  // namespace
}  // namespace quiver
