// The section container (base/section_file.h), the envelope of index images, segments, deletion files,
// manifests and snapshots.
//
// Input: byte 0 holds mode bits (1: repair checksums after mutation) and, in bits 1-3, the expected file kind;
// the rest is the file. Checks: every section handed out lies inside the file; a file made only of known
// sections is rebuilt byte for byte by SectionFileWriter from what the reader handed out (every byte of a valid
// file is covered by a check).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "base/section_file.h"
#include "fuzz_util.h"

using namespace quiver;

namespace {

constexpr uint32_t kTags[] = {
    SectionTag("META"), SectionTag("VECS"), SectionTag("DELS"), SectionTag("LVLS"), SectionTag("LNK0"),
    SectionTag("LNKU"), SectionTag("SMTA"), SectionTag("SIDS"), SectionTag("SREG"), SectionTag("SKEY"),
    SectionTag("SPAY"), SectionTag("SROW"), SectionTag("IX00"), SectionTag("IX01"), SectionTag("SPIX"),
    SectionTag("MNFT"), SectionTag("DMTA"), SectionTag("DBIT"), SectionTag("SNAP"), SectionTag("PNTS")};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  if (mode & fuzz::kFixChecksums) fuzz::FixSectionFileChecksums(&bytes);
  const auto kind = static_cast<FileKind>(1 + (mode >> 1 & 7) % 6);
  const std::span<const uint8_t> span(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size());
  auto reader = SectionFileReader::Open(span, kind, "fuzz file");
  if (!reader.ok()) {
    FUZZ_CHECK(reader.status().IsCorruption());
    return 0;
  }
  std::vector<std::pair<uint64_t, uint32_t>> found;  // (offset, tag)
  for (uint32_t tag : kTags) {
    auto section = reader->Get(tag);
    FUZZ_CHECK(section.ok() == reader->Has(tag));
    if (!section.ok()) continue;
    FUZZ_CHECK(section->data() >= span.data() && section->data() + section->size() <= span.data() + span.size());
    FUZZ_CHECK(static_cast<uint64_t>(section->data() - span.data()) == reader->OffsetOf(tag));
    FUZZ_CHECK(reader->OffsetOf(tag) % kSectionAlignment == 0);
    found.emplace_back(reader->OffsetOf(tag), tag);
  }
  std::stable_sort(found.begin(), found.end());
  SectionFileWriter w(kind);
  for (const auto& [offset, tag] : found) w.Add(tag, reader->Get(tag)->data(), reader->Get(tag)->size());
  const std::string rebuilt = w.Finish();
  if (rebuilt.size() == bytes.size() && rebuilt != bytes) {
    size_t at = 0;
    while (rebuilt[at] == bytes[at]) ++at;
    std::fprintf(stderr, "rebuilt file differs at offset %zu of %zu\n", at, bytes.size());
    FUZZ_CHECK(rebuilt == bytes);
  }
  return 0;
}
