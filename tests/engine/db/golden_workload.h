// The workload behind the format-version-1 golden files in tests/data/golden/v1: tests/tools/golden_gen.cc ran
// it once against a stored database; tests/engine/db/golden_test.cc runs it in memory and compares. Changing it
// changes the expected state: regenerate the files only for a new format version.
#ifndef QUIVER_TESTS_DB_GOLDEN_WORKLOAD_H_
#define QUIVER_TESTS_DB_GOLDEN_WORKLOAD_H_

#include <memory>
#include <string>
#include <vector>

#include "quiver/database.h"

namespace quiver::testing {

inline DatabaseOptions GoldenOptions() {
  DatabaseOptions o;
  o.replica_id = 0x51564552;  // "QVER"
  auto wall = std::make_shared<uint64_t>(1'767'225'600'000ull);  // 2026-01-01T00:00:00Z
  o.wall_clock_ms = [wall] { return (*wall) += 3; };
  o.segment_points = 40;
  o.auto_optimize = false;  // merges only where the workload asks, so the folder keeps a deletion file
  return o;
}

inline CollectionConfig GoldenConfig() {
  CollectionConfig c;
  c.vectors["text"] = VectorParams{8, Distance::kCosine};
  c.vectors["image"] = VectorParams{4, Distance::kEuclid, IndexKind::kFlat};
  c.hnsw.m = 6;
  c.hnsw.ef_construct = 24;
  return c;
}

// Runs the workload; returns the first error.
inline Status RunGoldenWorkload(Database& db) {
  QUIVER_RETURN_IF_ERROR(db.CreateCollection("docs", GoldenConfig()));
  QUIVER_RETURN_IF_ERROR(db.CreateAlias("main", "docs"));
  QUIVER_ASSIGN_OR_RETURN(auto c, db.GetCollection("docs"));
  QUIVER_RETURN_IF_ERROR(c->CreatePayloadIndex("city", "keyword"));
  QUIVER_RETURN_IF_ERROR(c->CreatePayloadIndex("year", "integer"));
  const char* cities[] = {"Oslo", "Lima", "Pune", "Kyiv"};
  for (int b = 0; b < 4; ++b) {
    std::vector<PointInput> pts;
    for (int i = 0; i < 25; ++i) {
      const int n = b * 25 + i;
      PointInput p;
      if (n % 10 == 9) {
        PointId::UuidBytes u{};
        u[6] = 0x40;
        u[8] = 0x80;
        u[15] = static_cast<uint8_t>(n);
        p.id = PointId::Uuid(u);
      } else {
        p.id = PointId::Number(static_cast<uint64_t>(n));
      }
      std::vector<float> text(8);
      for (int j = 0; j < 8; ++j) text[j] = float((n * (j + 3)) % 11) - 5.0f;
      p.vectors["text"] = text;
      if (n % 3 != 0) p.vectors["image"] = {float(n % 5), float(n % 7), 1.5f, -float(n % 3)};
      p.payload = std::string(R"({"city":")") + cities[n % 4] + R"(","year":)" + std::to_string(1990 + n % 30) +
                  R"(,"tags":["t)" + std::to_string(n % 3) + R"(","all"],"loc":{"lon":)" + std::to_string(n % 50) +
                  R"(.5,"lat":)" + std::to_string(n % 40) + R"(.25},"nested":{"a":)" + std::to_string(n) + "}}";
      pts.push_back(std::move(p));
    }
    QUIVER_RETURN_IF_ERROR(c->Upsert(pts));
    if (b == 1) {
      QUIVER_RETURN_IF_ERROR(c->Delete(PointsSelector::Ids({PointId::Number(3), PointId::Number(4)})).status());
      QUIVER_RETURN_IF_ERROR(c->SetPayload(PointsSelector::Filter(R"({"must":[{"key":"city","match":{"value":"Lima"}}]})"),
                                           R"({"flag":true})")
                                 .status());
    }
    if (b == 2) QUIVER_RETURN_IF_ERROR(c->Optimize());
  }
  QUIVER_RETURN_IF_ERROR(c->DeletePayloadKeys(PointsSelector::Ids({PointId::Number(10)}), {"nested.a", "tags"}).status());
  QUIVER_RETURN_IF_ERROR(c->ClearPayload(PointsSelector::Ids({PointId::Number(11)})).status());
  QUIVER_RETURN_IF_ERROR(c->OverwritePayload(PointsSelector::Ids({PointId::Number(12)}), R"({"only":1})").status());
  // Enough new points to seal again (writing a deletion file for the merged segment), then one logged write.
  std::vector<PointInput> more;
  for (int i = 0; i < 20; ++i) {
    PointInput p;
    p.id = PointId::Number(static_cast<uint64_t>(500 + i));
    p.vectors["text"] = {1, float(i), 0, 0, 0, 0, 0, 1};
    more.push_back(std::move(p));
  }
  QUIVER_RETURN_IF_ERROR(c->Upsert(more));
  return c->Delete(PointsSelector::Ids({PointId::Number(501)})).status();
}

// Format version 2 (sparse vectors; tests/data/golden/v2): a collection with a dense vector and two sparse
// vectors (one with the IDF modifier); points with only sparse, only dense or both vectors; deletions, a merge,
// a second seal and a logged write, so the folder holds version-2 segments, a deletion file and version-2 log
// records.
inline CollectionConfig GoldenConfigV2() {
  CollectionConfig c;
  c.vectors["dense"] = VectorParams{4, Distance::kDot};
  SparseVectorParams idf;
  idf.modifier = SparseModifier::kIdf;
  idf.full_scan_threshold = 20;
  c.sparse_vectors["text"] = idf;
  c.sparse_vectors["tags"] = SparseVectorParams{};
  c.hnsw.m = 6;
  c.hnsw.ef_construct = 24;
  return c;
}

inline Status RunGoldenWorkloadV2(Database& db) {
  QUIVER_RETURN_IF_ERROR(db.CreateCollection("hybrid", GoldenConfigV2()));
  QUIVER_ASSIGN_OR_RETURN(auto c, db.GetCollection("hybrid"));
  QUIVER_RETURN_IF_ERROR(c->CreatePayloadIndex("kind", "keyword"));
  for (int b = 0; b < 4; ++b) {
    std::vector<PointInput> pts;
    for (int i = 0; i < 25; ++i) {
      const int n = b * 25 + i;
      PointInput p;
      p.id = PointId::Number(static_cast<uint64_t>(n));
      if (n % 4 != 1) {
        SparseVector text;
        for (int j = 0; j < 1 + n % 5; ++j) {
          text.indices.push_back(static_cast<uint32_t>((n * 7 + j * 13) % 50) + uint32_t(j) * 50);
          text.values.push_back(0.25f * float(1 + (n + j) % 4));
        }
        p.sparse_vectors["text"] = text;
      }
      if (n % 3 == 0) p.sparse_vectors["tags"] = SparseVector{{uint32_t(n % 6), 4000000000u}, {1.0f, -0.5f}};
      if (n % 4 != 2) p.vectors["dense"] = {float(n % 5), 1, float(n % 3), -1};
      p.payload = std::string(R"({"kind":")") + (n % 2 ? "odd" : "even") + R"(","n":)" + std::to_string(n) + "}";
      pts.push_back(std::move(p));
    }
    QUIVER_RETURN_IF_ERROR(c->Upsert(pts));
    if (b == 1) {
      QUIVER_RETURN_IF_ERROR(c->Delete(PointsSelector::Ids({PointId::Number(2), PointId::Number(8)})).status());
    }
    if (b == 2) QUIVER_RETURN_IF_ERROR(c->Optimize());
  }
  QUIVER_RETURN_IF_ERROR(c->Delete(PointsSelector::Ids({PointId::Number(5)})).status());
  std::vector<PointInput> more;
  for (int i = 0; i < 20; ++i) {
    PointInput p;
    p.id = PointId::Number(static_cast<uint64_t>(300 + i));
    p.sparse_vectors["text"] = SparseVector{{uint32_t(i), 77}, {1.0f, 2.0f}};
    more.push_back(std::move(p));
  }
  QUIVER_RETURN_IF_ERROR(c->Upsert(more));
  QUIVER_RETURN_IF_ERROR(c->Delete(PointsSelector::Ids({PointId::Number(301)})).status());
  // One logged upsert with sparse vectors: a version-2 log record.
  PointInput last;
  last.id = PointId::Number(400);
  last.sparse_vectors["tags"] = SparseVector{{3}, {2.0f}};
  last.vectors["dense"] = {1, 1, 1, 1};
  return c->Upsert({&last, 1});
}

}  // namespace quiver::testing

#endif  // QUIVER_TESTS_DB_GOLDEN_WORKLOAD_H_
