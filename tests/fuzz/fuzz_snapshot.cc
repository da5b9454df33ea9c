// Snapshots (DecodeSnapshot, Database::RestoreSnapshot) restored into an in-memory database.
//
// Input: byte 0 holds mode bits (1: repair checksums after mutation); the rest is the snapshot. Checks: a
// refused snapshot leaves no collection behind; a restored collection answers consistently, and its own
// snapshot restores to the same state.
#include <cstddef>
#include <cstdint>
#include <string>

#include "db/collection_core.h"
#include "fuzz_util.h"

using namespace quiver;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  if (mode & fuzz::kFixChecksums) fuzz::FixSectionFileChecksums(&bytes);
  auto decoded = db::DecodeSnapshot({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, "snapshot");
  if (!decoded.ok()) FUZZ_CHECK(decoded.status().IsCorruption());

  auto database = Database::Open(fuzz::SeedOptions());
  FUZZ_CHECK_OK(database);
  Database& db = **database;
  Status restored = db.RestoreSnapshot("restored", bytes);
  if (!decoded.ok()) FUZZ_CHECK(!restored.ok());
  if (!restored.ok()) {
    FUZZ_CHECK(!db.CollectionExists("restored"));
    return 0;
  }
  auto c = *db.GetCollection("restored");
  fuzz::ExerciseCollection(*c, /*check_filters=*/true);
  auto problems = c->Verify();
  FUZZ_CHECK(problems.ok() && problems->empty());
  auto snapshot = c->CreateSnapshot();
  FUZZ_CHECK_OK(snapshot);
  // Restored elsewhere under the same name, the snapshot gives the same state and the same bytes.
  auto other = Database::Open(fuzz::SeedOptions());
  FUZZ_CHECK_OK(other);
  FUZZ_CHECK_OK((*other)->RestoreSnapshot("restored", *snapshot));
  auto again = *(*other)->GetCollection("restored");
  FUZZ_CHECK(again->core().StateDigest() == c->core().StateDigest());
  auto snapshot2 = again->CreateSnapshot();
  FUZZ_CHECK_OK(snapshot2);
  if (*snapshot2 != *snapshot) {
    size_t at = 0;
    while (at < snapshot->size() && at < snapshot2->size() && (*snapshot)[at] == (*snapshot2)[at]) ++at;
    std::fprintf(stderr, "snapshots of %zu and %zu bytes differ at offset %zu\n", snapshot->size(),
                 snapshot2->size(), at);
    FUZZ_CHECK(*snapshot2 == *snapshot);
  }
  return 0;
}
