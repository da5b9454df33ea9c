#include "base/section_file.h"

#include <catch2/catch.hpp>
#include <string>

#include "base/coding.h"
#include "base/crc32c.h"

namespace quiver {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string SampleFile() {
  SectionFileWriter w(FileKind::kHnswIndex);
  w.Add(SectionTag("AAAA"), std::string("first section"));
  w.Add(SectionTag("BBBB"), std::string(""));
  w.Add(SectionTag("CCCC"), std::string(100, 'c'));
  return w.Finish();
}

TEST_CASE("section file: sections round-trip, aligned to 64 bytes", "[base][section_file]") {
  std::string file = SampleFile();
  auto r = SectionFileReader::Open(Bytes(file), FileKind::kHnswIndex, "sample");
  REQUIRE(r.ok());
  auto a = r->Get(SectionTag("AAAA"));
  REQUIRE(a.ok());
  CHECK(std::string(reinterpret_cast<const char*>(a->data()), a->size()) == "first section");
  CHECK(r->OffsetOf(SectionTag("AAAA")) == 64);
  CHECK(r->OffsetOf(SectionTag("CCCC")) % 64 == 0);
  CHECK(r->Get(SectionTag("BBBB"))->empty());
  CHECK(r->Get(SectionTag("CCCC"))->size() == 100);
  CHECK(r->Has(SectionTag("CCCC")));
  Status missing = r->Get(SectionTag("DDDD")).status();
  CHECK(missing.IsCorruption());
  CHECK(missing.message() == "sample: missing section DDDD");
  CHECK(std::string(file.data(), 8) == "QUIVERSF");
  CHECK(file.substr(file.size() - 8) == "QVSFEND1");
}

TEST_CASE("section file: the wrong kind is rejected", "[base][section_file]") {
  std::string file = SampleFile();
  auto r = SectionFileReader::Open(Bytes(file), FileKind::kFlatIndex, "sample");
  REQUIRE(r.status().IsCorruption());
  CHECK(r.status().message() == "sample: file kind 1 where kind 2 was expected at offset 12");
}

TEST_CASE("section file: every single-byte change is detected", "[base][section_file]") {
  const std::string file = SampleFile();
  for (size_t i = 0; i < file.size(); ++i) {
    std::string bad = file;
    bad[i] = static_cast<char>(bad[i] ^ 0x5A);
    auto r = SectionFileReader::Open(Bytes(bad), FileKind::kHnswIndex, "sample");
    INFO("byte " << i);
    REQUIRE(r.status().IsCorruption());
  }
}

TEST_CASE("section file: every truncation is detected", "[base][section_file]") {
  const std::string file = SampleFile();
  for (size_t n = 0; n < file.size(); ++n) {
    auto r = SectionFileReader::Open(Bytes(file.substr(0, n)), FileKind::kHnswIndex, "sample");
    INFO("length " << n);
    REQUIRE(r.status().IsCorruption());
  }
}

TEST_CASE("section file: skipping the section checksums keeps every other check", "[base][section_file]") {
  const std::string file = SampleFile();
  auto whole = SectionFileReader::Open(Bytes(file), FileKind::kHnswIndex, "sample", SectionChecks::kSkipSectionCrcs);
  REQUIRE(whole.ok());
  const uint64_t a = whole->OffsetOf(SectionTag("AAAA")), c = whole->OffsetOf(SectionTag("CCCC"));
  for (size_t i = 0; i < file.size(); ++i) {
    std::string bad = file;
    bad[i] = static_cast<char>(bad[i] ^ 0x5A);
    auto r = SectionFileReader::Open(Bytes(bad), FileKind::kHnswIndex, "sample", SectionChecks::kSkipSectionCrcs);
    INFO("byte " << i);
    // A changed byte inside a section goes unnoticed (the caller checked the bytes whole); anything else not.
    const bool in_section = (i >= a && i < a + 13) || (i >= c && i < c + 100);
    REQUIRE(r.ok() == in_section);
  }
}

TEST_CASE("section file: a table with valid checksums but bad bounds is rejected", "[base][section_file]") {
  std::string file = SampleFile();
  // Point section AAAA past the table and fix up both checksums so only the bounds check can catch it.
  const size_t footer = file.size() - kSectionFooterSize;
  const uint64_t table_offset = DecodeFixed64(file.data() + footer);
  const uint32_t table_length = DecodeFixed32(file.data() + footer + 8);
  EncodeFixed64(&file[table_offset + 8 + 8], 1ull << 40);
  EncodeFixed32(&file[footer + 12], crc32c::Value(file.data() + table_offset, table_length));
  EncodeFixed32(&file[footer + 20], crc32c::Value(file.data() + footer, 20));
  auto r = SectionFileReader::Open(Bytes(file), FileKind::kHnswIndex, "sample");
  REQUIRE(r.status().IsCorruption());
  CHECK(r.status().message().find("section AAAA has bad bounds") != std::string_view::npos);
}

// Found by fuzz_section_file: the reserved words and entry flags are format version 1's zeros; a table whose
// checksums were recomputed over non-zero ones was accepted, so two different files read as the same one.
TEST_CASE("section file: non-zero reserved words and flags are rejected", "[base][section_file][fuzz]") {
  const std::string file = SampleFile();
  const size_t footer = file.size() - kSectionFooterSize;
  const size_t table_offset = static_cast<size_t>(DecodeFixed64(file.data() + footer));
  const uint32_t table_length = DecodeFixed32(file.data() + footer + 8);
  struct Case {
    size_t at;
    const char* message;
  };
  for (const Case& c : {Case{table_offset + 4, "sample: non-zero reserved field in the section table at offset "},
                        Case{table_offset + 8 + 32 + 4, "sample: section BBBB has non-zero flags at offset "},
                        Case{table_offset + 8 + 64 + 28, "sample: section CCCC has non-zero reserved field at offset "}}) {
    std::string bad = file;
    bad[c.at] = 1;
    EncodeFixed32(&bad[footer + 12], crc32c::Value(bad.data() + table_offset, table_length));
    EncodeFixed32(&bad[footer + 20], crc32c::Value(bad.data() + footer, 20));
    auto r = SectionFileReader::Open(Bytes(bad), FileKind::kHnswIndex, "sample");
    INFO("byte " << c.at);
    REQUIRE(r.status().IsCorruption());
    CHECK(r.status().message() == c.message + std::to_string(c.at));
  }
}

}  // namespace
}  // namespace quiver
