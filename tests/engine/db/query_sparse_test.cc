// The Query API over sparse vectors and BM25 documents, against references computed here: brute-force sparse
// dot products (with the IDF modifier written out), RRF of a dense and a sparse list, sparse rescoring of a dense
// prefetch, recommend's average of sparse examples.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "engine/db/db_test_util.h"
#include "quiver/api.h"

namespace quiver {
namespace {

using api::Operation;

constexpr size_t kPoints = 200;

struct Pt {
  uint64_t id;
  std::vector<float> d;           // dense, 3-d, Dot
  std::map<uint32_t, float> s;   // sparse "s" (no modifier) and "w" (IDF), the same values
  int64_t n;
};

uint64_t Next(uint64_t* s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return *s >> 33;
}

std::string Num(double x) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.9g", x);
  return buf;
}

std::string SparseJson(const std::map<uint32_t, float>& v) {
  std::string idx, val;
  for (const auto& [i, x] : v) {
    idx += (idx.empty() ? "" : ",") + std::to_string(i);
    val += (val.empty() ? "" : ",") + Num(x);
  }
  return R"({"indices":[)" + idx + R"(],"values":[)" + val + "]}";
}

struct Hit {
  uint64_t id;
  float score;
};

class SparseQueryFixture {
 public:
  SparseQueryFixture() : db_(testing::OpenTestDatabase()) {
    REQUIRE(Call(Operation::kCreateCollection,
                 R"({"vectors":{"d":{"size":3,"distance":"Dot"}},)"
                 R"("sparse_vectors":{"s":{},"w":{"modifier":"idf"},"t":{"modifier":"idf"}}})") == "true");
    uint64_t seed = 7;
    std::string body = R"({"points":[)";
    const char* words[] = {"red shoes for running", "blue running shirts", "green garden hose",
                           "red garden gloves",     "running in the rain", "shoes and shirts"};
    for (size_t i = 0; i < kPoints; ++i) {
      Pt p;
      p.id = i + 1;
      p.n = static_cast<int64_t>(i);
      for (int j = 0; j < 3; ++j) p.d.push_back(static_cast<float>(Next(&seed) % 2001) / 1000.0f - 1.0f);
      // 1 to 6 indices out of 40, so that shared indices and IDF weights vary; every 17th point has none.
      if (i % 17 != 5) {
        const size_t k = 1 + Next(&seed) % 6;
        for (size_t j = 0; j < k; ++j) p.s[Next(&seed) % 40] = static_cast<float>(Next(&seed) % 1000) / 100.0f + 0.01f;
      }
      std::string vec = R"({"d":[)" + Num(p.d[0]) + "," + Num(p.d[1]) + "," + Num(p.d[2]) + "]";
      if (!p.s.empty()) vec += R"(,"s":)" + SparseJson(p.s) + R"(,"w":)" + SparseJson(p.s);
      vec += R"(,"t":{"text":")" + std::string(words[i % 6]) + R"(","model":"qdrant/bm25"}})";
      body += (i ? "," : "") + std::string(R"({"id":)") + std::to_string(p.id) + R"(,"vector":)" + vec +
              R"(,"payload":{"n":)" + std::to_string(i) + "}}";
      pts_.push_back(std::move(p));
    }
    body += "]}";
    REQUIRE(Call(Operation::kUpsertPoints, body).find("completed") != std::string::npos);
  }

  std::string Call(Operation op, std::string_view body) {
    auto r = api::Call(*db_, op, {"c", {}, {}}, body);
    if (!r.ok()) return "error " + std::string(StatusCodeName(r.status().code())) + ": " + std::string(r.status().message());
    return api::Print(*r);
  }
  std::vector<Hit> Query(std::string_view body) {
    auto r = api::Call(*db_, Operation::kQueryPoints, {"c", {}, {}}, body);
    INFO(body);
    if (!r.ok()) FAIL(r.status().ToString());
    std::vector<Hit> out;
    for (const ScoredPoint& p : std::get<QueryResponse>(*r).points) out.push_back({p.id.number(), p.score});
    return out;
  }
  std::string Error(std::string_view body) {
    auto r = api::Call(*db_, Operation::kQueryPoints, {"c", {}, {}}, body);
    if (r.ok()) return "ok";
    return std::string(StatusCodeName(r.status().code())) + ": " + std::string(r.status().message());
  }

  // IDF of index i over the points that have the sparse vector.
  double Idf(uint32_t i) const {
    double n_all = 0, n = 0;
    for (const Pt& p : pts_) {
      if (p.s.empty()) continue;
      ++n_all;
      if (p.s.count(i)) ++n;
    }
    return std::log((n_all - n + 0.5) / (n + 0.5) + 1.0);
  }
  // Brute-force sparse scores of the points sharing an index with q (among `only`, when given), best first,
  // ties by id, at most `limit`.
  std::vector<Hit> Brute(const std::map<uint32_t, float>& q, bool idf, size_t limit,
                         const std::set<uint64_t>* only = nullptr, const std::set<uint64_t>& skip = {}) const {
    std::vector<Hit> out;
    for (const Pt& p : pts_) {
      if ((only && !only->count(p.id)) || skip.count(p.id)) continue;
      bool shared = false;
      double score = 0;
      for (const auto& [i, w] : q) {
        auto it = p.s.find(i);
        if (it == p.s.end()) continue;
        shared = true;
        score += double(idf ? float(w * Idf(i)) : w) * it->second;
      }
      if (shared) out.push_back({p.id, static_cast<float>(score)});
    }
    std::stable_sort(out.begin(), out.end(), [](const Hit& a, const Hit& b) {
      return a.score != b.score ? a.score > b.score : a.id < b.id;
    });
    if (out.size() > limit) out.resize(limit);
    return out;
  }
  std::vector<Hit> BruteDense(const std::vector<float>& q, size_t limit) const {
    std::vector<Hit> out;
    for (const Pt& p : pts_) out.push_back({p.id, q[0] * p.d[0] + q[1] * p.d[1] + q[2] * p.d[2]});
    std::stable_sort(out.begin(), out.end(), [](const Hit& a, const Hit& b) {
      return a.score != b.score ? a.score > b.score : a.id < b.id;
    });
    if (out.size() > limit) out.resize(limit);
    return out;
  }

  const std::vector<Pt>& pts() const { return pts_; }

 private:
  std::unique_ptr<Database> db_;
  std::vector<Pt> pts_;
};

// Same ids in the same order; scores within a relative 1e-5 (sums in a different order).
void SameHits(const std::vector<Hit>& got, const std::vector<Hit>& want) {
  REQUIRE(got.size() == want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    INFO("position " << i);
    CHECK(got[i].score == Approx(want[i].score).epsilon(1e-5));
    // Near-equal scores may swap; the ids must match when the scores are clearly apart.
    if (i + 1 < want.size() && std::fabs(want[i].score - want[i + 1].score) > 1e-4f &&
        (i == 0 || std::fabs(want[i].score - want[i - 1].score) > 1e-4f)) {
      CHECK(got[i].id == want[i].id);
    }
  }
}

TEST_CASE("query: nearest by a sparse vector equals a brute-force dot product, with and without IDF",
          "[query][sparse]") {
  SparseQueryFixture f;
  const std::map<uint32_t, float> q{{3, 1.5f}, {11, 0.5f}, {27, 2.0f}};
  const std::string qs = SparseJson(q);
  SameHits(f.Query(R"({"query":)" + qs + R"(,"using":"s","limit":15})"), f.Brute(q, false, 15));
  SameHits(f.Query(R"({"query":{"nearest":)" + qs + R"(},"using":"w","limit":15})"), f.Brute(q, true, 15));
  // The IDF changes the answer (otherwise the second check proves nothing).
  auto plain = f.Brute(q, false, 15), weighted = f.Brute(q, true, 15);
  CHECK(plain[0].score != Approx(weighted[0].score));

  // A filter and an offset.
  std::set<uint64_t> small;
  for (const Pt& p : f.pts()) {
    if (p.n < 80) small.insert(p.id);
  }
  auto want = f.Brute(q, false, 8, &small);
  want.erase(want.begin(), want.begin() + 3);
  SameHits(f.Query(R"({"query":)" + qs + R"(,"using":"s","limit":5,"offset":3,)"
                   R"("filter":{"must":[{"key":"n","range":{"lt":80}}]}})"),
           want);
  // score_threshold keeps the scores at or above it.
  auto all = f.Brute(q, false, 1000);
  const float cut = all[4].score;
  auto above = f.Query(R"({"query":)" + qs + R"(,"using":"s","limit":100,"score_threshold":)" + Num(cut) + "}");
  for (const Hit& h : above) CHECK(h.score >= cut);
  CHECK(above.size() >= 5);
}

TEST_CASE("query: a point id, recommend, and a document on sparse vectors", "[query][sparse]") {
  SparseQueryFixture f;
  // By id: that point's stored sparse vector, the point itself left out.
  const Pt& p9 = f.pts()[8];
  REQUIRE(!p9.s.empty());
  SameHits(f.Query(R"({"query":9,"using":"s","limit":10})"), f.Brute(p9.s, false, 10, nullptr, {9}));
  // A point without the sparse vector: NotFound naming it.
  CHECK(f.Error(R"({"query":6,"using":"s"})") ==
        "not found: query.query: no point with id 6 and vector 's' in collection c");

  // Recommend: avg(pos) + (avg(pos) - avg(neg)) per index, examples left out.
  const Pt &a = f.pts()[0], &b = f.pts()[1], &c = f.pts()[2];
  std::map<uint32_t, double> pos, neg;
  for (const auto& [i, x] : a.s) pos[i] += x / 2.0;
  for (const auto& [i, x] : b.s) pos[i] += x / 2.0;
  for (const auto& [i, x] : c.s) neg[i] += x;
  std::map<uint32_t, double> combined;
  for (const auto& [i, x] : pos) combined[i] = 2 * x;
  for (const auto& [i, x] : neg) combined[i] -= x;
  std::map<uint32_t, float> rq;
  for (const auto& [i, x] : combined) {
    if (x != 0) rq[i] = static_cast<float>(x);
  }
  SameHits(f.Query(R"({"query":{"recommend":{"positive":[1,2],"negative":[3]}},"using":"s","limit":10})"),
           f.Brute(rq, false, 10, nullptr, {1, 2, 3}));

  // A document is embedded as a BM25 query: the same answer as the equivalent search_points.
  auto by_query = f.Query(R"({"query":{"text":"red running shoes","model":"qdrant/bm25"},"using":"t","limit":10})");
  const std::string searched = f.Call(
      Operation::kSearchPoints,
      R"({"vector":{"name":"t","vector":{"text":"red running shoes","model":"qdrant/bm25"}},"limit":10})");
  REQUIRE(by_query.size() == 10);
  CHECK(searched.find("{\"id\":" + std::to_string(by_query[0].id) + ",") == 1);
  // Texts 0 ("red shoes for running") match all three words and come first; "green garden hose" never.
  for (size_t i = 0; i < 10; ++i) CHECK((by_query[i].id - 1) % 6 == 0);
  for (const Hit& h : f.Query(R"({"query":{"text":"shoes","model":"qdrant/bm25"},"using":"t","limit":100})")) {
    CHECK(((h.id - 1) % 6 == 0 || (h.id - 1) % 6 == 5));
  }
}

TEST_CASE("query: hybrid RRF of a dense and a sparse prefetch, and sparse rescoring", "[query][sparse]") {
  SparseQueryFixture f;
  const std::vector<float> dq{0.3f, -0.8f, 0.5f};
  const std::map<uint32_t, float> sq{{5, 1.0f}, {12, 2.0f}, {30, 0.5f}};
  const std::string dense = "[0.3,-0.8,0.5]", sparse = SparseJson(sq);

  // RRF with k = 2 over the two lists of 20, computed here: 1 / (position + 2), summed.
  auto dl = f.BruteDense(dq, 20), sl = f.Brute(sq, true, 20);
  std::map<uint64_t, float> rrf;
  for (size_t i = 0; i < dl.size(); ++i) rrf[dl[i].id] += 1.0f / float(i + 2);
  for (size_t i = 0; i < sl.size(); ++i) rrf[sl[i].id] += 1.0f / float(i + 2);
  std::vector<Hit> want;
  for (const auto& [id, s] : rrf) want.push_back({id, s});
  std::stable_sort(want.begin(), want.end(), [](const Hit& a, const Hit& b) {
    return a.score != b.score ? a.score > b.score : a.id < b.id;
  });
  want.resize(10);
  auto got = f.Query(R"({"prefetch":[{"query":)" + dense + R"(,"using":"d","limit":20},{"query":)" + sparse +
                     R"(,"using":"w","limit":20}],"query":{"fusion":"rrf"},"limit":10})");
  REQUIRE(got.size() == 10);
  for (size_t i = 0; i < 10; ++i) {
    CHECK(got[i].id == want[i].id);
    CHECK(got[i].score == Approx(want[i].score));
  }

  // Sparse rescoring of a dense prefetch: the prefetched points that share an index, by sparse score.
  std::set<uint64_t> prefetched;
  for (const Hit& h : f.BruteDense(dq, 60)) prefetched.insert(h.id);
  SameHits(f.Query(R"({"prefetch":{"query":)" + dense + R"(,"using":"d","limit":60},"query":)" + sparse +
                   R"(,"using":"s","limit":10})"),
           f.Brute(sq, false, 10, &prefetched));
  // Dense rescoring of a sparse prefetch: exactly those points by the dense dot product.
  std::set<uint64_t> sparse_found;
  for (const Hit& h : f.Brute(sq, false, 30)) sparse_found.insert(h.id);
  auto rescored = f.Query(R"({"prefetch":{"query":)" + sparse + R"(,"using":"s","limit":30},"query":)" + dense +
                          R"(,"using":"d","limit":5})");
  REQUIRE(rescored.size() == 5);
  for (const Hit& h : rescored) CHECK(sparse_found.count(h.id) == 1);
  for (size_t i = 1; i < rescored.size(); ++i) CHECK(rescored[i - 1].score >= rescored[i].score);
}

TEST_CASE("query: the kind of vector must match `using`", "[query][sparse]") {
  SparseQueryFixture f;
  CHECK(f.Error(R"({"query":[1,2,3],"using":"s"})") ==
        "invalid argument: query.query: vector 's' of collection c is sparse; a dense vector is not its kind");
  CHECK(f.Error(R"({"query":{"indices":[1],"values":[1]},"using":"d"})") ==
        "invalid argument: query.query: vector 'd' of collection c is dense; a sparse vector is not its kind");
  CHECK(f.Error(R"({"query":{"indices":[1,1],"values":[1,2]},"using":"s"})") ==
        "invalid argument: query.query: duplicate index 1");
  CHECK(f.Error(R"({"query":{"text":"x","model":"openai/gpt"},"using":"t"})").find(
            "not supported: query.query.model: Quiver embeds documents only with \"qdrant/bm25\"") == 0);
  CHECK(f.Error(R"({"query":{"indices":[1],"values":[1]},"using":"nope"})") ==
        "invalid argument: query.using: collection c has no vector named 'nope'");
}

}  // namespace
}  // namespace quiver
