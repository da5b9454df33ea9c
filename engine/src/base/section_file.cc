#include "base/section_file.h"

#include <algorithm>

#include "base/coding.h"
#include "base/crc32c.h"

namespace quiver {
namespace {

constexpr char kHeaderMagic[8] = {'Q', 'U', 'I', 'V', 'E', 'R', 'S', 'F'};
constexpr char kFooterMagic[8] = {'Q', 'V', 'S', 'F', 'E', 'N', 'D', '1'};

std::string At(uint64_t offset) { return " at offset " + std::to_string(offset); }

}  // namespace

std::string SectionTagName(uint32_t tag) {
  std::string s;
  for (int i = 0; i < 4; ++i) {
    char c = static_cast<char>((tag >> (8 * i)) & 0xFF);
    s.push_back(c >= 32 && c < 127 ? c : '?');
  }
  return s;
}

SectionFileWriter::SectionFileWriter(FileKind kind) : kind_(kind) {
  std::string header(kHeaderMagic, 8);
  PutFixed32(&header, kSectionFileVersion);
  PutFixed32(&header, static_cast<uint32_t>(kind_));
  out_.Append(header);
}

void SectionFileWriter::Pad(size_t alignment) {
  const size_t rem = out_.size() % alignment;
  if (rem) out_.Append(std::string(alignment - rem, '\0'));
}

void SectionFileWriter::Add(uint32_t tag, std::string_view bytes) {
  Pad(kSectionAlignment);
  entries_.push_back(Entry{tag, out_.size(), bytes.size(), crc32c::Value(bytes.data(), bytes.size())});
  out_.Append(bytes);
}

void SectionFileWriter::AddRef(uint32_t tag, const void* data, size_t n) {
  Pad(kSectionAlignment);
  entries_.push_back(Entry{tag, out_.size(), n, crc32c::Value(data, n)});
  out_.AppendRef(std::string_view(static_cast<const char*>(data), n));
}

void SectionFileWriter::Add(uint32_t tag, ByteChunks&& chunks) {
  Pad(kSectionAlignment);
  entries_.push_back(Entry{tag, out_.size(), chunks.size(), chunks.Crc()});
  out_.Append(std::move(chunks));
}

std::string SectionFileWriter::Finish() { return FinishChunks().Flatten(); }

ByteChunks SectionFileWriter::FinishChunks() {
  Pad(8);
  uint64_t table_offset = out_.size();
  std::string table;
  PutFixed32(&table, static_cast<uint32_t>(entries_.size()));
  PutFixed32(&table, 0);
  for (const Entry& e : entries_) {
    PutFixed32(&table, e.tag);
    PutFixed32(&table, 0);
    PutFixed64(&table, e.offset);
    PutFixed64(&table, e.length);
    PutFixed32(&table, e.crc);
    PutFixed32(&table, 0);
  }
  out_.Append(table);
  std::string footer;
  PutFixed64(&footer, table_offset);
  PutFixed32(&footer, static_cast<uint32_t>(table.size()));
  PutFixed32(&footer, crc32c::Value(table.data(), table.size()));
  PutFixed32(&footer, static_cast<uint32_t>(kind_));
  PutFixed32(&footer, crc32c::Value(footer.data(), footer.size()));
  footer.append(kFooterMagic, 8);
  out_.Append(footer);
  return std::move(out_);
}

Result<SectionFileReader> SectionFileReader::Open(std::span<const uint8_t> bytes, FileKind expected_kind,
                                                  std::string_view name, SectionChecks checks) {
  return OpenImpl(bytes, expected_kind, name, nullptr, checks);
}

Result<SectionFileReader> SectionFileReader::OpenDamaged(std::span<const uint8_t> bytes, FileKind expected_kind,
                                                         std::string_view name, std::vector<uint32_t>* damaged) {
  return OpenImpl(bytes, expected_kind, name, damaged, SectionChecks::kAll);
}

Result<SectionFileReader> SectionFileReader::OpenImpl(std::span<const uint8_t> bytes, FileKind expected_kind,
                                                      std::string_view name, std::vector<uint32_t>* damaged,
                                                      SectionChecks checks) {
  SectionFileReader r;
  r.bytes_ = bytes;
  r.name_ = std::string(name);
  auto corrupt = [&](const std::string& why) { return Status::Corruption(r.name_ + ": " + why); };

  const size_t size = bytes.size();
  if (size < kSectionHeaderSize + kSectionFooterSize) {
    return corrupt("file of " + std::to_string(size) + " bytes is too short to be a Quiver section file");
  }
  const uint8_t* p = bytes.data();
  if (std::memcmp(p, kHeaderMagic, 8) != 0) return corrupt("bad header magic" + At(0));
  uint32_t version = DecodeFixed32(p + 8);
  if (version != kSectionFileVersion) {
    return corrupt("unsupported section file version " + std::to_string(version) + At(8));
  }
  uint32_t kind = DecodeFixed32(p + 12);
  if (kind != static_cast<uint32_t>(expected_kind)) {
    return corrupt("file kind " + std::to_string(kind) + " where kind " +
                   std::to_string(static_cast<uint32_t>(expected_kind)) + " was expected" + At(12));
  }

  const size_t footer_at = size - kSectionFooterSize;
  const uint8_t* f = p + footer_at;
  if (std::memcmp(f + 24, kFooterMagic, 8) != 0) return corrupt("bad footer magic" + At(footer_at + 24));
  if (crc32c::Value(f, 20) != DecodeFixed32(f + 20)) return corrupt("footer checksum mismatch" + At(footer_at));
  uint64_t table_offset = DecodeFixed64(f);
  uint32_t table_length = DecodeFixed32(f + 8);
  uint32_t table_crc = DecodeFixed32(f + 12);
  if (DecodeFixed32(f + 16) != kind) return corrupt("footer kind differs from header kind" + At(footer_at + 16));
  if (table_offset < kSectionHeaderSize || table_offset > footer_at || table_length > footer_at - table_offset ||
      table_offset + table_length != footer_at) {
    return corrupt("section table out of bounds" + At(footer_at));
  }
  if (crc32c::Value(p + table_offset, table_length) != table_crc) {
    return corrupt("section table checksum mismatch" + At(table_offset));
  }
  ByteReader table(bytes.subspan(table_offset, table_length), r.name_ + " section table", table_offset);
  uint32_t count = 0, reserved = 0;
  QUIVER_RETURN_IF_ERROR(table.ReadU32(&count, "section count"));
  QUIVER_RETURN_IF_ERROR(table.ReadU32(&reserved, "reserved"));
  if (reserved != 0) return corrupt("non-zero reserved field in the section table" + At(table_offset + 4));
  if (static_cast<uint64_t>(count) * kSectionEntrySize != table.remaining()) {
    return corrupt("section table holds " + std::to_string(table.remaining()) + " bytes for " +
                   std::to_string(count) + " entries" + At(table_offset));
  }
  uint64_t previous_end = kSectionHeaderSize;
  // Padding between the parts of the file is zero, so no byte of a valid file goes unchecked.
  auto check_gap = [&](uint64_t from, uint64_t to) -> Status {
    if (damaged) return Status::OK();
    for (uint64_t at = from; at < to; ++at) {
      if (p[at] != 0) return corrupt("non-zero padding byte" + At(at));
    }
    return Status::OK();
  };
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t tag = 0, flags = 0, crc = 0, pad = 0;
    uint64_t offset = 0, length = 0;
    QUIVER_RETURN_IF_ERROR(table.ReadU32(&tag, "section tag"));
    QUIVER_RETURN_IF_ERROR(table.ReadU32(&flags, "section flags"));
    QUIVER_RETURN_IF_ERROR(table.ReadU64(&offset, "section offset"));
    QUIVER_RETURN_IF_ERROR(table.ReadU64(&length, "section length"));
    QUIVER_RETURN_IF_ERROR(table.ReadU32(&crc, "section checksum"));
    QUIVER_RETURN_IF_ERROR(table.ReadU32(&pad, "reserved"));
    const std::string label = "section " + SectionTagName(tag);
    if (flags != 0 || pad != 0) {
      return corrupt(label + " has non-zero " + (flags != 0 ? "flags" : "reserved field") +
                     At(table_offset + 8 + i * kSectionEntrySize + (flags != 0 ? 4 : 28)));
    }
    if (offset % kSectionAlignment != 0 || offset < previous_end || offset > table_offset ||
        length > table_offset - offset) {
      return corrupt(label + " has bad bounds [" + std::to_string(offset) + ", +" + std::to_string(length) + ")" +
                     At(table_offset + 8 + i * kSectionEntrySize));
    }
    if (r.Has(tag)) return corrupt("duplicate " + label + At(table_offset + 8 + i * kSectionEntrySize));
    const bool bad = checks == SectionChecks::kAll && crc32c::Value(p + offset, length) != crc;
    if (bad && !damaged) return corrupt(label + " checksum mismatch" + At(offset));
    if (bad) damaged->push_back(tag);
    QUIVER_RETURN_IF_ERROR(check_gap(previous_end, offset));
    r.entries_.push_back(Entry{tag, offset, length, bad});
    previous_end = offset + length;
  }
  QUIVER_RETURN_IF_ERROR(check_gap(previous_end, table_offset));
  return r;
}

bool SectionFileReader::Has(uint32_t tag) const {
  return std::any_of(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.tag == tag; });
}

uint64_t SectionFileReader::OffsetOf(uint32_t tag) const {
  for (const Entry& e : entries_) {
    if (e.tag == tag) return e.offset;
  }
  return 0;
}

Result<std::span<const uint8_t>> SectionFileReader::Get(uint32_t tag) const {
  for (const Entry& e : entries_) {
    if (e.tag != tag) continue;
    if (e.damaged) return Status::Corruption(name_ + ": section " + SectionTagName(tag) + " checksum mismatch");
    return bytes_.subspan(e.offset, e.length);
  }
  return Status::Corruption(name_ + ": missing section " + SectionTagName(tag));
}

Result<std::span<const uint8_t>> SectionFileReader::Raw(uint32_t tag) const {
  for (const Entry& e : entries_) {
    if (e.tag == tag) return bytes_.subspan(e.offset, e.length);
  }
  return Status::Corruption(name_ + ": missing section " + SectionTagName(tag));
}

}  // namespace quiver
