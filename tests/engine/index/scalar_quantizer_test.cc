#include "index/scalar_quantizer.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "engine/index/test_data.h"
#include "index/hnsw_index.h"

namespace quiver::index {
namespace {

using testing::Build;
using testing::GroundTruth;
using testing::Mixture;
using testing::Recall;
using testing::SearchAll;

VectorStore StoreOf(const std::vector<float>& data, uint32_t dim, Metric metric) {
  VectorStore store(dim, metric);
  for (size_t i = 0; i < data.size() / dim; ++i) REQUIRE(store.Append(&data[i * dim]).ok());
  return store;
}

float Decode(const ScalarQuantizer& sq, int8_t c) {
  const float step = (sq.hi() - sq.lo()) / 254.0f;
  return (sq.lo() + sq.hi()) * 0.5f + step * float(c);
}

TEST_CASE("sq8: the range covers the values and codes come back within half a step", "[index][sq8]") {
  const uint32_t dim = 20;
  auto data = Mixture(500, dim, 3);
  VectorStore store = StoreOf(data, dim, Metric::kL2);
  const float lo = *std::min_element(data.begin(), data.end());
  const float hi = *std::max_element(data.begin(), data.end());

  ScalarQuantizer full = ScalarQuantizer::Train(store, 1.0f);
  REQUIRE(full.size() == 500);
  CHECK(full.code_stride() == 32);
  CHECK(full.lo() == Approx(lo).epsilon(1e-5));
  CHECK(full.hi() == Approx(hi).epsilon(1e-5));
  const float step = (hi - lo) / 254.0f;
  for (uint32_t r = 0; r < 500; ++r) {
    const int8_t* c = full.Codes(r);
    for (uint32_t i = 0; i < dim; ++i)
      REQUIRE(std::fabs(Decode(full, c[i]) - data[r * dim + i]) <= step * 0.501f);
    for (uint32_t i = dim; i < full.code_stride(); ++i) REQUIRE(c[i] == 0);
  }

  // A central quantile clips the tails to the end codes.
  ScalarQuantizer clipped = ScalarQuantizer::Train(store, 0.9f);
  CHECK(clipped.lo() > lo);
  CHECK(clipped.hi() < hi);
  size_t at_ends = 0;
  for (uint32_t r = 0; r < 500; ++r) {
    for (uint32_t i = 0; i < dim; ++i) {
      const float x = data[r * dim + i];
      const int8_t c = clipped.Codes(r)[i];
      if (x > clipped.hi()) REQUIRE(c == 127);
      if (x < clipped.lo()) REQUIRE(c == -127);
      at_ends += (c == 127 || c == -127) ? 1 : 0;
    }
  }
  // About a tenth of the values lie outside the central 90%.
  CHECK(at_ends > 500 * dim / 20);
  CHECK(at_ends < 500 * dim / 5);
}

TEST_CASE("sq8: training is deterministic and later rows use the same range", "[index][sq8]") {
  const uint32_t dim = 33;
  auto data = Mixture(300, dim, 5);
  VectorStore store = StoreOf(data, dim, Metric::kCosine);
  ScalarQuantizer a = ScalarQuantizer::Train(store, 0.99f);
  ScalarQuantizer b = ScalarQuantizer::Train(store, 0.99f);
  CHECK(a.lo() == b.lo());
  CHECK(a.hi() == b.hi());
  CHECK(std::memcmp(a.Codes(0), b.Codes(0), 300 * a.code_stride()) == 0);

  auto more = Mixture(10, dim, 6);
  for (size_t i = 0; i < 10; ++i) REQUIRE(store.Append(&more[i * dim]).ok());
  const float lo = a.lo(), hi = a.hi();
  a.Append(store);
  CHECK(a.size() == 310);
  CHECK(a.lo() == lo);
  CHECK(a.hi() == hi);
  // A late row is found as its own nearest neighbour through its codes.
  std::vector<int8_t> query(a.code_stride());
  const auto terms = a.EncodeQuery(store.Row(305), query.data());
  uint32_t best = 0;
  for (uint32_t r = 1; r < 310; ++r) {
    if (a.Distance(query.data(), terms, r) < a.Distance(query.data(), terms, best)) best = r;
  }
  CHECK(best == 305);
}

TEST_CASE("sq8: code distances track float distances for every metric, queries of any scale",
          "[index][sq8]") {
  const uint32_t dim = 96;
  auto data = Mixture(400, dim, 7);
  auto unit = data;
  for (size_t i = 0; i < 400; ++i) simd::Normalize(&unit[i * dim], dim);
  for (Metric metric : {Metric::kL2, Metric::kInnerProduct, Metric::kCosine, Metric::kL1}) {
    INFO("metric " << MetricName(metric));
    const auto& rows = metric == Metric::kInnerProduct ? unit : data;
    VectorStore store = StoreOf(rows, dim, metric);
    ScalarQuantizer sq = ScalarQuantizer::Train(store, 1.0f);
    std::vector<int8_t> q(sq.code_stride());
    double err = 0, scale = 0;
    float x4[4];
    std::vector<float> query(store.stride());
    for (uint32_t a = 0; a < 40; ++a) {
      // Inner-product queries need not be unit length: every fourth one is ten times longer.
      const float length = metric == Metric::kInnerProduct && a % 4 == 0 ? 10.0f : 1.0f;
      for (uint32_t i = 0; i < store.stride(); ++i) query[i] = store.Row(a)[i] * length;
      const auto bias = sq.EncodeQuery(query.data(), q.data());
      for (uint32_t b = 100; b < 400; b += 4) {
        const float exact = store.Distance(query.data(), store.Row(b));
        const float approx = sq.Distance(q.data(), bias, b);
        err += std::fabs(double(approx) - exact);
        scale += std::fabs(double(exact));
        const uint32_t four[4] = {b, b + 1, b + 2, b + 3};
        sq.DistanceX4(q.data(), bias, four, x4);
        for (int j = 0; j < 4; ++j) REQUIRE(x4[j] == sq.Distance(q.data(), bias, four[j]));
      }
    }
    // The codes keep 8 bits of 255 levels over the range: the mean error is about a percent of the distances.
    CHECK(err / scale < 0.02);
  }
}

TEST_CASE("hnsw sq8: the code walk with rescoring keeps recall@10 >= 0.95 for every metric", "[index][sq8]") {
  const uint32_t dim = 64;
  const size_t n = 4000;
  auto base = Mixture(n, dim, 21);
  auto queries = Mixture(150, dim, 22);
  auto unit = base;
  for (size_t i = 0; i < n; ++i) simd::Normalize(&unit[i * dim], dim);
  for (Metric metric : {Metric::kL2, Metric::kCosine, Metric::kInnerProduct, Metric::kL1}) {
    INFO("metric " << MetricName(metric));
    const auto& data = metric == Metric::kInnerProduct ? unit : base;
    auto index = Build(data, dim, metric);
    auto truth = GroundTruth(metric, data, queries, dim, 10);
    auto plain = SearchAll(*index, queries, SearchParams{10, 128});
    index->Quantize(0.99f);
    REQUIRE(index->quantizer() != nullptr);
    CHECK(index->quantizer()->size() == n);

    auto rescored = SearchAll(*index, queries, SearchParams{10, 128});
    CHECK(Recall(rescored, truth) >= 0.95);
    // Rescored distances are the float distances.
    for (size_t q = 0; q < queries.size() / dim; ++q) {
      for (const Neighbor& nb : rescored[q]) {
        const float exact = testing::RefDistance(metric, &queries[q * dim], &data[size_t(nb.row) * dim], dim);
        REQUIRE(nb.distance == Approx(exact).epsilon(1e-5).margin(1e-5));
      }
      REQUIRE(std::is_sorted(rescored[q].begin(), rescored[q].end()));
    }
    // Ignoring the quantization walks the floats: exactly the unquantized results.
    SearchParams ignore{10, 128};
    ignore.ignore_quantization = true;
    auto floats = SearchAll(*index, queries, ignore);
    for (size_t q = 0; q < plain.size(); ++q) {
      REQUIRE(floats[q].size() == plain[q].size());
      for (size_t i = 0; i < plain[q].size(); ++i) REQUIRE(floats[q][i].row == plain[q][i].row);
    }
    // Without rescoring the distances are the codes' estimates.
    SearchParams raw{10, 128};
    raw.rescore = false;
    auto estimates = SearchAll(*index, queries, raw);
    size_t differ = 0;
    for (size_t q = 0; q < estimates.size(); ++q) {
      for (const Neighbor& nb : estimates[q]) {
        const float exact = testing::RefDistance(metric, &queries[q * dim], &data[size_t(nb.row) * dim], dim);
        differ += std::fabs(nb.distance - exact) > 1e-4f * (1.0f + std::fabs(exact)) ? 1 : 0;
      }
    }
    CHECK(differ > 0);
    CHECK(Recall(estimates, truth) >= 0.8);
  }
}

TEST_CASE("hnsw sq8: oversampling widens a narrow beam; rows added later are encoded", "[index][sq8]") {
  const uint32_t dim = 48;
  auto base = Mixture(3000, dim, 31);
  auto queries = Mixture(100, dim, 32);
  auto index = Build(std::vector<float>(base.begin(), base.begin() + 1500 * dim), dim, Metric::kL2);
  index->Quantize(1.0f);
  REQUIRE(index->AddBatch(base.data() + 1500 * dim, 1500, nullptr).ok());
  CHECK(index->quantizer()->size() == 3000);
  auto truth = GroundTruth(Metric::kL2, base, queries, dim, 10);
  SearchParams narrow{10, 10};
  SearchParams wide{10, 10};
  wide.oversampling = 8.0;
  const double r1 = Recall(SearchAll(*index, queries, narrow), truth);
  const double r8 = Recall(SearchAll(*index, queries, wide), truth);
  CHECK(r8 >= 0.95);
  CHECK(r8 > r1);
  index->ClearQuantization();
  CHECK(index->quantizer() == nullptr);
}

TEST_CASE("hnsw sq8: the allow-list and deletions are honoured by the code walk", "[index][sq8]") {
  const uint32_t dim = 32;
  auto base = Mixture(3000, dim, 41);
  auto queries = Mixture(60, dim, 42);
  auto index = Build(base, dim, Metric::kCosine);
  index->Quantize(0.99f);
  for (uint32_t r = 0; r < 3000; r += 7) REQUIRE(index->Remove(r).ok());
  auto even = [](uint32_t row) { return row % 2 == 0; };
  RowPredicate allow(even);
  auto found = SearchAll(*index, queries, SearchParams{10, 200}, &allow);
  auto truth = GroundTruth(Metric::kCosine, base, queries, dim, 10,
                           [](uint32_t r) { return r % 2 == 0 && r % 7 != 0; });
  for (const auto& list : found) {
    REQUIRE(list.size() == 10);
    for (const Neighbor& nb : list) {
      REQUIRE(nb.row % 2 == 0);
      REQUIRE(!index->IsDeleted(nb.row));
    }
  }
  CHECK(Recall(found, truth) >= 0.95);
}

// Found by fuzz_index_image (UBSan: NaN converted to int8): finite values near +-3.4e38 made hi - lo overflow
// to infinity, and a range of a few subnormals made the step underflow to zero (1 / step infinite); both turned
// codes into NaN. The subnormal range loses its resolution (every code 0), but nothing is undefined.
TEST_CASE("sq8: extreme finite ranges give codes, never NaN", "[index][sq8][fuzz]") {
  const float big = 3.0e38f, tiny = std::numeric_limits<float>::denorm_min();
  for (Metric metric : {Metric::kL2, Metric::kInnerProduct, Metric::kL1}) {
    INFO("metric " << int(metric));
    const std::vector<float> huge = {-big, 0, big, big, 0, -big};
    VectorStore store = StoreOf(huge, 2, metric);
    ScalarQuantizer sq = ScalarQuantizer::Train(store, 1.0f);
    for (uint32_t r = 0; r < 3; ++r) {
      for (uint32_t i = 0; i < 2; ++i) {
        const float x = huge[r * 2 + i];
        CHECK(int(sq.Codes(r)[i]) == (x == big ? 127 : x == -big ? -127 : 0));
      }
    }
    std::vector<int8_t> query(sq.code_stride());
    ScalarQuantizer::QueryTerms t = sq.EncodeQuery(store.Row(0), query.data());
    CHECK(int(query[0]) == -127);
    CHECK(int(query[1]) == (metric == Metric::kL1 ? 0 : 127));  // L1 queries use the rows' range
    CHECK_FALSE(std::isnan(t.constant));

    const std::vector<float> subnormal = {0, tiny, tiny, 2 * tiny, 2 * tiny, 0};
    VectorStore small = StoreOf(subnormal, 2, metric);
    ScalarQuantizer sq_small = ScalarQuantizer::Train(small, 1.0f);
    REQUIRE(sq_small.size() == 3);
    t = sq_small.EncodeQuery(small.Row(1), query.data());
    CHECK_FALSE(std::isnan(t.constant));
    CHECK_FALSE(std::isnan(sq_small.Distance(query.data(), t, 2)));
  }
}

}  // namespace
}  // namespace quiver::index
