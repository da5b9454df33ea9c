#include "fuzz_util.h"

#include <algorithm>
#include <memory>
#include <set>

#include "base/coding.h"
#include "base/crc32c.h"
#include "base/section_file.h"
#include "payload/filter.h"
#include "payload/json_util.h"
#include "storage/wal_format.h"

namespace quiver::fuzz {

CollectionConfig SeedConfig() {
  CollectionConfig c;
  c.vectors["text"] = VectorParams{8, Distance::kCosine};
  c.vectors["image"] = VectorParams{4, Distance::kEuclid, IndexKind::kFlat};
  c.hnsw.m = 4;
  c.hnsw.ef_construct = 16;
  return c;
}

std::vector<db::VectorSpace> SeedSpaces() {
  const CollectionConfig config = SeedConfig();
  std::vector<db::VectorSpace> spaces;
  for (const auto& [name, params] : config.vectors) {
    spaces.push_back(db::VectorSpace{name, params, params.hnsw.value_or(config.hnsw),
                                     params.quantization ? params.quantization : config.quantization});
  }
  return spaces;
}

std::vector<std::pair<std::string, payload::FieldIndexType>> SeedPayloadFields() {
  return {{"city", payload::FieldIndexType::kKeyword}, {"year", payload::FieldIndexType::kInteger}};
}

DatabaseOptions SeedOptions() {
  DatabaseOptions o;
  o.replica_id = 0x51564552;
  auto wall = std::make_shared<uint64_t>(1'767'225'600'000ull);
  o.wall_clock_ms = [wall] { return (*wall) += 3; };
  o.segment_points = 8;
  o.auto_optimize = false;
  return o;
}

void FixSectionFileChecksums(std::string* bytes) {
  std::string& b = *bytes;
  const size_t n = b.size();
  if (n < kSectionHeaderSize + kSectionFooterSize) return;
  char* footer = b.data() + n - kSectionFooterSize;
  const uint64_t table_offset = DecodeFixed64(footer);
  const uint32_t table_length = DecodeFixed32(footer + 8);
  if (table_offset <= n && table_length <= n - table_offset && table_length >= 8) {
    char* table = b.data() + table_offset;
    const uint32_t count = DecodeFixed32(table);
    for (uint64_t i = 0; i < count && 8 + (i + 1) * kSectionEntrySize <= table_length; ++i) {
      char* e = table + 8 + i * kSectionEntrySize;
      const uint64_t offset = DecodeFixed64(e + 8);
      const uint64_t length = DecodeFixed64(e + 16);
      if (offset <= n && length <= n - offset) EncodeFixed32(e + 24, crc32c::Value(b.data() + offset, length));
    }
    EncodeFixed32(footer + 12, crc32c::Value(table, table_length));
  }
  EncodeFixed32(footer + 20, crc32c::Value(footer, 20));
}

void FixWalChecksums(std::string* bytes) {
  std::string& b = *bytes;
  if (b.size() < storage::kWalFileHeaderSize) return;
  EncodeFixed32(b.data() + 16, crc32c::Value(b.data(), 16));
  size_t pos = storage::kWalFileHeaderSize;
  while (b.size() - pos >= storage::kWalRecordHeaderSize) {
    const uint32_t length = DecodeFixed32(b.data() + pos);
    if (length > b.size() - pos - storage::kWalRecordHeaderSize) return;
    const char* type = b.data() + pos + 8;
    EncodeFixed32(b.data() + pos + 4, crc32c::Extend(crc32c::Value(type, 1), type + 1, length));
    pos += storage::kWalRecordHeaderSize + length;
  }
}

void FixChecksumsByName(std::string_view name, std::string* bytes) {
  auto ends_with = [&](std::string_view s) { return name.size() >= s.size() && name.substr(name.size() - s.size()) == s; };
  if (name.starts_with("MANIFEST-") || ends_with(".qvs") || ends_with(".qvd")) FixSectionFileChecksums(bytes);
  if (ends_with(".log")) FixWalChecksums(bytes);
}

std::string PackFiles(const std::vector<std::pair<std::string, std::string>>& files) {
  std::string out;
  for (const auto& [name, data] : files) {
    PutFixed8(&out, static_cast<uint8_t>(name.size()));
    out += name.substr(0, 255);
    PutFixed32(&out, static_cast<uint32_t>(data.size()));
    out += data;
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> UnpackFiles(std::string_view bytes) {
  std::vector<std::pair<std::string, std::string>> files;
  size_t pos = 0;
  while (pos < bytes.size()) {
    const size_t name_len = static_cast<uint8_t>(bytes[pos++]);
    if (bytes.size() - pos < name_len + 4) break;
    std::string name(bytes.substr(pos, name_len));
    pos += name_len;
    const uint32_t size = DecodeFixed32(bytes.data() + pos);
    pos += 4;
    if (bytes.size() - pos < size) break;
    files.emplace_back(std::move(name), std::string(bytes.substr(pos, size)));
    pos += size;
  }
  return files;
}

namespace {

constexpr const char* kFilters[] = {
    R"({"must":[{"key":"city","match":{"value":"Oslo"}}]})",
    R"({"must":[{"key":"year","range":{"gte":1995,"lt":2010}}]})",
    R"({"should":[{"key":"tags","match":{"any":["t1","x"]}},{"has_id":[1,2,3]}]})",
    R"({"must_not":[{"is_empty":{"key":"tags"}}]})",
};

bool Better(Distance d, float a, float b) {
  return d == Distance::kCosine || d == Distance::kDot ? a >= b : a <= b;
}

}  // namespace

void ExerciseCollection(const Collection& collection, bool check_filters) {
  const CollectionInfo info = collection.Info();
  auto count = collection.Count("");
  if (!count.ok()) return;
  FUZZ_CHECK(*count == info.points_count);

  // Every live point once, in id order, whatever the page size.
  ScrollRequest all;
  all.limit = *count + 1;
  all.with_payload = PayloadSelector::All();
  all.with_vector = VectorSelector::All();
  auto scroll = collection.Scroll(all);
  if (!scroll.ok()) return;
  const std::vector<Record>& records = scroll->points;
  FUZZ_CHECK(records.size() == *count);
  FUZZ_CHECK(!scroll->next_page_offset);
  std::set<PointId> ids;
  for (size_t i = 0; i < records.size(); ++i) {
    if (i > 0) FUZZ_CHECK(records[i - 1].id < records[i].id);
    ids.insert(records[i].id);
  }
  ScrollRequest page;
  page.limit = 3;
  page.with_payload = PayloadSelector::None();
  size_t seen = 0;
  for (int guard = 0; guard <= static_cast<int>(records.size()); ++guard) {
    auto r = collection.Scroll(page);
    if (!r.ok()) return;
    for (const Record& rec : r->points) {
      FUZZ_CHECK(seen < records.size() && rec.id == records[seen].id);
      ++seen;
    }
    if (!r->next_page_offset) break;
    page.offset = r->next_page_offset;
  }
  FUZZ_CHECK(seen == records.size());

  // Searches: exact finds every point with the vector; the graph finds a subset; scores in order.
  for (const auto& [name, params] : info.config.vectors) {
    size_t with_vector = 0;
    for (const Record& rec : records) with_vector += rec.vectors.count(name);
    SearchRequest req;
    req.vector.assign(params.size, 0.5f);
    req.vector[0] = 1.0f;
    req.vector_name = name;
    req.limit = std::max<size_t>(*count, 1);
    req.with_payload = PayloadSelector::None();
    for (bool exact : {true, false}) {
      req.exact = exact;
      auto hits = collection.Search(req);
      if (!hits.ok()) continue;
      std::set<PointId> found;
      for (size_t i = 0; i < hits->size(); ++i) {
        FUZZ_CHECK(ids.count((*hits)[i].id));
        FUZZ_CHECK(found.insert((*hits)[i].id).second);
        if (i > 0) FUZZ_CHECK(Better(params.distance, (*hits)[i - 1].score, (*hits)[i].score));
      }
      if (exact) {
        FUZZ_CHECK(hits->size() == with_vector);
      } else {
        FUZZ_CHECK(hits->size() <= with_vector);
      }
    }
  }

  if (!check_filters) {
    for (const char* text : kFilters) (void)collection.Count(text);
    return;
  }
  std::vector<boost::json::object> payloads;
  for (const Record& rec : records) {
    auto obj = payload::ParsePayloadText(rec.payload.value_or("{}"));
    FUZZ_CHECK_OK(obj);
    payloads.push_back(std::move(*obj));
  }
  for (const char* text : kFilters) {
    auto n = collection.Count(text);
    if (!n.ok()) continue;
    auto filter = payload::ParseFilterText(text);
    FUZZ_CHECK_OK(filter);
    size_t expected = 0;
    for (size_t i = 0; i < records.size(); ++i) expected += payload::Matches(*filter, records[i].id, payloads[i]);
    if (*n != expected) std::fprintf(stderr, "count %zu, expected %zu for %s\n", *n, expected, text);
    FUZZ_CHECK(*n == expected);
  }
}

}  // namespace quiver::fuzz
