// Damage stays with its collection: a database whose collection has a damaged file opens with that collection
// unavailable (its error names the file) and the others working; Repair rebuilds derived data from the vectors
// and payloads, keeps what checks out and reports what was lost.
#include <catch2/catch.hpp>
#include <algorithm>

#include "base/section_file.h"
#include "db/database_core.h"
#include "db/manifest.h"
#include "storage/storage_memory.h"
#include "storage/wal_format.h"
#include "storage/wal_reader.h"

namespace quiver {
namespace {

using db::DatabaseCore;

constexpr size_t kDim = 8;
constexpr size_t kPoints = 120;

DatabaseOptions Options() {
  DatabaseOptions o;
  o.replica_id = 5;
  o.path = "mem";
  o.segment_points = 40;
  return o;
}

std::vector<float> VectorOf(size_t i) {
  std::vector<float> v(kDim);
  for (size_t j = 0; j < kDim; ++j) v[j] = float((i * 37 + j * 11) % 97) / 97.0f + (j == i % kDim ? 1.0f : 0);
  v[1] += float(i) / 5000.0f;
  return v;
}

// Points first .. first+count-1, each with its vector and payload {"n": id}.
std::vector<PointInput> Points(size_t first, size_t count) {
  std::vector<PointInput> batch;
  for (size_t i = first; i < first + count; ++i) {
    PointInput p;
    p.id = PointId::Number(i);
    p.vectors[""] = VectorOf(i);
    p.payload = "{\"n\":" + std::to_string(i) + "}";
    batch.push_back(std::move(p));
  }
  return batch;
}

std::unique_ptr<DatabaseCore> OpenStored(storage::Storage* st) {
  auto db = DatabaseCore::OpenStorage(Options(), st);
  INFO(db.status().ToString());
  REQUIRE(db.ok());
  return std::move(*db);
}

void Fill(DatabaseCore& db, const std::string& name) {
  CollectionConfig config;
  config.vectors[""] = VectorParams{kDim, Distance::kEuclid};
  config.hnsw.m = 8;
  config.hnsw.ef_construct = 32;
  REQUIRE(db.CreateCollection(name, config).ok());
  auto c = *db.GetCollection(name);
  REQUIRE(c->CreatePayloadIndex("n", "integer").ok());
  REQUIRE(c->Upsert(Points(0, kPoints)).ok());
  REQUIRE(c->Optimize().ok());
  REQUIRE(c->Verify()->empty());
}

// Every point is there with its payload, found by its own vector and by a filter on the indexed field.
void CheckWhole(Collection& c, size_t points) {
  CHECK(*c.Count("") == points);
  CHECK(*c.Count(R"({"must":[{"key":"n","range":{"gte":10,"lt":20}}]})") == 10);
  for (size_t i : {size_t{0}, points / 2, points - 1}) {
    SearchRequest r;
    r.vector = VectorOf(i);
    r.limit = 1;
    auto hits = c.Search(r);
    REQUIRE(hits.ok());
    REQUIRE(hits->size() == 1);
    CHECK((*hits)[0].id == PointId::Number(i));
  }
}

// The sealed segment files of collection `name`.
std::vector<std::string> SegmentFiles(storage::Storage& st, DatabaseCore& db, const std::string& name) {
  const uint32_t id = (*db.GetCollection(name))->core().id();
  std::vector<std::string> out;
  const std::vector<std::string> all = *st.List();
  for (const std::string& f : all) {
    db::ParsedFileName p = db::ParseFileName(f);
    if (p.kind == db::ParsedFileName::Kind::kSegment && p.collection == id) out.push_back(f);
  }
  return out;
}

// Flips one byte of section `tag` of a segment file; inside the index image's section `inner` when given.
void FlipInSection(storage::Storage& st, const std::string& file, uint32_t tag, uint32_t inner = 0) {
  std::string bytes = *st.ReadFile(file);
  std::span<const uint8_t> span{reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()};
  auto reader = SectionFileReader::Open(span, FileKind::kSegment, file);
  REQUIRE(reader.ok());
  uint64_t at = reader->OffsetOf(tag);
  REQUIRE(at != 0);
  if (inner != 0) {
    auto image = *reader->Get(tag);
    auto nested = SectionFileReader::Open(image, FileKind::kHnswIndex, "image");
    REQUIRE(nested.ok());
    REQUIRE(nested->OffsetOf(inner) != 0);
    at += nested->OffsetOf(inner);
  }
  bytes[at + 5] ^= 0x10;
  REQUIRE(st.WriteFileAtomic(file, bytes).ok());
}

TEST_CASE("a damaged graph makes its collection unavailable, not the database; repair rebuilds it", "[db][repair]") {
  storage::MemoryStorage st;
  std::string damaged;
  {
    auto db = OpenStored(&st);
    Fill(*db, "a");
    Fill(*db, "b");
    auto files = SegmentFiles(st, *db, "a");
    REQUIRE(!files.empty());
    damaged = files.front();
    REQUIRE(db->Close().ok());
  }
  FlipInSection(st, damaged, SectionTag("IX00"), SectionTag("LNK0"));

  auto db = OpenStored(&st);
  CHECK(db->ListCollections() == std::vector<std::string>{"a", "b"});
  CHECK(db->CollectionExists("a"));
  auto a = db->GetCollection("a");
  REQUIRE(!a.ok());
  CHECK(a.status().IsCorruption());
  CHECK_THAT(std::string(a.status().message()), Catch::Contains("collection 'a' is unavailable") &&
                                                    Catch::Contains(damaged) && Catch::Contains("repair"));
  auto unavailable = db->UnavailableCollections();
  REQUIRE(unavailable.size() == 1);
  CHECK(unavailable[0].first == "a");
  // The other collection works, for reads and writes; the name stays taken.
  CheckWhole(**db->GetCollection("b"), kPoints);
  CHECK(db->CreateCollection("a", (*db->GetCollection("b"))->core().config()).code() == StatusCode::kAlreadyExists);

  auto report = db->Repair("a");
  INFO(report.status().ToString());
  REQUIRE(report.ok());
  CHECK(report->lost.empty());
  REQUIRE(report->rebuilt.size() == 1);
  CHECK_THAT(report->rebuilt[0], Catch::Contains(damaged) && Catch::Contains("rebuilt from its intact vectors"));
  CHECK(report->points == kPoints);
  CHECK(db->UnavailableCollections().empty());
  CheckWhole(**db->GetCollection("a"), kPoints);
  // The damaged file is gone, and the repaired collection opens again without help.
  auto names = *st.List();
  CHECK(std::find(names.begin(), names.end(), damaged) == names.end());
  REQUIRE(db->Close().ok());
  auto again = OpenStored(&st);
  CHECK(again->UnavailableCollections().empty());
  CheckWhole(**again->GetCollection("a"), kPoints);
  CHECK((*again->GetCollection("a"))->Verify()->empty());
}

TEST_CASE("repair reports the points of a segment whose payloads are damaged as lost", "[db][repair]") {
  storage::MemoryStorage st;
  std::string damaged;
  size_t in_damaged = 0;
  {
    auto db = OpenStored(&st);
    Fill(*db, "a");
    // A second segment beside the merged one: 40 more points.
    auto c = *db->GetCollection("a");
    REQUIRE(c->Upsert(Points(kPoints, 40)).ok());
    auto files = SegmentFiles(st, *db, "a");
    REQUIRE(files.size() >= 1);
    damaged = files.front();
    REQUIRE(db->Close().ok());
  }
  {
    // How many points the damaged file holds (its id section: 24 bytes a point).
    std::string bytes = *st.ReadFile(damaged);
    std::span<const uint8_t> span{reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()};
    auto reader = SectionFileReader::Open(span, FileKind::kSegment, damaged);
    REQUIRE(reader.ok());
    in_damaged = reader->Get(SectionTag("SIDS"))->size() / 24;
    REQUIRE(in_damaged > 0);
  }
  FlipInSection(st, damaged, SectionTag("SPAY"));

  auto db = OpenStored(&st);
  REQUIRE(!db->GetCollection("a").ok());
  auto report = db->Repair("a");
  INFO(report.status().ToString());
  REQUIRE(report.ok());
  REQUIRE(report->lost.size() == 1);
  CHECK_THAT(report->lost[0], Catch::Contains(damaged) && Catch::Contains(std::to_string(in_damaged) + " points lost") &&
                                  Catch::Contains("SPAY"));
  CHECK(report->points == kPoints + 40 - in_damaged);
  auto c = *db->GetCollection("a");
  CHECK(*c->Count("") == kPoints + 40 - in_damaged);
  CHECK(c->Verify()->empty());
}

// A log past its size limit (4 MiB) is closed and a new one begun. Damage to a record of the older log is not
// a torn tail (only the newest log may be torn): the collection is unavailable, naming the log, until a
// repair keeps the older log's records before the damage and every record of the newer one.
TEST_CASE("repair keeps the records of a damaged older log before the damage, and the newer log",
          "[db][repair]") {
  constexpr uint32_t kBigDim = 1024;  // 4 KiB a point: 100-point batches of about 410 KB
  constexpr size_t kBatch = 100;
  constexpr size_t kBatches = 12;
  auto vector_of = [](size_t i) {
    std::vector<float> v(kBigDim, float(i % 251) / 251.0f);
    v[i % kBigDim] += 1;
    return v;
  };
  DatabaseOptions o = Options();
  o.segment_points = 100000;  // no seal: every point stays in the logs
  storage::MemoryStorage st;
  uint32_t id = 0;
  {
    auto db = DatabaseCore::OpenStorage(o, &st);
    REQUIRE(db.ok());
    CollectionConfig config;
    config.vectors[""] = VectorParams{kBigDim, Distance::kEuclid};
    REQUIRE((*db)->CreateCollection("a", config).ok());
    auto c = *(*db)->GetCollection("a");
    id = c->core().id();
    for (size_t b = 0; b < kBatches; ++b) {
      std::vector<PointInput> batch;
      for (size_t i = b * kBatch; i < (b + 1) * kBatch; ++i) {
        PointInput p;
        p.id = PointId::Number(i);
        p.vectors[""] = vector_of(i);
        batch.push_back(std::move(p));
      }
      REQUIRE(c->Upsert(batch).ok());
    }
    REQUIRE((*db)->Close().ok());
  }
  std::vector<std::pair<uint64_t, std::string>> logs;
  const std::vector<std::string> names = *st.List();
  for (const std::string& f : names) {
    db::ParsedFileName p = db::ParseFileName(f);
    if (p.kind == db::ParsedFileName::Kind::kWal && p.collection == id) logs.emplace_back(p.number, f);
  }
  std::sort(logs.begin(), logs.end());
  REQUIRE(logs.size() == 2);
  const std::string older = logs[0].second;
  std::string bytes = *st.ReadFile(older);
  std::vector<uint64_t> offsets;
  storage::WalTail tail;
  REQUIRE(storage::ReadWalRecords(
              {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, older, logs[0].first,
              /*newest=*/false,
              [&](storage::WalRecordType, std::string_view, uint64_t offset) {
                offsets.push_back(offset);
                return Status::OK();
              },
              &tail)
              .ok());
  REQUIRE(offsets.size() == 11);  // the newer log holds the last batch
  bytes[offsets[5] + storage::kWalRecordHeaderSize + 100] ^= 0x10;
  REQUIRE(st.WriteFileAtomic(older, bytes).ok());

  auto db = DatabaseCore::OpenStorage(o, &st);
  REQUIRE(db.ok());
  auto a = (*db)->GetCollection("a");
  REQUIRE_FALSE(a.ok());
  CHECK(a.status().IsCorruption());
  CHECK_THAT(std::string(a.status().message()),
             Catch::Contains(older) &&
                 Catch::Contains("record checksum mismatch at offset " + std::to_string(offsets[5])));
  auto report = (*db)->Repair("a");
  INFO(report.status().ToString());
  REQUIRE(report.ok());
  REQUIRE(report->lost.size() == 1);
  CHECK(report->lost[0] == older + ": " + std::to_string(bytes.size() - offsets[5]) + " bytes from offset " +
                               std::to_string(offsets[5]) +
                               " dropped, with the writes they held (record checksum " +
                               "mismatch at offset " + std::to_string(offsets[5]) + ")");
  const size_t kept = 6 * kBatch;  // batches 0-4 of the older log, the last batch of the newer one
  CHECK(report->points == kept);
  auto check = [&](DatabaseCore& d) {
    auto c = *d.GetCollection("a");
    CHECK(*c->Count("") == kept);
    auto got =
        c->Get(std::vector<PointId>{PointId::Number(0), PointId::Number(499), PointId::Number(500),
                                    PointId::Number(1099), PointId::Number(1100), PointId::Number(1199)},
               PayloadSelector::None(), VectorSelector::All());
    REQUIRE(got.ok());
    std::vector<uint64_t> ids;
    for (const Record& r : *got) ids.push_back(r.id.number());
    CHECK(ids == std::vector<uint64_t>{0, 499, 1100, 1199});
    CHECK(c->Verify()->empty());
  };
  check(**db);
  REQUIRE((*db)->Close().ok());
  auto again = OpenStored(&st);
  CHECK(again->UnavailableCollections().empty());
  check(*again);
}

// Damage that happens while the database is open: Verify reads the files again and names the damaged one, and
// a repair of the open collection closes it, salvages what checks out and opens it again.
TEST_CASE("a segment damaged while open is found by verify and repaired in place", "[db][repair]") {
  storage::MemoryStorage st;
  auto db = OpenStored(&st);
  Fill(*db, "a");
  auto c = *db->GetCollection("a");
  REQUIRE(c->Upsert(Points(kPoints, 40)).ok());
  auto files = SegmentFiles(st, *db, "a");
  REQUIRE(!files.empty());
  const std::string damaged = files.front();
  FlipInSection(st, damaged, SectionTag("SPAY"));

  auto problems = c->Verify();
  REQUIRE(problems.ok());
  REQUIRE(problems->size() == 1);
  CHECK_THAT((*problems)[0], Catch::Contains(damaged) && Catch::Contains("SPAY"));
  auto report = db->Repair("a");
  INFO(report.status().ToString());
  REQUIRE(report.ok());
  REQUIRE(report->lost.size() == 1);
  CHECK_THAT(report->lost[0], Catch::Contains(damaged) && Catch::Contains("points lost"));
  auto repaired = *db->GetCollection("a");
  CHECK(*repaired->Count("") == report->points);
  CHECK(report->points < kPoints + 40);
  CHECK(repaired->Verify()->empty());
  CHECK(db->UnavailableCollections().empty());
}

TEST_CASE("an unavailable collection can be deleted, files and all", "[db][repair]") {
  storage::MemoryStorage st;
  std::string damaged;
  uint32_t id = 0;
  {
    auto db = OpenStored(&st);
    Fill(*db, "a");
    id = (*db->GetCollection("a"))->core().id();
    damaged = SegmentFiles(st, *db, "a").front();
    REQUIRE(db->Close().ok());
  }
  FlipInSection(st, damaged, SectionTag("SIDS"));
  auto db = OpenStored(&st);
  REQUIRE(db->DeleteCollection("a").ok());
  CHECK(db->ListCollections().empty());
  CHECK(db->UnavailableCollections().empty());
  CHECK(db->GetCollection("a").status().IsNotFound());
  const std::vector<std::string> left = *st.List();
  for (const std::string& f : left) {
    db::ParsedFileName p = db::ParseFileName(f);
    const bool own = p.kind == db::ParsedFileName::Kind::kSegment || p.kind == db::ParsedFileName::Kind::kWal ||
                     p.kind == db::ParsedFileName::Kind::kDeletions;
    CHECK_FALSE((own && p.collection == id));
  }
  REQUIRE(db->Close().ok());
  CHECK(OpenStored(&st)->ListCollections().empty());
}

TEST_CASE("repair of a healthy collection changes nothing; in memory it is refused", "[db][repair]") {
  storage::MemoryStorage st;
  auto db = OpenStored(&st);
  Fill(*db, "a");
  auto files = *st.List();
  auto report = db->Repair("a");
  REQUIRE(report.ok());
  CHECK(report->rebuilt.empty());
  CHECK(report->lost.empty());
  CHECK(report->points == kPoints);
  CHECK(*st.List() == files);
  CHECK(db->Repair("nope").status().IsNotFound());

  DatabaseOptions o;
  auto mem = DatabaseCore::Open(o);
  REQUIRE(mem.ok());
  CHECK((*mem)->Repair("a").status().code() == StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace quiver
