// Helpers for the database tests: a database with a fake clock and small collections.
#ifndef QUIVER_TESTS_DB_TEST_UTIL_H_
#define QUIVER_TESTS_DB_TEST_UTIL_H_

#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "db/collection_core.h"
#include "db/database_core.h"
#include "quiver/database.h"

namespace quiver::testing {

inline std::unique_ptr<Database> OpenTestDatabase(uint64_t replica = 1) {
  DatabaseOptions options;
  options.replica_id = replica;
  auto wall = std::make_shared<uint64_t>(1'700'000'000'000ull);
  options.wall_clock_ms = [wall] { return (*wall)++; };
  auto db = Database::Open(options);
  REQUIRE(db.ok());
  return std::move(*db);
}

// Options of a stored test database (path "mem", for DatabaseCore::OpenStorage): a fake clock that ticks at
// every read, `segment_points` points per segment, background work on `executor` (none: the writing thread).
inline DatabaseOptions StoredOptions(size_t segment_points, Executor* executor = nullptr) {
  DatabaseOptions o;
  o.replica_id = 7;
  auto wall = std::make_shared<uint64_t>(1'700'000'000'000ull);
  o.wall_clock_ms = [wall] { return (*wall)++; };
  o.segment_points = segment_points;
  o.executor = executor;
  o.path = "mem";
  return o;
}

// One 4-d cosine vector named "v", with a small graph.
inline CollectionConfig SmallNamedConfig() {
  CollectionConfig c;
  c.vectors["v"] = VectorParams{4, Distance::kCosine};
  c.hnsw.m = 8;
  c.hnsw.ef_construct = 32;
  return c;
}

inline CollectionConfig SingleVector(uint32_t size, Distance distance, IndexKind index = IndexKind::kHnsw) {
  CollectionConfig c;
  c.vectors[""] = VectorParams{size, distance, index, std::nullopt, std::nullopt};
  return c;
}

inline std::shared_ptr<Collection> MakeCollection(Database& db, const std::string& name,
                                                  const CollectionConfig& c) {
  REQUIRE(db.CreateCollection(name, c).ok());
  auto col = db.GetCollection(name);
  REQUIRE(col.ok());
  return *col;
}

inline PointInput P(uint64_t id, std::vector<float> v, std::string payload = "") {
  PointInput p;
  p.id = PointId::Number(id);
  p.vectors[""] = std::move(v);
  p.payload = std::move(payload);
  return p;
}

inline std::vector<uint64_t> Ids(const std::vector<ScoredPoint>& pts) {
  std::vector<uint64_t> out;
  for (const auto& p : pts) out.push_back(p.id.number());
  return out;
}

inline std::vector<uint64_t> Ids(const std::vector<Record>& pts) {
  std::vector<uint64_t> out;
  for (const auto& p : pts) out.push_back(p.id.number());
  return out;
}

}  // namespace quiver::testing

#endif  // QUIVER_TESTS_DB_TEST_UTIL_H_
