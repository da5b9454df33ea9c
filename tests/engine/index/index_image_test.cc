// Index images under damage: every flipped byte and every truncation must give Corruption, never a crash (this
// suite also runs under AddressSanitizer), and images with valid checksums but impossible contents are caught by
// the structural checks.
#include <catch2/catch.hpp>
#include <cstring>

#include "base/coding.h"
#include "base/section_file.h"
#include "engine/index/test_data.h"
#include "index/flat_index.h"
#include "index/hnsw_index.h"
#include "index/index_image.h"

namespace quiver::index {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string SmallHnswImage() {
  const uint32_t dim = 6;
  auto base = testing::Mixture(120, dim, 5);
  auto index = *HnswIndex::Create(dim, Metric::kL2, {4, 20, 9});
  REQUIRE(index->AddBatch(base.data(), 120, nullptr).ok());
  REQUIRE(index->Remove(3).ok());
  REQUIRE(index->max_level() >= 1);  // the image exercises upper levels
  return index->Serialize();
}

TEST_CASE("index image: every flipped byte is rejected as corruption", "[index][image]") {
  const std::string image = SmallHnswImage();
  REQUIRE(LoadIndex(Bytes(image)).ok());
  for (size_t i = 0; i < image.size(); ++i) {
    std::string bad = image;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    auto r = LoadIndex(Bytes(bad));
    INFO("byte " << i);
    REQUIRE_FALSE(r.ok());
    REQUIRE(r.status().IsCorruption());
  }
}

TEST_CASE("index image: every truncation is rejected as corruption", "[index][image]") {
  const std::string image = SmallHnswImage();
  for (size_t n = 0; n < image.size(); n += (n < 256 ? 1 : 7)) {
    auto r = LoadIndex(Bytes(image.substr(0, n)));
    INFO("length " << n);
    REQUIRE(r.status().IsCorruption());
  }
}

// Rebuilds an image with one section replaced, so every checksum is valid again.
std::string Replace(const std::string& image, FileKind kind, uint32_t tag, const std::string& bytes) {
  auto reader = *SectionFileReader::Open(Bytes(image), kind, "x");
  SectionFileWriter w(kind);
  for (uint32_t t : {kTagMeta, kTagVectors, kTagDeleted, kTagLevels, kTagLinks0, kTagLinksUpper}) {
    if (!reader.Has(t)) continue;
    auto s = *reader.Get(t);
    w.Add(t, t == tag ? bytes : std::string(reinterpret_cast<const char*>(s.data()), s.size()));
  }
  return w.Finish();
}

std::string Section(const std::string& image, FileKind kind, uint32_t tag) {
  auto reader = *SectionFileReader::Open(Bytes(image), kind, "x");
  auto s = *reader.Get(tag);
  return std::string(reinterpret_cast<const char*>(s.data()), s.size());
}

TEST_CASE("index image: impossible contents with valid checksums are rejected", "[index][image]") {
  const std::string image = SmallHnswImage();
  const FileKind kind = FileKind::kHnswIndex;
  auto expect = [](const std::string& bad, const std::string& fragment) {
    auto r = LoadIndex(Bytes(bad));
    REQUIRE(r.status().IsCorruption());
    INFO(r.status().ToString());
    CHECK(r.status().message().find(fragment) != std::string_view::npos);
  };

  std::string links0 = Section(image, kind, kTagLinks0);
  std::string l = links0;
  EncodeFixed32(&l[4], 120);  // row 0's first neighbour points past the end
  expect(Replace(image, kind, kTagLinks0, l), "neighbour 120 out of range");
  l = links0;
  EncodeFixed32(&l[0], 9);  // more links than 2 * m
  expect(Replace(image, kind, kTagLinks0, l), "at most 8 allowed");
  l = links0;
  EncodeFixed32(&l[4], 0);  // row 0 links to itself
  expect(Replace(image, kind, kTagLinks0, l), "links to itself");

  std::string vecs = Section(image, kind, kTagVectors);
  std::string v = vecs;
  float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(&v[8], &nan, 4);
  expect(Replace(image, kind, kTagVectors, v), "non-finite value in row 0");
  expect(Replace(image, kind, kTagVectors, vecs.substr(0, vecs.size() - 32)), "expected 120 rows");

  std::string meta = Section(image, kind, kTagMeta);
  std::string m = meta;
  m[5] = 9;  // metric
  expect(Replace(image, kind, kTagMeta, m), "unknown metric 9");
  m = meta;
  EncodeFixed32(&m[8], 9);  // dim without matching stride
  expect(Replace(image, kind, kTagMeta, m), "stride");
  m = meta;
  EncodeFixed32(&m[48], 500);  // entry point
  expect(Replace(image, kind, kTagMeta, m), "entry point 500 out of range");

  std::string levels = Section(image, kind, kTagLevels);
  std::string lv = levels;
  lv[0] = 30;
  expect(Replace(image, kind, kTagLevels, lv), "above the top level");

  std::string dels = Section(image, kind, kTagDeleted);
  std::string d = dels;
  d.back() = static_cast<char>(0x80);  // a bit past row 119
  expect(Replace(image, kind, kTagDeleted, d), "deletion bits set past the last row");
}

TEST_CASE("index image: a flat image damaged anywhere is rejected", "[index][image]") {
  auto base = testing::Mixture(40, 3, 8);
  auto index = *FlatIndex::Create(3, Metric::kL1);
  REQUIRE(index->AddBatch(base.data(), 40, nullptr).ok());
  const std::string image = index->Serialize();
  REQUIRE(LoadIndex(Bytes(image)).ok());
  for (size_t i = 0; i < image.size(); ++i) {
    std::string bad = image;
    bad[i] = static_cast<char>(bad[i] ^ 0x80);
    INFO("byte " << i);
    REQUIRE(LoadIndex(Bytes(bad)).status().IsCorruption());
  }
}

}  // namespace
}  // namespace quiver::index
