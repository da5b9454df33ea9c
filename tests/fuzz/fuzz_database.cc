// A whole database folder: a MemoryStorage filled with the files of the input, then DatabaseCore::OpenStorage
// (manifest, segments, deletion files, payload indexes, log replay and torn-tail repair, garbage collection).
//
// Input: byte 0 holds mode bits (1: repair the checksums of every file after mutation, 2: open read-only,
// 4: write after opening, 8: optimize after writing); the rest is the folder (fuzz_util.h, PackFiles). Checks:
// opening gives an error or a database whose collections answer consistently (a collection with damaged files is
// unavailable, with Corruption); with writes allowed, Repair brings an unavailable collection back consistent
// (Verify finds nothing) or leaves it unavailable; a database that opened, took writes and closed opens again
// with the same points.
#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "db/database_core.h"
#include "fuzz_util.h"
#include "storage/storage_memory.h"

using namespace quiver;

namespace {

std::map<std::string, std::string> Digests(db::DatabaseCore& db) {
  std::map<std::string, std::string> out;
  for (const std::string& name : db.ListCollections()) {
    auto c = db.GetCollection(name);
    out[name] = c.ok() ? (*c)->core().StateDigest() : "unavailable: " + std::string(c.status().message());
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  storage::MemoryStorage st;
  for (auto& [name, bytes] : fuzz::UnpackFiles({reinterpret_cast<const char*>(data + 1), size - 1})) {
    if (name.empty() || name.find('/') != std::string::npos) continue;
    if (mode & fuzz::kFixChecksums) fuzz::FixChecksumsByName(name, &bytes);
    st.SetContents(name, std::move(bytes));
  }
  DatabaseOptions options = fuzz::SeedOptions();
  options.replica_id = 0;  // whatever the manifest says
  options.read_only = mode & 2;
  auto opened = db::DatabaseCore::OpenStorage(options, &st);
  if (!opened.ok()) return 0;
  db::DatabaseCore& db = **opened;
  // A collection with damaged files is unavailable (Corruption naming the file); the others work.
  std::set<std::string> unavailable;
  for (const auto& [name, why] : db.UnavailableCollections()) {
    FUZZ_CHECK(why.IsCorruption());
    unavailable.insert(name);
  }
  for (const std::string& name : db.ListCollections()) {
    auto c = db.GetCollection(name);
    if (unavailable.count(name)) {
      FUZZ_CHECK(!c.ok() && c.status().IsCorruption());
      continue;
    }
    FUZZ_CHECK_OK(c);
    fuzz::ExerciseCollection(**c, /*check_filters=*/!(mode & fuzz::kFixChecksums));
  }
  for (const auto& [alias, target] : db.ListAliases()) {
    if (!unavailable.count(target)) FUZZ_CHECK_OK(db.GetCollection(alias));
  }
  if (options.read_only || !(mode & 4)) return 0;

  // Repair: a collection it brings back is consistent; one it cannot stays unavailable.
  for (const std::string& name : unavailable) {
    auto report = db.Repair(name);
    auto c = db.GetCollection(name);
    if (!report.ok()) {
      FUZZ_CHECK(!c.ok());
      continue;
    }
    FUZZ_CHECK_OK(c);
    auto problems = (*c)->Verify();
    FUZZ_CHECK_OK(problems);
    FUZZ_CHECK(problems->empty());
    fuzz::ExerciseCollection(**c, /*check_filters=*/!(mode & fuzz::kFixChecksums));
  }
  for (const auto& [name, why] : db.UnavailableCollections()) unavailable.insert(name);

  bool wrote = false;
  for (const std::string& name : db.ListCollections()) {
    auto got = db.GetCollection(name);
    if (!got.ok()) continue;  // still unavailable
    auto c = *got;
    std::vector<PointInput> points;
    for (const auto& [vname, params] : c->Info().config.vectors) {
      for (uint64_t i = 0; i < 3; ++i) {
        PointInput p;
        p.id = PointId::Number(1000 + i);
        p.vectors[vname].assign(params.size, 0.5f + static_cast<float>(i));
        p.payload = R"({"city":"Oslo","year":2001})";
        points.push_back(std::move(p));
      }
      break;
    }
    if (c->Upsert(points).ok()) wrote = true;
    (void)c->Delete(PointsSelector::Ids({PointId::Number(1)}));
    if (mode & 8) (void)c->Optimize();
    fuzz::ExerciseCollection(*c, /*check_filters=*/!(mode & fuzz::kFixChecksums));
  }
  if (!wrote) return 0;
  const auto before = Digests(db);
  if (!db.Close().ok()) return 0;
  opened->reset();
  auto reopened = db::DatabaseCore::OpenStorage(options, &st);
  if (!reopened.ok()) std::fprintf(stderr, "reopen: %s\n", reopened.status().ToString().c_str());
  FUZZ_CHECK_OK(reopened);
  FUZZ_CHECK(Digests(**reopened) == before);
  return 0;
}
