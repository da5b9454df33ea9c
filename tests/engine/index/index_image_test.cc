// Index images under damage: every flipped byte and every truncation must give Corruption, never a crash (this
// suite also runs under AddressSanitizer), and images with valid checksums but impossible contents are caught by
// the structural checks.
#include "index/index_image.h"

#include <catch2/catch.hpp>
#include <cstring>

#include "base/aligned_array.h"
#include "base/coding.h"
#include "base/section_file.h"
#include "engine/index/test_data.h"
#include "index/flat_index.h"
#include "index/hnsw_index.h"

namespace quiver::index {
namespace {

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

// A small graph; `quantized`: with int8 codes learnt from its first 100 rows (layout version 2).
std::string SmallHnswImage(bool quantized = false) {
  const uint32_t dim = 6;
  auto base = testing::Mixture(120, dim, 5);
  auto index = *HnswIndex::Create(dim, Metric::kL2, {4, 20, 9});
  REQUIRE(index->AddBatch(base.data(), 100, nullptr).ok());
  if (quantized) index->Quantize(0.99f);
  REQUIRE(index->AddBatch(base.data() + 100 * dim, 20, nullptr).ok());
  REQUIRE(index->Remove(3).ok());
  REQUIRE(index->max_level() >= 1);  // the image exercises upper levels
  return index->Serialize();
}

TEST_CASE("index image: every flipped byte is rejected as corruption", "[index][image]") {
  for (bool quantized : {false, true}) {
    const std::string image = SmallHnswImage(quantized);
    REQUIRE(LoadIndex(Bytes(image)).ok());
    for (size_t i = 0; i < image.size(); ++i) {
      std::string bad = image;
      bad[i] = static_cast<char>(bad[i] ^ 0x01);
      auto r = LoadIndex(Bytes(bad));
      INFO("quantized " << quantized << ", byte " << i);
      REQUIRE_FALSE(r.ok());
      REQUIRE(r.status().IsCorruption());
    }
  }
}

TEST_CASE("index image: every truncation is rejected as corruption", "[index][image]") {
  for (bool quantized : {false, true}) {
    const std::string image = SmallHnswImage(quantized);
    for (size_t n = 0; n < image.size(); n += (n < 256 ? 1 : 7)) {
      auto r = LoadIndex(Bytes(image.substr(0, n)));
      INFO("quantized " << quantized << ", length " << n);
      REQUIRE(r.status().IsCorruption());
    }
  }
}

constexpr uint32_t kAllTags[] = {kTagMeta,       kTagVectors,   kTagDeleted, kTagLevels,   kTagLinks0,
                                 kTagLinksUpper, kTagQuantizer, kTagCodes,   kTagCodeNorms};

// Rebuilds an image with one section replaced (or, with `drop`, left out), so every checksum is valid again.
std::string Replace(const std::string& image, FileKind kind, uint32_t tag, const std::string& bytes,
                    bool drop = false) {
  auto reader = *SectionFileReader::Open(Bytes(image), kind, "x");
  SectionFileWriter w(kind);
  for (uint32_t t : kAllTags) {
    if (!reader.Has(t) || (drop && t == tag)) continue;
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

// Loading `bad` is Corruption with a message that contains `fragment`.
void ExpectCorruption(const std::string& bad, const std::string& fragment) {
  auto r = LoadIndex(Bytes(bad));
  REQUIRE(r.status().IsCorruption());
  INFO(r.status().ToString());
  CHECK(r.status().message().find(fragment) != std::string_view::npos);
}

TEST_CASE("index image: impossible contents with valid checksums are rejected", "[index][image]") {
  const std::string image = SmallHnswImage();
  const FileKind kind = FileKind::kHnswIndex;

  std::string links0 = Section(image, kind, kTagLinks0);
  std::string l = links0;
  EncodeFixed32(&l[4], 120);  // row 0's first neighbour points past the end
  ExpectCorruption(Replace(image, kind, kTagLinks0, l), "neighbour 120 out of range");
  l = links0;
  EncodeFixed32(&l[0], 9);  // more links than 2 * m
  ExpectCorruption(Replace(image, kind, kTagLinks0, l), "at most 8 allowed");
  l = links0;
  EncodeFixed32(&l[4], 0);  // row 0 links to itself
  ExpectCorruption(Replace(image, kind, kTagLinks0, l), "links to itself");

  std::string vecs = Section(image, kind, kTagVectors);
  std::string v = vecs;
  float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(&v[8], &nan, 4);
  ExpectCorruption(Replace(image, kind, kTagVectors, v), "non-finite value in row 0");
  ExpectCorruption(Replace(image, kind, kTagVectors, vecs.substr(0, vecs.size() - 32)), "expected 120 rows");

  std::string meta = Section(image, kind, kTagMeta);
  std::string m = meta;
  m[5] = 9;  // metric
  ExpectCorruption(Replace(image, kind, kTagMeta, m), "unknown metric 9");
  m = meta;
  EncodeFixed32(&m[8], 9);  // dim without matching stride
  ExpectCorruption(Replace(image, kind, kTagMeta, m), "stride");
  m = meta;
  EncodeFixed32(&m[48], 500);  // entry point
  ExpectCorruption(Replace(image, kind, kTagMeta, m), "entry point 500 out of range");

  std::string levels = Section(image, kind, kTagLevels);
  std::string lv = levels;
  lv[0] = 30;
  ExpectCorruption(Replace(image, kind, kTagLevels, lv), "above the top level");

  std::string dels = Section(image, kind, kTagDeleted);
  std::string d = dels;
  d.back() = static_cast<char>(0x80);  // a bit past row 119
  ExpectCorruption(Replace(image, kind, kTagDeleted, d), "deletion bits set past the last row");
}

TEST_CASE("index image: a quantized graph keeps its codes through an image (layout version 2)",
          "[index][image]") {
  const uint32_t dim = 40;
  auto base = testing::Mixture(1500, dim, 11);
  auto queries = testing::Mixture(20, dim, 12);
  for (Metric metric : {Metric::kL2, Metric::kInnerProduct, Metric::kCosine, Metric::kL1}) {
    INFO("metric " << static_cast<int>(metric));
    auto index = *HnswIndex::Create(dim, metric, {8, 40, 3});
    REQUIRE(index->AddBatch(base.data(), 1000, nullptr).ok());
    const std::string plain = index->Serialize();
    index->Quantize(0.99f);
    // Later rows, wider than the range learnt, are encoded with it.
    std::vector<float> wide(base.begin() + 1000 * dim, base.end());
    for (float& x : wide) x *= 3.0f;
    REQUIRE(index->AddBatch(wide.data(), 500, nullptr).ok());
    const std::string image = index->Serialize();
    CHECK(DecodeFixed32(Section(plain, FileKind::kHnswIndex, kTagMeta).data()) == 1);
    CHECK(DecodeFixed32(Section(image, FileKind::kHnswIndex, kTagMeta).data()) == 2);
    auto reader = *SectionFileReader::Open(Bytes(image), FileKind::kHnswIndex, "x");
    CHECK(reader.Has(kTagCodeNorms) == (metric == Metric::kL2));

    auto loaded = HnswIndex::Deserialize(Bytes(image));
    REQUIRE(loaded.ok());
    const ScalarQuantizer* q = index->quantizer();
    const ScalarQuantizer* r = (*loaded)->quantizer();
    REQUIRE(r != nullptr);
    CHECK(r->trained_rows() == 1000);
    CHECK(r->size() == 1500);
    CHECK(r->quantile() == 0.99f);
    CHECK(r->lo() == q->lo());
    CHECK(r->hi() == q->hi());
    CHECK(std::memcmp(r->Codes(0), q->Codes(0), 1500 * q->code_stride()) == 0);
    CHECK((*loaded)->Serialize() == image);
    for (size_t i = 0; i < 20; ++i) {
      std::vector<Neighbor> a, b;
      REQUIRE(index->Search(&queries[i * dim], SearchParams{10, 40}, nullptr, &a).ok());
      REQUIRE((*loaded)->Search(&queries[i * dim], SearchParams{10, 40}, nullptr, &b).ok());
      REQUIRE(a.size() == b.size());
      for (size_t j = 0; j < a.size(); ++j) {
        CHECK(a[j].row == b[j].row);
        CHECK(a[j].distance == b[j].distance);
      }
    }
    // Without the codes (ClearQuantization), the image is version 1 again.
    (*loaded)->ClearQuantization();
    CHECK(DecodeFixed32(Section((*loaded)->Serialize(), FileKind::kHnswIndex, kTagMeta).data()) == 1);
  }
}

TEST_CASE("index image: a quantized image kept alive lends its codes until rows are added",
          "[index][image]") {
  const uint32_t dim = 40;
  auto base = testing::Mixture(1200, dim, 13);
  for (Metric metric : {Metric::kL2, Metric::kCosine}) {
    INFO("metric " << static_cast<int>(metric));
    auto index = *HnswIndex::Create(dim, metric, {8, 40, 3});
    REQUIRE(index->AddBatch(base.data(), 1000, nullptr).ok());
    index->Quantize(0.99f);
    const std::string image = index->Serialize();
    // The string is 64-byte aligned only by chance: the image goes into aligned memory, as a mapped file is.
    AlignedArray<uint8_t> aligned(image.size());
    std::memcpy(aligned.data(), image.data(), image.size());
    auto copied = *HnswIndex::Deserialize(Bytes(image));
    auto in_place = *HnswIndex::Deserialize({aligned.data(), aligned.size()}, std::make_shared<int>(0));
    const ScalarQuantizer* c = copied->quantizer();
    const ScalarQuantizer* q = in_place->quantizer();
    REQUIRE(q != nullptr);
    CHECK_FALSE(c->external());
    CHECK(q->external());
    const uintptr_t at = reinterpret_cast<uintptr_t>(q->Codes(0));
    CHECK(at >= reinterpret_cast<uintptr_t>(aligned.data()));
    CHECK(at < reinterpret_cast<uintptr_t>(aligned.data() + aligned.size()));
    // The codes' bytes are not counted as memory held, as adopted vectors are not.
    CHECK(c->MemoryUsage() - q->MemoryUsage() >= 1000 * c->code_stride());
    CHECK(in_place->Serialize() == image);
    auto same = [&](const HnswIndex& a, const HnswIndex& b, size_t first, size_t n) {
      for (size_t i = first; i < first + n; ++i) {
        std::vector<Neighbor> x, y;
        REQUIRE(a.Search(&base[i * dim], SearchParams{10, 40}, nullptr, &x).ok());
        REQUIRE(b.Search(&base[i * dim], SearchParams{10, 40}, nullptr, &y).ok());
        CHECK(x == y);
      }
    };
    same(*copied, *in_place, 0, 20);
    // Adding rows copies the codes out first; the image's bytes stay as they were.
    REQUIRE(in_place->AddBatch(&base[1000 * dim], 200, nullptr).ok());
    REQUIRE(copied->AddBatch(&base[1000 * dim], 200, nullptr).ok());
    CHECK_FALSE(q->external());
    CHECK(std::memcmp(q->Codes(0), c->Codes(0), 1200 * c->code_stride()) == 0);
    CHECK(std::memcmp(aligned.data(), image.data(), image.size()) == 0);
    same(*copied, *in_place, 990, 20);
    CHECK(in_place->Serialize() == copied->Serialize());
  }
}

TEST_CASE("index image: a quantized row whose squared norm overflows a float loads again",
          "[index][image][fuzz]") {
  // Found by fuzz_index_image (corpus regress-sq8-infinite-norm): a row of finite values near the float
  // maximum has a squared norm of +inf as a float; the writer stores it, and the reader once rejected it as
  // corrupt.
  const uint32_t dim = 4;
  auto index = *HnswIndex::Create(dim, Metric::kL2, {4, 20, 1});
  const float rows[3][4] = {{1, 2, 3, 4}, {3e38f, -3e38f, 1e38f, 0}, {-1, 0, 1, 2}};
  for (const auto& row : rows) REQUIRE(index->Add(row).ok());
  index->Quantize(1.0f);
  const std::string image = index->Serialize();
  auto loaded = LoadIndex(Bytes(image));
  REQUIRE(loaded.ok());
  CHECK((*loaded)->Serialize() == image);
}

TEST_CASE("index image: a quantizer's impossible contents with valid checksums are rejected",
          "[index][image]") {
  const std::string image = SmallHnswImage(true);
  const FileKind kind = FileKind::kHnswIndex;
  const std::string params = Section(image, kind, kTagQuantizer);
  REQUIRE(params.size() == 32);
  auto with_float = [&](size_t at, float v) {
    std::string p = params;
    std::memcpy(&p[at], &v, 4);
    return Replace(image, kind, kTagQuantizer, p);
  };
  ExpectCorruption(with_float(0, 0.3f), "quantile out of [0.5, 1]");
  ExpectCorruption(with_float(4, std::numeric_limits<float>::infinity()),
                   "middle of the range is not finite");
  ExpectCorruption(with_float(8, 0.0f), "step is not a positive finite number");
  ExpectCorruption(with_float(8, -1.0f), "step is not a positive finite number");
  std::string p = params;
  EncodeFixed32(&p[12], 32);
  ExpectCorruption(Replace(image, kind, kTagQuantizer, p), "code stride 32 does not fit dim 6");
  p = params;
  EncodeFixed64(&p[16], 121);
  ExpectCorruption(Replace(image, kind, kTagQuantizer, p), "trained on more rows than the image holds");
  p = params;
  p[24] = 1;
  ExpectCorruption(Replace(image, kind, kTagQuantizer, p), "reserved field is not 0");
  ExpectCorruption(Replace(image, kind, kTagQuantizer, params.substr(0, 28)),
                   "section is 28 bytes, expected 32");

  const std::string codes = Section(image, kind, kTagCodes);
  REQUIRE(codes.size() == 120 * 16);
  std::string c = codes;
  c[16 * 7 + 2] = static_cast<char>(-128);
  ExpectCorruption(Replace(image, kind, kTagCodes, c), "code -128 in row 7");
  c = codes;
  c[16 * 9 + 6] = 1;  // past dim 6
  ExpectCorruption(Replace(image, kind, kTagCodes, c), "non-zero padding in row 9");
  ExpectCorruption(Replace(image, kind, kTagCodes, codes.substr(0, codes.size() - 16)),
                   "expected 120 rows of 16");

  const std::string norms = Section(image, kind, kTagCodeNorms);
  std::string n = norms;
  const float nan = std::numeric_limits<float>::quiet_NaN();
  std::memcpy(&n[4 * 5], &nan, 4);
  ExpectCorruption(Replace(image, kind, kTagCodeNorms, n), "norm of row 5 is not a number >= 0");
  const float negative = -1.0f;
  n = norms;
  std::memcpy(&n[0], &negative, 4);
  ExpectCorruption(Replace(image, kind, kTagCodeNorms, n), "norm of row 0");
  ExpectCorruption(Replace(image, kind, kTagCodeNorms, norms.substr(4)), "expected 120 norms");
  ExpectCorruption(Replace(image, kind, kTagCodeNorms, "", true), "section SQN2 is missing for the metric");

  // The version and the sections agree.
  std::string meta = Section(image, kind, kTagMeta);
  EncodeFixed32(&meta[0], 1);
  ExpectCorruption(Replace(image, kind, kTagMeta, meta),
                   "section SQPR is present in a layout version 1 image");
  ExpectCorruption(Replace(image, kind, kTagQuantizer, "", true),
                   "section SQPR is missing from a layout version 2 image");
  ExpectCorruption(Replace(image, kind, kTagCodes, "", true),
                   "section SQCD is missing from a layout version 2 image");
  EncodeFixed32(&meta[0], 3);
  ExpectCorruption(Replace(image, kind, kTagMeta, meta), "unsupported index layout version 3");
  const std::string plain = SmallHnswImage(false);
  std::string plain_meta = Section(plain, kind, kTagMeta);
  EncodeFixed32(&plain_meta[0], 2);
  ExpectCorruption(Replace(plain, kind, kTagMeta, plain_meta),
                   "section SQPR is missing from a layout version 2 image");
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
