// RRF and DBSF (db/fusion.h) against hand-computed values and the formulas written out here.
#include "db/fusion.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <map>

namespace quiver::db {
namespace {

RankedList List(std::vector<std::pair<uint64_t, float>> points, bool smaller = false) {
  RankedList l;
  l.smaller_is_better = smaller;
  for (auto [id, score] : points) l.points.push_back(RankedPoint{PointId::Number(id), score});
  return l;
}

std::map<uint64_t, float> Scores(const std::vector<RankedPoint>& fused) {
  std::map<uint64_t, float> out;
  for (const RankedPoint& p : fused) out[p.id.number()] = p.score;
  return out;
}

TEST_CASE("fusion: rrf sums 1 / (position + k)", "[fusion]") {
  // Qdrant's worked example (reciprocal_rank_fusion.rs, k = 2).
  std::vector<RankedList> lists = {List({{2, 0.9f}, {1, 0.8f}}), List({{1, 0.7f}, {2, 0.6f}, {3, 0.5f}}),
                                   List({{5, 0.9f}, {3, 0.5f}, {1, 0.4f}})};
  auto fused = FuseRrf(lists, 2, {});
  REQUIRE(fused.size() == 4);
  CHECK(fused[0].id.number() == 1);
  CHECK(fused[0].score == Approx(1.0 / 3 + 1.0 / 2 + 1.0 / 4));
  CHECK(fused[1].id.number() == 2);
  CHECK(fused[1].score == Approx(1.0 / 2 + 1.0 / 3));
  CHECK(fused[2].id.number() == 3);
  CHECK(fused[2].score == Approx(1.0 / 4 + 1.0 / 3));
  CHECK(fused[3].id.number() == 5);
  CHECK(fused[3].score == Approx(0.5));
  CHECK(FuseRrf({}, 2, {}).empty());
}

TEST_CASE("fusion: rrf weights stretch positions; equal scores order by id", "[fusion]") {
  std::vector<RankedList> lists = {List({{1, 0.9f}, {2, 0.8f}}), List({{2, 0.9f}, {1, 0.8f}})};
  auto plain = FuseRrf(lists, 2, {});
  REQUIRE(plain.size() == 2);
  CHECK(plain[0].score == plain[1].score);
  CHECK(plain[0].id.number() == 1);  // the tie goes to the smaller id
  const float w[] = {3.0f, 1.0f};
  auto weighted = Scores(FuseRrf(lists, 60, w));
  // 1 / ((p + 1) / w + k - 1)
  CHECK(weighted[1] == Approx(1.0 / (1.0 / 3 + 59) + 1.0 / (2.0 / 1 + 59)));
  CHECK(weighted[2] == Approx(1.0 / (2.0 / 3 + 59) + 1.0 / (1.0 / 1 + 59)));
  const float zero[] = {1.0f, 0.0f};
  auto z = Scores(FuseRrf(std::vector<RankedList>{List({{1, 1}}), List({{2, 1}})}, 2, zero));
  CHECK(z[1] == Approx(0.5));
  CHECK(z[2] == 0.0f);
}

TEST_CASE("fusion: dbsf normalises by mean +- 3 sample standard deviations", "[fusion]") {
  std::vector<RankedList> lists = {List({{1, 0.9f}, {2, 0.5f}, {3, 0.1f}}), List({{3, 10}, {4, 4}})};
  auto fused = Scores(FuseDbsf(lists));
  auto norm = [](std::vector<double> s, double x) {
    double mean = 0;
    for (double v : s) mean += v;
    mean /= double(s.size());
    double var = 0;
    for (double v : s) var += (v - mean) * (v - mean);
    const double sd = std::sqrt(var / double(s.size() - 1));
    return (x - (mean - 3 * sd)) / (6 * sd);
  };
  CHECK(fused[1] == Approx(norm({0.9, 0.5, 0.1}, 0.9)).epsilon(1e-5));
  CHECK(fused[2] == Approx(norm({0.9, 0.5, 0.1}, 0.5)).epsilon(1e-5));
  CHECK(fused[3] == Approx(norm({0.9, 0.5, 0.1}, 0.1) + norm({10, 4}, 10)).epsilon(1e-5));
  CHECK(fused[4] == Approx(norm({10, 4}, 4)).epsilon(1e-5));
  // One point scores 0.5; no spread scores 0.5.
  auto single = Scores(FuseDbsf(std::vector<RankedList>{List({{7, 3}}), List({{8, 2}, {9, 2}})}));
  CHECK(single[7] == 0.5f);
  CHECK(single[8] == 0.5f);
  CHECK(single[9] == 0.5f);
  // Distances: the closer point scores higher.
  auto dist = FuseDbsf(std::vector<RankedList>{List({{1, 0.1f}, {2, 0.5f}, {3, 2.0f}}, true)});
  CHECK(dist[0].id.number() == 1);
  CHECK(dist[2].id.number() == 3);
}

}  // namespace
}  // namespace quiver::db
