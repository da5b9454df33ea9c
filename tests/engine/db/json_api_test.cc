#include "quiver/json.h"

#include <catch2/catch.hpp>

#include "engine/db/db_test_util.h"

namespace quiver {
namespace {

TEST_CASE("json: collection config round trip and errors", "[db][json]") {
  auto c = json::ParseCollectionConfig(R"({"vectors":{"size":4,"distance":"Dot"},"hnsw_config":{"m":8}})");
  REQUIRE(c.ok());
  CHECK(c->vectors.at("").size == 4);
  CHECK(c->vectors.at("").distance == Distance::kDot);
  CHECK(c->hnsw.m == 8);
  auto again = json::ParseCollectionConfig(json::CollectionConfigToJson(*c));
  REQUIRE(again.ok());
  CHECK(json::CollectionConfigToJson(*again) == json::CollectionConfigToJson(*c));
  auto named = json::ParseCollectionConfig(R"({"vectors":{"img":{"size":3,"distance":"Euclid","index":"flat"}}})");
  REQUIRE(named.ok());
  CHECK(named->vectors.at("img").index == IndexKind::kFlat);
  CHECK(json::ParseCollectionConfig("{").status().message().find("config: malformed JSON") == 0);
  CHECK(json::ParseCollectionConfig(R"({"vectors":{"size":4,"distance":"cos"}})").status().message() ==
        "config.vectors.distance: distance 'cos' is not one of Cosine, Euclid, Dot, Manhattan");
  CHECK(json::ParseCollectionConfig(R"({"vectors":{"size":0,"distance":"Dot"}})").status().message() ==
        "config: vectors.size: 0 is out of range 1..65536");
  CHECK(json::ParseCollectionConfig(R"({"vectors":{"size":4,"distance":"Dot"},"x":1})").status().message() ==
        "config: unknown field 'x'");
}

TEST_CASE("json: upsert bodies, points and batch forms", "[db][json]") {
  auto pts = json::ParseUpsert(
      R"({"points":[{"id":1,"vector":[1,2.5],"payload":{"a":1}},{"id":"550e8400-e29b-41d4-a716-446655440000","vector":{"img":[3,4]}}]})");
  REQUIRE(pts.ok());
  REQUIRE(pts->size() == 2);
  CHECK((*pts)[0].vectors.at("") == std::vector<float>{1, 2.5f});
  CHECK((*pts)[0].payload == R"({"a":1})");
  CHECK((*pts)[1].id.is_uuid());
  CHECK((*pts)[1].vectors.at("img") == std::vector<float>{3, 4});
  auto batch = json::ParseUpsert(R"({"batch":{"ids":[5,6],"vectors":[[1],[2]],"payloads":[{"x":1},null]}})");
  REQUIRE(batch.ok());
  CHECK((*batch)[1].vectors.at("") == std::vector<float>{2});
  CHECK((*batch)[1].payload.empty());
  CHECK(json::ParseUpsert(R"({"points":[{"id":-1,"vector":[1]}]})").status().message() ==
        "upsert.points[0].id: expected a point id (an unsigned integer or a UUID string)");
  CHECK(json::ParseUpsert(R"({"points":[{"id":1,"vector":[1,"x"]}]})").status().message() ==
        "upsert.points[0].vector[1]: expected a number");
  CHECK(json::ParseUpsert(R"({"points":[{"id":1,"vector":[1e300]}]})").status().message() ==
        "upsert.points[0].vector[0]: the number does not fit a finite float");
  CHECK(json::ParseUpsert(R"({"points":[{"id":1,"vector":[1],"payload":[1]}]})").status().message() ==
        "upsert.points[0].payload: expected a JSON object");
  CHECK(json::ParseUpsert(R"({"batch":{"ids":[1,2],"vectors":[[1]]}})").status().message() ==
        "upsert.batch.vectors: expected one vector per id");
  CHECK(json::ParseUpsert("[]").status().message() == "upsert: expected a JSON object");
}

TEST_CASE("json: search, recommend, scroll, count, selectors", "[db][json]") {
  auto s = json::ParseSearch(
      R"({"vector":{"name":"img","vector":[1,2]},"filter":{"must":[]},"limit":3,"offset":1,"with_payload":["a"],
          "with_vector":true,"score_threshold":0.5,"params":{"hnsw_ef":77,"exact":true}})");
  REQUIRE(s.ok());
  CHECK(s->vector_name == "img");
  CHECK(s->limit == 3);
  CHECK(s->offset == 1);
  CHECK(s->filter == R"({"must":[]})");
  CHECK(s->with_payload.mode == PayloadSelector::Mode::kInclude);
  CHECK(s->with_vector.all);
  CHECK(*s->score_threshold == 0.5f);
  CHECK(*s->hnsw_ef == 77);
  CHECK(s->exact);
  CHECK(json::ParseSearch(R"({"vector":[1],"limit":0})").status().message() == "search.limit: expected a positive integer");
  CHECK(json::ParseSearch(R"({"limit":1})").status().message() == "search: missing 'vector'");
  auto batch = json::ParseSearchBatch(R"({"searches":[{"vector":[1]},{"vector":[2],"limit":2}]})");
  REQUIRE(batch.ok());
  CHECK((*batch)[1].limit == 2);
  CHECK(json::ParseSearchBatch(R"({"searches":[{"vector":[1]},{"limit":2}]})").status().message() ==
        "search_batch.searches[1]: missing 'vector'");
  auto r = json::ParseRecommend(R"({"positive":[1,[0.5,1]],"negative":[2],"using":"v","limit":4})");
  REQUIRE(r.ok());
  CHECK(r->positive.size() == 1);
  CHECK(r->positive_vectors.size() == 1);
  CHECK(r->vector_name == "v");
  CHECK(json::ParseRecommend(R"({"positive":[1],"strategy":"best_score"})").status().message() ==
        "recommend.strategy: only \"average_vector\" is supported");
  auto sc = json::ParseScroll(R"({"limit":5,"offset":"550e8400-e29b-41d4-a716-446655440000","with_payload":false})");
  REQUIRE(sc.ok());
  CHECK(sc->offset->is_uuid());
  CHECK(sc->with_payload.mode == PayloadSelector::Mode::kNone);
  CHECK(*json::ParseCount(R"({"filter":{"must":[]},"exact":true})") == R"({"must":[]})");
  CHECK(json::ParsePointsSelector(R"({"points":[1,2]})")->ids.size() == 2);
  CHECK(json::ParsePointsSelector(R"({"points":[1],"filter":{}})").status().message() ==
        "selector: expected either 'points' or 'filter'");
  auto sp = json::ParseSetPayload(R"({"payload":{"a":1},"filter":{"must":[]}})");
  REQUIRE(sp.ok());
  CHECK(sp->points.filter == R"({"must":[]})");
  CHECK(json::ParseDeletePayloadKeys(R"({"keys":["a","b.c"],"points":[1]})")->keys.size() == 2);
  auto idx = json::ParseCreatePayloadIndex(R"({"field_name":"city","field_schema":{"type":"keyword"}})");
  REQUIRE(idx.ok());
  CHECK(idx->type == "keyword");
}

TEST_CASE("json: results print in Qdrant's shapes", "[db][json]") {
  auto db = testing::OpenTestDatabase();
  auto col = testing::MakeCollection(*db, "c", testing::SingleVector(2, Distance::kEuclid));
  REQUIRE(col->Upsert(*json::ParseUpsert(R"({"points":[{"id":1,"vector":[0,0],"payload":{"a":"x"}},{"id":2,"vector":[3,4]}]})")).ok());
  SearchRequest req = *json::ParseSearch(R"({"vector":[0,0],"with_payload":true,"with_vector":true})");
  CHECK(json::ScoredPointsToJson(*col->Search(req)) ==
        R"([{"id":1,"version":0,"score":0,"payload":{"a":"x"},"vector":[0,0]},{"id":2,"version":0,"score":5,"payload":{},"vector":[3,4]}])");
  ScrollRequest sr = *json::ParseScroll(R"({"limit":1})");
  CHECK(json::ScrollResultToJson(*col->Scroll(sr)) == R"({"points":[{"id":1,"payload":{"a":"x"}}],"next_page_offset":2})");
  std::string info = json::CollectionInfoToJson(col->Info());
  CHECK(info.find(R"("points_count":2)") != std::string::npos);
  CHECK(info.find(R"("vectors":{"size":2,"distance":"Euclid"})") != std::string::npos);
}

}  // namespace
}  // namespace quiver
