// Deletion files (db/segment_file.h, DecodeDeletions).
//
// Input: byte 0 holds mode bits (1: repair checksums after mutation); bytes 1-2 the segment's slot count
// (little-endian); the rest is the file. Checks: the removed slots are increasing and below the slot count.
#include <cstddef>
#include <cstdint>
#include <string>

#include "db/segment_file.h"
#include "fuzz_util.h"

using namespace quiver;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const uint8_t mode = data[0];
  const size_t slots = data[1] | size_t{data[2]} << 8;
  std::string bytes(reinterpret_cast<const char*>(data + 3), size - 3);
  if (mode & fuzz::kFixChecksums) fuzz::FixSectionFileChecksums(&bytes);
  auto removed = db::DecodeDeletions({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, slots,
                                     "del-1-6.qvd");
  if (!removed.ok()) {
    FUZZ_CHECK(removed.status().IsCorruption());
    return 0;
  }
  for (size_t i = 0; i < removed->size(); ++i) {
    FUZZ_CHECK((*removed)[i] < slots);
    if (i > 0) FUZZ_CHECK((*removed)[i - 1] < (*removed)[i]);
  }
  return 0;
}
