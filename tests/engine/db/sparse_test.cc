// Sparse vectors in collections: search equals a brute-force sparse dot product over a model of the points kept
// by the test (random data, filters, deletions and replacements), in memory and in a stored collection of
// several segments, after reopening, after Optimize and after a snapshot restore; the IDF modifier equals
// Qdrant's formula computed here; points with only dense, only sparse or both vectors; bad input changes nothing.
#include <catch2/catch.hpp>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>

#include "base/random.h"
#include "db/database_core.h"
#include "engine/db/db_test_util.h"
#include "storage/storage_memory.h"

namespace quiver {
namespace {

using db::DatabaseCore;

CollectionConfig MixedConfig() {
  CollectionConfig c;
  c.vectors["dense"] = VectorParams{4, Distance::kDot};
  c.sparse_vectors["text"] = SparseVectorParams{};
  SparseVectorParams idf;
  idf.modifier = SparseModifier::kIdf;
  c.sparse_vectors["words"] = idf;
  c.hnsw.m = 8;
  c.hnsw.ef_construct = 32;
  return c;
}

DatabaseOptions StoredOptions(size_t segment_points) {
  DatabaseOptions o;
  o.replica_id = 3;
  auto wall = std::make_shared<uint64_t>(1'700'000'000'000ull);
  o.wall_clock_ms = [wall] { return (*wall)++; };
  o.segment_points = segment_points;
  o.auto_optimize = false;  // sealed segments pile up until Optimize: searches span several
  o.path = "mem";
  return o;
}

SparseVector RandomSparse(SplitMix64& rng, uint32_t dims, size_t max_nnz) {
  std::map<uint32_t, float> m;
  const size_t nnz = rng() % (max_nnz + 1);
  for (size_t i = 0; i < nnz; ++i) m[uint32_t(rng() % dims)] = float(int(rng() % 41) - 10) / 4.0f;
  SparseVector v;
  for (const auto& [i, x] : m) {
    v.indices.push_back(i);
    v.values.push_back(x);
  }
  return v;
}

// The test's own model of the collection: live points by id.
struct Model {
  struct Point {
    std::optional<SparseVector> text, words;
    int group = 0;
  };
  std::map<uint64_t, Point> points;
};

// Brute force: every live point with the sparse vector, the dot product over shared indices in increasing index
// order (the engine's documented summation order), weights times IDF for `words`; ordered by score, then id.
std::vector<std::pair<uint64_t, float>> Reference(const Model& m, const std::string& name, SparseVector q,
                                                  std::optional<int> group_below, size_t limit, size_t offset,
                                                  std::optional<float> threshold) {
  // The query sorted, as the engine does.
  std::vector<size_t> order(q.indices.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return q.indices[a] < q.indices[b]; });
  SparseVector sorted;
  for (size_t i : order) {
    sorted.indices.push_back(q.indices[i]);
    sorted.values.push_back(q.values[i]);
  }
  auto vec = [&](const Model::Point& p) { return name == "text" ? p.text : p.words; };
  if (name == "words") {
    size_t n_all = 0;
    for (const auto& [id, p] : m.points) n_all += vec(p) ? 1 : 0;
    for (size_t i = 0; i < sorted.indices.size(); ++i) {
      size_t n = 0;
      for (const auto& [id, p] : m.points) {
        if (auto v = vec(p)) {
          n += std::count(v->indices.begin(), v->indices.end(), sorted.indices[i]) ? 1 : 0;
        }
      }
      const double idf = std::log((double(n_all) - double(n) + 0.5) / (double(n) + 0.5) + 1.0);
      sorted.values[i] *= float(idf);
    }
  }
  std::vector<std::pair<uint64_t, float>> all;
  for (const auto& [id, p] : m.points) {
    if (group_below && !(p.group < *group_below)) continue;
    auto v = vec(p);
    if (!v) continue;
    std::map<uint32_t, float> stored;
    for (size_t i = 0; i < v->indices.size(); ++i) stored[v->indices[i]] = v->values[i];
    bool shared = false;
    float sum = 0.0f;
    for (size_t i = 0; i < sorted.indices.size(); ++i) {
      auto it = stored.find(sorted.indices[i]);
      if (it == stored.end()) continue;
      shared = true;
      sum += sorted.values[i] * it->second;
    }
    if (!shared) continue;
    if (threshold && !(sum >= *threshold)) continue;
    all.emplace_back(id, sum);
  }
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  std::vector<std::pair<uint64_t, float>> out;
  for (size_t i = offset; i < all.size() && out.size() < limit; ++i) out.push_back(all[i]);
  return out;
}

// Writes a random batch to the collection and the model: new points, replacements, deletions.
void RandomBatch(Collection& c, Model& m, SplitMix64& rng, uint64_t id_space) {
  std::vector<PointInput> pts;
  std::set<uint64_t> ids;
  for (int i = 0; i < 23; ++i) {
    const uint64_t id = rng() % id_space;
    if (!ids.insert(id).second) continue;
    PointInput p;
    p.id = PointId::Number(id);
    Model::Point mp;
    mp.group = int(rng() % 5);
    const int kind = int(rng() % 4);  // 0 dense only, 1 text only, 2 both sparse, 3 all
    if (kind == 0 || kind == 3) p.vectors["dense"] = {float(rng() % 5), 1, 0, float(rng() % 3)};
    if (kind >= 1) {
      mp.text = RandomSparse(rng, 64, 8);
      // Unsorted input is sorted by the engine.
      SparseVector shuffled = *mp.text;
      std::reverse(shuffled.indices.begin(), shuffled.indices.end());
      std::reverse(shuffled.values.begin(), shuffled.values.end());
      p.sparse_vectors["text"] = shuffled;
    }
    if (kind >= 2) {
      mp.words = RandomSparse(rng, 40, 6);
      p.sparse_vectors["words"] = *mp.words;
    }
    p.payload = R"({"group":)" + std::to_string(mp.group) + "}";
    m.points[id] = mp;
    pts.push_back(std::move(p));
  }
  REQUIRE(c.Upsert(pts).ok());
  std::vector<PointId> gone;
  for (int i = 0; i < 4; ++i) {
    const uint64_t id = rng() % id_space;
    gone.push_back(PointId::Number(id));
    m.points.erase(id);
  }
  REQUIRE(c.Delete(PointsSelector::Ids(gone)).ok());
}

// Checks many random sparse searches against the model.
void CheckSearches(const Collection& c, const Model& m, uint64_t seed) {
  SplitMix64 rng(seed);
  for (int t = 0; t < 30; ++t) {
    const std::string name = t % 2 ? "text" : "words";
    SparseVector q = RandomSparse(rng, name == "text" ? 64 : 40, 5);
    std::reverse(q.indices.begin(), q.indices.end());
    std::reverse(q.values.begin(), q.values.end());
    SearchRequest req;
    req.vector_name = name;
    req.sparse_vector = q;
    req.limit = 1 + rng() % 12;
    req.offset = t % 3 == 0 ? rng() % 4 : 0;
    std::optional<int> group_below;
    if (t % 4 == 1) {
      group_below = 2;
      req.filter = R"({"must":[{"key":"group","range":{"lt":2}}]})";
    }
    if (t % 5 == 2) req.score_threshold = 0.5f;
    req.with_payload = PayloadSelector::All();
    req.with_vector = VectorSelector::Only({name});
    auto got = c.Search(req);
    INFO(got.status().ToString());
    REQUIRE(got.ok());
    const auto want = Reference(m, name, q, group_below, req.limit, req.offset, req.score_threshold);
    INFO("query " << t << " on " << name);
    REQUIRE(got->size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      CHECK((*got)[i].id.number() == want[i].first);
      CHECK((*got)[i].score == want[i].second);
      const Model::Point& p = m.points.at(want[i].first);
      REQUIRE((*got)[i].sparse_vectors.count(name));
      CHECK((*got)[i].sparse_vectors.at(name) == *(name == "text" ? p.text : p.words));
      CHECK((*got)[i].vectors.empty());
    }
  }
}

TEST_CASE("sparse: search equals a brute-force dot product in memory", "[db][sparse]") {
  auto db = testing::OpenTestDatabase();
  auto c = testing::MakeCollection(*db, "c", MixedConfig());
  Model m;
  SplitMix64 rng(21);
  for (int b = 0; b < 12; ++b) RandomBatch(*c, m, rng, 150);
  CHECK(c->Info().points_count == m.points.size());
  CheckSearches(*c, m, 1);
  // Get returns the sorted sparse vectors under their names, dense ones beside them.
  for (const auto& [id, p] : m.points) {
    const PointId pid = PointId::Number(id);
    auto r = c->Get({&pid, 1}, PayloadSelector::None(), VectorSelector::All());
    REQUIRE(r.ok());
    REQUIRE(r->size() == 1);
    CHECK((*r)[0].sparse_vectors.count("text") == (p.text ? 1u : 0u));
    if (p.text) CHECK((*r)[0].sparse_vectors.at("text") == *p.text);
    if (p.words) CHECK((*r)[0].sparse_vectors.at("words") == *p.words);
  }
}

TEST_CASE("sparse: stored collections across segments, reopen, optimize and snapshot restore", "[db][sparse]") {
  storage::MemoryStorage st;
  Model m;
  SplitMix64 rng(99);
  std::string digest;
  {
    auto db = *DatabaseCore::OpenStorage(StoredOptions(40), &st);
    REQUIRE(db->CreateCollection("c", MixedConfig()).ok());
    auto c = *db->GetCollection("c");
    REQUIRE(c->CreatePayloadIndex("group", "integer").ok());
    for (int b = 0; b < 14; ++b) RandomBatch(*c, m, rng, 220);
    CHECK(c->Stats().segments > 2);
    CheckSearches(*c, m, 2);
    digest = c->core().StateDigest();
    REQUIRE(db->Close().ok());
  }
  auto db = *DatabaseCore::OpenStorage(StoredOptions(40), &st);
  auto c = *db->GetCollection("c");
  CHECK(c->core().StateDigest() == digest);
  CheckSearches(*c, m, 3);
  for (int b = 0; b < 3; ++b) RandomBatch(*c, m, rng, 220);
  REQUIRE(c->Optimize().ok());
  CHECK(c->Stats().segments == 2);
  CheckSearches(*c, m, 4);
  auto problems = c->Verify();
  REQUIRE(problems.ok());
  CHECK(problems->empty());

  auto snapshot = c->CreateSnapshot();
  REQUIRE(snapshot.ok());
  REQUIRE(db->RestoreSnapshot("copy", *snapshot).ok());
  auto copy = *db->GetCollection("copy");
  CHECK(copy->core().StateDigest() == c->core().StateDigest());
  CheckSearches(*copy, m, 5);
  // The snapshot restores in memory too, to the same state.
  auto mem = testing::OpenTestDatabase();
  REQUIRE(mem->RestoreSnapshot("copy", *snapshot).ok());
  CHECK((*mem->GetCollection("copy"))->core().StateDigest() == c->core().StateDigest());
}

TEST_CASE("sparse: the IDF modifier is Qdrant's formula over live points", "[db][sparse]") {
  auto db = testing::OpenTestDatabase();
  CollectionConfig config;
  SparseVectorParams p;
  p.modifier = SparseModifier::kIdf;
  config.sparse_vectors["w"] = p;
  auto c = testing::MakeCollection(*db, "c", config);
  // Index 1 in 3 of 5 points, index 2 in 1, index 3 in all 5; point 5 is deleted later.
  std::vector<PointInput> pts(6);
  const std::vector<SparseVector> vs = {{{1, 3}, {2, 1}}, {{1, 2, 3}, {1, 4, 1}}, {{3}, {1}},
                                        {{1, 3}, {0.5f, 1}}, {{3}, {2}},          {{1, 2}, {9, 9}}};
  for (size_t i = 0; i < pts.size(); ++i) {
    pts[i].id = PointId::Number(i);
    pts[i].sparse_vectors["w"] = vs[i];
  }
  REQUIRE(c->Upsert(pts).ok());
  REQUIRE(c->Delete(PointsSelector::Ids({PointId::Number(5)})).ok());
  auto idf = [](double n_all, double n) { return std::log((n_all - n + 0.5) / (n + 0.5) + 1.0); };
  SearchRequest req;
  req.vector_name = "w";
  req.sparse_vector = SparseVector{{3, 1, 2}, {1, 1, 1}};
  req.limit = 10;
  auto r = c->Search(req);
  REQUIRE(r.ok());
  REQUIRE(r->size() == 5);
  const double idf1 = idf(5, 3), idf2 = idf(5, 1), idf3 = idf(5, 5);
  std::map<uint64_t, double> want = {{0, 2 * idf1 + idf3}, {1, idf1 + 4 * idf2 + idf3}, {2, idf3},
                                     {3, 0.5 * idf1 + idf3}, {4, 2 * idf3}};
  for (const ScoredPoint& sp : *r) CHECK(sp.score == Approx(want[sp.id.number()]).epsilon(1e-6));
  CHECK((*r)[0].id.number() == 1);
  // An index no point holds adds nothing and excludes nobody; a query sharing nothing finds nothing.
  req.sparse_vector = SparseVector{{77}, {1}};
  CHECK(c->Search(req)->empty());
}

TEST_CASE("sparse: bad input is refused by name and changes nothing", "[db][sparse]") {
  auto db = testing::OpenTestDatabase();
  auto c = testing::MakeCollection(*db, "c", MixedConfig());
  PointInput good;
  good.id = PointId::Number(1);
  good.sparse_vectors["text"] = SparseVector{{1, 2}, {1, 1}};
  REQUIRE(c->Upsert({&good, 1}).ok());
  const std::string before = c->core().StateDigest();
  auto refuse = [&](PointInput p, const std::string& part) {
    std::vector<PointInput> batch = {good, std::move(p)};
    batch[0].id = PointId::Number(9);
    Status s = c->Upsert(batch);
    INFO(s.ToString());
    CHECK(s.IsInvalidArgument());
    CHECK(s.message().find(part) != std::string::npos);
    CHECK(c->core().StateDigest() == before);
  };
  PointInput p;
  p.id = PointId::Number(2);
  p.sparse_vectors["text"] = SparseVector{{4, 1, 4}, {1, 2, 3}};
  refuse(p, "points[1]: sparse vector 'text': duplicate index 4");
  p.sparse_vectors["text"] = SparseVector{{4, 1}, {1, std::numeric_limits<float>::quiet_NaN()}};
  refuse(p, "not a finite number");
  p.sparse_vectors["text"] = SparseVector{{4, 1}, {1}};
  refuse(p, "indices and values have different lengths (2 and 1)");
  p.sparse_vectors.clear();
  p.sparse_vectors["nope"] = SparseVector{{1}, {1}};
  refuse(p, "has no sparse vector named 'nope'");
  p.sparse_vectors.clear();
  p.sparse_vectors["dense"] = SparseVector{{1}, {1}};
  refuse(p, "vector 'dense' of collection c is dense");
  p.sparse_vectors.clear();
  p.vectors["text"] = {1, 2, 3, 4};
  refuse(p, "vector 'text' is a sparse vector");

  SearchRequest req;
  req.vector_name = "text";
  req.sparse_vector = SparseVector{{1, 1}, {1, 1}};
  CHECK(c->Search(req).status().message() == "query: duplicate index 1");
  req.vector_name = "dense";
  req.sparse_vector = SparseVector{{1}, {1}};
  CHECK(c->Search(req).status().message().find("is dense") != std::string::npos);
  req.vector_name = "text";
  req.sparse_vector.reset();
  req.vector = {1, 2, 3, 4};
  CHECK(c->Search(req).status().message().find("is a sparse vector") != std::string::npos);
  CHECK(c->core().StateDigest() == before);
}

TEST_CASE("sparse: a collection of sparse vectors only, points without vectors, replicated ops", "[db][sparse]") {
  auto db = testing::OpenTestDatabase();
  CollectionConfig config;
  config.sparse_vectors["s"] = SparseVectorParams{};
  auto c = testing::MakeCollection(*db, "c", config);
  PointInput none;
  none.id = PointId::Number(1);
  none.payload = R"({"a":1})";
  PointInput empty;
  empty.id = PointId::Number(2);
  empty.sparse_vectors["s"] = SparseVector{};
  REQUIRE(c->Upsert(std::vector<PointInput>{none, empty}).ok());
  CHECK(c->Info().points_count == 2);
  auto r = c->Get(std::vector<PointId>{PointId::Number(1), PointId::Number(2)}, PayloadSelector::All(),
                  VectorSelector::All());
  REQUIRE(r->size() == 2);
  CHECK((*r)[0].sparse_vectors.empty());
  CHECK((*r)[1].sparse_vectors.at("s") == SparseVector{});
  // The same ops applied to a replica in another order give the same state (one vectors register).
  auto other = testing::OpenTestDatabase(2);
  auto d = testing::MakeCollection(*other, "c", config);
  std::vector<db::Op> ops;
  c->core().SetOpListener([&](std::span<const db::Op> batch) {
    ops.insert(ops.end(), batch.begin(), batch.end());
    return Status::OK();
  });
  PointInput a;
  a.id = PointId::Number(3);
  a.sparse_vectors["s"] = SparseVector{{5}, {1}};
  REQUIRE(c->Upsert({&a, 1}).ok());
  a.sparse_vectors["s"] = SparseVector{{6}, {2}};
  REQUIRE(c->Upsert({&a, 1}).ok());
  REQUIRE(ops.size() == 2);
  REQUIRE(d->core().ApplyOps(std::vector<db::Op>{ops[1]}).ok());
  REQUIRE(d->core().ApplyOps(std::vector<db::Op>{ops[0]}).ok());
  const PointId three = PointId::Number(3);
  auto got = d->Get({&three, 1}, PayloadSelector::None(), VectorSelector::All());
  CHECK((*got)[0].sparse_vectors.at("s") == SparseVector{{6}, {2}});
}

}  // namespace
}  // namespace quiver
