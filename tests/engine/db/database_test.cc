#include <catch2/catch.hpp>

#include "engine/db/db_test_util.h"

namespace quiver {
namespace {

using testing::MakeCollection;
using testing::OpenTestDatabase;
using testing::SingleVector;

TEST_CASE("database: create, list, get, delete collections", "[db][database]") {
  auto db = OpenTestDatabase();
  CHECK(db->replica_id() == 1);
  CHECK(db->ListCollections().empty());
  REQUIRE(db->CreateCollection("b", SingleVector(4, Distance::kCosine)).ok());
  REQUIRE(db->CreateCollection("a", SingleVector(8, Distance::kDot)).ok());
  CHECK(db->ListCollections() == std::vector<std::string>{"a", "b"});
  CHECK(db->CollectionExists("a"));
  Status dup = db->CreateCollection("a", SingleVector(4, Distance::kCosine));
  CHECK(dup.code() == StatusCode::kAlreadyExists);
  CHECK(dup.message() == "collection or alias 'a' already exists");

  auto a = db->GetCollection("a");
  REQUIRE(a.ok());
  CHECK((*a)->name() == "a");
  CollectionInfo info = (*a)->Info();
  CHECK(info.config.vectors.at("").size == 8);
  CHECK(info.config.vectors.at("").distance == Distance::kDot);
  CHECK(info.points_count == 0);

  REQUIRE(db->DeleteCollection("a").ok());
  CHECK(db->DeleteCollection("a").IsNotFound());
  CHECK(db->GetCollection("a").status().IsNotFound());
  CHECK(db->GetCollection("a").status().message() == "collection 'a' does not exist");
  // A handle outlives deletion.
  CHECK((*a)->Info().name == "a");
}

TEST_CASE("database: configurations and names are validated", "[db][database]") {
  auto db = OpenTestDatabase();
  auto expect = [&](const std::string& name, const CollectionConfig& c, const std::string& message) {
    Status s = db->CreateCollection(name, c);
    INFO(s.ToString());
    CHECK(s.IsInvalidArgument());
    CHECK(s.message() == message);
  };
  expect("x", SingleVector(0, Distance::kCosine), "vectors.size: 0 is out of range 1..65536");
  expect("x", SingleVector(65537, Distance::kCosine), "vectors.size: 65537 is out of range 1..65536");
  CollectionConfig none;
  expect("x", none, "vectors: a collection needs at least one vector or sparse vector");
  CollectionConfig bad_m = SingleVector(4, Distance::kCosine);
  bad_m.hnsw.m = 1;
  expect("x", bad_m, "hnsw_config.m: 1 is out of range 2..128");
  CollectionConfig bad_ef = SingleVector(4, Distance::kCosine);
  bad_ef.hnsw.ef_construct = 2;
  expect("x", bad_ef, "hnsw_config.ef_construct: 2 is below 4");
  CollectionConfig named;
  named.vectors["image"] = VectorParams{4, Distance::kCosine, IndexKind::kHnsw, HnswConfig{200, 100, 10000}};
  expect("x", named, "vectors.image.hnsw_config.m: 200 is out of range 2..128");
  CollectionConfig bad_name;
  bad_name.vectors["a b"] = VectorParams{4, Distance::kCosine};
  expect("x", bad_name, "vectors.a b: vector names are 1..255 letters, digits, '-', '_' or '.'");
  CollectionConfig mixed = SingleVector(4, Distance::kCosine);
  mixed.vectors["image"] = VectorParams{4, Distance::kCosine};
  expect("x", mixed, "vectors: the unnamed vector cannot be combined with named vectors");
  expect("bad name", SingleVector(4, Distance::kCosine),
         "collection name 'bad name' is not valid: use 1..255 letters, digits, '-', '_' or '.'");
  expect("", SingleVector(4, Distance::kCosine),
         "collection name '' is not valid: use 1..255 letters, digits, '-', '_' or '.'");
  CHECK(db->ListCollections().empty());

  CHECK(ParseDistance("Euclid").ok());
  CHECK(ParseDistance("euclid").status().message() ==
        "distance 'euclid' is not one of Cosine, Euclid, Dot, Manhattan");
}

TEST_CASE("database: aliases create, resolve, rename, delete and switch atomically", "[db][database]") {
  auto db = OpenTestDatabase();
  MakeCollection(*db, "v1", SingleVector(2, Distance::kCosine));
  MakeCollection(*db, "v2", SingleVector(2, Distance::kCosine));

  REQUIRE(db->CreateAlias("prod", "v1").ok());
  CHECK((*db->GetCollection("prod"))->name() == "v1");
  CHECK(db->CreateAlias("x", "missing").IsNotFound());
  CHECK(db->CreateAlias("v2", "v1").code() == StatusCode::kAlreadyExists);
  CHECK(db->CreateCollection("prod", SingleVector(2, Distance::kCosine)).code() ==
        StatusCode::kAlreadyExists);

  REQUIRE(db->RenameAlias("prod", "live").ok());
  CHECK(db->GetCollection("prod").status().IsNotFound());
  CHECK((*db->GetCollection("live"))->name() == "v1");

  // Switch: delete + create in one step.
  std::vector<AliasAction> sw = {{AliasAction::Kind::kDelete, "live", "", ""},
                                 {AliasAction::Kind::kCreate, "live", "v2", ""}};
  REQUIRE(db->UpdateAliases(sw).ok());
  CHECK((*db->GetCollection("live"))->name() == "v2");

  // A failing action leaves everything as it was.
  std::vector<AliasAction> bad = {{AliasAction::Kind::kCreate, "other", "v1", ""},
                                  {AliasAction::Kind::kDelete, "nope", "", ""}};
  Status s = db->UpdateAliases(bad);
  CHECK(s.IsNotFound());
  CHECK(s.message() == "actions[1]: alias 'nope' does not exist");
  CHECK(db->GetCollection("other").status().IsNotFound());
  CHECK(db->ListAliases() == std::vector<std::pair<std::string, std::string>>{{"live", "v2"}});

  // Deleting a collection removes its aliases.
  REQUIRE(db->DeleteCollection("v2").ok());
  CHECK(db->ListAliases().empty());
  CHECK(db->DeleteAlias("live").IsNotFound());
}

}  // namespace
}  // namespace quiver
