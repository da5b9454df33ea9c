// The vector store's chunks: rows read back the same whichever way they entered (appended, appended in stored
// form, adopted, adopted then appended to), a full chunk never moves, and images carry every chunk.
#include "index/vector_store.h"

#include <algorithm>
#include <catch2/catch.hpp>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "base/aligned_array.h"
#include "index/flat_index.h"

namespace quiver::index {
namespace {

// 4,096 dimensions: 16 KiB rows, so a chunk is 256 rows and a few hundred rows span several chunks.
constexpr uint32_t kDim = 4096;
constexpr size_t kRows = 600;

float Value(size_t row, size_t j) { return static_cast<float>((row * 7919 + j * 31) % 1000) - 500.0f; }

std::vector<float> Rows(size_t n) {
  std::vector<float> v(n * kDim);
  for (size_t r = 0; r < n; ++r) {
    for (size_t j = 0; j < kDim; ++j) v[r * kDim + j] = Value(r, j);
  }
  return v;
}

void CheckRows(const VectorStore& store, size_t n) {
  REQUIRE(store.size() == n);
  for (size_t r = 0; r < n; ++r) {
    const float* row = store.Row(static_cast<uint32_t>(r));
    REQUIRE(reinterpret_cast<uintptr_t>(row) % kCacheLine == 0);
    for (size_t j = 0; j < kDim; j += 97) REQUIRE(row[j] == Value(r, j));
  }
}

TEST_CASE("vector store: rows span chunks and a full chunk never moves", "[index][store]") {
  VectorStore store(kDim, Metric::kL2);
  REQUIRE(store.chunk_rows() == 256);
  const auto rows = Rows(kRows);
  for (size_t r = 0; r < 256; ++r) REQUIRE(store.Append(&rows[r * kDim]).ok());
  const float* first = store.Row(0);
  const float* last_of_first = store.Row(255);
  for (size_t r = 256; r < kRows; ++r) REQUIRE(*store.Append(&rows[r * kDim]) == r);
  CHECK(store.Row(0) == first);
  CHECK(store.Row(255) == last_of_first);
  CheckRows(store, kRows);
  CHECK(store.MemoryUsage() == kRows * kDim * sizeof(float));

  auto runs = store.Runs();
  REQUIRE(runs.size() == 3);
  CHECK(runs[0].size() == 256 * kDim);
  CHECK(runs[1].size() == 256 * kDim);
  CHECK(runs[2].size() == (kRows - 512) * kDim);
  CHECK(runs[1].data() == store.Row(256));
}

TEST_CASE("vector store: stored-form rows, reserved or not, and adopted rows read back the same",
          "[index][store]") {
  const auto rows = Rows(kRows);
  SECTION("appended in stored form in one call, with room reserved first") {
    VectorStore store(kDim, Metric::kL2);
    store.Reserve(kRows);
    store.AppendPrepared(rows.data(), kRows);
    CheckRows(store, kRows);
  }
  SECTION("appended in stored form a few rows at a time, across chunk ends") {
    VectorStore store(kDim, Metric::kL2);
    for (size_t r = 0; r < kRows; r += 7) store.AppendPrepared(&rows[r * kDim], std::min<size_t>(7, kRows - r));
    CheckRows(store, kRows);
  }
  SECTION("adopted, then owned when a row is appended") {
    AlignedArray<float> external(kRows * kDim);
    std::copy(rows.begin(), rows.end(), external.data());
    VectorStore store(kDim, Metric::kL2);
    store.AdoptExternal(external.data(), kRows, std::make_shared<int>(0));
    CHECK(store.external());
    CHECK(store.MemoryUsage() == 0);
    CHECK(store.Row(300) == external.data() + 300 * kDim);
    CheckRows(store, kRows);
    auto extra = Rows(kRows + 1);
    REQUIRE(*store.Append(&extra[kRows * kDim]) == kRows);
    CHECK_FALSE(store.external());
    CHECK(store.Row(300) != external.data() + 300 * kDim);
    CheckRows(store, kRows + 1);
  }
}

TEST_CASE("vector store: an index image holds every chunk and searches the same", "[index][store]") {
  const auto rows = Rows(kRows);
  auto index = *FlatIndex::Create(kDim, Metric::kL2);
  REQUIRE(index->AddBatch(rows.data(), kRows, nullptr).ok());
  const std::string image = index->Serialize();
  auto bytes = std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(image.data()), image.size());
  auto copied = FlatIndex::Deserialize(bytes);
  REQUIRE(copied.ok());
  CheckRows((*copied)->store(), kRows);
  // In place: the image's rows are used where they are (the string is 64-byte aligned only by chance, so copy it
  // into aligned memory first).
  AlignedArray<uint8_t> aligned(image.size());
  std::memcpy(aligned.data(), image.data(), image.size());
  auto keep = std::make_shared<int>(0);
  auto in_place = FlatIndex::Deserialize({aligned.data(), aligned.size()}, keep);
  REQUIRE(in_place.ok());
  CHECK((*in_place)->store().external());
  CheckRows((*in_place)->store(), kRows);
  for (uint32_t r : {0u, 255u, 256u, 511u, 512u, 599u}) {
    std::vector<Neighbor> out;
    REQUIRE((*in_place)->Search(&rows[r * kDim], SearchParams{1}, nullptr, &out).ok());
    REQUIRE(out.size() == 1);
    CHECK(out[0].row == r);
    CHECK(out[0].distance == 0.0f);
  }
}

}  // namespace
}  // namespace quiver::index
