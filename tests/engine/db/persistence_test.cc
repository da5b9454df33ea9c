// Stored databases: reopening, sealing and merging, recovery from torn logs, fault injection at every write
// and sync of a scripted workload, locks, and snapshots. The in-memory database running the same ops is the
// oracle: its state digest (registers, payloads, vectors) must equal the stored one's.
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <functional>

#include "base/random.h"
#include "base/section_file.h"
#include "db/database_core.h"
#include "db/segment_file.h"
#include "engine/db/db_test_util.h"
#include "engine/storage/storage_test_util.h"
#include "payload/json_parse.h"
#include "payload/payload_index.h"
#include "storage/fault_injection.h"
#include "storage/storage_memory.h"
#if !defined(__EMSCRIPTEN__)
#include "quiver/thread_pool.h"
#endif

namespace quiver {
namespace {

using db::DatabaseCore;

DatabaseOptions Options(size_t segment_points = 50) { return testing::StoredOptions(segment_points); }

CollectionConfig Config() { return testing::SmallNamedConfig(); }

// Segments of 8 points and no merges unless asked: tests that place points in segment files themselves.
// Rewrites the current manifest of the database in `st` after `edit` changes it.
template <typename Edit>
void EditManifest(storage::MemoryStorage& st, Edit edit) {
  const std::string current = *st.ReadFile("CURRENT");
  const std::string manifest_name = current.substr(0, current.size() - 1);
  const std::string bytes = *st.ReadFile(manifest_name);
  auto manifest = db::DecodeManifest({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, "m");
  REQUIRE(manifest.ok());
  edit(*manifest);
  st.SetContents(manifest_name, db::EncodeManifest(*manifest));
}

DatabaseOptions HandPlaced() {
  DatabaseOptions o = Options(8);
  o.auto_optimize = false;
  return o;
}

// A deterministic workload: batches of upserts, payload changes and deletes over a small id space, so later
// batches touch points already sealed.
struct Workload {
  explicit Workload(uint64_t seed) : rng(seed) {}
  Status Step(Collection& c, int i) {
    switch (i % 5) {
      case 0:
      case 1:
      case 2: {
        std::vector<PointInput> pts;
        for (int j = 0; j < 17; ++j) {
          PointInput p;
          p.id = PointId::Number(rng() % 120);
          p.vectors["v"] = {float(rng() % 7) + 1, float(rng() % 5), float(i % 3), 1};
          p.payload = R"({"batch":)" + std::to_string(i) + R"(,"tag":")" + std::to_string(rng() % 4) + "\"}";
          pts.push_back(std::move(p));
        }
        return c.Upsert(pts);
      }
      case 3:
        return c
            .SetPayload(PointsSelector::Filter(R"({"must":[{"key":"tag","match":{"value":"1"}}]})"),
                        R"({"seen":)" + std::to_string(i) + "}")
            .status();
      default: {
        std::vector<PointId> ids;
        for (int j = 0; j < 5; ++j) ids.push_back(PointId::Number(rng() % 120));
        return c.Delete(PointsSelector::Ids(ids)).status();
      }
    }
  }
  SplitMix64 rng;
};

std::unique_ptr<DatabaseCore> OpenStored(storage::Storage* st, DatabaseOptions o = Options()) {
  auto db = DatabaseCore::OpenStorage(o, st);
  INFO(db.status().ToString());
  REQUIRE(db.ok());
  return std::move(*db);
}

// The in-memory reference after `steps` workload steps.
std::string ReferenceDigest(int steps, uint64_t seed = 1) {
  DatabaseOptions o = Options();
  o.path.clear();
  auto db = *DatabaseCore::Open(o);
  REQUIRE(db->CreateCollection("c", Config()).ok());
  auto c = *db->GetCollection("c");
  REQUIRE(c->CreatePayloadIndex("tag", "keyword").ok());
  Workload w(seed);
  for (int i = 0; i < steps; ++i) REQUIRE(w.Step(*c, i).ok());
  return c->core().StateDigest();
}

TEST_CASE("persistence: a reopened database holds everything, through seals and merges", "[db][storage]") {
  storage::MemoryStorage st;
  constexpr int kSteps = 60;
  {
    auto db = OpenStored(&st);
    REQUIRE(db->CreateCollection("c", Config()).ok());
    auto c = *db->GetCollection("c");
    REQUIRE(c->CreatePayloadIndex("tag", "keyword").ok());
    std::vector<AliasAction> a = {{AliasAction::Kind::kCreate, "live", "c", ""}};
    REQUIRE(db->UpdateAliases(a).ok());
    Workload w(1);
    for (int i = 0; i < kSteps; ++i) REQUIRE(w.Step(*c, i).ok());
    CHECK(c->Stats().segments > 1);  // sealed at 50 points, merged by the optimizer
    CHECK(c->core().StateDigest() == ReferenceDigest(kSteps));
    REQUIRE(db->Close().ok());
  }
  auto db = OpenStored(&st);
  auto c = db->GetCollection("live");
  REQUIRE(c.ok());
  CHECK((*c)->core().StateDigest() == ReferenceDigest(kSteps));
  CollectionInfo info = (*c)->Info();
  REQUIRE(info.payload_schema.size() == 1);
  CHECK(info.payload_schema[0].field == "tag");
  // Search works across every segment, and equals exact search on this small set.
  SearchRequest req;
  req.vector_name = "v";
  req.vector = {3, 1, 1, 1};
  req.limit = 5;
  auto a = (*c)->Search(req);
  req.exact = true;
  auto b = (*c)->Search(req);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  CHECK(testing::Ids(*a) == testing::Ids(*b));
  // Optimize merges everything into one indexed segment, and nothing changes.
  REQUIRE((*c)->Optimize().ok());
  CollectionStats stats = (*c)->Stats();
  CHECK(stats.segments == 2);  // one sealed, plus the empty write segment
  CHECK(stats.unindexed_vectors == 0);
  CHECK(stats.indexed_vectors == stats.points);
  CHECK((*c)->core().StateDigest() == ReferenceDigest(kSteps));
  auto problems = (*c)->Verify();
  REQUIRE(problems.ok());
  CHECK(problems->empty());
  // Damage a segment file under the open database: Verify names it.
  std::string segment_name;
  const std::vector<std::string> files = *st.List();
  for (const auto& name : files) {
    if (db::ParseFileName(name).kind == db::ParsedFileName::Kind::kSegment) segment_name = name;
  }
  REQUIRE_FALSE(segment_name.empty());
  const std::string good = *st.ReadFile(segment_name);
  std::string bad = good;
  bad[bad.size() / 2] ^= 1;
  st.SetContents(segment_name, bad);
  problems = (*c)->Verify();
  REQUIRE(problems->size() == 1);
  CHECK((*problems)[0].find(segment_name + ": ") != std::string::npos);
  CHECK((*problems)[0].find("checksum mismatch") != std::string::npos);
  st.SetContents(segment_name, good);
  REQUIRE(db->Close().ok());
  auto again = OpenStored(&st);
  CHECK((*again->GetCollection("c"))->core().StateDigest() == ReferenceDigest(kSteps));
  // No stray files: one manifest, the current log, the segment (and perhaps its deletion file).
  const std::vector<std::string> names = *st.List();
  for (const auto& name : names) {
    INFO(name);
    CHECK(db::ParseFileName(name).kind != db::ParsedFileName::Kind::kTemp);
  }
}

TEST_CASE("persistence: segment files carry the payload indexes, and reopening follows index changes",
          "[db][storage]") {
  storage::MemoryStorage st;
  constexpr int kSteps = 30;
  const std::string by_tag = R"({"must":[{"key":"tag","match":{"value":"2"}}]})";
  const std::string by_batch = R"({"must":[{"key":"batch","range":{"gte":5,"lt":20}}]})";
  // The in-memory reference counts.
  size_t tag_count = 0, batch_count = 0;
  {
    DatabaseOptions o = Options();
    o.path.clear();
    auto ref = *DatabaseCore::Open(o);
    REQUIRE(ref->CreateCollection("c", Config()).ok());
    auto c = *ref->GetCollection("c");
    Workload w(3);
    for (int i = 0; i < kSteps; ++i) REQUIRE(w.Step(*c, i).ok());
    tag_count = *c->Count(by_tag);
    batch_count = *c->Count(by_batch);
  }
  REQUIRE(tag_count > 0);
  REQUIRE(batch_count > 0);
  {
    auto db = OpenStored(&st);
    REQUIRE(db->CreateCollection("c", Config()).ok());
    auto c = *db->GetCollection("c");
    REQUIRE(c->CreatePayloadIndex("tag", "keyword").ok());
    Workload w(3);
    for (int i = 0; i < kSteps; ++i) REQUIRE(w.Step(*c, i).ok());
    REQUIRE(db->Close().ok());
  }
  // Every segment file holds the index of "tag", and it decodes to the index of the file's own payloads.
  int segments = 0;
  const std::vector<std::string> files = *st.List();
  for (const std::string& name : files) {
    if (db::ParseFileName(name).kind != db::ParsedFileName::Kind::kSegment) continue;
    ++segments;
    INFO(name);
    const std::string bytes = *st.ReadFile(name);
    auto reader = SectionFileReader::Open({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()},
                                          FileKind::kSegment, name);
    REQUIRE(reader.ok());
    REQUIRE(reader->Has(SectionTag("SPIX")));
    payload::PayloadIndex stored;
    auto section = *reader->Get(SectionTag("SPIX"));
    auto seg = db::DecodeSegment({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()},
                                 {db::VectorSpace{"v", VectorParams{4, Distance::kCosine}}}, {}, nullptr, name);
    REQUIRE(seg.ok());
    REQUIRE(stored.Decode(section, static_cast<uint32_t>((*seg)->slot_count()), name).ok());
    CHECK(stored.Fields() == std::vector<std::pair<std::string, payload::FieldIndexType>>{
                                 {"tag", payload::FieldIndexType::kKeyword}});
    CHECK((*seg)->CheckPayloadIndex().ok());
  }
  CHECK(segments >= 1);
  {
    auto db = OpenStored(&st);
    auto c = *db->GetCollection("c");
    CHECK(*c->Count(by_tag) == tag_count);
    REQUIRE(c->Verify()->empty());
    // Index changes after the files were written: the old segment files still hold "tag" and lack "batch".
    REQUIRE(c->CreatePayloadIndex("batch", "integer").ok());
    REQUIRE(c->DeletePayloadIndex("tag").ok());
    REQUIRE(db->Close().ok());
  }
  auto db = OpenStored(&st);
  auto c = *db->GetCollection("c");
  CollectionInfo info = c->Info();
  REQUIRE(info.payload_schema.size() == 1);
  CHECK(info.payload_schema[0].field == "batch");
  CHECK(*c->Count(by_batch) == batch_count);
  CHECK(*c->Count(by_tag) == tag_count);
  auto problems = c->Verify();
  REQUIRE(problems.ok());
  for (const std::string& p : *problems) FAIL(p);
}

TEST_CASE("persistence: the collection list, aliases and deletes survive reopening", "[db][storage]") {
  storage::MemoryStorage st;
  {
    auto db = OpenStored(&st);
    REQUIRE(db->CreateCollection("a", Config()).ok());
    REQUIRE(db->CreateCollection("b", Config()).ok());
    REQUIRE(db->DeleteCollection("a").ok());
    REQUIRE(db->CreateCollection("a", Config()).ok());  // a new collection under an old name
    auto a = *db->GetCollection("a");
    PointInput p;
    p.id = PointId::Number(1);
    p.vectors["v"] = {1, 2, 3, 4};
    REQUIRE(a->Upsert(std::vector<PointInput>{p}).ok());
  }
  auto db = OpenStored(&st);
  CHECK(db->ListCollections() == std::vector<std::string>{"a", "b"});
  CHECK((*db->GetCollection("a"))->Info().points_count == 1);
  CHECK((*db->GetCollection("b"))->Info().points_count == 0);
}

TEST_CASE("persistence: a database opened as another replica is refused and left as it was",
          "[db][storage]") {
  storage::MemoryStorage st;
  {
    auto db = OpenStored(&st);
    REQUIRE(db->CreateCollection("c", Config()).ok());
    auto c = *db->GetCollection("c");
    PointInput p;
    p.id = PointId::Number(1);
    p.vectors["v"] = {1, 2, 3, 4};
    REQUIRE(c->Upsert(std::vector<PointInput>{p}).ok());
  }
  const std::vector<std::string> files = *st.List();
  DatabaseOptions other = Options();
  other.replica_id = 8;
  auto refused = DatabaseCore::OpenStorage(other, &st);
  REQUIRE_FALSE(refused.ok());
  CHECK(refused.status().code() == StatusCode::kInvalidArgument);
  CHECK(std::string(refused.status().message()).find("belongs to replica 7, not 8") != std::string::npos);
  CHECK(*st.List() == files);
  auto db = OpenStored(&st);
  CHECK((*db->GetCollection("c"))->Info().points_count == 1);
}

TEST_CASE("persistence: one writer; a second gets Busy, read-only opens work", "[db][storage]") {
  testing::TempDir dir;
  DatabaseOptions o = Options();
  o.path = dir.path() + "/db";
  auto first = Database::Open(o);
  REQUIRE(first.ok());
  REQUIRE((*first)->CreateCollection("c", Config()).ok());
  auto second = Database::Open(o);
  CHECK(second.status().code() == StatusCode::kBusy);
  DatabaseOptions ro = o;
  ro.read_only = true;
  auto reader = Database::Open(ro);
  INFO(reader.status().ToString());
  REQUIRE(reader.ok());
  CHECK((*reader)->ListCollections() == std::vector<std::string>{"c"});
  auto rc = *(*reader)->GetCollection("c");
  PointInput p;
  p.id = PointId::Number(1);
  p.vectors["v"] = {1, 2, 3, 4};
  CHECK(rc->Upsert(std::vector<PointInput>{p}).code() == StatusCode::kFailedPrecondition);
  CHECK((*reader)->CreateCollection("d", Config()).code() == StatusCode::kFailedPrecondition);
  REQUIRE((*first)->Close().ok());
  CHECK((*first)->ListCollections().size() == 1);
  CHECK((*first)->GetCollection("c").status().code() == StatusCode::kFailedPrecondition);
  CHECK(Database::Open(o).ok());  // the lock was released
  DatabaseOptions missing = ro;
  missing.path = dir.path() + "/nothing-here";
  CHECK(Database::Open(missing).status().IsNotFound());
}

TEST_CASE("persistence: a torn log tail loses only unacknowledged writes", "[db][storage]") {
  for (uint64_t tear = 1; tear <= 20; ++tear) {
    INFO("tear seed " << tear);
    storage::MemoryStorage st;
    int acked = 0;
    {
      DatabaseOptions o = Options(1000);  // no seal: everything is in the log
      o.durability = Durability::kNone;   // nothing synced automatically: only Flush makes writes durable
      auto db = OpenStored(&st, o);
      REQUIRE(db->CreateCollection("c", Config()).ok());
      auto c = *db->GetCollection("c");
      REQUIRE(c->CreatePayloadIndex("tag", "keyword").ok());
      Workload w(1);
      for (int i = 0; i < 12; ++i) {
        REQUIRE(w.Step(*c, i).ok());
        if (i == 7) {
          REQUIRE(db->Flush().ok());
          acked = 8;
        }
      }
      st.SimulateCrash(tear);  // power loss: unsynced bytes may be partly written
    }
    auto db = OpenStored(&st);
    const std::string digest = (*db->GetCollection("c"))->core().StateDigest();
    // Whole batches only: the state after some number of steps from the last acknowledged one onward.
    bool matched = false;
    for (int steps = acked; steps <= 12 && !matched; ++steps) matched = digest == ReferenceDigest(steps);
    CHECK(matched);
  }
}

TEST_CASE("persistence: a failure at any write or sync leaves a recoverable database", "[db][storage]") {
  constexpr int kSteps = 40;
  // Count the operations of a clean run.
  uint64_t total = 0;
  {
    storage::MemoryStorage base;
    storage::FaultInjectionStorage st(&base);
    auto db = OpenStored(&st);
    REQUIRE(db->CreateCollection("c", Config()).ok());
    auto c = *db->GetCollection("c");
    REQUIRE(c->CreatePayloadIndex("tag", "keyword").ok());
    Workload w(1);
    for (int i = 0; i < kSteps; ++i) REQUIRE(w.Step(*c, i).ok());
    total = st.operations();
  }
  REQUIRE(total > 100);
  std::vector<std::string> reference;
  for (int i = 0; i <= kSteps; ++i) reference.push_back(ReferenceDigest(i));
  for (uint64_t n = 1; n <= total; ++n) {
    INFO("failing operation " << n);
    storage::MemoryStorage base;
    storage::FaultInjectionStorage st(&base);
    int acked = -1;  // steps acknowledged; -1 until the collection exists
    {
      st.FailAt(n);
      auto db = DatabaseCore::OpenStorage(Options(), &st);
      if (db.ok() && (*db)->CreateCollection("c", Config()).ok()) {
        auto c = *(*db)->GetCollection("c");
        if (c->CreatePayloadIndex("tag", "keyword").ok()) {
          acked = 0;
          Workload w(1);
          for (int i = 0; i < kSteps; ++i) {
            if (!w.Step(*c, i).ok()) break;
            acked = i + 1;
          }
        }
      }
      base.SimulateCrash(n);
    }
    st.Disarm();
    auto db = DatabaseCore::OpenStorage(Options(), &st);
    INFO(db.status().ToString());
    REQUIRE(db.ok());
    auto c = (*db)->GetCollection("c");
    if (acked < 0) continue;  // the collection may or may not have been created; both are fine
    REQUIRE(c.ok());
    const std::string digest = (*c)->core().StateDigest();
    // Every acknowledged step is there; the failing one is there whole or not at all.
    const bool ok = digest == reference[acked] || (acked < kSteps && digest == reference[acked + 1]);
    CHECK(ok);
  }
}

TEST_CASE("snapshots: restore gives the same state, in memory and stored", "[db][storage]") {
  storage::MemoryStorage st;
  auto db = OpenStored(&st);
  REQUIRE(db->CreateCollection("c", Config()).ok());
  auto c = *db->GetCollection("c");
  REQUIRE(c->CreatePayloadIndex("tag", "keyword").ok());
  Workload w(3);
  for (int i = 0; i < 30; ++i) REQUIRE(w.Step(*c, i).ok());
  auto snap = c->CreateSnapshot();
  REQUIRE(snap.ok());
  CHECK(*c->CreateSnapshot() == *snap);  // deterministic

  DatabaseOptions mo = Options();
  mo.path.clear();
  auto mem = *DatabaseCore::Open(mo);
  REQUIRE(mem->RestoreSnapshot("c", *snap).ok());
  auto copy = *mem->GetCollection("c");
  CHECK(copy->core().StateDigest() == c->core().StateDigest());
  CHECK(*copy->CreateSnapshot() == *snap);  // the same bytes, as the snapshot names the collection "c"
  CHECK(copy->Info().payload_schema.size() == 1);

  REQUIRE(db->RestoreSnapshot("copy", *snap).ok());
  CHECK(db->RestoreSnapshot("copy", *snap).code() == StatusCode::kAlreadyExists);
  REQUIRE(db->Close().ok());
  auto reopened = OpenStored(&st);
  CHECK((*reopened->GetCollection("copy"))->core().StateDigest() == c->core().StateDigest());

  // Damage anywhere is rejected.
  for (size_t i = 0; i < snap->size(); i += 7) {
    std::string bad = *snap;
    bad[i] ^= 0x10;
    Status s = mem->RestoreSnapshot("bad" + std::to_string(i), bad);
    INFO("byte " << i);
    CHECK(s.IsCorruption());
  }
  CHECK(mem->RestoreSnapshot("short", snap->substr(0, snap->size() / 2)).IsCorruption());
}

// An in-memory database with the tests' options.
std::unique_ptr<DatabaseCore> InMemory() {
  DatabaseOptions o = Options();
  o.path.clear();
  return std::move(*DatabaseCore::Open(o));
}

// A snapshot of collection "c" (created in `db` with a keyword index on "tag") after `steps` workload steps.
std::string WorkloadSnapshot(DatabaseCore& db, uint64_t seed, int steps) {
  REQUIRE(db.CreateCollection("c", Config()).ok());
  auto c = *db.GetCollection("c");
  REQUIRE(c->CreatePayloadIndex("tag", "keyword").ok());
  Workload w(seed);
  for (int i = 0; i < steps; ++i) REQUIRE(w.Step(*c, i).ok());
  return *c->CreateSnapshot();
}

// A section of a section file, as text.
std::string SectionText(const SectionFileReader& reader, const char (&tag)[5]) {
  auto b = *reader.Get(SectionTag(tag));
  return std::string(reinterpret_cast<const char*>(b.data()), b.size());
}

// Found by fuzz_snapshot: a snapshot naming a payload index type that does not exist (checksums intact) was
// refused only after its collection had been created, which then stayed behind, empty.
TEST_CASE("snapshots: a snapshot that cannot be restored leaves no collection behind", "[db][storage][fuzz]") {
  auto mem = InMemory();
  const std::string snap = WorkloadSnapshot(*mem, 3, 5);
  // The same snapshot with the index type misspelt, re-packed so every checksum holds.
  auto reader = SectionFileReader::Open({reinterpret_cast<const uint8_t*>(snap.data()), snap.size()},
                                        FileKind::kSnapshot, "snapshot");
  REQUIRE(reader.ok());
  auto text = [&](const char(&tag)[5]) { return SectionText(*reader, tag); };
  std::string meta = text("SNAP");
  const size_t at = meta.find("\"keyword\"");
  REQUIRE(at != std::string::npos);
  meta.replace(at, 9, "\"kexword\"");
  SectionFileWriter writer(FileKind::kSnapshot);
  writer.Add(SectionTag("SNAP"), meta);
  writer.Add(SectionTag("PNTS"), text("PNTS"));
  const std::string bad = writer.Finish();

  storage::MemoryStorage st;
  auto stored = OpenStored(&st);
  for (DatabaseCore* db : {mem.get(), stored.get()}) {
    Status s = db->RestoreSnapshot("restored", bad);
    INFO(s.ToString());
    CHECK(s.IsCorruption());
    CHECK_FALSE(db->CollectionExists("restored"));
    REQUIRE(db->RestoreSnapshot("restored", snap).ok());  // the name is free for a good snapshot
  }
  REQUIRE(stored->Close().ok());
  CHECK(OpenStored(&st)->ListCollections() == std::vector<std::string>{"restored"});
}

// Snapshots are files users carry between databases and versions: one whose header this version cannot take
// (a newer format, or a header edited by hand, its checksums made to hold) is refused with the reason, and
// restores nothing.
TEST_CASE("snapshots: a newer format or a damaged header is refused by name", "[db][storage]") {
  auto db = InMemory();
  const std::string snap = WorkloadSnapshot(*db, 5, 3);
  auto reader = SectionFileReader::Open({reinterpret_cast<const uint8_t*>(snap.data()), snap.size()},
                                        FileKind::kSnapshot, "snapshot");
  REQUIRE(reader.ok());
  auto text = [&](const char(&tag)[5]) { return SectionText(*reader, tag); };
  const boost::json::object meta = boost::json::parse(text("SNAP")).as_object();
  struct Case {
    std::function<void(boost::json::object&)> edit;
    std::string error;
  };
  for (const Case& k : std::vector<Case>{
           {[](boost::json::object& m) { m["format"] = 3; }, "unsupported snapshot format"},
           {[](boost::json::object& m) { m.erase("payload_indexes"); }, "snapshot has no payload index list"},
           {[](boost::json::object& m) {
              m["payload_indexes"] = boost::json::array{boost::json::array{"tag"}};
            },
            "bad payload index entry"},
           {[](boost::json::object& m) { m["points"] = -1; }, "snapshot has no point count"},
       }) {
    boost::json::object edited = meta;
    k.edit(edited);
    SectionFileWriter writer(FileKind::kSnapshot);
    writer.Add(SectionTag("SNAP"), boost::json::serialize(edited));
    writer.Add(SectionTag("PNTS"), text("PNTS"));
    Status s = db->RestoreSnapshot("restored", writer.Finish());
    INFO(s.ToString());
    CHECK(s.IsCorruption());
    CHECK(std::string(s.message()).find(k.error) != std::string::npos);
    CHECK_FALSE(db->CollectionExists("restored"));
  }
  REQUIRE(db->RestoreSnapshot("restored", snap).ok());
  CHECK((*db->GetCollection("restored"))->core().StateDigest() == (*db->GetCollection("c"))->core().StateDigest());
}

// Found by fuzz_database: segment files whose checksums hold but that both hold the same live point (here a
// manifest that lost a segment's deletion file, as a stale copy would) opened, and the point was then counted,
// scrolled and searched twice.
TEST_CASE("persistence: a point present in two segment files is corruption", "[db][storage][fuzz]") {
  storage::MemoryStorage st;
  const DatabaseOptions o = HandPlaced();
  {
    auto db = OpenStored(&st, o);
    REQUIRE(db->CreateCollection("c", Config()).ok());
    auto c = *db->GetCollection("c");
    for (uint64_t batch = 0; batch < 2; ++batch) {
      std::vector<PointInput> pts;
      for (uint64_t i = 0; i < 8; ++i) {
        PointInput p;
        p.id = PointId::Number(batch == 0 ? i : (i == 0 ? 1 : 100 + i));  // the second batch moves point 1
        p.vectors["v"] = {1, float(i), 0, 1};
        pts.push_back(std::move(p));
      }
      REQUIRE(c->Upsert(pts).ok());
    }
    REQUIRE(db->Close().ok());
  }
  // The manifest without the first segment's deletion file.
  EditManifest(st, [](db::Manifest& manifest) {
    REQUIRE(manifest.collections.at(0).segments.size() == 2);
    REQUIRE(manifest.collections[0].segments[0].deletions != 0);
    manifest.collections[0].segments[0].deletions = 0;
  });

  auto reopened = DatabaseCore::OpenStorage(o, &st);
  REQUIRE(reopened.ok());
  auto c = (*reopened)->GetCollection("c");
  REQUIRE(c.status().IsCorruption());
  const std::string message(c.status().message());
  INFO(message);
  CHECK(message.find("point 1 is also in seg-1-") != std::string::npos);
  // Repair keeps the newer copy of point 1 and drops the stale one.
  auto report = (*reopened)->Repair("c");
  REQUIRE(report.ok());
  CHECK(report->points == 15);
  CHECK(*(*(*reopened)->GetCollection("c"))->Count("") == 15);
}

// Found by fuzz_database: a manifest naming a payload index on a path that does not parse opened, and the
// segment written next indexed that path, so the database then failed to open at all. The collection is now
// unavailable from the first open, naming the path, and the others work.
TEST_CASE("persistence: a payload index path that does not parse makes its collection unavailable",
          "[db][storage][fuzz]") {
  storage::MemoryStorage st;
  const DatabaseOptions o = HandPlaced();
  {
    auto db = OpenStored(&st, o);
    for (const char* name : {"c", "d"}) {
      REQUIRE(db->CreateCollection(name, Config()).ok());
      auto c = *db->GetCollection(name);
      REQUIRE(c->CreatePayloadIndex("year", "integer").ok());
      PointInput p;
      p.id = PointId::Number(1);
      p.vectors["v"] = {1, 0, 0, 1};
      p.payload = R"({"year":2001})";
      REQUIRE(c->Upsert(std::vector<PointInput>{p}).ok());
    }
    REQUIRE(db->Close().ok());
  }
  EditManifest(st, [](db::Manifest& manifest) {
    for (auto& entry : manifest.collections) {
      REQUIRE(entry.payload_indexes.size() == 1);
      if (entry.name == "c") entry.payload_indexes[0].first = "yea,";
    }
  });

  auto reopened = DatabaseCore::OpenStorage(o, &st);
  REQUIRE(reopened.ok());
  auto c = (*reopened)->GetCollection("c");
  REQUIRE(c.status().IsCorruption());
  const std::string message(c.status().message());
  INFO(message);
  CHECK(message.find("payload index 'yea,' is not a valid key path") != std::string::npos);
  auto d = (*reopened)->GetCollection("d");
  REQUIRE(d.ok());
  CHECK(*(*d)->Count("") == 1);
  CHECK(*(*d)->Count(R"({"must":[{"key":"year","range":{"gte":2000}}]})") == 1);
  // The database takes writes and opens again.
  PointInput p;
  p.id = PointId::Number(2);
  p.vectors["v"] = {0, 1, 0, 1};
  REQUIRE((*d)->Upsert(std::vector<PointInput>{p}).ok());
  REQUIRE((*reopened)->Close().ok());
  reopened->reset();
  auto again = DatabaseCore::OpenStorage(o, &st);
  REQUIRE(again.ok());
  CHECK(*(*(*again)->GetCollection("d"))->Count("") == 2);
  CHECK((*again)->GetCollection("c").status().IsCorruption());
}

// The manifest's format step for the change feed (docs/formats.md, "Manifest and CURRENT"): written as format
// 2 with each collection's feed; format 1 (older builds) is read; other formats are refused by name.
TEST_CASE("persistence: manifests are format 2 with the feed; format 1 is read, others refused",
          "[db][storage]") {
  storage::MemoryStorage st;
  DatabaseOptions o = Options(8);
  {
    auto db = OpenStored(&st, o);
    REQUIRE(db->CreateCollection("c", Config()).ok());
    PointInput p;
    p.id = PointId::Number(1);
    p.vectors["v"] = {1, 0, 0, 1};
    REQUIRE((*db->GetCollection("c"))->Upsert(std::vector<PointInput>{p}).ok());
    REQUIRE(db->Close().ok());
  }
  const std::string current = *st.ReadFile("CURRENT");
  const std::string manifest_name = current.substr(0, current.size() - 1);
  const std::string bytes = *st.ReadFile(manifest_name);
  auto reader = SectionFileReader::Open({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()},
                                        FileKind::kManifest, "m");
  REQUIRE(reader.ok());
  auto text = reader->Get(SectionTag("MNFT"));
  REQUIRE(text.ok());
  boost::json::object root =
      boost::json::parse(std::string_view(reinterpret_cast<const char*>(text->data()), text->size()))
          .as_object();
  CHECK(root.at("format").to_number<uint64_t>() == 2);

  auto rewrite = [&](uint64_t format, bool drop_feed) {
    boost::json::object r = root;
    r["format"] = format;
    if (drop_feed) r["collections"].as_array()[0].as_object().erase("feed");
    SectionFileWriter w(FileKind::kManifest);
    w.Add(SectionTag("MNFT"), boost::json::serialize(r));
    const std::string now_current = *st.ReadFile("CURRENT");
    st.SetContents(now_current.substr(0, now_current.size() - 1), w.Finish());
  };
  rewrite(1, /*drop_feed=*/true);
  {
    auto reopened = DatabaseCore::OpenStorage(o, &st);
    REQUIRE(reopened.ok());
    auto c = (*reopened)->GetCollection("c");
    REQUIRE(c.ok());
    CHECK((*c)->Info().points_count == 1);
    REQUIRE((*reopened)->Close().ok());
  }
  rewrite(3, /*drop_feed=*/false);
  auto refused = DatabaseCore::OpenStorage(o, &st);
  REQUIRE(refused.status().IsCorruption());
  CHECK(std::string(refused.status().message()).find("unsupported manifest format 3") != std::string::npos);
}

// Found by fuzz_database: a filtered count also counted the old copies of points that had moved from a
// sealed segment to a newer one (removed slots), so it disagreed with scroll and with an unfiltered count.
TEST_CASE("persistence: a filtered count skips points that moved to a newer segment", "[db][storage][fuzz]") {
  storage::MemoryStorage st;
  const DatabaseOptions o = HandPlaced();
  auto db = OpenStored(&st, o);
  REQUIRE(db->CreateCollection("c", Config()).ok());
  auto c = *db->GetCollection("c");
  REQUIRE(c->CreatePayloadIndex("tag", "keyword").ok());
  std::vector<PointInput> pts;
  for (uint64_t i = 0; i < 8; ++i) {
    PointInput p;
    p.id = PointId::Number(i);
    p.vectors["v"] = {1, float(i), 0, 1};
    p.payload = R"({"tag":"a"})";
    pts.push_back(std::move(p));
  }
  REQUIRE(c->Upsert(pts).ok());  // sealed: the eight points live in a segment file
  REQUIRE(c->Stats().segments == 2);
  // Both points move to the write segment; their sealed slots are removed.
  REQUIRE(c->SetPayload(PointsSelector::Ids({PointId::Number(1), PointId::Number(2)}), R"({"x":1})").ok());
  for (const char* filter : {R"({"must":[{"has_id":[1,2,3]}]})",               // no payload index: a scan
                             R"({"must":[{"key":"tag","match":{"value":"a"}}]})"}) {  // the keyword index
    INFO(filter);
    ScrollRequest r;
    r.filter = filter;
    r.limit = 100;
    const size_t scrolled = c->Scroll(r)->points.size();
    CHECK(*c->Count(filter) == scrolled);
  }
  CHECK(*c->Count(R"({"must":[{"has_id":[1,2,3]}]})") == 3);
  CHECK(*c->Count(R"({"must":[{"key":"tag","match":{"value":"a"}}]})") == 8);
}

TEST_CASE("persistence: payload doubles and deep payloads read back as written", "[db][storage]") {
  // Doubles Boost.JSON 1.81 read a unit or two off (its parser multiplies by tabulated powers of ten), and a
  // payload nested deeper than Boost.JSON's default limit of 32 levels: through the log, a segment file, a
  // snapshot and a reopen, each reads back as the text that was written.
  std::string deep = "1";
  for (int i = 0; i < 60; ++i) deep = "[" + deep + "]";
  const std::string payload =
      R"({"x":0.11935319286735585,"y":[0.30000000000000004,1e-300,2.5e+300,-0.1],"deep":)" + deep + "}";
  auto check = [&](Collection& c, const char* where) {
    INFO(where);
    std::vector<PointId> ids;
    for (uint64_t i = 0; i < 9; ++i) ids.push_back(PointId::Number(i));
    auto got = c.Get(ids, PayloadSelector::All(), VectorSelector::None());
    REQUIRE(got.ok());
    REQUIRE(got->size() == 9);
    for (const Record& r : *got) {
      boost::system::error_code ec;
      const boost::json::value v = payload::ParseJson(*r.payload, ec, 100);
      REQUIRE(!ec);
      const boost::json::array& y = v.at("y").as_array();
      CHECK(y[0].as_double() == 0.30000000000000004);
      CHECK(y[1].as_double() == 1e-300);
      CHECK(y[2].as_double() == 2.5e+300);
      CHECK(y[3].as_double() == -0.1);
      CHECK(boost::json::serialize(v.at("deep")) == deep);
      CHECK(v.at("x").as_double() == 0.11935319286735585);
    }
  };
  storage::MemoryStorage st;
  const DatabaseOptions o = HandPlaced();
  {
    auto db = OpenStored(&st, o);
    REQUIRE(db->CreateCollection("c", Config()).ok());
    auto c = *db->GetCollection("c");
    std::vector<PointInput> pts;
    for (uint64_t i = 0; i < 9; ++i) {
      PointInput p;
      p.id = PointId::Number(i);
      p.vectors["v"] = {1, float(i), 0, 1};
      p.payload = payload;
      pts.push_back(std::move(p));
    }
    REQUIRE(c->Upsert(pts).ok());  // eight sealed into a segment file, one in the log
    REQUIRE(c->Stats().segments == 2);
    check(*c, "written");
  }
  auto db = OpenStored(&st, o);
  auto reopened = db->GetCollection("c");
  REQUIRE(reopened.ok());  // a payload deeper than 32 levels once made the collection unavailable here
  check(**reopened, "reopened");
  auto snapshot = (*reopened)->CreateSnapshot();
  REQUIRE(snapshot.ok());
  REQUIRE(db->RestoreSnapshot("d", *snapshot).ok());
  auto restored = db->GetCollection("d");
  REQUIRE(restored.ok());
  check(**restored, "restored from a snapshot");
}

}  // namespace
}  // namespace quiver

#if !defined(__EMSCRIPTEN__)
namespace quiver {
namespace {

TEST_CASE("persistence: merges run in the background with an executor", "[db][storage]") {
  ThreadPool pool(2);
  storage::MemoryStorage st;
  DatabaseOptions o = Options(30);
  o.executor = &pool;
  {
    auto db = OpenStored(&st, o);
    REQUIRE(db->CreateCollection("c", Config()).ok());
    auto c = *db->GetCollection("c");
    REQUIRE(c->CreatePayloadIndex("tag", "keyword").ok());
    Workload w(1);
    for (int i = 0; i < 60; ++i) {
      REQUIRE(w.Step(*c, i).ok());
      // Reads go on while merges run.
      REQUIRE(c->Count(R"({"must":[{"key":"tag","match":{"value":"2"}}]})").ok());
    }
    REQUIRE(db->Close().ok());  // waits for background merges
  }
  auto db = OpenStored(&st, o);
  auto c = *db->GetCollection("c");
  CHECK(c->core().StateDigest() == ReferenceDigest(60));
  CHECK(c->Stats().indexed_vectors > 0);
}

// Issue 13: a pool of one thread ran the background merge inside the writer that sealed, under the
// collection's write lock, so the merge's own lock failed ("Resource deadlock avoided") on the first upsert
// after every seal.
TEST_CASE("persistence: upserts across seals with no executor and pools of 1 and 2 threads",
          "[db][storage]") {
  constexpr size_t kDim = 16, kPoints = 3000, kBatch = 50;
  auto vector_of = [](size_t i) {
    std::vector<float> v(kDim);
    for (size_t j = 0; j < kDim; ++j)
      v[j] = float((i * 31 + j * 17) % 101) / 101.0f + (j == i % kDim ? 1.0f : 0);
    v[0] += float(i) / 1000.0f;  // no two alike
    return v;
  };
  for (size_t threads : {0, 1, 2}) {
    INFO("threads " << threads);
    std::unique_ptr<ThreadPool> pool = threads ? std::make_unique<ThreadPool>(threads) : nullptr;
    storage::MemoryStorage st;
    DatabaseOptions o = Options(500);
    o.durability = Durability::kSync;
    o.executor = pool.get();
    {
      auto db = OpenStored(&st, o);
      CollectionConfig config;
      config.vectors[""] = VectorParams{kDim, Distance::kEuclid};
      REQUIRE(db->CreateCollection("c", config).ok());
      auto c = *db->GetCollection("c");
      for (size_t first = 0; first < kPoints; first += kBatch) {
        std::vector<PointInput> batch;
        for (size_t i = first; i < first + kBatch; ++i) {
          PointInput p;
          p.id = PointId::Number(i);
          p.vectors[""] = vector_of(i);
          batch.push_back(std::move(p));
        }
        Status s = c->Upsert(batch);
        INFO("batch at " << first << ": " << s.ToString());
        REQUIRE(s.ok());
      }
      REQUIRE(db->Close().ok());
    }
    auto db = OpenStored(&st, o);
    auto c = *db->GetCollection("c");
    CHECK(*c->Count("") == kPoints);
    CHECK(c->Stats().indexed_vectors > 0);
    for (size_t i : {0, 777, 2999}) {
      SearchRequest r;
      r.vector = vector_of(i);
      r.limit = 1;
      Result<std::vector<ScoredPoint>> hits = c->Search(r);
      REQUIRE(hits.ok());
      REQUIRE(hits->size() == 1);
      CHECK((*hits)[0].id == PointId::Number(i));
    }
    CHECK(c->Verify()->empty());
    REQUIRE(db->Close().ok());
  }
}

}  // namespace
}  // namespace quiver
#endif
