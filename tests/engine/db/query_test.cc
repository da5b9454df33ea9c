// The Query API (db/query.h through quiver/api.h) against references computed here by brute force: exact
// nearest lists, the RRF and DBSF formulas, exact rescoring of prefetched unions, payload orders and groupings
// written out in the test.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "db/query.h"
#include "engine/db/db_test_util.h"
#include "quiver/api.h"

namespace quiver {
namespace {

using api::Operation;

constexpr size_t kPoints = 300;
constexpr uint32_t kDimA = 8;  // Cosine
constexpr uint32_t kDimB = 4;  // Euclid

// The test's own copy of every point.
struct Pt {
  uint64_t id;
  std::vector<float> a, b;
  int64_t n;
  std::vector<std::string> groups;  // the group ids the point belongs to, as printed ("\"s1\"", "3"), empty: none
  std::vector<double> prices;       // the numbers at "price"
  bool deleted = false;
};

uint64_t Next(uint64_t* s) {
  *s = *s * 6364136223846793005ull + 1442695040888963407ull;
  return *s >> 33;
}
float Rand(uint64_t* s) { return static_cast<float>(Next(s) % 20001) / 10000.0f - 1.0f; }

std::string Num(double x) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.17g", x);
  std::string s = buf;
  if (s.find('.') == std::string::npos && s.find('e') == std::string::npos) s += ".0";
  return s;
}

std::string VecJson(const std::vector<float>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? "," : "") + Num(v[i]);
  return s + "]";
}

class QueryFixture {
 public:
  QueryFixture() : db_(testing::OpenTestDatabase()) {
    REQUIRE(Call(Operation::kCreateCollection, "c",
                 R"({"vectors":{"a":{"size":8,"distance":"Cosine"},"b":{"size":4,"distance":"Euclid"}}})") == "true");
    uint64_t seed = 42;
    std::string body = R"({"points":[)";
    for (size_t i = 0; i < kPoints; ++i) {
      Pt p;
      p.id = i + 1;
      p.n = static_cast<int64_t>(i);
      for (uint32_t j = 0; j < kDimA; ++j) p.a.push_back(Rand(&seed));
      for (uint32_t j = 0; j < kDimB; ++j) p.b.push_back(Rand(&seed));
      std::string payload = "{\"n\":" + std::to_string(i);
      // grp: two string groups, a string, a float (no group), or a small integer.
      if (i % 7 == 0) {
        payload += R"(,"grp":["x","y"])";
        p.groups = {"\"x\"", "\"y\""};
      } else if (i % 3 == 0) {
        payload += ",\"grp\":\"s" + std::to_string(i % 4) + "\"";
        p.groups = {"\"s" + std::to_string(i % 4) + "\""};
      } else if (i % 11 == 0) {
        payload += R"(,"grp":2.5)";
      } else if (i % 13 != 0) {
        payload += ",\"grp\":" + std::to_string(i % 5);
        p.groups = {std::to_string(i % 5)};
      }
      // price: missing, two values, an integer, or a float.
      if (i % 10 == 0) {
      } else if (i % 9 == 0) {
        p.prices = {double(i % 13), double((i * 7) % 13) + 0.5};
        payload += ",\"price\":[" + std::to_string(i % 13) + "," + Num(p.prices[1]) + "]";
      } else if (i % 4 == 0) {
        p.prices = {double(i % 50)};
        payload += ",\"price\":" + std::to_string(i % 50);
      } else {
        p.prices = {double((i * 37) % 100) / 10.0 + 0.25};
        payload += ",\"price\":" + Num(p.prices[0]);
      }
      payload += "}";
      body += (i ? "," : "") + std::string("{\"id\":") + std::to_string(p.id) + R"(,"vector":{"a":)" + VecJson(p.a) +
              R"(,"b":)" + VecJson(p.b) + "},\"payload\":" + payload + "}";
      pts_.push_back(std::move(p));
    }
    body += "]}";
    REQUIRE(Call(Operation::kUpsertPoints, "c", body).find("completed") != std::string::npos);
  }

  std::string Call(Operation op, std::string_view collection, std::string_view body) {
    auto r = api::Call(*db_, op, {collection, {}, {}}, body);
    if (!r.ok()) return "error " + std::string(StatusCodeName(r.status().code())) + ": " + std::string(r.status().message());
    return api::Print(*r);
  }
  QueryResponse Query(std::string_view body) {
    auto r = api::Call(*db_, Operation::kQueryPoints, {"c", {}, {}}, body);
    INFO(body);
    REQUIRE(r.ok());
    return std::get<QueryResponse>(*r);
  }
  std::string Error(std::string_view body, Operation op = Operation::kQueryPoints) {
    auto r = api::Call(*db_, op, {"c", {}, {}}, body);
    if (r.ok()) return "ok";
    return std::string(StatusCodeName(r.status().code())) + ": " + std::string(r.status().message());
  }
  void Delete(std::vector<uint64_t> ids) {
    std::string body = "{\"points\":[";
    for (size_t i = 0; i < ids.size(); ++i) body += (i ? "," : "") + std::to_string(ids[i]);
    REQUIRE(Call(Operation::kDeletePoints, "c", body + "]}").find("completed") != std::string::npos);
    for (uint64_t id : ids) pts_[id - 1].deleted = true;
  }

  // ---- references ----

  using Pred = std::function<bool(const Pt&)>;
  struct Hit {
    uint64_t id;
    double score;
  };

  static double Cosine(const std::vector<float>& q, const std::vector<float>& v) {
    double qq = 0, vv = 0, qv = 0;
    for (size_t j = 0; j < q.size(); ++j) qq += double(q[j]) * q[j], vv += double(v[j]) * v[j], qv += double(q[j]) * v[j];
    return qv / std::sqrt(qq * vv);
  }
  static double Euclid(const std::vector<float>& q, const std::vector<float>& v) {
    double s = 0;
    for (size_t j = 0; j < q.size(); ++j) s += (double(q[j]) - v[j]) * (double(q[j]) - v[j]);
    return std::sqrt(s);
  }
  double Score(char space, const std::vector<float>& q, const Pt& p) const {
    return space == 'a' ? Cosine(q, p.a) : Euclid(q, p.b);
  }
  // Exact nearest among live points passing `pred` (and, when given, among `among`), best first.
  std::vector<Hit> Nearest(char space, const std::vector<float>& q, const Pred& pred, size_t limit,
                           const std::vector<uint64_t>* among = nullptr) const {
    std::vector<Hit> all;
    for (const Pt& p : pts_) {
      if (p.deleted || !pred(p)) continue;
      if (among && std::find(among->begin(), among->end(), p.id) == among->end()) continue;
      all.push_back(Hit{p.id, Score(space, q, p)});
    }
    std::sort(all.begin(), all.end(), [&](const Hit& x, const Hit& y) {
      return space == 'a' ? x.score > y.score : x.score < y.score;
    });
    if (all.size() > limit) all.resize(limit);
    return all;
  }

  std::unique_ptr<Database> db_;
  std::vector<Pt> pts_;
};

const QueryFixture::Pred kAll = [](const Pt&) { return true; };

std::vector<uint64_t> IdsOf(const std::vector<QueryFixture::Hit>& hits) {
  std::vector<uint64_t> out;
  for (const auto& h : hits) out.push_back(h.id);
  return out;
}
std::vector<uint64_t> IdsOf(const QueryResponse& r) {
  std::vector<uint64_t> out;
  for (const auto& p : r.points) out.push_back(p.id.number());
  return out;
}

void CheckSame(const QueryResponse& got, const std::vector<QueryFixture::Hit>& want) {
  REQUIRE(IdsOf(got) == IdsOf(want));
  for (size_t i = 0; i < want.size(); ++i) CHECK(got.points[i].score == Approx(want[i].score).epsilon(1e-4));
}

std::vector<float> QA() { return {0.3f, -0.2f, 0.9f, 0.1f, -0.5f, 0.4f, 0.05f, -0.7f}; }
std::vector<float> QB() { return {0.1f, 0.2f, -0.3f, 0.4f}; }

// RRF as Qdrant defines it (float arithmetic, lists summed in order), ties by id.
std::vector<QueryFixture::Hit> Rrf(const std::vector<std::vector<QueryFixture::Hit>>& lists, int k,
                                   std::vector<float> weights = {}) {
  std::map<uint64_t, float> score;
  std::vector<uint64_t> order;
  for (size_t l = 0; l < lists.size(); ++l) {
    const float w = weights.empty() ? 1.0f : weights[l];
    for (size_t p = 0; p < lists[l].size(); ++p) {
      const float s = 1.0f / (float(p + 1) / w + float(k) - 1.0f);
      if (!score.count(lists[l][p].id)) order.push_back(lists[l][p].id);
      score[lists[l][p].id] += s;
    }
  }
  std::vector<QueryFixture::Hit> out;
  for (auto [id, s] : score) out.push_back({id, s});
  std::sort(out.begin(), out.end(), [](const auto& x, const auto& y) {
    return x.score != y.score ? x.score > y.score : x.id < y.id;
  });
  return out;
}

TEST_CASE("query: nearest, offset, limit, score_threshold and filter equal the exact lists", "[query]") {
  QueryFixture f;
  const std::string qa = VecJson(QA());
  CheckSame(f.Query(R"({"query":)" + qa + R"(,"using":"a","limit":7})"), f.Nearest('a', QA(), kAll, 7));
  CheckSame(f.Query(R"({"query":{"nearest":)" + qa + R"(},"using":"a","limit":5,"offset":3})"),
            [&] {
              auto all = f.Nearest('a', QA(), kAll, 8);
              return std::vector<QueryFixture::Hit>(all.begin() + 3, all.end());
            }());
  auto below = [](const Pt& p) { return p.n < 120; };
  CheckSame(f.Query(R"({"query":)" + VecJson(QB()) +
                    R"(,"using":"b","limit":9,"filter":{"must":[{"key":"n","range":{"lt":120}}]}})"),
            f.Nearest('b', QB(), below, 9));
  // Euclid: the threshold keeps distances up to it.
  auto ref = f.Nearest('b', QB(), kAll, 300);
  const double t = ref[20].score;
  auto got = f.Query(R"({"query":)" + VecJson(QB()) + R"(,"using":"b","limit":100,"score_threshold":)" + Num(t) + "}");
  CHECK(got.points.size() >= 20);
  for (const auto& p : got.points) CHECK(p.score <= t + 1e-6);
  // Cosine: scores at least the threshold.
  auto refa = f.Nearest('a', QA(), kAll, 300);
  auto gota = f.Query(R"({"query":)" + qa + R"(,"using":"a","limit":100,"score_threshold":)" + Num(refa[10].score) + "}");
  CHECK(gota.points.size() >= 10);
  CHECK(gota.points.size() <= 12);
}

TEST_CASE("query: payloads and vectors of the final points, Qdrant's result shape", "[query]") {
  QueryFixture f;
  auto r = api::Call(*f.db_, Operation::kQueryPoints, {"c", {}, {}},
                     R"({"query":)" + VecJson(QA()) + R"(,"using":"a","limit":2,"with_payload":["n"],"with_vector":["b"]})");
  REQUIRE(r.ok());
  const std::string printed = api::Print(*r);
  CHECK(printed.rfind(R"({"points":[{"id":)", 0) == 0);
  CHECK(printed.find(R"("version":0,"score":)") != std::string::npos);
  CHECK(printed.find(R"("payload":{"n":)") != std::string::npos);
  CHECK(printed.find(R"("vector":{"b":[)") != std::string::npos);
  const auto& q = std::get<QueryResponse>(*r);
  REQUIRE(q.points.size() == 2);
  CHECK(q.points[0].vectors.count("b") == 1);
  CHECK(q.points[0].vectors.count("a") == 0);
  // No query: points in id order, score 1, through the filter.
  auto scroll = f.Query(R"({"filter":{"must":[{"key":"n","range":{"gte":50}}]},"limit":3,"offset":2})");
  CHECK(IdsOf(scroll) == std::vector<uint64_t>{53, 54, 55});
  CHECK(scroll.points[0].score == 1.0f);
}

TEST_CASE("query: rrf and dbsf of two prefetches equal the formulas on the exact lists", "[query]") {
  QueryFixture f;
  auto below = [](const Pt& p) { return p.n < 200; };
  auto la = f.Nearest('a', QA(), kAll, 20);
  auto lb = f.Nearest('b', QB(), below, 15);
  const std::string prefetch = R"("prefetch":[{"query":)" + VecJson(QA()) + R"(,"using":"a","limit":20},{"query":)" +
                               VecJson(QB()) +
                               R"(,"using":"b","limit":15,"filter":{"must":[{"key":"n","range":{"lt":200}}]}}])";
  // Default k = 2.
  auto rrf = f.Query("{" + prefetch + R"(,"query":{"fusion":"rrf"},"limit":12})");
  auto want = Rrf({la, lb}, 2);
  want.resize(12);
  REQUIRE(IdsOf(rrf) == IdsOf(want));
  for (size_t i = 0; i < want.size(); ++i) CHECK(rrf.points[i].score == float(want[i].score));
  // k and weights.
  auto weighted = f.Query("{" + prefetch + R"(,"query":{"rrf":{"k":5,"weights":[2,0.5]}},"limit":30})");
  auto wantw = Rrf({la, lb}, 5, {2.0f, 0.5f});
  wantw.resize(std::min<size_t>(30, wantw.size()));
  REQUIRE(IdsOf(weighted) == IdsOf(wantw));
  // The fused list is thresholded, then offset.
  auto thr = f.Query("{" + prefetch + R"(,"query":{"fusion":"rrf"},"limit":50,"offset":2,"score_threshold":0.3})");
  std::vector<uint64_t> wantt;
  for (const auto& h : Rrf({la, lb}, 2)) {
    if (h.score >= 0.3f) wantt.push_back(h.id);
  }
  wantt.erase(wantt.begin(), wantt.begin() + 2);
  CHECK(IdsOf(thr) == wantt);

  // DBSF: mean +- 3 sample standard deviations per list; Euclid distances negated first.
  auto dbsf = f.Query("{" + prefetch + R"(,"query":{"fusion":"dbsf"},"limit":100})");
  std::map<uint64_t, double> ref;
  for (int l = 0; l < 2; ++l) {
    const auto& list = l == 0 ? la : lb;
    const double sign = l == 0 ? 1 : -1;
    double mean = 0, var = 0;
    for (const auto& h : list) mean += sign * h.score;
    mean /= double(list.size());
    for (const auto& h : list) var += (sign * h.score - mean) * (sign * h.score - mean);
    const double sd = std::sqrt(var / double(list.size() - 1));
    for (const auto& h : list) ref[h.id] += (sign * h.score - (mean - 3 * sd)) / (6 * sd);
  }
  REQUIRE(dbsf.points.size() == ref.size());
  for (size_t i = 0; i < dbsf.points.size(); ++i) {
    CHECK(dbsf.points[i].score == Approx(ref[dbsf.points[i].id.number()]).epsilon(1e-3));
    if (i) CHECK(dbsf.points[i - 1].score >= dbsf.points[i].score);
  }
}

TEST_CASE("query: rescoring scores exactly the union of the prefetched points", "[query]") {
  QueryFixture f;
  auto odd = [](const Pt& p) { return p.n % 2 == 1; };
  auto la = f.Nearest('a', QA(), kAll, 25);
  auto lb = f.Nearest('b', QB(), odd, 30);
  std::vector<uint64_t> uni = IdsOf(la);
  for (uint64_t id : IdsOf(lb)) {
    if (std::find(uni.begin(), uni.end(), id) == uni.end()) uni.push_back(id);
  }
  auto got = f.Query(R"({"prefetch":[{"query":)" + VecJson(QA()) + R"(,"using":"a","limit":25},{"query":)" +
                     VecJson(QB()) + R"(,"using":"b","limit":30,"filter":{"must":[{"key":"n","range":{"gte":0}}],)"
                     R"("must_not":[{"key":"n","match":{"any":[)" +
                     [] {
                       std::string s;
                       for (int i = 0; i < 300; i += 2) s += (i ? "," : "") + std::to_string(i);
                       return s;
                     }() +
                     R"(]}}]}}],"query":)" + VecJson(QB()) + R"(,"using":"b","limit":10})");
  CheckSame(got, f.Nearest('b', QB(), kAll, 10, &uni));

  // The root filter reaches every leaf; rescoring a prefetch by another vector.
  auto below = [](const Pt& p) { return p.n < 150; };
  auto inner = f.Nearest('b', QB(), below, 40);
  std::vector<uint64_t> inner_ids = IdsOf(inner);
  auto rooted = f.Query(R"({"prefetch":{"query":)" + VecJson(QB()) + R"(,"using":"b","limit":40},"query":)" +
                        VecJson(QA()) +
                        R"(,"using":"a","limit":8,"filter":{"must":[{"key":"n","range":{"lt":150}}]}})");
  CheckSame(rooted, f.Nearest('a', QA(), kAll, 8, &inner_ids));
}

TEST_CASE("query: nested prefetches, each level rescoring or fusing what is below it", "[query]") {
  QueryFixture f;
  const std::vector<float> qa2 = {0.5f, 0.5f, -0.1f, 0.2f, 0.3f, -0.4f, 0.6f, 0.0f};
  // Level 2: two leaves; level 1: rescore their union by a; root: rrf of level 1 and another leaf.
  auto l1 = f.Nearest('a', QA(), kAll, 30);
  auto l2 = f.Nearest('b', QB(), kAll, 30);
  std::vector<uint64_t> uni = IdsOf(l1);
  for (uint64_t id : IdsOf(l2)) {
    if (std::find(uni.begin(), uni.end(), id) == uni.end()) uni.push_back(id);
  }
  auto mid = f.Nearest('a', qa2, kAll, 15, &uni);
  auto other = f.Nearest('b', QB(), [](const Pt& p) { return p.n >= 100; }, 10);
  auto want = Rrf({mid, other}, 2);
  auto got = f.Query(R"({"prefetch":[{"prefetch":[{"query":)" + VecJson(QA()) + R"(,"using":"a","limit":30},)"
                     R"({"query":)" + VecJson(QB()) + R"(,"using":"b","limit":30}],"query":)" + VecJson(qa2) +
                     R"(,"using":"a","limit":15},{"query":)" + VecJson(QB()) +
                     R"(,"using":"b","limit":10,"filter":{"must":[{"key":"n","range":{"gte":100}}]}}],)"
                     R"("query":{"fusion":"rrf"},"limit":100})");
  CHECK(IdsOf(got) == IdsOf(want));

  // A fusion in the middle, rescored at the root: the root scores the fused points.
  auto fused = Rrf({l1, l2}, 2);
  fused.resize(20);
  std::vector<uint64_t> fused_ids = IdsOf(fused);
  auto got2 = f.Query(R"({"prefetch":{"prefetch":[{"query":)" + VecJson(QA()) + R"(,"using":"a","limit":30},)"
                      R"({"query":)" + VecJson(QB()) + R"(,"using":"b","limit":30}],"query":{"fusion":"rrf"},"limit":20},)"
                      R"("query":)" + VecJson(qa2) + R"(,"using":"a","limit":6})");
  CheckSame(got2, f.Nearest('a', qa2, kAll, 6, &fused_ids));
}

TEST_CASE("query: order_by equals sorting the payloads", "[query]") {
  QueryFixture f;
  // Each point once, by its smallest value (asc) or largest (desc) within start_from; ties by id.
  auto order = [&](bool desc, std::optional<double> start, const QueryFixture::Pred& pred,
                   const std::vector<uint64_t>* among = nullptr) {
    std::vector<std::pair<double, uint64_t>> rows;
    for (const Pt& p : f.pts_) {
      if (p.deleted || !pred(p)) continue;
      if (among && std::find(among->begin(), among->end(), p.id) == among->end()) continue;
      std::optional<double> best;
      for (double v : p.prices) {
        if (start && (desc ? v > *start : v < *start)) continue;
        if (!best || (desc ? v > *best : v < *best)) best = v;
      }
      if (best) rows.emplace_back(*best, p.id);
    }
    std::sort(rows.begin(), rows.end(), [&](const auto& x, const auto& y) {
      if (x.first != y.first) return desc ? x.first > y.first : x.first < y.first;
      return desc ? x.second > y.second : x.second < y.second;
    });
    return rows;
  };
  auto check = [&](const QueryResponse& got, const std::vector<std::pair<double, uint64_t>>& want, size_t n) {
    REQUIRE(got.points.size() == std::min(n, want.size()));
    REQUIRE(got.order_values.size() == got.points.size());
    for (size_t i = 0; i < got.points.size(); ++i) {
      CHECK(got.points[i].id.number() == want[i].second);
      CHECK(got.order_values[i].as_double() == want[i].first);
      CHECK(got.points[i].score == 1.0f);
    }
  };
  check(f.Query(R"({"query":{"order_by":"price"},"limit":40})"), order(false, std::nullopt, kAll), 40);
  check(f.Query(R"({"query":{"order_by":{"key":"price","direction":"desc"}},"limit":25})"),
        order(true, std::nullopt, kAll), 25);
  check(f.Query(R"({"query":{"order_by":{"key":"price","direction":"desc","start_from":6}},"limit":30})"),
        order(true, 6.0, kAll), 30);
  check(f.Query(R"({"query":{"order_by":{"key":"price","start_from":5.5}},"limit":30,)"
                R"("filter":{"must":[{"key":"n","range":{"lt":200}}]}})"),
        order(false, 5.5, [](const Pt& p) { return p.n < 200; }), 30);
  // All of them: every point with a price once.
  auto all = order(false, std::nullopt, kAll);
  check(f.Query(R"({"query":{"order_by":"price"},"limit":1000})"), all, 1000);
  // Over a prefetch: the prefetched points in payload order.
  auto near = f.Nearest('a', QA(), kAll, 50);
  std::vector<uint64_t> near_ids = IdsOf(near);
  check(f.Query(R"({"prefetch":{"query":)" + VecJson(QA()) +
                R"(,"using":"a","limit":50},"query":{"order_by":{"key":"price","direction":"desc"}},"limit":20})"),
        order(true, std::nullopt, kAll, &near_ids), 20);
  // The printed points carry order_value.
  const std::string printed = f.Call(Operation::kQueryPoints, "c", R"({"query":{"order_by":"price"},"limit":1})");
  CHECK(printed.find(R"("score":1,"order_value":)") != std::string::npos);
  // A payload index changes nothing.
  REQUIRE(f.Call(Operation::kCreateFieldIndex, "c", R"({"field_name":"price","field_schema":"float"})")
              .find("completed") != std::string::npos);
  check(f.Query(R"({"query":{"order_by":"price"},"limit":40})"), order(false, std::nullopt, kAll), 40);
}

TEST_CASE("query: order_by datetimes", "[query]") {
  auto db = testing::OpenTestDatabase();
  REQUIRE(api::Call(*db, Operation::kCreateCollection, {"d", {}, {}}, R"({"vectors":{"size":2,"distance":"Dot"}})").ok());
  REQUIRE(api::Call(*db, Operation::kUpsertPoints, {"d", {}, {}},
                    R"({"points":[{"id":1,"vector":[1,0],"payload":{"t":"2024-03-01T00:00:00Z"}},)"
                    R"({"id":2,"vector":[1,0],"payload":{"t":"2023-01-01"}},)"
                    R"({"id":3,"vector":[1,0],"payload":{"t":"2025-06-01T12:00:00+02:00"}},)"
                    R"({"id":4,"vector":[1,0],"payload":{"t":"not a date"}}]})")
              .ok());
  auto r = api::Call(*db, Operation::kQueryPoints, {"d", {}, {}},
                     R"({"query":{"order_by":{"key":"t","start_from":"2023-06-01T00:00:00Z"}}})");
  REQUIRE(r.ok());
  const auto& q = std::get<QueryResponse>(*r);
  REQUIRE(q.points.size() == 2);
  CHECK(q.points[0].id.number() == 1);
  CHECK(q.points[1].id.number() == 3);
  CHECK(std::get<int64_t>(q.order_values[0].value) == 1709251200000000);
}

TEST_CASE("query: nearest by id and recommend leave the examples out", "[query]") {
  QueryFixture f;
  const Pt& p7 = f.pts_[6];
  auto not7 = [](const Pt& p) { return p.id != 7; };
  CheckSame(f.Query(R"({"query":7,"using":"a","limit":5})"), f.Nearest('a', p7.a, not7, 5));
  CheckSame(f.Query(R"({"query":{"nearest":7},"using":"b","limit":5})"), f.Nearest('b', p7.b, not7, 5));
  // Recommend (average_vector): cosine examples normalised, avg + (avg - avg negative).
  auto unit = [](std::vector<float> v) {
    double s = 0;
    for (float x : v) s += double(x) * x;
    for (float& x : v) x = float(x / std::sqrt(s));
    return v;
  };
  const Pt& p3 = f.pts_[2];
  const Pt& p9 = f.pts_[8];
  std::vector<float> raw = {1, 2, 0, 0, 0, 0, 0, 1};
  std::vector<float> pos1 = unit(p3.a), pos2 = unit(raw), neg = unit(p9.a), q(kDimA);
  for (uint32_t j = 0; j < kDimA; ++j) {
    const double avg = (double(pos1[j]) + pos2[j]) / 2;
    q[j] = float(2 * avg - neg[j]);
  }
  auto rec = f.Query(R"({"query":{"recommend":{"positive":[3,)" + VecJson(raw) +
                     R"(],"negative":[9]}},"using":"a","limit":6})");
  CheckSame(rec, f.Nearest('a', q, [](const Pt& p) { return p.id != 3 && p.id != 9; }, 6));
  // The examples named in a prefetch are left out everywhere.
  auto pre = f.Query(R"({"prefetch":{"query":7,"using":"a","limit":10},"query":{"fusion":"rrf"}})");
  for (const auto& p : pre.points) CHECK(p.id.number() != 7);
}

TEST_CASE("query: deleted points are left out everywhere", "[query]") {
  QueryFixture f;
  auto top = f.Nearest('a', QA(), kAll, 10);
  std::vector<uint64_t> gone = {top[0].id, top[3].id, 8, 18};
  f.Delete(gone);
  CheckSame(f.Query(R"({"query":)" + VecJson(QA()) + R"(,"using":"a","limit":10})"), f.Nearest('a', QA(), kAll, 10));
  auto fused = f.Query(R"({"prefetch":[{"query":)" + VecJson(QA()) + R"(,"using":"a","limit":20},{"query":)" +
                       VecJson(QB()) + R"(,"using":"b","limit":20}],"query":{"fusion":"rrf"},"limit":100})");
  CHECK(IdsOf(fused) == IdsOf(Rrf({f.Nearest('a', QA(), kAll, 20), f.Nearest('b', QB(), kAll, 20)}, 2)));
  auto ordered = f.Query(R"({"query":{"order_by":"price"},"limit":1000,"with_payload":true})");
  auto scrolled = f.Query(R"({"limit":1000})");
  for (uint64_t id : gone) {
    for (const auto& p : ordered.points) CHECK(p.id.number() != id);
    for (const auto& p : scrolled.points) CHECK(p.id.number() != id);
  }
  CHECK(scrolled.points.size() == kPoints - gone.size());
  CHECK(f.Error(R"({"query":)" + std::to_string(gone[0]) + R"(,"using":"a"})") ==
        "not found: query.query: no point with id " + std::to_string(gone[0]) + " and vector 'a' in collection c");
}

TEST_CASE("query: groups equal grouping the exact ranked list", "[query]") {
  QueryFixture f;
  // Every point in rank order; groups are the first `limit` distinct ids, each with its first group_size hits.
  auto grouping = [&](const std::vector<QueryFixture::Hit>& ranked, size_t limit, size_t size) {
    std::vector<std::pair<std::string, std::vector<uint64_t>>> groups;
    for (const auto& h : ranked) {
      for (const std::string& g : f.pts_[h.id - 1].groups) {
        auto it = std::find_if(groups.begin(), groups.end(), [&](const auto& x) { return x.first == g; });
        if (it == groups.end()) {
          if (groups.size() == limit) continue;
          groups.push_back({g, {}});
          it = groups.end() - 1;
        }
        if (it->second.size() < size) it->second.push_back(h.id);
      }
    }
    return groups;
  };
  auto check = [&](const std::string& body, const std::vector<QueryFixture::Hit>& ranked, size_t limit, size_t size) {
    auto r = api::Call(*f.db_, Operation::kQueryGroups, {"c", {}, {}}, body);
    INFO(body);
    REQUIRE(r.ok());
    const auto& got = std::get<GroupsResponse>(*r);
    auto want = grouping(ranked, limit, size);
    REQUIRE(got.groups.size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      std::string id;
      if (auto* s = std::get_if<std::string>(&got.groups[i].id)) id = "\"" + *s + "\"";
      if (auto* u = std::get_if<uint64_t>(&got.groups[i].id)) id = std::to_string(*u);
      CHECK(id == want[i].first);
      std::vector<uint64_t> hits;
      for (const auto& p : got.groups[i].hits.points) hits.push_back(p.id.number());
      CHECK(hits == want[i].second);
    }
  };
  auto ranked = f.Nearest('a', QA(), kAll, kPoints);
  check(R"({"query":)" + VecJson(QA()) + R"(,"using":"a","group_by":"grp","limit":4,"group_size":3})", ranked, 4, 3);
  check(R"({"query":)" + VecJson(QA()) + R"(,"using":"a","group_by":"grp"})", ranked, 10, 3);
  // Big groups: more points than the first read.
  check(R"({"query":)" + VecJson(QA()) + R"(,"using":"a","group_by":"grp","limit":3,"group_size":40})", ranked, 3, 40);
  auto below = [](const Pt& p) { return p.n < 90; };
  check(R"({"query":)" + VecJson(QB()) +
            R"(,"using":"b","group_by":"grp","limit":5,"group_size":2,"filter":{"must":[{"key":"n","range":{"lt":90}}]}})",
        f.Nearest('b', QB(), below, kPoints), 5, 2);
  // with_lookup: the group id names a point of another collection.
  REQUIRE(f.Call(Operation::kCreateCollection, "info", R"({"vectors":{"size":2,"distance":"Dot"}})") == "true");
  REQUIRE(f.Call(Operation::kUpsertPoints, "info",
                 R"({"points":[{"id":1,"vector":[1,0],"payload":{"name":"one"}},{"id":3,"vector":[0,1],"payload":{"name":"three"}}]})")
              .find("completed") != std::string::npos);
  const std::string printed =
      f.Call(Operation::kQueryGroups, "c",
             R"({"query":{"order_by":"n"},"group_by":"grp","limit":3,"group_size":2,"with_payload":["n"],)"
             R"("with_lookup":{"collection":"info","with_payload":["name"]}})");
  // In id order (order_by n): 0 -> x,y ; 1 -> 1 ; 2 -> 2. Groups x, y, 1.
  CHECK(printed ==
        R"({"groups":[{"id":"x","hits":[{"id":1,"version":0,"score":1,"order_value":0,"payload":{"n":0}},)"
        R"({"id":8,"version":0,"score":1,"order_value":7,"payload":{"n":7}}]},)"
        R"({"id":"y","hits":[{"id":1,"version":0,"score":1,"order_value":0,"payload":{"n":0}},)"
        R"({"id":8,"version":0,"score":1,"order_value":7,"payload":{"n":7}}]},)"
        R"({"id":1,"hits":[{"id":2,"version":0,"score":1,"order_value":1,"payload":{"n":1}},)"
        R"({"id":17,"version":0,"score":1,"order_value":16,"payload":{"n":16}}],"lookup":{"id":1,"payload":{"name":"one"}}}]})");

  f.Delete({f.Nearest('b', QB(), kAll, 1)[0].id, 15, 30});
  check(R"({"query":)" + VecJson(QB()) + R"(,"using":"b","group_by":"grp","limit":6,"group_size":4})",
        f.Nearest('b', QB(), kAll, kPoints), 6, 4);

  // Huge limits are clamped, not overflowed.
  auto huge = api::Call(*f.db_, Operation::kQueryGroups, {"c", {}, {}},
                        R"({"prefetch":{"query":)" + VecJson(QA()) +
                            R"(,"using":"a","limit":1000000},"query":{"fusion":"rrf"},"group_by":"grp","limit":1000000,"group_size":1000000})");
  REQUIRE(huge.ok());
  std::set<std::string> distinct;
  for (const Pt& p : f.pts_) {
    if (!p.deleted) distinct.insert(p.groups.begin(), p.groups.end());
  }
  CHECK(distinct.size() == 11);
  CHECK(std::get<GroupsResponse>(*huge).groups.size() == distinct.size());
}

TEST_CASE("query: batch", "[query]") {
  QueryFixture f;
  auto r = api::Call(*f.db_, Operation::kQueryBatch, {"c", {}, {}},
                     R"({"searches":[{"query":)" + VecJson(QA()) + R"(,"using":"a","limit":3},{"limit":2}]})");
  REQUIRE(r.ok());
  const auto& list = std::get<std::vector<QueryResponse>>(*r);
  REQUIRE(list.size() == 2);
  CheckSame(list[0], f.Nearest('a', QA(), kAll, 3));
  CHECK(IdsOf(list[1]) == std::vector<uint64_t>{1, 2});
  CHECK(api::Print(*r).rfind(R"([{"points":[)", 0) == 0);
  CHECK(f.Error(R"({"searches":[{"limit":2},{"query":{"fusion":"rrf"}}]})", Operation::kQueryBatch) ==
        "invalid argument: query_batch.searches[1].query: a fusion needs prefetches to fuse: give 'prefetch' with "
        "the queries whose results it fuses");
}

TEST_CASE("query: bad input is refused, naming the part", "[query]") {
  QueryFixture f;
  const std::string qa = VecJson(QA());
  CHECK(f.Error(R"({"query":{"fusion":"rrf"}})") ==
        "invalid argument: query.query: a fusion needs prefetches to fuse: give 'prefetch' with the queries whose "
        "results it fuses");
  CHECK(f.Error(R"({"prefetch":{"query":)" + qa + R"(,"using":"a"}})") ==
        "invalid argument: query: prefetches need a query to merge them (a vector, nearest, recommend, order_by or "
        "a fusion)");
  CHECK(f.Error(R"({"query":)" + qa + R"(,"using":"zz"})") ==
        "invalid argument: query.using: collection c has no vector named 'zz'");
  CHECK(f.Error(R"({"query":)" + qa + R"(})") ==
        "invalid argument: query.using: collection c has only named vectors; name one");
  CHECK(f.Error(R"({"prefetch":[{"query":)" + qa + R"(,"using":"a"},{"query":[1,2],"using":"nope"}],"query":{"fusion":"dbsf"}})") ==
        "invalid argument: query.prefetch[1].using: collection c has no vector named 'nope'");
  CHECK(f.Error(R"({"query":[1,2,3],"using":"a"})") ==
        "invalid argument: query.query: the vector has 3 dimensions; vector 'a' has 8");
  CHECK(f.Error(R"({"query":)" + qa + R"(,"using":"a","limit":-1})") ==
        "invalid argument: query.limit: expected an integer from 1 to 1000000");
  CHECK(f.Error(R"({"query":)" + qa + R"(,"using":"a","limit":1e12})") ==
        "invalid argument: query.limit: expected an integer from 1 to 1000000");
  CHECK(f.Error(R"({"prefetch":{"query":)" + qa + R"(,"using":"a","limit":0},"query":{"fusion":"rrf"}})") ==
        "invalid argument: query.prefetch.limit: expected an integer from 1 to 1000000");
  CHECK(f.Error(R"({"query":)" + qa + R"(,"using":"a","offset":-3})") ==
        "invalid argument: query.offset: expected an integer from 0 to 1000000");
  CHECK(f.Error(R"({"prefetch":[{"query":)" + qa + R"(,"using":"a"}],"query":{"rrf":{"weights":[1,2]}}})") ==
        "invalid argument: query.query.rrf.weights: 2 weights for 1 prefetches (give one per prefetch)");
  CHECK(f.Error(R"({"prefetch":[{"query":)" + qa + R"(,"using":"a"}],"query":{"fusion":"rrf"},"using":"a"})") ==
        "invalid argument: query.using: a fusion takes no 'using' (each prefetch names its own)");
  CHECK(f.Error(R"({"query":{"order_by":"price"},"score_threshold":1})") ==
        "invalid argument: query.score_threshold: an order_by query gives no scores to threshold");
  CHECK(f.Error(R"({"query":{"order_by":{"key":"price","direction":"up"}}})") ==
        "invalid argument: query.query.order_by.direction: expected \"asc\" or \"desc\"");
  CHECK(f.Error(R"({"query":{"fusion":"max"},"prefetch":{}})") ==
        "invalid argument: query.query.fusion: expected \"rrf\" or \"dbsf\"");
  CHECK(f.Error(R"({"query":{"nearest":[1,2],"wibble":1}})") == "invalid argument: query.query: unknown field 'wibble'");
  CHECK(f.Error(R"({"query":{"teleport":1}})") ==
        "invalid argument: query.query: unknown query 'teleport' (a vector, a point id, nearest, recommend, "
        "order_by, fusion or rrf)");
  CHECK(f.Error(R"({"query":)" + qa + R"(,"using":"a","colour":1})") == "invalid argument: query: unknown field 'colour'");
  CHECK(f.Error(R"({"query":{"nearest":{"indices":[1,5],"values":[0.5,0.2]}},"using":"s"})") ==
        "invalid argument: query.using: collection c has no vector named 's'");
  CHECK(f.Error(R"({"prefetch":[{"query":{"text":"red shoes","model":"qdrant/bm25"},"using":"a"}],"query":{"fusion":"rrf"}})") ==
        "invalid argument: query.prefetch[0].query: vector 'a' of collection c is dense; a sparse vector is not its kind");
  CHECK(f.Error(R"({"query":{"nearest":{"indices":[1],"values":[0.5,0.2]}}})") ==
        "invalid argument: query.query.nearest: indices and values have different lengths (1 and 2)");
  CHECK(f.Error(R"({"query":{"recommend":{"positive":[1],"strategy":"best_score"}},"using":"a"})") ==
        "not supported: query.query.recommend.strategy: the best_score strategy is not supported; use "
        "\"average_vector\"");
  CHECK(f.Error(R"({"query":{"recommend":{"negative":[1]}},"using":"a"})") ==
        "invalid argument: query.query.recommend.positive: at least one positive example is required "
        "(average_vector)");
  CHECK(f.Error(R"({"query":{"nearest":[1,2],"mmr":{}}})") == "not supported: query.query.mmr: MMR reranking is not supported");
  CHECK(f.Error(R"({"query":{"sample":"random"}})") == "not supported: query.query.sample: the sample query is not supported");
  CHECK(f.Error(R"({"query":99999,"using":"a"})") ==
        "not found: query.query: no point with id 99999 and vector 'a' in collection c");
  CHECK(f.Error(R"({"query":5,"using":"a","lookup_from":{"collection":"nowhere"}})") ==
        "not found: query.lookup_from.collection: collection 'nowhere' does not exist");
  CHECK(f.Error(R"({"query":{"order_by":"price"},"group_by":"grp","group_size":0})", Operation::kQueryGroups) ==
        "invalid argument: query_groups.group_size: expected an integer from 1 to 1000000");
  CHECK(f.Error(R"({"query":{"order_by":"price"}})", Operation::kQueryGroups) ==
        "invalid argument: query_groups: missing 'group_by'");
  CHECK(f.Error(R"({"query":{"order_by":"price"},"group_by":"grp","offset":1})", Operation::kQueryGroups) ==
        "invalid argument: query_groups: unknown field 'offset'");
  CHECK(f.Error(R"({"query":{"image":"cat.png"},"using":"a"})") ==
        "not supported: query.query: images (inference) are not supported");
  CHECK(f.Error(R"({"query":{"object":{}},"using":"a"})") ==
        "not supported: query.query: inference objects are not supported");
  CHECK(f.Error(R"({"query":true,"using":"a"})") ==
        "invalid argument: query.query: expected a vector (an array of numbers), a sparse vector "
        "{\"indices\", \"values\"}, a point id or a document {\"text\", \"model\"}");
  CHECK(f.Error(R"({"query":{"recommend":{"positive":[1],"strategy":"median"}},"using":"a"})") ==
        "invalid argument: query.query.recommend.strategy: expected \"average_vector\", \"best_score\" or "
        "\"sum_scores\"");
  CHECK(f.Error(R"({"query":{"order_by":5}})") ==
        "invalid argument: query.query.order_by: expected a payload key or {\"key\", \"direction\", "
        "\"start_from\"}");
  CHECK(f.Error(R"({"query":{"order_by":{"key":"price","start_from":9223372036854775808}}})") ==
        "invalid argument: query.query.order_by.start_from: expected an integer that fits 64 signed bits");
  CHECK(f.Error(R"({"query":{"order_by":{"key":"price","start_from":true}}})") ==
        "invalid argument: query.query.order_by.start_from: expected a number or a datetime string");
  std::string nested = R"({"query":)" + qa + R"(,"using":"a"})";
  for (size_t i = 0; i <= db::kMaxPrefetchDepth; ++i) {
    nested = R"({"prefetch":)" + nested + R"(,"query":{"fusion":"rrf"}})";
  }
  CHECK(f.Error(nested).find("prefetches are nested deeper than 64 levels") != std::string::npos);
  // Through a collection handle only, other collections cannot be named.
  REQUIRE(f.Call(Operation::kCreateCollection, "other", R"({"vectors":{"a":{"size":8,"distance":"Dot"}}})") == "true");
  auto c = f.db_->GetCollection("c");
  REQUIRE(c.ok());
  auto r = api::Call(**c, Operation::kQueryPoints, {}, R"({"query":5,"using":"a","lookup_from":{"collection":"other"}})");
  CHECK(r.status().code() == StatusCode::kFailedPrecondition);
  CHECK(std::string(r.status().message()).rfind("query.lookup_from.collection: collection 'other' is another", 0) == 0);
}

TEST_CASE("query: lookup_from takes the vectors of points of another collection", "[query]") {
  QueryFixture f;
  REQUIRE(f.Call(Operation::kCreateCollection, "other", R"({"vectors":{"v":{"size":8,"distance":"Dot"}}})") == "true");
  REQUIRE(f.Call(Operation::kUpsertPoints, "other", R"({"points":[{"id":7,"vector":{"v":[1,0,0,0,0,0,0,0]}}]})")
              .find("completed") != std::string::npos);
  // Point 7 of "other" is not point 7 of "c": it is not left out.
  std::vector<float> e0 = {1, 0, 0, 0, 0, 0, 0, 0};
  CheckSame(f.Query(R"({"query":7,"using":"a","lookup_from":{"collection":"other","vector":"v"},"limit":4})"),
            f.Nearest('a', e0, kAll, 4));
  CHECK(f.Error(R"({"query":7,"using":"b","lookup_from":{"collection":"other","vector":"v"}})") ==
        "invalid argument: query.query: vector 'v' of collection other has 8 dimensions; vector 'b' has 4");
  CHECK(f.Error(R"({"query":7,"using":"a","lookup_from":{"collection":"other","vector":"zz"}})") ==
        "invalid argument: query.lookup_from.vector: collection other has no vector named 'zz'");
}

}  // namespace
}  // namespace quiver
