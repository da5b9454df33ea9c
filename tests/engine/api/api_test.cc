// The request layer (quiver/api.h): every operation through Call, its printed result, and its errors.
#include "quiver/api.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "engine/db/db_test_util.h"

namespace quiver {
namespace {

using api::Operation;

// The printed result, or "error <code name>: <message>".
std::string Run(Database& db, Operation op, std::string_view collection, std::string_view body,
                std::string_view key = {}) {
  auto r = api::Call(db, op, {collection, key, key}, body);
  if (!r.ok()) return "error " + std::string(StatusCodeName(r.status().code())) + ": " + std::string(r.status().message());
  return api::Print(*r);
}

// A request and the answer it must get.
struct Case {
  Operation op;
  const char* body;
  const char* error;
};

std::unique_ptr<Database> WithPoints() {
  auto db = testing::OpenTestDatabase();
  REQUIRE(Run(*db, Operation::kCreateCollection, "c", R"({"vectors":{"size":2,"distance":"Euclid"}})") == "true");
  REQUIRE(Run(*db, Operation::kUpsertPoints, "c",
              R"({"points":[{"id":1,"vector":[0,0],"payload":{"a":"x","n":1}},{"id":2,"vector":[3,4],"payload":{"n":2}},)"
              R"({"id":"550e8400-e29b-41d4-a716-446655440000","vector":[1,0]}]})")
              .find("\"status\":\"completed\"") != std::string::npos);
  return db;
}

TEST_CASE("api: operations are named as Qdrant names them", "[api]") {
  for (size_t i = 0; i < api::kOperationCount; ++i) {
    const auto op = static_cast<Operation>(i);
    const api::OperationInfo& info = api::Describe(op);
    CHECK(info.operation == op);
    CHECK(api::FindOperation(info.name) == op);
  }
  CHECK(api::Describe(Operation::kUpsertPoints).name == "upsert_points");
  CHECK(api::Describe(Operation::kSearchBatch).name == "search_batch_points");
  CHECK(api::Describe(Operation::kUpsertPoints).writes);
  CHECK_FALSE(api::Describe(Operation::kScrollPoints).writes);
  CHECK_FALSE(api::FindOperation("upsert"));
}

TEST_CASE("api: collections and aliases", "[api]") {
  auto db = testing::OpenTestDatabase();
  CHECK(Run(*db, Operation::kListCollections, "", "") == R"({"collections":[]})");
  CHECK(Run(*db, Operation::kCreateCollection, "b", R"({"vectors":{"size":4,"distance":"Cosine"},"shard_number":2})") == "true");
  CHECK(Run(*db, Operation::kCreateCollection, "a", R"({"vectors":{"v":{"size":3,"distance":"Dot"}}})") == "true");
  CHECK(Run(*db, Operation::kCreateCollection, "a", R"({"vectors":{"size":3,"distance":"Dot"}})")
            .rfind("error already exists", 0) == 0);
  CHECK(Run(*db, Operation::kCreateCollection, "x", R"({"vectors":{"size":3,"distance":"Dot"},"colour":1})") ==
        "error invalid argument: create_collection: unknown field 'colour'");
  CHECK(Run(*db, Operation::kCreateCollection, "x",
            R"({"vectors":{"size":3,"distance":"Dot"},"sparse_vectors":{"s":{"index":{"datatype":"uint8"}}}})")
            .rfind("error not supported: create_collection.sparse_vectors.s.index.datatype", 0) == 0);
  CHECK(Run(*db, Operation::kListCollections, "", "") == R"({"collections":[{"name":"a"},{"name":"b"}]})");
  CHECK(Run(*db, Operation::kCollectionExists, "a", "") == R"({"exists":true})");
  CHECK(Run(*db, Operation::kCollectionExists, "z", "") == R"({"exists":false})");
  const std::string info = Run(*db, Operation::kGetCollection, "b", "");
  CHECK(info.find(R"("status":"green")") != std::string::npos);
  CHECK(info.find(R"("vectors":{"size":4,"distance":"Cosine"})") != std::string::npos);
  CHECK(Run(*db, Operation::kGetCollection, "z", "").rfind("error not found", 0) == 0);

  CHECK(Run(*db, Operation::kUpdateAliases, "",
            R"({"actions":[{"create_alias":{"collection_name":"a","alias_name":"x"}},)"
            R"({"create_alias":{"collection_name":"b","alias_name":"y"}}]})") == "true");
  CHECK(Run(*db, Operation::kListAliases, "", "") ==
        R"({"aliases":[{"alias_name":"x","collection_name":"a"},{"alias_name":"y","collection_name":"b"}]})");
  CHECK(Run(*db, Operation::kListCollectionAliases, "a", "") ==
        R"({"aliases":[{"alias_name":"x","collection_name":"a"}]})");
  CHECK(Run(*db, Operation::kUpdateAliases, "", R"({"actions":[{"rename_alias":{"old_alias_name":"x","new_alias_name":"w"}}]})") == "true");
  CHECK(Run(*db, Operation::kGetCollection, "w", "").find(R"("size":3)") != std::string::npos);
  // All or nothing: the second action fails, so the first is not applied either.
  CHECK(Run(*db, Operation::kUpdateAliases, "",
            R"({"actions":[{"delete_alias":{"alias_name":"w"}},{"delete_alias":{"alias_name":"nope"}}]})")
            .rfind("error not found", 0) == 0);
  CHECK(Run(*db, Operation::kCollectionExists, "a", "") == R"({"exists":true})");
  CHECK(Run(*db, Operation::kUpdateAliases, "", R"({"actions":[{"move_alias":{}}]})") ==
        "error invalid argument: update_aliases.actions[0]: unknown action 'move_alias' (create_alias, delete_alias or rename_alias)");
  CHECK(Run(*db, Operation::kDeleteCollection, "a", "") == "true");
  CHECK(Run(*db, Operation::kDeleteCollection, "a", "").rfind("error not found", 0) == 0);
  CHECK(Run(*db, Operation::kListAliases, "", "") == R"({"aliases":[{"alias_name":"y","collection_name":"b"}]})");
}

TEST_CASE("api: bodies are checked and named by path", "[api]") {
  auto db = WithPoints();
  for (const Case& c : {
           Case{Operation::kSearchPoints, "{", "error invalid argument: search: malformed JSON"},
           Case{Operation::kSearchPoints, "[1]", "error invalid argument: search: expected a JSON object, got an array"},
           Case{Operation::kSearchPoints, R"({"limit":1})", "error invalid argument: search: missing 'vector'"},
           Case{Operation::kSearchPoints, R"({"vector":[1,2],"limit":0})",
                "error invalid argument: search.limit: expected an integer from 1 to 1000000"},
           Case{Operation::kSearchPoints, R"({"vector":[1,2],"limit":1e30})",
                "error invalid argument: search.limit: expected an integer from 1 to 1000000"},
           Case{Operation::kSearchPoints, R"({"vector":[1,2,3]})",
                "error invalid argument: query vector has 3 dimensions, expected 2"},
           Case{Operation::kSearchPoints, R"({"vector":[1,"x"]})", "error invalid argument: search.vector[1]: expected a number, got a string"},
           Case{Operation::kSearchPoints, R"({"vector":[1,2],"filter":{"must":[{"key":"a","mach":{}}]}})",
                "error invalid argument: search.filter.must[0]"},
           Case{Operation::kSearchPoints, R"({"vector":[1,2],"wibble":1})", "error invalid argument: search: unknown field 'wibble'"},
           Case{Operation::kSearchPoints, R"({"vector":{"indices":[1],"values":[1]}})",
                "error invalid argument: search.vector: a sparse vector or document is searched by name"},
           Case{Operation::kSearchPoints, R"({"vector":{"name":"","vector":{"indices":[1],"values":[1]}}})",
                "error invalid argument: vector of collection c is dense"},
           Case{Operation::kUpsertPoints, R"({"points":[{"id":-1,"vector":[1,2]}]})",
                "error invalid argument: upsert.points[0].id: expected a point id (an unsigned integer or a UUID string), got the number -1"},
           Case{Operation::kUpsertPoints, R"({"points":[{"id":5,"vector":[1e300,0]}]})",
                "error invalid argument: upsert.points[0].vector[0]: the number does not fit a finite float"},
           Case{Operation::kUpsertPoints, R"({"points":[{"id":5,"vector":[1,2],"payload":[1]}]})",
                "error invalid argument: upsert.points[0].payload: expected a JSON object, got an array"},
           Case{Operation::kUpsertPoints, R"({"points":[{"id":5,"vector":[1,2,3]}]})",
                "error invalid argument: points[0]: point 5: vector has 3 dimensions, expected 2"},
           Case{Operation::kUpsertPoints, R"({"batch":{"ids":[1,2],"vectors":[[1,2]]}})",
                "error invalid argument: upsert.batch.vectors: 1 vectors for 2 ids"},
           Case{Operation::kUpsertPoints, R"({"points":[{"id":5,"vector":[1,2]}],"update_mode":"sometimes"})",
                "error invalid argument: upsert.update_mode: expected \"upsert\", \"insert_only\" or \"update_only\""},
           Case{Operation::kScrollPoints, R"({"order_by":"n"})",
                "error not supported: scroll.order_by: ordering a scroll by a payload field is not supported"},
           Case{Operation::kDeletePoints, R"({})", "error invalid argument: delete: expected 'points': [ids] or 'filter': {...}"},
           Case{Operation::kDeletePoints, R"({"points":[1],"filter":{}})", "error invalid argument: delete: give either 'points' or 'filter', not both"},
           Case{Operation::kSetPayload, R"({"points":[1]})", "error invalid argument: set_payload: missing 'payload'"},
           Case{Operation::kSetPayload, R"({"payload":{"a":1},"points":[1],"key":"x.y"})",
                "error not supported: set_payload.key"},
           Case{Operation::kGetPoints, R"({"ids":[1],"with_payload":{"include":["a["]}})",
                "error invalid argument: get_points.with_payload.include[0]"},
           Case{Operation::kCreateFieldIndex, R"({"field_name":"a","field_schema":"colour"})",
                "error invalid argument: create_field_index.field_schema"},
           Case{Operation::kCountPoints, R"({"exact":"yes"})", "error invalid argument: count.exact: expected true or false, got a string"},
           Case{Operation::kRecommendPoints, R"({"positive":[1],"limit":2,"lookup_from":{"collection":"d"}})",
                "error not supported: recommend.lookup_from"},
           Case{Operation::kBatchUpdate, R"({"operations":[{"update_vectors":{"points":[]}}]})",
                "error not supported: batch_update.operations[0].update_vectors"},
           Case{Operation::kGetCollection, R"({"x":1})", "error invalid argument: get_collection: takes no body, got field 'x'"},
       }) {
    INFO(api::Describe(c.op).name << " " << c.body);
    const std::string got = Run(*db, c.op, "c", c.body);
    CHECK(got.rfind(c.error, 0) == 0);
  }
  // Bodies nested beyond the limit are refused before any work.
  std::string deep(200, '[');
  deep = R"({"vector":[1,2],"filter":)" + deep + std::string(200, ']') + "}";
  CHECK(Run(*db, Operation::kSearchPoints, "c", deep).find("nested deeper than") != std::string::npos);
  // Nothing above was stored.
  CHECK(Run(*db, Operation::kCountPoints, "c", "") == R"({"count":3})");
}

// The rarer refusals, each answered with its code and the path of the field, and nothing stored.
TEST_CASE("api: unsupported and malformed fields are refused by path and store nothing", "[api]") {
  auto db = WithPoints();
  for (const Case& c : {
           Case{Operation::kUpdateCollection, R"({"sparse_vectors":{"s":{}}})",
                "error not supported: update_collection.sparse_vectors: changing the sparse vectors of an "
                "existing collection is not supported"},
           Case{Operation::kRecommendPoints, R"({"positive":[1],"limit":1,"strategy":"best_score"})",
                "error not supported: recommend.strategy: only \"average_vector\" is supported"},
           Case{Operation::kBatchUpdate,
                R"({"operations":[{"upsert":{"points":[]},"delete":{"points":[1]}}]})",
                "error invalid argument: batch_update.operations[0]: expected one of upsert, delete, "
                "set_payload, overwrite_payload, delete_payload, clear_payload"},
           Case{Operation::kSearchPoints, R"({"vector":"north","limit":1})",
                "error invalid argument: search.vector: expected an array of numbers or "
                "{\"name\": ..., \"vector\": [...]}"},
           Case{Operation::kCreateFieldIndex, R"({"field_name":"a","field_schema":{"is_tenant":true}})",
                "error invalid argument: create_field_index.field_schema: missing 'type'"},
           Case{Operation::kCreateFieldIndex, R"({"field_name":"a","field_schema":7})",
                "error invalid argument: create_field_index.field_schema: expected a type name or "
                "{\"type\": ...}"},
           Case{Operation::kGetPoints, R"({"ids":[1],"with_payload":7})",
                "error invalid argument: get_points.with_payload: expected true, false, a list of keys, "
                "{\"include\": [...]} or {\"exclude\": [...]}"},
           Case{Operation::kUpsertPoints, R"({"points":[{"id":5,"vector":[[1,2],[3,4]]}]})",
                "error not supported: upsert.points[0].vector: multivectors are not supported"},
           Case{Operation::kUpsertPoints, R"({"batch":{"ids":[5],"vectors":7}})",
                "error invalid argument: upsert.batch.vectors: expected an array of vectors or an object of "
                "named vector arrays"},
           Case{Operation::kUpsertPoints,
                R"({"batch":{"ids":[5,6],"vectors":[[1,2],[3,4]],"payloads":[{}]}})",
                "error invalid argument: upsert.batch.payloads: 1 payloads for 2 ids"},
           Case{Operation::kUpdateAliases,
                R"({"actions":[{"create_alias":{"collection_name":"c","alias_name":"x"}},)"
                R"({"rename_alias":{"old_alias_name":"x","new_alias_name":"c"}}]})",
                "error already exists: actions[1]: 'c' is a collection name and cannot be an alias"},
       }) {
    INFO(api::Describe(c.op).name << " " << c.body);
    CHECK(Run(*db, c.op, "c", c.body) == c.error);
  }
  CHECK(Run(*db, Operation::kListAliases, "", "") == R"({"aliases":[]})");
  CHECK(Run(*db, Operation::kCountPoints, "c", "") == R"({"count":3})");
  CHECK(Run(*db, Operation::kGetPoints, "c", R"({"ids":[5,6]})") == "[]");
}

// Recommend takes raw vectors among its examples as well as point ids; they are checked as query vectors are.
TEST_CASE("api: recommend with vector examples", "[api]") {
  auto db = WithPoints();
  CHECK(Run(*db, Operation::kRecommendPoints, "c", R"({"positive":[[3,4]],"limit":1})") ==
        R"([{"id":2,"version":0,"score":0}])");
  CHECK(Run(*db, Operation::kRecommendPoints, "c", R"({"positive":[1,[6,8]],"limit":1})") ==
        R"([{"id":2,"version":0,"score":0}])");
  CHECK(Run(*db, Operation::kRecommendPoints, "c", R"({"positive":[[1,2,3]],"limit":1})") ==
        "error invalid argument: example vector has 3 dimensions, expected 2");
}

// Optimize and Verify through a collection handle, as the CLI and the bindings call them.
TEST_CASE("api: optimize and verify run on a collection handle", "[api]") {
  auto db = WithPoints();
  auto c = *db->GetCollection("c");
  auto optimized = api::Call(*c, Operation::kOptimize, {}, "");
  REQUIRE(optimized.ok());
  CHECK(api::Print(*optimized) == "true");
  auto verified = api::Call(*c, Operation::kVerify, {}, "");
  REQUIRE(verified.ok());
  CHECK(api::Print(*verified) == R"({"problems":[]})");
  CHECK(Run(*db, Operation::kCountPoints, "c", "") == R"({"count":3})");
}

TEST_CASE("api: points are written, read and printed in Qdrant's shapes", "[api]") {
  auto db = WithPoints();
  CHECK(Run(*db, Operation::kGetPoint, "c", "", "1") == R"({"id":1,"payload":{"a":"x","n":1},"vector":[0,0]})");
  CHECK(Run(*db, Operation::kGetPoint, "c", "", "{550E8400-E29B-41D4-A716-446655440000}")
            .rfind(R"({"id":"550e8400-e29b-41d4-a716-446655440000")", 0) == 0);
  CHECK(Run(*db, Operation::kGetPoint, "c", "", "9").rfind("error not found: no point with id 9", 0) == 0);
  CHECK(Run(*db, Operation::kGetPoints, "c", R"({"ids":[2,1,7],"with_payload":["n"]})") ==
        R"([{"id":2,"payload":{"n":2}},{"id":1,"payload":{"n":1}}])");
  CHECK(Run(*db, Operation::kSearchPoints, "c", R"({"vector":[0,0],"limit":2,"with_payload":true})") ==
        R"([{"id":1,"version":0,"score":0,"payload":{"a":"x","n":1}},)"
        R"({"id":"550e8400-e29b-41d4-a716-446655440000","version":0,"score":1,"payload":{}}])");
  CHECK(Run(*db, Operation::kSearchBatch, "c", R"({"searches":[{"vector":[3,4],"limit":1},{"vector":[0,0],"limit":1}]})") ==
        R"([[{"id":2,"version":0,"score":0}],[{"id":1,"version":0,"score":0}]])");
  // Exact searches without filters are answered in one pass (db::CollectionCore::SearchExactBatch), the same
  // answers; a bad one among them is named by this layer.
  CHECK(Run(*db, Operation::kSearchBatch, "c",
            R"({"searches":[{"vector":[3,4],"limit":1,"params":{"exact":true}},)"
            R"({"vector":[0,0],"limit":1,"params":{"exact":true},"with_payload":["n"]}]})") ==
        R"([[{"id":2,"version":0,"score":0}],[{"id":1,"version":0,"score":0,"payload":{"n":1}}]])");
  CHECK(Run(*db, Operation::kSearchBatch, "c",
            R"({"searches":[{"vector":[3,4],"limit":1,"params":{"exact":true}},)"
            R"({"vector":[0],"limit":1,"params":{"exact":true}}]})")
            .rfind("error invalid argument: search_batch.searches[1]: query vector has 1 dimensions, expected 2", 0) == 0);
  CHECK(Run(*db, Operation::kScrollPoints, "c", R"({"limit":1,"with_payload":false})") ==
        R"({"points":[{"id":1}],"next_page_offset":2})");
  CHECK(Run(*db, Operation::kCountPoints, "c", R"({"filter":{"must":[{"key":"n","range":{"gte":2}}]}})") ==
        R"({"count":1})");
  CHECK(Run(*db, Operation::kRecommendPoints, "c", R"({"positive":[2],"limit":1})") ==
        R"([{"id":"550e8400-e29b-41d4-a716-446655440000","version":0,"score":4.472136}])");
  CHECK(Run(*db, Operation::kRecommendBatch, "c", R"({"searches":[{"positive":[1],"limit":1}]})") ==
        R"([[{"id":"550e8400-e29b-41d4-a716-446655440000","version":0,"score":1}]])");

  CHECK(Run(*db, Operation::kSetPayload, "c", R"({"payload":{"b":true},"filter":{"must":[{"key":"n","match":{"value":2}}]}})")
            .find("completed") != std::string::npos);
  CHECK(Run(*db, Operation::kGetPoint, "c", "", "2") == R"({"id":2,"payload":{"n":2,"b":true},"vector":[3,4]})");
  CHECK(Run(*db, Operation::kOverwritePayload, "c", R"({"payload":{"z":[1,2.5]},"points":[2]})").find("completed") !=
        std::string::npos);
  CHECK(Run(*db, Operation::kGetPoints, "c", R"({"ids":[2]})") == R"([{"id":2,"payload":{"z":[1,2.5]}}])");
  CHECK(Run(*db, Operation::kDeletePayload, "c", R"({"keys":["a"],"points":[1]})").find("completed") != std::string::npos);
  CHECK(Run(*db, Operation::kClearPayload, "c", R"({"points":[2]})").find("completed") != std::string::npos);
  CHECK(Run(*db, Operation::kGetPoints, "c", R"({"ids":[1,2]})") == R"([{"id":1,"payload":{"n":1}},{"id":2,"payload":{}}])");
  CHECK(Run(*db, Operation::kSetPayload, "c", R"({"payload":{"a":1},"points":[99]})").rfind("error not found", 0) == 0);
  CHECK(Run(*db, Operation::kDeletePoints, "c", R"({"points":[1,99]})").find("completed") != std::string::npos);
  CHECK(Run(*db, Operation::kCountPoints, "c", "") == R"({"count":2})");

  auto r = api::Call(*db, Operation::kDeletePoints, {"c"}, R"({"filter":{}})");
  REQUIRE(r.ok());
  CHECK(api::AffectedPoints(*r) == 2);
  CHECK(Run(*db, Operation::kCountPoints, "c", "") == R"({"count":0})");
}

TEST_CASE("api: operation ids increase and payload writes keep the values' types", "[api]") {
  auto db = WithPoints();
  auto first = api::Call(*db, Operation::kSetPayload, {"c"}, R"({"payload":{"big":18446744073709551615,"neg":-5,"f":1.5},"points":[1]})");
  auto second = api::Call(*db, Operation::kClearPayload, {"c"}, R"({"points":[2]})");
  REQUIRE(first.ok());
  REQUIRE(second.ok());
  CHECK(std::get<api::UpdateResult>(*second).operation_id > std::get<api::UpdateResult>(*first).operation_id);
  CHECK(Run(*db, Operation::kGetPoints, "c", R"({"ids":[1]})") ==
        R"([{"id":1,"payload":{"a":"x","n":1,"big":18446744073709551615,"neg":-5,"f":1.5}}])");
  CHECK(Run(*db, Operation::kCountPoints, "c", R"({"filter":{"must":[{"key":"neg","range":{"lt":0}}]}})") == R"({"count":1})");
  CHECK(Run(*db, Operation::kCountPoints, "c", R"({"filter":{"must":[{"key":"neg","match":{"value":-5}}]}})") == R"({"count":1})");
}

TEST_CASE("api: a search vector long enough to skip the JSON tree reads as any other", "[api]") {
  // 24 dimensions: the body's "vector" goes to floats straight from the text (payload/json_parse.h).
  auto db = testing::OpenTestDatabase();
  REQUIRE(Run(*db, Operation::kCreateCollection, "c", R"({"vectors":{"size":24,"distance":"Dot"}})") == "true");
  auto vector = [](int hot, const char* value) {
    std::string v = "[";
    for (int i = 0; i < 24; ++i) v += std::string(i ? "," : "") + (i == hot ? value : "0");
    return v + "]";
  };
  std::string points;
  for (int id = 1; id <= 3; ++id) {
    points += std::string(id > 1 ? "," : "") + "{\"id\":" + std::to_string(id) + ",\"vector\":" + vector(id, "1") + "}";
  }
  REQUIRE(Run(*db, Operation::kUpsertPoints, "c", "{\"points\":[" + points + "]}").find("completed") !=
          std::string::npos);
  CHECK(Run(*db, Operation::kSearchPoints, "c", "{\"vector\":" + vector(2, "0.5") + ",\"limit\":1}") ==
        R"([{"id":2,"version":0,"score":0.5}])");
  CHECK(Run(*db, Operation::kSearchPoints, "c", "{\"limit\":1, \"vector\": " + vector(3, "2E0") + "}") ==
        R"([{"id":3,"version":0,"score":2}])");
  // Its errors name the element, as for a short vector.
  CHECK(Run(*db, Operation::kSearchPoints, "c", "{\"vector\":" + vector(5, "1e39") + ",\"limit\":1}") ==
        "error invalid argument: search.vector[5]: the number does not fit a finite float");
  CHECK(Run(*db, Operation::kSearchPoints, "c", "{\"vector\":[" + vector(5, "1").substr(3) + ",\"limit\":1}")  // 23
             == "error invalid argument: query vector has 23 dimensions, expected 24");
  // A string that spells U+0000 is not mistaken for the vector.
  CHECK(Run(*db, Operation::kSearchPoints, "c", "{\"vector\":\"\\u00000\",\"limit\":1}") ==
        "error invalid argument: search.vector: expected an array of numbers or {\"name\": ..., \"vector\": [...]}");
}

TEST_CASE("api: floats print as the first of %.6g to %.9g that reads back", "[api]") {
  // Qdrant prints f32 values in their shortest form; the printer's fast path (the shortest form straight away)
  // must give exactly what the rule gives, for every kind of float.
  auto reference = [](float f) {
    char buf[32];
    for (int precision = 6; precision <= 9; ++precision) {
      std::snprintf(buf, sizeof(buf), "%.*g", precision, static_cast<double>(f));
      if (precision == 9 || std::strtof(buf, nullptr) == f) break;
    }
    return std::string(buf);
  };
  std::mt19937 rng(11);
  std::vector<float> floats = {0.0f, -0.0f, 1e-4f, -1e-4f, 9.99999e-5f, 1e6f, 999999.94f, 123456.5f, 0.1f, 1.0f / 3,
                               0.5f, 100000.0f, 1e-45f, 3.4028235e38f};
  for (int i = 0; i < 20000; ++i) {
    floats.push_back(std::uniform_real_distribution<float>(-1, 1)(rng));
    floats.push_back(std::uniform_real_distribution<float>(-2e6f, 2e6f)(rng));
    const uint32_t bits = static_cast<uint32_t>(rng());
    float f;
    std::memcpy(&f, &bits, sizeof f);
    if (std::isfinite(f)) floats.push_back(f);
  }
  std::vector<ScoredPoint> points(floats.size());
  for (size_t i = 0; i < floats.size(); ++i) points[i].score = floats[i];
  std::string printed;
  api::PrintScoredPoints(points, {}, &printed);
  size_t at = 0;
  for (float f : floats) {
    at = printed.find("\"score\":", at);
    REQUIRE(at != std::string::npos);
    at += 8;
    const std::string text = printed.substr(at, printed.find_first_of(",}", at) - at);
    INFO("float " << reference(f));
    REQUIRE(text == reference(f));
  }
}

TEST_CASE("api: upsert update_mode and update_filter", "[api]") {
  auto db = WithPoints();
  // insert_only leaves existing points alone and adds new ones.
  CHECK(Run(*db, Operation::kUpsertPoints, "c",
            R"({"points":[{"id":1,"vector":[9,9]},{"id":5,"vector":[5,5]}],"update_mode":"insert_only"})")
            .find("completed") != std::string::npos);
  CHECK(Run(*db, Operation::kGetPoints, "c", R"({"ids":[1,5],"with_payload":false,"with_vector":true})") ==
        R"([{"id":1,"vector":[0,0]},{"id":5,"vector":[5,5]}])");
  // update_only changes existing points only.
  CHECK(Run(*db, Operation::kUpsertPoints, "c",
            R"({"points":[{"id":5,"vector":[6,6]},{"id":6,"vector":[6,6]}],"update_mode":"update_only"})")
            .find("completed") != std::string::npos);
  CHECK(Run(*db, Operation::kGetPoints, "c", R"({"ids":[5,6],"with_payload":false,"with_vector":true})") ==
        R"([{"id":5,"vector":[6,6]}])");
  // update_filter: existing points are replaced only when they match; new ones are inserted.
  auto r = api::Call(*db, Operation::kUpsertPoints, {"c"},
                     R"({"points":[{"id":1,"vector":[1,1]},{"id":2,"vector":[2,2]},{"id":7,"vector":[7,7]}],)"
                     R"("update_filter":{"must":[{"key":"n","match":{"value":2}}]}})");
  REQUIRE(r.ok());
  CHECK(api::AffectedPoints(*r) == 2);
  CHECK(Run(*db, Operation::kGetPoints, "c", R"({"ids":[1,2,7],"with_payload":false,"with_vector":true})") ==
        R"([{"id":1,"vector":[0,0]},{"id":2,"vector":[2,2]},{"id":7,"vector":[7,7]}])");
}

TEST_CASE("api: batch update applies operations in order", "[api]") {
  auto db = WithPoints();
  const std::string out = Run(*db, Operation::kBatchUpdate, "c",
                              R"({"operations":[)"
                              R"({"upsert":{"points":[{"id":10,"vector":[1,1],"payload":{"k":1}}]}},)"
                              R"({"set_payload":{"payload":{"k":2},"points":[10]}},)"
                              R"({"delete_payload":{"keys":["n"],"points":[1]}},)"
                              R"({"overwrite_payload":{"payload":{"o":1},"points":[2]}},)"
                              R"({"clear_payload":{"points":[1]}},)"
                              R"({"delete":{"points":["550e8400-e29b-41d4-a716-446655440000"]}}]})");
  CHECK(out.rfind("[{\"operation_id\":", 0) == 0);
  CHECK(Run(*db, Operation::kGetPoints, "c", R"({"ids":[10,1,2]})") ==
        R"([{"id":10,"payload":{"k":2}},{"id":1,"payload":{}},{"id":2,"payload":{"o":1}}])");
  CHECK(Run(*db, Operation::kCountPoints, "c", "") == R"({"count":3})");
  // A bad operation anywhere is found before anything is applied.
  CHECK(Run(*db, Operation::kBatchUpdate, "c",
            R"({"operations":[{"delete":{"points":[1]}},{"set_payload":{"points":[2]}}]})") ==
        "error invalid argument: batch_update.operations[1].set_payload: missing 'payload'");
  CHECK(Run(*db, Operation::kCountPoints, "c", "") == R"({"count":3})");
  // A failure while running names the operation; earlier ones stay applied, as in Qdrant.
  CHECK(Run(*db, Operation::kBatchUpdate, "c",
            R"({"operations":[{"delete":{"points":[1]}},{"set_payload":{"payload":{"a":1},"points":[404]}}]})")
            .rfind("error not found: batch_update.operations[1]", 0) == 0);
  CHECK(Run(*db, Operation::kCountPoints, "c", "") == R"({"count":2})");
}

TEST_CASE("api: update_collection changes graph and quantization settings", "[api]") {
  auto db = WithPoints();
  CHECK(Run(*db, Operation::kUpdateCollection, "c",
            R"({"hnsw_config":{"m":32,"ef_construct":50},"optimizers_config":{"indexing_threshold":100},)"
            R"("quantization_config":{"scalar":{"type":"int8","quantile":0.99}}})") == "true");
  const std::string info = Run(*db, Operation::kGetCollection, "c", "");
  CHECK(info.find(R"("hnsw_config":{"m":32,"ef_construct":50,)") != std::string::npos);
  CHECK(info.find(R"("quantization_config":{"scalar":{"type":"int8","quantile":0.99,"always_ram":true}})") !=
        std::string::npos);
  CHECK(Run(*db, Operation::kUpdateCollection, "c", R"({"quantization_config":"Disabled"})") == "true");
  CHECK(Run(*db, Operation::kGetCollection, "c", "").find(R"("quantization_config":null)") != std::string::npos);
  CHECK(Run(*db, Operation::kUpdateCollection, "c", R"({"hnsw_config":{"m":1}})") ==
        "error invalid argument: update_collection.hnsw_config.m: expected an integer from 2 to 128");
  CHECK(Run(*db, Operation::kUpdateCollection, "c", R"({"vectors":{"img":{"hnsw_config":{"m":8}}}})") ==
        "error not found: collection c has no vector 'img'");
  CHECK(Run(*db, Operation::kUpdateCollection, "c", R"({"vectors":{"":{"hnsw_config":{"m":8}}}})") == "true");
  CHECK(Run(*db, Operation::kGetCollection, "c", "").find(R"("distance":"Euclid","hnsw_config":{"m":8,)") !=
        std::string::npos);
  // Searches still answer after the changes.
  CHECK(Run(*db, Operation::kSearchPoints, "c", R"({"vector":[3,4],"limit":1})") == R"([{"id":2,"version":0,"score":0}])");
}

TEST_CASE("api: a collection handle runs collection operations only", "[api]") {
  auto db = WithPoints();
  auto c = *db->GetCollection("c");
  auto r = api::Call(*c, Operation::kCountPoints, {}, "");
  REQUIRE(r.ok());
  CHECK(api::AffectedPoints(*r) == 3);
  CHECK(api::Call(*c, Operation::kListCollections, {}, "").status().code() == StatusCode::kInvalidArgument);
}

TEST_CASE("api: dense upserts name a length mismatch and prepared searches reuse their options", "[api]") {
  auto db = WithPoints();
  auto c = *db->GetCollection("c");
  std::vector<float> floats(5, 1.0f);
  auto bad = api::UpsertDense(*c, "[20,21]", "", floats, "");
  REQUIRE_FALSE(bad.ok());
  CHECK(bad.status().message() ==
        "5 floats for 2 ids: vector of collection c has 2 dimensions, so 2 points need 4 floats");
  floats.resize(4);
  CHECK(api::UpsertDense(*c, "[20,21]", "", floats, R"([{"p":1},{"p":"x"}])").ok());
  CHECK(api::UpsertDense(*c, "[22]", "", {floats.data(), 2}, R"([{"p":1},null])").status().message() ==
        "payloads: 2 payloads for 1 ids");
  auto prepared = api::PreparedSearch::Parse(R"({"limit":1,"filter":{"must":[{"key":"p","match":{"value":"x"}}]}})", "");
  REQUIRE(prepared.ok());
  const float q[2] = {0, 0};
  auto hits = prepared->Run(*c, q);
  REQUIRE(hits.ok());
  REQUIRE(hits->size() == 1);
  CHECK(hits->at(0).id == PointId::Number(21));
  CHECK(api::PreparedSearch::Parse(R"({"vector":[1,2]})", "").status().message() ==
        "search: the options of a search take no 'vector'");
}

TEST_CASE("api: results print big ids and vectors for JavaScript", "[api]") {
  auto db = testing::OpenTestDatabase();
  REQUIRE(Run(*db, Operation::kCreateCollection, "c", R"({"vectors":{"size":2,"distance":"Dot"}})") == "true");
  REQUIRE(Run(*db, Operation::kUpsertPoints, "c",
              R"({"points":[{"id":9007199254740993,"vector":[0.1,2]},{"id":3,"vector":[1,1]}]})")
              .find("completed") != std::string::npos);
  auto r = api::Call(*db, Operation::kScrollPoints, {"c"}, R"({"with_vector":true})");
  REQUIRE(r.ok());
  CHECK(api::Print(*r) == R"({"points":[{"id":3,"payload":{},"vector":[1,1]},{"id":9007199254740993,"payload":{},"vector":[0.1,2]}],"next_page_offset":null})");
  std::vector<float> sink{7};
  api::PrintOptions js;
  js.big_ids_as_strings = true;
  js.omit_version = true;
  js.vector_sink = &sink;
  CHECK(api::Print(*r, js) ==
        R"({"points":[{"id":3,"payload":{},"vector":[1,2]},{"id":"9007199254740993","payload":{},"vector":[3,2]}],"next_page_offset":null})");
  CHECK(sink == std::vector<float>{7, 1, 1, 0.1f, 2});
}

}  // namespace
}  // namespace quiver
