// Damaged files of every kind: flipped and truncated bytes in CURRENT, the manifest, segment files, deletion files
// and logs. Opening either recovers as docs/formats.md says (a torn tail of the newest log) or gives a
// Corruption error naming the file (and the offset, for binary files): for the database's own files (CURRENT, the
// manifest) the open fails, for a collection's files that collection is unavailable and Repair brings it back. It
// never crashes or reads out of bounds (this suite also runs under AddressSanitizer and in WASM).
#include <catch2/catch.hpp>

#include "db/database_core.h"
#include "db/manifest.h"
#include "engine/db/db_test_util.h"
#include "storage/storage_memory.h"

namespace quiver {
namespace {

using db::DatabaseCore;
using db::ParsedFileName;

DatabaseOptions Options() {
  DatabaseOptions o;
  o.replica_id = 3;
  o.segment_points = 40;
  o.auto_optimize = false;  // keep several segments and a deletion file around
  o.path = "mem";
  return o;
}

// A database with every kind of file: two segments, a deletion file, an older (rotated-out) and a newer log.
void Build(storage::MemoryStorage* st) {
  auto db = *DatabaseCore::OpenStorage(Options(), st);
  CollectionConfig c;
  c.vectors[""] = VectorParams{3, Distance::kDot};
  REQUIRE(db->CreateCollection("c", c).ok());
  auto col = *db->GetCollection("c");
  REQUIRE(col->CreatePayloadIndex("k", "keyword").ok());
  for (int b = 0; b < 3; ++b) {
    std::vector<PointInput> pts;
    for (int i = 0; i < 30; ++i) {
      PointInput p;
      p.id = PointId::Number(b * 30 + i);
      p.vectors[""] = {float(i), float(b), 1};
      p.payload = R"({"k":")" + std::to_string(i % 3) + "\"}";
      pts.push_back(p);
    }
    REQUIRE(col->Upsert(pts).ok());
  }
  // Touch sealed points so a deletion file appears at the next seal, then seal again.
  REQUIRE(col->Delete(PointsSelector::Ids({PointId::Number(1), PointId::Number(2)})).ok());
  REQUIRE(col->SetPayload(PointsSelector::Ids({PointId::Number(3)}), R"({"x":1})").ok());
  std::vector<PointInput> more;
  for (int i = 0; i < 45; ++i) {
    PointInput p;
    p.id = PointId::Number(1000 + i);
    p.vectors[""] = {1, 2, float(i)};
    more.push_back(p);
  }
  REQUIRE(col->Upsert(more).ok());
  REQUIRE(col->Upsert(std::vector<PointInput>{more[0]}).ok());  // a record in the newest log
}

std::map<ParsedFileName::Kind, int> KindsPresent(storage::MemoryStorage& st) {
  std::map<ParsedFileName::Kind, int> out;
  const std::vector<std::string> names = *st.List();
  for (const auto& name : names) ++out[db::ParseFileName(name).kind];
  return out;
}

TEST_CASE("corruption: every kind of file, damaged anywhere, recovers or names the file", "[db][corruption]") {
  storage::MemoryStorage pristine;
  Build(&pristine);
  auto kinds = KindsPresent(pristine);
  REQUIRE(kinds[ParsedFileName::Kind::kManifest] == 1);
  REQUIRE(kinds[ParsedFileName::Kind::kSegment] >= 2);
  REQUIRE(kinds[ParsedFileName::Kind::kDeletions] >= 1);
  REQUIRE(kinds[ParsedFileName::Kind::kWal] >= 1);
  const std::string reference = (*(*DatabaseCore::OpenStorage(Options(), &pristine))->GetCollection("c"))->core().StateDigest();

  const std::vector<std::string> names = *pristine.List();
  std::string newest_wal;
  uint64_t newest_number = 0;
  for (const auto& name : names) {
    auto p = db::ParseFileName(name);
    if (p.kind == ParsedFileName::Kind::kWal && p.number >= newest_number) {
      newest_number = p.number;
      newest_wal = name;
    }
  }

  size_t recovered = 0, rejected = 0, repairs = 0;
  for (const std::string& name : names) {
    if (name == "LOCK") continue;
    const std::string original = *pristine.ReadFile(name);
    const bool binary = name != "CURRENT";
    std::vector<std::string> variants;
    const size_t step = original.size() > 4096 ? 61 : 1;
    for (size_t i = 0; i < original.size(); i += step) {
      std::string flipped = original;
      flipped[i] = static_cast<char>(flipped[i] ^ 0x40);
      variants.push_back(std::move(flipped));
    }
    // Truncations: at every offset of a small file (CURRENT, the manifest, deletion files, logs), at 40 of a big one.
    for (size_t n = 0; n < original.size(); n += original.size() > 4096 ? original.size() / 40 : 1) {
      variants.push_back(original.substr(0, n));
    }
    for (const std::string& bad : variants) {
      storage::MemoryStorage st;
      for (const auto& other : names) st.SetContents(other, *pristine.ReadFile(other));
      st.SetContents(name, bad);
      auto db = DatabaseCore::OpenStorage(Options(), &st);
      INFO(name << " (" << bad.size() << " of " << original.size() << " bytes)");
      Status s = db.status();
      if (db.ok()) {
        auto col = (*db)->GetCollection("c");
        if (col.ok()) {
          // Only a torn tail of the newest log may be recovered: the state is then a prefix of the writes.
          CHECK(name == newest_wal);
          ++recovered;
          continue;
        }
        // Damage in a collection's own files leaves the database open and that collection unavailable, and a
        // repair always brings it back, consistent.
        s = col.status();
        const auto kind = db::ParseFileName(name).kind;
        CHECK((kind == ParsedFileName::Kind::kSegment || kind == ParsedFileName::Kind::kDeletions ||
               kind == ParsedFileName::Kind::kWal));
        CHECK(s.message().find("collection 'c' is unavailable") != std::string_view::npos);
        auto report = (*db)->Repair("c");
        INFO(report.status().ToString());
        REQUIRE(report.ok());
        CHECK(!(report->lost.empty() && report->rebuilt.empty()));
        auto repaired = (*db)->GetCollection("c");
        REQUIRE(repaired.ok());
        CHECK((*repaired)->Verify()->empty());
        ++repairs;
      }
      ++rejected;
      INFO(s.ToString());
      CHECK(s.IsCorruption());
      CHECK(s.message().find(name) != std::string_view::npos);
      if (binary && s.message().find("offset") == std::string_view::npos) {
        // Structural checks after the envelope name the file and the point or section instead of an offset.
        CHECK((s.message().find("point") != std::string_view::npos ||
               s.message().find("manifest") != std::string_view::npos ||
               s.message().find("holds") != std::string_view::npos || s.message().find("row") != std::string_view::npos ||
               s.message().find("too short") != std::string_view::npos));
      }
    }
  }
  CHECK(recovered > 0);
  CHECK(rejected > 1000);
  CHECK(repairs > 500);
  // Untouched files still open to the same state.
  CHECK((*(*DatabaseCore::OpenStorage(Options(), &pristine))->GetCollection("c"))->core().StateDigest() == reference);
}

TEST_CASE("corruption: missing files are named", "[db][corruption]") {
  storage::MemoryStorage pristine;
  Build(&pristine);
  const std::vector<std::string> names = *pristine.List();
  for (const std::string& name : names) {
    auto kind = db::ParseFileName(name).kind;
    if (kind != ParsedFileName::Kind::kSegment && kind != ParsedFileName::Kind::kDeletions &&
        kind != ParsedFileName::Kind::kManifest) {
      continue;
    }
    storage::MemoryStorage st;
    for (const auto& other : names) {
      if (other != name) st.SetContents(other, *pristine.ReadFile(other));
    }
    auto db = DatabaseCore::OpenStorage(Options(), &st);
    INFO(name << ": " << db.status().ToString());
    if (kind == ParsedFileName::Kind::kManifest) {
      REQUIRE_FALSE(db.ok());
      CHECK(db.status().IsCorruption());
      CHECK(db.status().message().find(name) != std::string_view::npos);
      continue;
    }
    // A collection's file: the database opens, the collection is unavailable and its error names the file.
    REQUIRE(db.ok());
    auto col = (*db)->GetCollection("c");
    REQUIRE_FALSE(col.ok());
    CHECK(col.status().IsCorruption());
    CHECK(col.status().message().find(name) != std::string_view::npos);
  }
  // Without CURRENT, the other files are not silently replaced by a new database.
  storage::MemoryStorage st;
  for (const auto& other : names) {
    if (other != "CURRENT") st.SetContents(other, *pristine.ReadFile(other));
  }
  auto db = DatabaseCore::OpenStorage(Options(), &st);
  CHECK(db.status().IsCorruption());
  CHECK(db.status().message() == "mem: CURRENT is missing but database files are present");
}

}  // namespace
}  // namespace quiver
