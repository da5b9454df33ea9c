// The manifest (db/manifest.h) and database file names.
//
// Input: byte 0 holds mode bits (1: repair checksums after mutation); the rest is the manifest file. Checks: a
// manifest that decodes encodes to one that decodes to the same bytes again; file names parse back to what
// was formatted.
#include <cstddef>
#include <cstdint>
#include <string>

#include "db/manifest.h"
#include "fuzz_util.h"

using namespace quiver;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  if (size < 64) (void)db::ParseFileName(bytes);
  if (mode & fuzz::kFixChecksums) fuzz::FixSectionFileChecksums(&bytes);
  auto m = db::DecodeManifest({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, "MANIFEST-7");
  if (!m.ok()) {
    FUZZ_CHECK(m.status().IsCorruption());
    return 0;
  }
  const std::string encoded = db::EncodeManifest(*m);
  auto again = db::DecodeManifest({reinterpret_cast<const uint8_t*>(encoded.data()), encoded.size()}, "again");
  FUZZ_CHECK_OK(again);
  FUZZ_CHECK(db::EncodeManifest(*again) == encoded);
  for (const db::CollectionEntry& c : m->collections) {
    FUZZ_CHECK(c.id < m->next_collection);
    for (const db::SegmentEntry& s : c.segments) {
      FUZZ_CHECK(s.file < m->next_file && s.deletions < m->next_file);
      auto p = db::ParseFileName(db::SegmentFileName(c.id, s.file));
      FUZZ_CHECK(p.kind == db::ParsedFileName::Kind::kSegment && p.collection == c.id && p.number == s.file);
    }
    auto w = db::ParseFileName(db::WalFileName(c.id, c.wal_start));
    FUZZ_CHECK(w.kind == db::ParsedFileName::Kind::kWal && w.collection == c.id && w.number == c.wal_start);
  }
  return 0;
}
