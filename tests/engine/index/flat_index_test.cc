#include "index/flat_index.h"

#include <catch2/catch.hpp>
#include <cmath>
#include <limits>

#include "engine/index/test_data.h"

namespace quiver::index {
namespace {

using testing::GroundTruth;
using testing::Mixture;

TEST_CASE("flat index: results equal brute force for every metric", "[index][flat]") {
  const uint32_t dim = 19;
  auto base = Mixture(500, dim, 1);
  auto queries = Mixture(20, dim, 2);
  for (Metric metric : {Metric::kL2, Metric::kInnerProduct, Metric::kCosine, Metric::kL1}) {
    INFO("metric " << MetricName(metric));
    auto index = FlatIndex::Create(dim, metric);
    REQUIRE(index.ok());
    REQUIRE((*index)->AddBatch(base.data(), 500, nullptr).ok());
    auto truth = GroundTruth(metric, base, queries, dim, 10);
    for (size_t q = 0; q < 20; ++q) {
      std::vector<Neighbor> out;
      REQUIRE((*index)->Search(&queries[q * dim], SearchParams{10}, nullptr, &out).ok());
      REQUIRE(out.size() == 10);
      // Rank by rank the distance equals the exact one (rows may differ only on near-ties).
      for (size_t i = 0; i < 10; ++i) {
        float want = testing::RefDistance(metric, &queries[q * dim], &base[truth[q][i] * dim], dim);
        CHECK(std::fabs(out[i].distance - want) <= 1e-4f * (1 + std::fabs(want)));
      }
      for (size_t i = 1; i < out.size(); ++i) CHECK(out[i - 1].distance <= out[i].distance);
    }
  }
}

TEST_CASE("flat index: deleted and disallowed rows never appear", "[index][flat]") {
  const uint32_t dim = 8;
  auto base = Mixture(100, dim, 3);
  auto index = *FlatIndex::Create(dim, Metric::kL2);
  REQUIRE(index->AddBatch(base.data(), 100, nullptr).ok());
  for (uint32_t r = 0; r < 100; r += 3) REQUIRE(index->Remove(r).ok());
  REQUIRE(index->Remove(0).ok());  // again: idempotent
  CHECK(index->live_size() == 66);
  CHECK(index->Remove(100).IsNotFound());
  auto even = [](uint32_t row) { return row % 2 == 0; };
  RowPredicate allow(even);
  std::vector<Neighbor> out;
  REQUIRE(index->Search(&base[0], SearchParams{100}, &allow, &out).ok());
  CHECK(out.size() == 33);  // even rows not divisible by 3
  for (const Neighbor& nb : out) {
    CHECK(nb.row % 2 == 0);
    CHECK(nb.row % 3 != 0);
  }
}

TEST_CASE("flat index: bad input is rejected and changes nothing", "[index][flat]") {
  CHECK(FlatIndex::Create(0, Metric::kL2).status().IsInvalidArgument());
  CHECK(FlatIndex::Create(kMaxDimension + 1, Metric::kL2).status().IsInvalidArgument());
  auto index = *FlatIndex::Create(4, Metric::kCosine);
  float good[4] = {1, 2, 3, 4};
  float bad[8] = {1, 2, 3, 4, 1, std::numeric_limits<float>::quiet_NaN(), 3, 4};
  REQUIRE(index->Add(good).ok());
  Status s = index->AddBatch(bad, 2, nullptr);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message() == "batch item 1: vector[1] is NaN; vectors must hold finite numbers");
  CHECK(index->size() == 1);
  std::vector<Neighbor> out;
  CHECK(index->Search(good, SearchParams{0}, nullptr, &out).IsInvalidArgument());
  float inf_query[4] = {1, std::numeric_limits<float>::infinity(), 0, 0};
  Status qs = index->Search(inf_query, SearchParams{1}, nullptr, &out);
  CHECK(qs.IsInvalidArgument());
  CHECK(qs.message() == "query: vector[1] is infinite; vectors must hold finite numbers");
}

TEST_CASE("flat index: image round trip", "[index][flat]") {
  const uint32_t dim = 5;
  auto base = Mixture(70, dim, 4);
  auto index = *FlatIndex::Create(dim, Metric::kInnerProduct);
  REQUIRE(index->AddBatch(base.data(), 70, nullptr).ok());
  REQUIRE(index->Remove(7).ok());
  std::string image = index->Serialize();
  auto loaded = LoadIndex({reinterpret_cast<const uint8_t*>(image.data()), image.size()});
  REQUIRE(loaded.ok());
  CHECK((*loaded)->kind() == IndexKind::kFlat);
  CHECK((*loaded)->size() == 70);
  CHECK((*loaded)->IsDeleted(7));
  CHECK((*loaded)->Serialize() == image);
  std::vector<Neighbor> a, b;
  REQUIRE(index->Search(&base[0], SearchParams{70}, nullptr, &a).ok());
  REQUIRE((*loaded)->Search(&base[0], SearchParams{70}, nullptr, &b).ok());
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].row == b[i].row);
    CHECK(a[i].distance == b[i].distance);
  }
}

}  // namespace
}  // namespace quiver::index
