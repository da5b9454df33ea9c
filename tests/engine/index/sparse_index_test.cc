// SparseIndex: normalisation and its errors, scoring against a brute-force dot product over every row, removal
// and document frequencies, and the serialized image (round trip, and every truncation or damage refused).
#include <catch2/catch.hpp>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>

#include "base/random.h"
#include "index/sparse_index.h"

namespace quiver::index {
namespace {

SparseVector RandomSparse(SplitMix64& rng, uint32_t dims, size_t max_nnz) {
  std::map<uint32_t, float> m;
  const size_t nnz = rng() % (max_nnz + 1);
  for (size_t i = 0; i < nnz; ++i) m[uint32_t(rng() % dims)] = float(rng() % 2001) / 100.0f - 10.0f;
  SparseVector v;
  for (const auto& [i, x] : m) {
    v.indices.push_back(i);
    v.values.push_back(x);
  }
  return v;
}

// The reference: every live row, dot product by a map lookup per query index, in increasing index order.
std::map<uint32_t, float> BruteForce(const std::vector<SparseVector>& rows, const std::vector<bool>& deleted,
                                     const SparseVector& q) {
  std::map<uint32_t, float> out;
  for (uint32_t r = 0; r < rows.size(); ++r) {
    if (deleted[r]) continue;
    std::map<uint32_t, float> m;
    for (size_t i = 0; i < rows[r].indices.size(); ++i) m[rows[r].indices[i]] = rows[r].values[i];
    bool shared = false;
    float sum = 0.0f;
    for (size_t i = 0; i < q.indices.size(); ++i) {
      auto it = m.find(q.indices[i]);
      if (it == m.end()) continue;
      sum += q.values[i] * it->second;
      shared = true;
    }
    if (shared) out[r] = sum;
  }
  return out;
}

TEST_CASE("sparse vectors: normalisation sorts and refuses bad input", "[index][sparse]") {
  SparseVector v{{7, 2, 5}, {0.5f, 1.0f, -2.0f}};
  REQUIRE(NormalizeSparse(&v).ok());
  CHECK(v.indices == std::vector<uint32_t>{2, 5, 7});
  CHECK(v.values == std::vector<float>{1.0f, -2.0f, 0.5f});

  SparseVector dup{{3, 1, 3}, {1, 2, 3}};
  Status s = NormalizeSparse(&dup);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message() == "duplicate index 3");

  SparseVector nan{{1, 2}, {1, std::numeric_limits<float>::quiet_NaN()}};
  s = NormalizeSparse(&nan);
  CHECK(s.IsInvalidArgument());
  CHECK(s.message() == "values[1] is not a finite number");

  SparseVector inf{{1}, {std::numeric_limits<float>::infinity()}};
  CHECK(NormalizeSparse(&inf).IsInvalidArgument());

  SparseVector lengths{{1, 2, 3}, {1, 2}};
  s = NormalizeSparse(&lengths);
  CHECK(s.message() == "indices and values have different lengths (3 and 2)");

  SparseVector empty;
  CHECK(NormalizeSparse(&empty).ok());

  std::vector<uint32_t> unsorted{2, 1};
  std::vector<float> values{1, 1};
  CHECK(CheckSparse(unsorted, values).message() == "indices are not in increasing order");
}

TEST_CASE("sparse vectors: IDF is Qdrant's formula", "[index][sparse]") {
  CHECK(SparseIdf(10, 0) == Approx(std::log(10.5 / 0.5 + 1)));
  CHECK(SparseIdf(10, 10) == Approx(std::log(0.5 / 10.5 + 1)));
  CHECK(SparseIdf(1000, 37) == Approx(std::log((1000 - 37 + 0.5) / (37 + 0.5) + 1)));
  CHECK(SparseIdf(0, 0) == Approx(std::log(2.0)));
}

TEST_CASE("sparse index: scores equal a brute-force dot product, with removals", "[index][sparse]") {
  SplitMix64 rng(11);
  for (uint32_t dims : {8u, 200u, 5000u}) {
    SparseIndex idx;
    std::vector<SparseVector> rows;
    std::vector<bool> deleted;
    for (int r = 0; r < 600; ++r) {
      rows.push_back(RandomSparse(rng, dims, 12));
      CHECK(idx.Add(SparseView{rows.back().indices, rows.back().values}) == uint32_t(r));
      deleted.push_back(false);
    }
    for (int i = 0; i < 150; ++i) {
      const uint32_t r = uint32_t(rng() % rows.size());
      idx.Remove(r);
      deleted[r] = true;
    }
    idx.Remove(100000);  // past the end: nothing
    size_t live = 0;
    for (bool d : deleted) live += d ? 0 : 1;
    CHECK(idx.live_size() == live);
    for (int t = 0; t < 40; ++t) {
      SparseVector q = RandomSparse(rng, dims, 6);
      const auto want = BruteForce(rows, deleted, q);
      std::map<uint32_t, float> got;
      idx.Score(SparseView{q.indices, q.values}, [&](uint32_t row, float score) {
        CHECK(got.emplace(row, score).second);
      });
      REQUIRE(got.size() == want.size());
      for (const auto& [row, score] : want) {
        REQUIRE(got.count(row));
        CHECK(got[row] == score);  // same summation order: the same bits
        auto dot = SparseDot(SparseView{q.indices, q.values}, idx.Vector(row));
        REQUIRE(dot);
        CHECK(*dot == score);
      }
    }
    // Document frequencies count live rows only.
    for (uint32_t index = 0; index < std::min(dims, 50u); ++index) {
      uint32_t n = 0;
      for (size_t r = 0; r < rows.size(); ++r) {
        if (deleted[r]) continue;
        for (uint32_t i : rows[r].indices) n += i == index ? 1 : 0;
      }
      CHECK(idx.DocumentFrequency(index) == n);
    }
  }
}

TEST_CASE("sparse index: images round-trip and damage is refused", "[index][sparse]") {
  SplitMix64 rng(5);
  SparseIndex idx;
  std::vector<SparseVector> rows;
  for (int r = 0; r < 70; ++r) {
    rows.push_back(RandomSparse(rng, 100, 5));
    idx.Add(SparseView{rows.back().indices, rows.back().values});
  }
  idx.Remove(3);
  idx.Remove(69);
  const std::string image = idx.Serialize();
  const auto bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(image.data()), image.size());
  auto loaded = SparseIndex::Load(bytes, "image");
  REQUIRE(loaded.ok());
  CHECK((*loaded)->size() == 70);
  CHECK((*loaded)->live_size() == 68);
  CHECK((*loaded)->IsDeleted(3));
  CHECK((*loaded)->Serialize() == image);
  for (uint32_t r = 0; r < 70; ++r) CHECK((*loaded)->Vector(r).ToVector() == rows[r]);
  for (uint32_t index = 0; index < 100; ++index) CHECK((*loaded)->DocumentFrequency(index) == idx.DocumentFrequency(index));

  for (size_t n = 0; n < image.size(); n += 7) {
    CHECK(SparseIndex::Load(bytes.first(n), "image").status().IsCorruption());
  }
  // An index out of order, a NaN value, a deleted bit past the last row.
  SparseIndex small;
  const std::vector<uint32_t> si{1, 5};
  const std::vector<float> sv{2.0f, 3.0f};
  small.Add(SparseView{si, sv});
  std::string swapped = small.Serialize();
  const size_t indices_at = 16 + 4;  // header, one row count
  std::swap_ranges(swapped.begin() + indices_at, swapped.begin() + indices_at + 4, swapped.begin() + indices_at + 4);
  CHECK(SparseIndex::Load({reinterpret_cast<const uint8_t*>(swapped.data()), swapped.size()}, "image")
            .status()
            .IsCorruption());
  std::string nan = small.Serialize();
  const float q = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(&nan[indices_at + 8], &q, 4);
  CHECK(SparseIndex::Load({reinterpret_cast<const uint8_t*>(nan.data()), nan.size()}, "image").status().IsCorruption());
  std::string past = image;
  past[past.size() - 1] = char(0x80);
  CHECK(SparseIndex::Load({reinterpret_cast<const uint8_t*>(past.data()), past.size()}, "image").status().IsCorruption());
}

}  // namespace
}  // namespace quiver::index
