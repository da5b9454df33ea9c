// The section container: the envelope shared by Quiver's binary files (index images now, segment files later).
// A header, then sections of raw bytes each starting on a 64-byte boundary, then a table of sections and a fixed
// footer. Every section has a crc32c, the table has one and the footer has its own. docs/formats.md describes the
// bytes ("Section container, version 1").
//
// SectionFileWriter builds the bytes as ByteChunks (large sections referenced where they live, not copied);
// SectionFileReader validates them (sizes, bounds, overlaps,
// checksums) before handing out any section, and reports problems as Corruption with the offset and reason.
//
// Thread safety: a writer or reader is used by one thread at a time; a reader's spans may be read from any thread.
#ifndef QUIVER_BASE_SECTION_FILE_H_
#define QUIVER_BASE_SECTION_FILE_H_

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/byte_chunks.h"
#include "quiver/status.h"

namespace quiver {

// Four ASCII characters packed little-endian, so the tag reads as text in a hex dump.
constexpr uint32_t SectionTag(const char (&s)[5]) {
  return static_cast<uint32_t>(static_cast<uint8_t>(s[0])) | static_cast<uint32_t>(static_cast<uint8_t>(s[1])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(s[2])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(s[3])) << 24;
}
std::string SectionTagName(uint32_t tag);

// What a file holds; written in the header and the footer.
enum class FileKind : uint32_t {
  kHnswIndex = 1,
  kFlatIndex = 2,
  kSegment = 3,
  kSnapshot = 4,
  kManifest = 5,
  kDeletions = 6,
};

inline constexpr uint32_t kSectionFileVersion = 1;
inline constexpr size_t kSectionAlignment = 64;
inline constexpr size_t kSectionHeaderSize = 16;
inline constexpr size_t kSectionFooterSize = 32;
inline constexpr size_t kSectionEntrySize = 32;

class SectionFileWriter {
 public:
  explicit SectionFileWriter(FileKind kind);

  // Appends a section (copied). Tags must be unique within a file.
  void Add(uint32_t tag, std::string_view bytes);
  void Add(uint32_t tag, const void* data, size_t n) {
    Add(tag, std::string_view(static_cast<const char*>(data), n));
  }
  // Appends a section whose bytes stay where they are until the file is written.
  void AddRef(uint32_t tag, const void* data, size_t n);
  // Appends a section made of chunks (a nested file).
  void Add(uint32_t tag, ByteChunks&& chunks);

  // Writes the table and footer and returns the whole file. The writer is spent afterwards.
  std::string Finish();
  ByteChunks FinishChunks();

 private:
  struct Entry {
    uint32_t tag;
    uint64_t offset;
    uint64_t length;
    uint32_t crc;
  };
  void Pad(size_t alignment);

  FileKind kind_;
  ByteChunks out_;
  std::vector<Entry> entries_;
};

// What SectionFileReader::Open checks besides the envelope (magics, version, kind, footer and table checksums,
// bounds, alignment, zero padding), which it always checks.
enum class SectionChecks : uint8_t {
  kAll,                // also every section's checksum
  kSkipSectionCrcs,    // not the sections' checksums: the bytes are already checked as a whole (a file nested in a
                       // section whose checksum was checked, or bytes whose SHA-256 matched their producer's)
};

class SectionFileReader {
 public:
  // Validates the envelope of `bytes` (which must outlive the reader) and, with SectionChecks::kAll, the checksum
  // of every section. `name` labels error messages (a file name, or "HNSW index image").
  static Result<SectionFileReader> Open(std::span<const uint8_t> bytes, FileKind expected_kind,
                                       std::string_view name, SectionChecks checks = SectionChecks::kAll);
  // For salvage (repair): the envelope and the section table must be intact, but a section whose checksum does
  // not match is listed in `damaged` instead of failing the open (Get refuses it, Raw hands it out), and
  // non-zero padding is ignored.
  static Result<SectionFileReader> OpenDamaged(std::span<const uint8_t> bytes, FileKind expected_kind,
                                              std::string_view name, std::vector<uint32_t>* damaged);

  // The bytes of section `tag`, or Corruption naming the missing (or damaged) section.
  Result<std::span<const uint8_t>> Get(uint32_t tag) const;
  // The bytes of section `tag` even if its checksum did not match (OpenDamaged); Corruption if missing.
  Result<std::span<const uint8_t>> Raw(uint32_t tag) const;
  bool Has(uint32_t tag) const;
  // Offset of section `tag` within the file, for error messages; 0 when absent.
  uint64_t OffsetOf(uint32_t tag) const;
  const std::string& name() const { return name_; }

 private:
  struct Entry {
    uint32_t tag;
    uint64_t offset;
    uint64_t length;
    bool damaged = false;
  };
  static Result<SectionFileReader> OpenImpl(std::span<const uint8_t> bytes, FileKind expected_kind,
                                            std::string_view name, std::vector<uint32_t>* damaged,
                                            SectionChecks checks);
  std::span<const uint8_t> bytes_;
  std::string name_;
  std::vector<Entry> entries_;
};

}  // namespace quiver

#endif  // QUIVER_BASE_SECTION_FILE_H_
