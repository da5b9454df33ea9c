// Filtered search quality: recall@10 against brute force (filter, then exact top-k) at selectivities 50%,
// 10%, 6%, 1% and 0.1%, with and without a payload index, and the planner's choice of an unfiltered walk then
// the filter, a filtered walk or an exact scan.
#include <algorithm>
#include <catch2/catch.hpp>
#include <set>

#include "engine/db/db_test_util.h"
#include "engine/index/test_data.h"

namespace quiver {
namespace {

using testing::MakeCollection;
using testing::OpenTestDatabase;

constexpr size_t kPoints = 10000;
constexpr uint32_t kDim = 24;
constexpr size_t kQueries = 40;

struct Fixture {
  std::unique_ptr<Database> db = OpenTestDatabase();
  std::shared_ptr<Collection> plain, indexed;
  std::vector<float> base = index::testing::Mixture(kPoints, kDim, 71);
  std::vector<float> queries = index::testing::Mixture(kQueries, kDim, 72);

  Fixture() {
    CollectionConfig cfg = testing::SingleVector(kDim, Distance::kEuclid);
    cfg.hnsw.ef_construct = 100;
    cfg.hnsw.full_scan_threshold_kb = 50;  // 533 vectors of 24 floats: the graph serves larger matches
    plain = MakeCollection(*db, "plain", cfg);
    indexed = MakeCollection(*db, "indexed", cfg);
    REQUIRE(indexed->CreatePayloadIndex("bucket", "integer").ok());
    std::vector<PointId> ids;
    std::vector<std::string> payloads;
    for (size_t i = 0; i < kPoints; ++i) {
      ids.push_back(PointId::Number(i));
      // bucket is a permutation of row order so matching points are spread over the whole graph.
      payloads.push_back(R"({"bucket":)" + std::to_string((i * 7919) % 1000) + "}");
    }
    REQUIRE(plain->UpsertDense(ids, "", base, payloads).ok());
    REQUIRE(indexed->UpsertDense(ids, "", base, payloads).ok());
  }
};

std::set<uint64_t> IdSet(const std::vector<ScoredPoint>& r) {
  std::set<uint64_t> out;
  for (const auto& p : r) out.insert(p.id.number());
  return out;
}

TEST_CASE("filtered search: recall@10 >= 0.95 at 50%, 10%, 1%, 0.1%, with and without an index",
          "[db][filter]") {
  Fixture f;
  struct Level {
    int buckets;  // of 1000
    db::SearchPlan plan_plain, plan_indexed;
  };
  for (Level level : {Level{500, db::SearchPlan::kGraphThenFilter, db::SearchPlan::kGraphThenFilter},
                      Level{100, db::SearchPlan::kGraphThenFilter, db::SearchPlan::kGraphThenFilter},
                      Level{60, db::SearchPlan::kFilteredGraph, db::SearchPlan::kFilteredGraph},
                      Level{10, db::SearchPlan::kExactFiltered, db::SearchPlan::kExactCandidates},
                      Level{1, db::SearchPlan::kExactFiltered, db::SearchPlan::kExactCandidates}}) {
    const std::string filter =
        R"({"must":[{"key":"bucket","range":{"lt":)" + std::to_string(level.buckets) + "}}]}";
    INFO("selectivity " << level.buckets / 10.0 << "%");
    for (auto* col : {f.plain.get(), f.indexed.get()}) {
      INFO(col->name());
      size_t hits = 0, total = 0;
      for (size_t q = 0; q < kQueries; ++q) {
        SearchRequest req;
        req.vector.assign(f.queries.begin() + q * kDim, f.queries.begin() + (q + 1) * kDim);
        req.limit = 10;
        req.filter = filter;
        req.exact = true;
        auto truth = col->Search(req);
        INFO(truth.status().ToString());
        REQUIRE(truth.ok());
        req.exact = false;
        db::SearchPlan plan;
        auto found = col->core().Search(req, &plan);
        REQUIRE(found.ok());
        CHECK(plan == (col == f.plain.get() ? level.plan_plain : level.plan_indexed));
        const auto want = IdSet(*truth);
        for (uint64_t id : IdSet(*found)) hits += want.count(id);
        total += want.size();
        CHECK(found->size() == truth->size());
      }
      const double recall = double(hits) / double(total);
      INFO("recall " << recall);
      CHECK(recall >= 0.95);
    }
  }
}

TEST_CASE("filtered search: with a large ef the graph walk equals brute force", "[db][filter]") {
  Fixture f;
  const std::string filter = R"({"must":[{"key":"bucket","range":{"gte":300}}]})";
  size_t equal = 0;
  for (size_t q = 0; q < kQueries; ++q) {
    SearchRequest req;
    req.vector.assign(f.queries.begin() + q * kDim, f.queries.begin() + (q + 1) * kDim);
    req.limit = 10;
    req.filter = filter;
    req.exact = true;
    auto truth = f.plain->Search(req);
    req.exact = false;
    req.hnsw_ef = 1000;
    auto found = f.plain->Search(req);
    REQUIRE(found.ok());
    std::vector<uint64_t> a, b;
    for (const auto& p : *truth) a.push_back(p.id.number());
    for (const auto& p : *found) b.push_back(p.id.number());
    equal += a == b ? 1 : 0;
  }
  CHECK(equal == kQueries);
}

// The rows of `base` (n x kDim) by their squared L2 distance to `query`, nearest first: (distance, row).
std::vector<std::pair<float, size_t>> ByDistance(const std::vector<float>& base,
                                                 const std::vector<float>& query) {
  std::vector<std::pair<float, size_t>> out;
  for (size_t i = 0; i < base.size() / kDim; ++i) {
    float d = 0;
    for (uint32_t j = 0; j < kDim; ++j) d += (base[i * kDim + j] - query[j]) * (base[i * kDim + j] - query[j]);
    out.emplace_back(d, i);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// A collection "c" in `db` holding `base` with the payload {"<key>": flags[i]} and a bool index on it.
std::shared_ptr<Collection> BoolCollection(Database& db, const std::vector<float>& base,
                                           const std::string& key, const std::vector<bool>& flags) {
  CollectionConfig cfg = testing::SingleVector(kDim, Distance::kEuclid);
  cfg.hnsw.full_scan_threshold_kb = 50;
  auto c = MakeCollection(db, "c", cfg);
  REQUIRE(c->CreatePayloadIndex(key, "bool").ok());
  std::vector<PointId> ids;
  std::vector<std::string> payloads;
  for (size_t i = 0; i < flags.size(); ++i) {
    ids.push_back(PointId::Number(i));
    payloads.push_back("{\"" + key + "\":" + (flags[i] ? "true}" : "false}"));
  }
  REQUIRE(c->UpsertDense(ids, "", base, payloads).ok());
  return c;
}

TEST_CASE("filtered search: when the unfiltered walk finds too few matches the filtered walk answers",
          "[db][filter]") {
  // Half the points match, but for this query only the farther half: the nearest neighbours hold no match, so
  // the plan for broad filters (an unfiltered walk, then the filter) falls back to the filtered walk.
  constexpr size_t kN = 2000;
  const std::vector<float> base = index::testing::Mixture(kN, kDim, 81);
  const std::vector<float> query(base.begin(), base.begin() + kDim);
  const auto by_distance = ByDistance(base, query);
  std::vector<bool> far(kN);
  for (size_t r = kN / 2; r < kN; ++r) far[by_distance[r].second] = true;
  auto db = OpenTestDatabase();
  auto c = BoolCollection(*db, base, "far", far);
  SearchRequest req;
  req.vector = query;
  req.limit = 10;
  req.filter = R"({"must":[{"key":"far","match":{"value":true}}]})";
  db::SearchPlan plan;
  auto found = c->core().Search(req, &plan);
  REQUIRE(found.ok());
  CHECK(plan == db::SearchPlan::kFilteredGraph);
  REQUIRE(found->size() == 10);
  std::set<uint64_t> want;
  for (size_t r = kN / 2; r < kN / 2 + 10; ++r) want.insert(by_distance[r].second);
  size_t hits = 0;
  for (const auto& p : *found) {
    CHECK(far[p.id.number()]);
    hits += want.count(p.id.number());
  }
  CHECK(hits >= 9);
  // A filter most points match near this query is answered by the unfiltered walk.
  req.filter = R"({"must":[{"key":"far","match":{"value":false}}]})";
  found = c->core().Search(req, &plan);
  REQUIRE(found.ok());
  CHECK(plan == db::SearchPlan::kGraphThenFilter);
  REQUIRE(found->size() == 10);
  for (const auto& p : *found) CHECK(!far[p.id.number()]);
}

TEST_CASE("filtered search: an unfiltered walk a few matches short goes on with a wider beam",
          "[db][filter]") {
  // 1,500 of 2,000 points match (75%), but near this query only one in two: the nearest 1,000 match when
  // their rank is even, the farther 1,000 all match. The first unfiltered walk (a beam of 10 / 0.75 = 14
  // rows) holds 7 matches: at least half of the 10 wanted, so the walk goes on with a beam of 14 * 1.25 * 10
  // / 7 = 25 rows, which holds 13, instead of the filtered walk.
  constexpr size_t kN = 2000;
  const std::vector<float> base = index::testing::Mixture(kN, kDim, 83);
  const std::vector<float> query(base.begin() + 7 * kDim, base.begin() + 8 * kDim);
  const auto by_distance = ByDistance(base, query);
  std::vector<bool> match(kN);
  for (size_t r = 0; r < kN; ++r) match[by_distance[r].second] = r >= kN / 2 || r % 2 == 0;
  auto db = OpenTestDatabase();
  auto c = BoolCollection(*db, base, "m", match);
  SearchRequest req;
  req.vector = query;
  req.limit = 10;
  req.hnsw_ef = 10;
  req.filter = R"({"must":[{"key":"m","match":{"value":true}}]})";
  db::SearchPlan plan;
  auto found = c->core().Search(req, &plan);
  REQUIRE(found.ok());
  CHECK(plan == db::SearchPlan::kGraphThenFilter);
  REQUIRE(found->size() == 10);
  // The 10 nearest matches: ranks 0, 2, ..., 18.
  std::set<uint64_t> want;
  for (size_t r = 0; r < 20; r += 2) want.insert(by_distance[r].second);
  size_t hits = 0;
  for (const auto& p : *found) {
    CHECK(match[p.id.number()]);
    hits += want.count(p.id.number());
  }
  CHECK(hits >= 9);
}

TEST_CASE("filtered search: the selectivity estimate holds when payloads follow the order of insertion",
          "[db][filter]") {
  // Without a payload index the planner samples rows to estimate how many match. Here the matching points are
  // the first 15% inserted (a payload like a date): a sample that stopped early on a run of matches among the
  // first rows would take the filter for one nearly every point matches, walk a beam of only ef rows, find too
  // few matches in it and fall back to the filtered walk. Spread over all the rows, the estimate is close to
  // 15%, and the unfiltered walk is deep enough to answer.
  constexpr size_t kN = 10000;
  const std::vector<float> base = index::testing::Mixture(kN, kDim, 91);
  auto db = OpenTestDatabase();
  CollectionConfig cfg = testing::SingleVector(kDim, Distance::kEuclid);
  cfg.hnsw.ef_construct = 100;
  cfg.hnsw.full_scan_threshold_kb = 50;
  auto c = MakeCollection(*db, "c", cfg);
  std::vector<PointId> ids;
  std::vector<std::string> payloads;
  for (size_t i = 0; i < kN; ++i) {
    ids.push_back(PointId::Number(i));
    payloads.push_back(R"({"seq":)" + std::to_string(i) + "}");
  }
  REQUIRE(c->UpsertDense(ids, "", base, payloads).ok());
  constexpr size_t kMatching = kN * 15 / 100;
  size_t hits = 0;
  for (size_t q = 0; q < 10; ++q) {
    // Queries at points that do not match, among the data.
    const size_t at = kN / 2 + q * 397;
    const std::vector<float> query(base.begin() + at * kDim, base.begin() + (at + 1) * kDim);
    SearchRequest req;
    req.vector = query;
    req.limit = 10;
    req.hnsw_ef = 40;
    req.filter = R"({"must":[{"key":"seq","range":{"lt":)" + std::to_string(kMatching) + "}}]}";
    db::SearchPlan plan;
    auto found = c->core().Search(req, &plan);
    REQUIRE(found.ok());
    CHECK(plan == db::SearchPlan::kGraphThenFilter);
    REQUIRE(found->size() == 10);
    std::vector<std::pair<float, uint64_t>> truth;
    for (size_t i = 0; i < kMatching; ++i) {
      float d = 0;
      for (uint32_t j = 0; j < kDim; ++j) d += (base[i * kDim + j] - query[j]) * (base[i * kDim + j] - query[j]);
      truth.emplace_back(d, i);
    }
    std::partial_sort(truth.begin(), truth.begin() + 10, truth.end());
    std::set<uint64_t> want;
    for (size_t i = 0; i < 10; ++i) want.insert(truth[i].second);
    for (const auto& p : *found) {
      CHECK(p.id.number() < kMatching);
      hits += want.count(p.id.number());
    }
  }
  CHECK(hits >= 95);  // recall@10 >= 0.95 over the 10 queries
}

}  // namespace
}  // namespace quiver
