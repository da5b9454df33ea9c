// Writes the seed corpora of the fuzz targets: tests/fuzz/corpus/<target>/seed-<n>. The binary seeds come from
// one small stored database made in memory (the golden workload's shape with fewer points: two segments, one
// with an HNSW graph, a deletion file, log records of every op kind, a snapshot); the text seeds are listed
// below. Deterministic: running it again gives the same files.
//
//   build/fuzz/tests/fuzz/make_corpus tests/fuzz/corpus
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include "base/section_file.h"
#include "crypto.h"
#include "db/database_core.h"
#include "db/feed_record.h"
#include "db/manifest.h"
#include "db/op_codec.h"
#include "fuzz_util.h"
#include "index/hnsw_index.h"
#include "quiver/api.h"
#include "storage/storage_memory.h"
#include "storage/wal_format.h"
#include "storage/wal_reader.h"
#include "sync_world.h"

using namespace quiver;
namespace fs = std::filesystem;

namespace {

std::map<std::string, std::vector<std::string>> seeds;

void Add(const std::string& target, std::string bytes) { seeds[target].push_back(std::move(bytes)); }
void Add(const std::string& target, uint8_t mode, const std::string& bytes) {
  Add(target, std::string(1, static_cast<char>(mode)) + bytes);
}

#define CHECK_OK(expr)                                                                   \
  do {                                                                                   \
    Status _s = ::quiver::fuzz::StatusOf(expr);                                                                \
    if (!_s.ok()) {                                                                      \
      std::fprintf(stderr, "%s: %s\n", #expr, _s.ToString().c_str());                   \
      std::exit(1);                                                                      \
    }                                                                                    \
  } while (0)

PointInput Point(int n) {
  PointInput p;
  if (n % 10 == 9) {
    PointId::UuidBytes u{};
    u[6] = 0x40;
    u[8] = 0x80;
    u[15] = static_cast<uint8_t>(n);
    p.id = PointId::Uuid(u);
  } else {
    p.id = PointId::Number(static_cast<uint64_t>(n));
  }
  std::vector<float> text(8);
  for (int j = 0; j < 8; ++j) text[j] = float((n * (j + 3)) % 11) - 5.0f;
  p.vectors["text"] = text;
  if (n % 3 != 0) p.vectors["image"] = {float(n % 5), float(n % 7), 1.5f, -float(n % 3)};
  static const char* cities[] = {"Oslo", "Lima", "Pune", "Kyiv"};
  p.payload = std::string(R"({"city":")") + cities[n % 4] + R"(","year":)" + std::to_string(1990 + n % 30) +
              R"(,"tags":["t)" + std::to_string(n % 3) + R"(","all"],"loc":{"lon":)" + std::to_string(n % 50) +
              R"(.5,"lat":)" + std::to_string(n % 40) + R"(.25}})";
  return p;
}

// The stored database: returns its files (LOCK left out).
std::vector<std::pair<std::string, std::string>> MakeDatabase(std::string* snapshot) {
  storage::MemoryStorage st;
  {
    auto db = db::DatabaseCore::OpenStorage(fuzz::SeedOptions(), &st);
    CHECK_OK(db.status());
    CHECK_OK((*db)->CreateCollection("docs", fuzz::SeedConfig()));
    CHECK_OK((*db)->UpdateAliases(std::vector<AliasAction>{{AliasAction::Kind::kCreate, "main", "docs", ""}}));
    auto c = *(*db)->GetCollection("docs");
    for (const auto& [field, type] : fuzz::SeedPayloadFields())
      CHECK_OK(c->CreatePayloadIndex(field, payload::FieldIndexTypeName(type)));
    for (int b = 0; b < 2; ++b) {
      std::vector<PointInput> pts;
      for (int i = 0; i < 5; ++i) pts.push_back(Point(b * 5 + i));
      CHECK_OK(c->Upsert(pts));
    }
    CHECK_OK(c->Delete(PointsSelector::Ids({PointId::Number(3)})).status());
    CHECK_OK(c->Optimize());  // one indexed segment (an HNSW graph for "text")
    std::vector<PointInput> more;
    for (int i = 0; i < 7; ++i) more.push_back(Point(20 + i));
    more.push_back(Point(2));  // moves a point out of the indexed segment: a deletion file at the next seal
    CHECK_OK(c->Upsert(more));
    CHECK_OK(c->SetPayload(PointsSelector::Filter(R"({"must":[{"key":"city","match":{"value":"Lima"}}]})"),
                           R"({"flag":true,"when":"2026-01-02T03:04:05Z"})")
                 .status());
    CHECK_OK(c->DeletePayloadKeys(PointsSelector::Ids({PointId::Number(5)}), {"tags"}).status());
    CHECK_OK(c->ClearPayload(PointsSelector::Ids({PointId::Number(6)})).status());
    CHECK_OK(c->OverwritePayload(PointsSelector::Ids({PointId::Number(7)}), R"({"only":1.5})").status());
    CHECK_OK(c->Delete(PointsSelector::Ids({PointId::Number(21)})).status());
    *snapshot = *c->CreateSnapshot();
    CHECK_OK((*db)->Close());
  }
  std::vector<std::pair<std::string, std::string>> files;
  const std::vector<std::string> names = *st.List();
  for (const std::string& name : names) {
    if (name == db::kLockFileName) continue;
    files.emplace_back(name, *st.ReadFile(name));
  }
  return files;
}

std::string Section(const std::string& file, FileKind kind, const char (&tag)[5]) {
  auto reader = SectionFileReader::Open({reinterpret_cast<const uint8_t*>(file.data()), file.size()}, kind, "seed");
  CHECK_OK(reader.status());
  if (!reader->Has(SectionTag(tag))) return "";
  auto bytes = reader->Get(SectionTag(tag));
  return std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size());
}

void BinarySeeds() {
  std::string snapshot;
  const auto files = MakeDatabase(&snapshot);
  const std::string folder = fuzz::PackFiles(files);
  for (uint8_t mode : {0, 1, 2, 5, 13}) Add("fuzz_database", mode, folder);
  for (const auto& [name, bytes] : files) {
    const db::ParsedFileName p = db::ParseFileName(name);
    switch (p.kind) {
      case db::ParsedFileName::Kind::kManifest:
        Add("fuzz_manifest", 0, bytes);
        Add("fuzz_manifest", 1, bytes);
        Add("fuzz_section_file", 1 | (5 - 1) << 1, bytes);
        break;
      case db::ParsedFileName::Kind::kSegment: {
        for (uint8_t mode : {0, 1, 3}) Add("fuzz_segment", mode, bytes);
        Add("fuzz_section_file", 1 | (3 - 1) << 1, bytes);
        for (const char* tag : {"IX00", "IX01"}) {
          const char t[5] = {tag[0], tag[1], tag[2], tag[3], 0};
          const std::string image = Section(bytes, FileKind::kSegment, t);
          for (uint8_t mode : {0, 1, 3, 5}) Add("fuzz_index_image", mode, image);
          // The graph with int8 codes: an image of layout version 2.
          auto graph =
              index::HnswIndex::Deserialize({reinterpret_cast<const uint8_t*>(image.data()), image.size()});
          if (graph.ok()) {
            (*graph)->Quantize(0.99f);
            for (uint8_t mode : {0, 1, 3}) Add("fuzz_index_image", mode, (*graph)->Serialize());
          }
          const uint32_t kind = image.size() >= 16 ? static_cast<uint8_t>(image[12]) : 2;
          Add("fuzz_section_file", 1 | (kind - 1) << 1, image);
        }
        break;
      }
      case db::ParsedFileName::Kind::kDeletions: {
        const std::string meta = Section(bytes, FileKind::kDeletions, "DMTA");
        const uint32_t slots = static_cast<uint8_t>(meta[0]) | static_cast<uint8_t>(meta[1]) << 8;
        for (uint8_t mode : {0, 1}) {
          Add("fuzz_deletions", std::string{static_cast<char>(mode), static_cast<char>(slots & 0xff),
                                            static_cast<char>(slots >> 8)} + bytes);
        }
        Add("fuzz_section_file", 1 | (6 - 1) << 1, bytes);
        break;
      }
      case db::ParsedFileName::Kind::kWal: {
        for (uint8_t mode : {0, 1, 3}) Add("fuzz_wal", mode, bytes);
        Add("fuzz_wal", 3, bytes.substr(0, bytes.size() - 5));  // a torn tail
        storage::WalTail tail;
        CHECK_OK(storage::ReadWalFile({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, name,
                                      p.number, true,
                                      [](std::string_view payload, uint64_t) {
                                        Add("fuzz_op_batch", std::string(payload));
                                        return Status::OK();
                                      },
                                      &tail));
        break;
      }
      default:
        break;
    }
  }
  Add("fuzz_snapshot", 0, snapshot);
  Add("fuzz_snapshot", 1, snapshot);
  Add("fuzz_section_file", 1 | (4 - 1) << 1, snapshot);
}

void TextSeeds() {
  for (const char* f : {
           R"({})",
           R"({"must":[{"key":"city","match":{"value":"Oslo"}}]})",
           R"({"must":{"key":"year","match":{"value":2001}}})",
           R"({"must":[{"key":"flag","match":{"value":true}}]})",
           R"({"should":[{"key":"city","match":{"any":["Oslo","Lima"]}},{"key":"year","match":{"any":[1,2]}}]})",
           R"({"must_not":[{"key":"city","match":{"except":["Pune"]}}]})",
           R"({"must":[{"key":"desc","match":{"text":"quick fox"}}]})",
           R"({"must":[{"key":"desc","match":{"text_any":"fox dog"}}]})",
           R"({"must":[{"key":"desc","match":{"phrase":"brown fox"}}]})",
           R"({"must":[{"key":"price","range":{"gt":1.5,"lte":20}}]})",
           R"({"must":[{"key":"year","range":{"gte":1995,"lt":2005}}]})",
           R"({"must":[{"key":"date","range":{"gte":"2024-01-12T00:00:00Z","lt":"2024-01-15"}}]})",
           R"({"must":[{"key":"loc","geo_radius":{"center":{"lon":15.5,"lat":52.25},"radius":300000}}]})",
           R"({"must":[{"key":"loc","geo_bounding_box":{"top_left":{"lon":10,"lat":58},"bottom_right":{"lon":20,"lat":50}}}]})",
           R"({"must":[{"key":"loc","geo_polygon":{"exterior":{"points":[{"lon":10,"lat":50},{"lon":30,"lat":50},{"lon":30,"lat":60},{"lon":10,"lat":50}]},"interiors":[]}}]})",
           R"({"must":[{"key":"tags","values_count":{"gte":2}}]})",
           R"({"must":[{"is_empty":{"key":"tags"}}]})",
           R"({"must":[{"is_null":{"key":"city"}}]})",
           R"({"must":[{"key":"n","is_null":true}]})",
           R"({"must":[{"key":"tags","is_empty":false}]})",
           R"({"must":[{"has_id":[1,3,"00000000-0000-4000-8000-000000000007"]}]})",
           R"({"must":[{"nested":{"key":"nested","filter":{"must":[{"key":"a","range":{"gt":5}},{"key":"b","match":{"value":"y"}}]}}}]})",
           R"({"must":[{"key":"nested[].a","match":{"value":4}}]})",
           R"({"must":[{"key":"nested[0].b","match":{"value":"x"}}]})",
           R"({"must":[{"key":"uid","match":{"value":"550e8400-e29b-41d4-a716-446655440011"}}]})",
           R"({"min_should":{"conditions":[{"key":"flag","match":{"value":true}},{"key":"city","match":{"value":"Kyiv"}}],"min_count":1}})",
           R"({"must":[{"must_not":[{"should":[{"key":"year","range":{"lt":2000}}]}]}]})",
           R"({"should":[]})",
           R"({"must":null,"should":null,"must_not":null,"min_should":null})",
       }) {
    Add("fuzz_filter", f);
  }

  for (const char* p : {
           "city\n{\"city\":\"Oslo\",\"n\":1}",
           "a.b\n{\"a\":{\"b\":1,\"c\":[1,2.5,-0.0,1e300]}}",
           "a[].b\n{\"a\":[{\"b\":1},{\"b\":null},3]}",
           "a[1]\n{\"a\":[1,2,3]}",
           "a[]\n{\"a\":[1,2,3]}",
           "\"a.b\".c\n{\"a.b\":{\"c\":true}}",
           "x\n{\"x\":\"\\u00e9\\ud83d\\ude00\",\"big\":18446744073709551615,\"neg\":-9223372036854775808}",
           "k\n[1,2]",
           "k\n{\"d\":{\"d\":{\"d\":{\"d\":[[[[{}]]]]}}}}",
           // Number arrays long enough to be read ahead of the parser (payload/json_parse.h).
           "v\n{\"v\":[0.5,-1,2e-3,0.11935319286735585,1E+2,0,-0,3.25,9007199254740993,1e22,1e23,-7,0.1,0.2,0.3,"
           "12345678901234567890,4]}",
           "v[]\n{\"v\":[[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],[ 1.5 , 2.5 ,3.5,4.5,5.5,6.5,7.5,8.5,9.5,10.5,"
           "11.5,12.5,13.5,14.5,15.5,16.5 ]],\"s\":\"[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]\"}",
       }) {
    Add("fuzz_payload_json", p);
  }

  for (const char* d : {"2024-01-15", "2024-01-15T10:49:00Z", "2024-01-15 10:49", "2024-01-15t10:49:00.123456789+05:30",
                        "0000-01-01T00:00:00+14:00", "9999-12-31T23:59:60-12", "2016-12-31T23:59:60Z",
                        "2024-02-29T00:00:00.5-0130"}) {
    Add("fuzz_datetime", d);
  }

  using api::Operation;
  const std::vector<std::pair<Operation, const char*>> requests = {
      {Operation::kListCollections, ""},
      {Operation::kGetCollection, ""},
      {Operation::kCreateCollection, R"({"vectors":{"size":4,"distance":"Cosine"},"hnsw_config":{"m":8,"ef_construct":32}})"},
      {Operation::kCreateCollection, R"({"vectors":{"a":{"size":3,"distance":"Dot","index":"flat"},"b":{"size":2,"distance":"Manhattan","hnsw_config":{"m":4},"quantization_config":{"scalar":{"type":"int8","quantile":0.9}}}},"shard_number":1})"},
      {Operation::kCreateCollection, R"({"vectors":{"size":2,"distance":"Dot"},"quantization_config":{"scalar":{"type":"int8","quantile":0.5}}})"},
      {Operation::kUpdateCollection, R"({"hnsw_config":{"m":6},"quantization_config":{"scalar":{"type":"int8"}}})"},
      {Operation::kDeleteCollection, ""},
      {Operation::kCollectionExists, ""},
      {Operation::kUpdateAliases, R"({"actions":[{"create_alias":{"collection_name":"named","alias_name":"a2"}},{"rename_alias":{"old_alias_name":"a2","new_alias_name":"a3"}},{"delete_alias":{"alias_name":"a3"}}]})"},
      {Operation::kListAliases, ""},
      {Operation::kListCollectionAliases, ""},
      {Operation::kUpsertPoints, R"({"points":[{"id":100,"vector":{"text":[1,2,3,4,5,6,7,8]},"payload":{"city":"Oslo","n":5}},{"id":"00000000-0000-4000-8000-000000000001","vector":{"image":[1,0,0,1]}}]})"},
      {Operation::kUpsertPoints, R"({"batch":{"ids":[1,2],"vectors":{"text":[[1,1,1,1,1,1,1,1],[0,1,0,1,0,1,0,1]]},"payloads":[{"a":1},null]}})"},
      {Operation::kUpsertPoints, R"({"points":[{"id":3,"vector":{"text":[1,0,0,0,0,0,0,1]}}],"update_mode":"update_only","update_filter":{"must":[{"key":"n","range":{"gte":2}}]}})"},
      {Operation::kGetPoint, "3"},
      {Operation::kGetPoints, R"({"ids":[1,2,99],"with_payload":["city"],"with_vector":true})"},
      {Operation::kDeletePoints, R"({"points":[1,2]})"},
      {Operation::kDeletePoints, R"({"filter":{"must":[{"key":"n","range":{"gt":5}}]}})"},
      {Operation::kSetPayload, R"({"payload":{"x":{"y":[1,2]}},"points":[1,3]})"},
      {Operation::kOverwritePayload, R"({"payload":{"z":1},"filter":{"must":[{"key":"city","match":{"value":"Oslo"}}]}})"},
      {Operation::kDeletePayload, R"({"keys":["city","obj.x[]"],"points":[4]})"},
      {Operation::kClearPayload, R"({"points":[5]})"},
      {Operation::kBatchUpdate, R"({"operations":[{"upsert":{"points":[{"id":9,"vector":{"text":[1,1,0,0,1,1,0,0]}}]}},{"set_payload":{"payload":{"k":1},"points":[9]}},{"delete_payload":{"keys":["k"],"points":[9]}},{"clear_payload":{"points":[2]}},{"overwrite_payload":{"payload":{"o":true},"points":[3]}},{"delete":{"points":[4]}}]})"},
      {Operation::kScrollPoints, R"({"filter":{"must":[{"key":"city","match":{"value":"Lima"}}]},"limit":3,"offset":2,"with_payload":{"exclude":["tags"]},"with_vector":["text"]})"},
      {Operation::kCountPoints, R"({"filter":{"must_not":[{"key":"n","match":{"any":[1,2,3]}}]},"exact":true})"},
      {Operation::kSearchPoints, R"({"vector":{"name":"text","vector":[1,0,0,1,0,0,1,0]},"filter":{"must":[{"key":"n","range":{"gte":2}}]},"limit":4,"offset":1,"with_payload":true,"score_threshold":0.1,"params":{"hnsw_ef":32,"exact":false}})"},
      {Operation::kSearchBatch, R"({"searches":[{"vector":{"name":"image","vector":[1,2,3,4]},"limit":2},{"vector":{"name":"text","vector":[1,1,1,1,1,1,1,1]},"limit":1,"params":{"quantization":{"ignore":false,"rescore":true,"oversampling":2.0}}}]})"},
      {Operation::kRecommendPoints, R"({"positive":[1,2],"negative":[3],"using":"text","limit":3,"strategy":"average_vector"})"},
      {Operation::kRecommendBatch, R"({"searches":[{"positive":[1],"using":"text","limit":2},{"positive":[2,3],"negative":[1],"using":"image","limit":1}]})"},
      {Operation::kCreateFieldIndex, R"({"field_name":"tags","field_schema":"keyword"})"},
      {Operation::kCreateFieldIndex, R"({"field_name":"obj.x[]","field_schema":{"type":"integer"}})"},
      {Operation::kDeleteFieldIndex, "city"},
      {Operation::kOptimize, ""},
      {Operation::kCollectionStats, ""},
      {Operation::kVerify, ""},
      {Operation::kQueryPoints, R"({"query":[1,0,0,1,0,0,1,0],"using":"text","limit":3,"with_payload":true})"},
      {Operation::kQueryPoints, R"({"prefetch":[{"query":[1,1,1,1,1,1,1,1],"using":"text","limit":5},{"query":[1,0,0,1],"using":"image","limit":5}],"query":{"fusion":"rrf"},"limit":4})"},
      {Operation::kQueryPoints, R"({"query":{"order_by":{"key":"n","direction":"desc"}},"filter":{"must":[{"key":"city","match":{"value":"Oslo"}}]},"limit":2})"},
      {Operation::kQueryBatch, R"({"searches":[{"query":3,"using":"text","limit":2},{"query":{"recommend":{"positive":[1],"negative":[2],"strategy":"best_score"}},"using":"text","limit":2}]})"},
      {Operation::kQueryGroups, R"({"query":[1,0,0,1,0,0,1,0],"using":"text","group_by":"city","limit":2,"group_size":2,"with_payload":true})"},
      {Operation::kRepairCollection, ""},
  };
  for (const auto& [op, body] : requests) Add("fuzz_request", static_cast<uint8_t>(op), body);
  // The unnamed-vector collection (through its alias).
  auto single = [](Operation op) { return static_cast<uint8_t>(0x80 | static_cast<uint8_t>(op)); };
  Add("fuzz_request", single(Operation::kSearchPoints), R"({"vector":[1,2,3,4],"limit":3,"with_vector":true})");
  Add("fuzz_request", single(Operation::kUpsertPoints), R"({"points":[{"id":7,"vector":[0.5,0.5,0,1]}]})");
  Add("fuzz_request", single(Operation::kRecommendPoints), R"({"positive":[1,[1,0,0,0]],"negative":[2],"limit":2})");
  // Finite values near the float limit: distances and quantization ranges overflow.
  Add("fuzz_request", single(Operation::kUpsertPoints),
      R"({"points":[{"id":50,"vector":[3e38,3e38,-3e38,3e38]},{"id":51,"vector":[-3e38,3e38,3e38,-3e38]}]})");
  Add("fuzz_request", single(Operation::kSearchPoints),
      R"({"vector":[3e38,-3e38,3e38,3e38],"limit":20,"params":{"exact":true}})");
  // The faster paths (fuzz_request.cc): a prepared search body, a dense upsert's ids and payloads.
  const uint8_t prepared = api::kOperationCount, dense = api::kOperationCount + 1;
  Add("fuzz_request", prepared, R"({"filter":{"must":[{"key":"city","match":{"value":"Oslo"}}]},"limit":3,"with_payload":true})");
  Add("fuzz_request", 0x80 | prepared, R"({"limit":5,"params":{"exact":true}})");
  Add("fuzz_request", dense, "[1,2,\"00000000-0000-4000-8000-000000000002\"]\n[{\"city\":\"Pune\"},null,{}]");
  Add("fuzz_request", 0x80 | dense, "[10,11,12]\n");
  // A search vector long enough to go from the text to floats directly (payload/json_parse.h): of the wrong
  // length, and given twice (the last one counts).
  Add("fuzz_request", single(Operation::kSearchPoints),
      R"({"vector":[0.5,1,-2e-3,0,0,0,0,0,0,0,0,0,0,0,0,1E1],"limit":2,"vector":[1,0,0,1]})");
  Add("fuzz_request", single(Operation::kSearchPoints),
      R"({"limit":2,"vector":[0.5,1,-2e-3,0,0,0,0,0,0,0,0,0,0,0,0,1E1]})");
}


// ---- fuzz_http: mode byte (fuzz_http.cc), then raw requests ----

std::string Request(const std::string& method, const std::string& target, const std::string& body,
                    const std::string& headers = "") {
  std::string r = method + " " + target + " HTTP/1.1\r\nHost: localhost\r\n" + headers;
  if (!body.empty() || method == "POST" || method == "PUT") {
    if (headers.find("Content-Type") == std::string::npos) r += "Content-Type: application/json\r\n";
    r += "Content-Length: " + std::to_string(body.size()) + "\r\n";
  }
  return r + "\r\n" + body;
}

// An HS256 JWT signed with fuzz_http's admin key.
std::string Jwt(const std::string& claims) {
  using server::Base64UrlEncode;
  const std::string head = Base64UrlEncode(R"({"alg":"HS256","typ":"JWT"})") + "." + Base64UrlEncode(claims);
  return head + "." + Base64UrlEncode(server::HmacSha256("fuzz-admin-key", head));
}

void HttpSeeds() {
  constexpr uint8_t kPlain = 0, kMultipart = 1, kConfig = 2, kKeys = 4, kCors = 8, kSmall = 16;
  const std::string upsert = R"({"points":[{"id":20,"vector":{"text":[1,2,3,4,5,6,7,8]},"payload":{"city":"Rome"}}]})";
  const std::string search = R"({"vector":{"name":"text","vector":[1,0,0,1,0,0,1,0]},"limit":3,"with_payload":true})";
  for (const auto& [method, target, body] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"GET", "/", ""},
           {"GET", "/readyz", ""},
           {"GET", "/metrics", ""},
           {"GET", "/collections", ""},
           {"GET", "/aliases", ""},
           {"GET", "/collections/named", ""},
           {"GET", "/collections/alias/exists", ""},
           {"GET", "/collections/single/aliases", ""},
           {"PUT", "/collections/made?timeout=5", R"({"vectors":{"size":2,"distance":"Cosine"}})"},
           {"PATCH", "/collections/named", R"({"hnsw_config":{"m":6}})"},
           {"DELETE", "/collections/single", ""},
           {"POST", "/collections/aliases", R"({"actions":[{"create_alias":{"collection_name":"named","alias_name":"n2"}},{"delete_alias":{"alias_name":"alias"}}]})"},
           {"PUT", "/collections/named/points?wait=true&ordering=strong", upsert},
           {"POST", "/collections/named/points", R"({"ids":[1,2],"with_vector":true})"},
           {"GET", "/collections/alias/points/3", ""},
           {"GET", "/collections/named/points/00000000-0000-4000-8000-000000000001", ""},
           {"POST", "/collections/named/points/delete?wait=true", R"({"points":[1,2]})"},
           {"POST", "/collections/named/points/payload", R"({"payload":{"k":1},"points":[3]})"},
           {"POST", "/collections/named/points/batch", R"({"operations":[{"delete":{"points":[4]}},{"set_payload":{"payload":{"x":2},"points":[5]}}]})"},
           {"POST", "/collections/named/points/scroll", R"({"limit":3,"filter":{"must":[{"key":"city","match":{"value":"Oslo"}}]}})"},
           {"POST", "/collections/alias/points/count", R"({"exact":true})"},
           {"POST", "/collections/named/points/search", search},
           {"POST", "/collections/alias/points/search/batch", R"({"searches":[{"vector":[1,2,3,4],"limit":2}]})"},
           {"POST", "/collections/named/points/recommend", R"({"positive":[1],"using":"text","limit":2})"},
           {"POST", "/collections/named/points/query", R"({"query":[1,0,0,1,0,0,1,0],"using":"text","limit":2})"},
           {"POST", "/collections/named/points/query/groups", R"({"query":[1,0,0,1,0,0,1,0],"using":"text","group_by":"city","limit":2,"group_size":1})"},
           {"PUT", "/collections/named/index", R"({"field_name":"n","field_schema":"integer"})"},
           {"DELETE", "/collections/named/index/city", ""},
           {"GET", "/collections/named/snapshots", ""},
           {"PUT", "/collections/named/snapshots/recover", R"({"location":"file:///nowhere/x.snapshot"})"},
           {"DELETE", "/collections/named/snapshots/none.snapshot", ""},
           {"GET", "/collections/na%6Ded", ""},
           {"POST", "/collections/named/points/search", R"({"vector":[[[[[[[[[[1]]]]]]]]]]})"},
       }) {
    Add("fuzz_http", kPlain, Request(method, target, body));
  }
  // Several requests on one connection: a snapshot made, listed and fetched; keep-alive then close.
  Add("fuzz_http", kPlain,
      Request("POST", "/collections/named/snapshots", "") + Request("GET", "/collections/named/snapshots", "") +
          Request("PUT", "/collections/named/points", upsert) +
          Request("POST", "/collections/named/points/count", "{}", "Connection: close\r\n"));
  // Chunked body, Expect: 100-continue, HTTP/1.0, garbage.
  Add("fuzz_http", kPlain,
      "POST /collections/named/points/search HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n" +
          std::string("10\r\n") + search.substr(0, 16) + "\r\n" + [&] {
            std::string rest = search.substr(16);
            char len[16];
            std::snprintf(len, sizeof(len), "%zx", rest.size());
            return std::string(len) + "\r\n" + rest + "\r\n0\r\n\r\n";
          }());
  Add("fuzz_http", kPlain, Request("PUT", "/collections/named/points", upsert, "Expect: 100-continue\r\n"));
  Add("fuzz_http", kPlain, "GET /collections HTTP/1.0\r\n\r\nGET / HTTP/1.1\r\n\r\n");
  Add("fuzz_http", kPlain, "GARBAGE / HTTP/1.1\r\n\r\n");
  // A snapshot uploaded as multipart/form-data.
  std::string snapshot;
  MakeDatabase(&snapshot);
  const std::string part = "--XyZ\r\nContent-Disposition: form-data; name=\"snapshot\"; filename=\"s.snapshot\"\r\n"
                           "Content-Type: application/octet-stream\r\n\r\n" + snapshot + "\r\n--XyZ--\r\n";
  Add("fuzz_http", kPlain,
      Request("POST", "/collections/uploaded/snapshots/upload?wait=true", part,
              "Content-Type: multipart/form-data; boundary=XyZ\r\n"));
  // The sync protocol: register, identify a new collection with the client's uid, push a point, digest, snapshot,
  // pull.
  const std::string uid = "0123456789abcdef0fedcba987654321";
  const std::string sync_headers = "X-Protocol: 1\r\nX-Replica: 00000000000000aa\r\n";
  Add("fuzz_http", kPlain,
      Request("POST", "/sync/v1/replicas", R"({"replica":"00000000000000aa","client":"fuzz"})", "X-Protocol: 1\r\n") +
          Request("PUT", "/sync/v1/collections/by-name/synced",
                  R"({"uid":")" + uid + R"(","config":{"vectors":{"size":3,"distance":"Dot"}}})", sync_headers) +
          Request("POST", "/sync/v1/collections/" + uid + "/push",
                  R"({"replica":"00000000000000aa","batch":{"from_local_seq":1,"to_local_seq":1},"hlc":"019b76daa81b0002",)"
                  R"("points":[{"id":1,"vec":{"ts":"019b76daa81b000100000000000000aa","dense":{"":"AACAPwAAAEAAAEBA"}}}]})",
                  sync_headers) +
          Request("GET", "/sync/v1/collections/" + uid + "/digest", "", sync_headers) +
          Request("GET", "/sync/v1/collections/" + uid + "/snapshot", "", sync_headers) +
          Request("GET", "/sync/v1/collections/" + uid + "/pull?limit=10&wait_ms=50", "", sync_headers));
  Add("fuzz_http", kPlain, Request("GET", "/sync/v1/blobs/00", "", "X-Protocol: 1\r\nRange: bytes=0-3\r\n"));
  // Keys: the admin key, the read-only key, none, tenant keys and JWTs.
  const std::string admin = "api-key: fuzz-admin-key\r\n";
  Add("fuzz_http", kKeys, Request("PUT", "/collections/named/points", upsert, admin));
  Add("fuzz_http", kKeys, Request("PUT", "/collections/named/points", upsert, "api-key: fuzz-read-key\r\n"));
  Add("fuzz_http", kKeys, Request("DELETE", "/collections/named", ""));
  Add("fuzz_http", kKeys, Request("POST", "/collections/named/points/search", search,
                                  "Authorization: Bearer fuzz-read-key\r\n"));
  Add("fuzz_http", kKeys,
      Request("PUT", "/collections/mine", R"({"vectors":{"size":2,"distance":"Dot"}})", "api-key: fuzz-tenant-key\r\n") +
          Request("PUT", "/collections/mine/points", R"({"points":[{"id":1,"vector":[1,2]}]})", "api-key: fuzz-tenant-key\r\n") +
          Request("GET", "/collections", "", "api-key: fuzz-tenant-read-key\r\n") +
          Request("DELETE", "/collections/named", "", "api-key: fuzz-tenant-key\r\n"));
  for (const std::string claims : {
           R"({"exp":4102444800,"access":"r"})",
           R"({"exp":4102444800,"access":"m","sub":"acme-user"})",
           R"({"exp":4102444800,"access":[{"collection":"named","access":"rw"}]})",
           R"({"exp":4102444800,"value_exists":{"collection":"named","matches":[{"key":"city","value":"Oslo"}]}})",
           R"({"exp":1000,"access":"m"})",
       }) {
    const std::string bearer = "Authorization: Bearer " + Jwt(claims) + "\r\n";
    Add("fuzz_http", kKeys,
        Request("PUT", "/collections/named/points", upsert, bearer) + Request("GET", "/collections", "", bearer) +
            Request("DELETE", "/collections/single", "", bearer));
  }
  // CORS.
  Add("fuzz_http", kCors,
      Request("OPTIONS", "/collections/named/points/search", "",
              "Origin: https://app.example\r\nAccess-Control-Request-Headers: api-key\r\n") +
          Request("POST", "/collections/named/points/search", search, "Origin: https://app.example\r\n"));
  // Small limits: a body and a head past them.
  Add("fuzz_http", kSmall, Request("PUT", "/collections/named/points", std::string(3000, ' ') + upsert));
  Add("fuzz_http", kSmall, Request("GET", "/collections", "", "X-Long: " + std::string(1200, 'a') + "\r\n"));
  Add("fuzz_http", kSmall | kKeys, Request("GET", "/collections", "", admin));

  // Multipart bodies (Content-Type, newline, body).
  Add("fuzz_http", kMultipart, "multipart/form-data; boundary=XyZ\n" + part.substr(0, 140) + "SNAPSHOT\r\n--XyZ--\r\n");
  Add("fuzz_http", kMultipart,
      "multipart/form-data; boundary=\"a b\"\n--a b\r\nContent-Disposition: form-data; name=\"other\"\r\n\r\nx\r\n"
      "--a b\r\nContent-Disposition: form-data; name=\"snapshot\"\r\n\r\nbytes\r\n--a b--\r\n");
  Add("fuzz_http", kMultipart, "text/plain\nplain");
  // Config files.
  Add("fuzz_http", kConfig,
      R"({"host":"127.0.0.1","port":6334,"api_key":"k","read_only_api_key":"r","jwt_rbac":true,"max_body_mb":1.5,)"
      R"("cors_origins":["*","https://a"],"durability":"batched","log_requests":false,"threads":2,)"
      R"("jwt_default_limits":{"max_points":100,"requests_per_second":5,"burst":10},)"
      R"("tenants":[{"name":"a","api_key":"ka","max_collections":2,"read_only":false},{"name":"b","jwt_subject":"s","max_points":7}]})");
  Add("fuzz_http", kConfig, R"({"port":"70000"})");
  Add("fuzz_http", kConfig, R"({"host":"0.0.0.0","allow_insecure":"true","tls_cert":"c.pem"})");
}

// ---- fuzz_sync: kind byte (fuzz_sync.cc), then a message recorded from a client's round ----

void SyncSeeds() {
  std::map<std::string, std::string> requests, responses;  // by what the path ends with
  {
    fuzz::SyncWorld w(/*with_client=*/true);
    w.transport->hook = [&](const sync::SyncRequest& request, sync::SyncResponse* response) {
      std::string kind = request.path.substr(request.path.rfind('/') + 1);
      if (request.path.find("/by-name/") != std::string::npos) kind = "by-name";
      if (!requests.count(kind)) requests[kind] = request.body;
      if (!responses.count(kind)) responses[kind] = response->body;
    };
    CHECK_OK(w.Round());
    // Local writes, pushed in a second round.
    auto c = *w.client_db->GetCollection("docs");
    PointInput p;
    p.id = PointId::Number(40);
    p.vectors[""] = {1, 2, 3};
    p.payload = R"({"city":"Pune","tags":["a"]})";
    CHECK_OK(c->Upsert(std::vector<PointInput>{p}));
    CHECK_OK(c->SetPayload(PointsSelector::Ids({PointId::Number(5)}), R"({"n":50})"));
    responses.erase("push");
    requests.erase("push");
    CHECK_OK(w.Round());
  }
  Add("fuzz_sync", 0, requests["replicas"]);
  Add("fuzz_sync", 1, responses["replicas"]);
  Add("fuzz_sync", 2, requests["by-name"]);
  Add("fuzz_sync", 3, responses["by-name"]);
  Add("fuzz_sync", 4, requests["push"]);
  Add("fuzz_sync", 5, responses["push"]);
  Add("fuzz_sync", 6, responses["pull"]);
  Add("fuzz_sync", 7, responses["snapshot"]);
  Add("fuzz_sync", 8, responses["digest"]);
  sync::ErrorBody e;
  e.error = "resync_required";
  e.reason = "cursor_too_old";
  e.message = "the cursor is below the purge watermark";
  e.snapshot = "/v1/collections/0123456789abcdef0fedcba987654321/snapshot";
  e.deleted = db::Stamp{0x0000018b00000001ull, 7};
  e.min_protocol = 1;
  Add("fuzz_sync", 9, sync::Encode(e));
  Add("fuzz_sync", 10, "cursor=0123456789abcdef0fedcba987654321:0000000000000004\nlimit=10\nmax_bytes=4096\nwait_ms=0");
  for (const char* text : {"00000000deadbeef", "0000018b000000010000000000c11e47", "0123456789abcdef0fedcba987654321",
                           "0123456789abcdef0fedcba987654321:00000000000000ff", "AACAPwAAAEAAAEBA", "AQAAAAIAAAA="}) {
    Add("fuzz_sync", 11, text);
  }
  Add("fuzz_sync", 12, responses["pull"]);
  Add("fuzz_sync", 12, R"({"epoch":"x"})");
}

}  // namespace

// Change feed records (db/feed_record.h) for fuzz_op_batch, which reads every input as one too: the ops of its
// first op batch seeds with points to reset and sync metadata set and removed. Last, so the earlier seeds keep
// their numbers.
void FeedRecordSeeds() {
  const std::vector<std::string> batches = seeds["fuzz_op_batch"];
  for (size_t i = 0; i < batches.size() && i < 3; ++i) {
    auto batch = db::DecodeOpBatch(batches[i], "seed", 0);
    CHECK_OK(batch);
    db::FeedWrite write;
    write.ops = batch->ops;
    if (i > 0) write.reset_points = {PointId::Number(3), PointId::Number(uint64_t(40 + i))};
    write.meta.emplace_back("sync.client", boost::json::value("seed-" + std::to_string(i)));
    if (i == 2) write.meta.emplace_back("sync.gone", std::nullopt);
    std::string record;
    db::EncodeFeedRecord(batch->sequence, write, &record);
    Add("fuzz_op_batch", record);
  }
}

// Query API bodies the first seeds left out (api/parse_query.cc): nearest with mmr, discover and context pairs,
// a formula, sampling, dbsf and weighted rrf fusion, order_by with start_from, a lookup, sparse and named
// vectors. Last, so the earlier seeds keep their numbers.
void QuerySeeds() {
  using api::Operation;
  const std::pair<Operation, const char*> bodies[] = {
      {Operation::kQueryPoints, R"({"query":{"nearest":[1,0,0,1,0,0,1,0],"mmr":{"diversity":0.5,"candidates_limit":10}},"using":"text","limit":3})"},
      {Operation::kQueryPoints, R"({"query":{"discover":{"target":[1,0,0,1,0,0,1,0],"context":[{"positive":1,"negative":2}]}},"using":"text","limit":2})"},
      {Operation::kQueryPoints, R"({"query":{"context":[{"positive":[1,1,1,1,1,1,1,1],"negative":3}]},"using":"text","limit":2,"with_vector":["text"]})"},
      {Operation::kQueryPoints, R"({"prefetch":{"query":[1,0,0,1,0,0,1,0],"using":"text","limit":6},"query":{"formula":{"sum":["$score",{"mult":[0.5,"n"]}]},"defaults":{"n":0}},"limit":3})"},
      {Operation::kQueryPoints, R"({"query":{"sample":"random"},"limit":2,"filter":{"must":[{"key":"n","range":{"lt":4}}]}})"},
      {Operation::kQueryPoints, R"({"prefetch":[{"query":[1,1,0,0,1,1,0,0],"using":"text","limit":4,"score_threshold":0.1},{"query":[0,1,1,0],"using":"image","limit":4}],"query":{"fusion":"dbsf"},"limit":3,"offset":1})"},
      {Operation::kQueryPoints, R"({"prefetch":[{"query":[1,1,0,0,1,1,0,0],"using":"text"},{"query":[0,1,1,0],"using":"image"}],"query":{"rrf":{"k":10,"weights":[2,1]}},"limit":3})"},
      {Operation::kQueryPoints, R"({"query":{"order_by":{"key":"n","direction":"asc","start_from":2}},"limit":3,"with_payload":["n"]})"},
      {Operation::kQueryPoints, R"({"query":{"recommend":{"positive":[[1,0,0,1,0,0,1,0]],"negative":[],"strategy":"sum_scores"}},"using":"text","limit":2})"},
      {Operation::kQueryPoints, R"({"query":"00000000-0000-4000-8000-000000000001","using":"image","limit":2,"lookup_from":{"collection":"named","vector":"image"}})"},
      {Operation::kQueryGroups, R"({"query":[1,0,0,1],"using":"image","group_by":"city","limit":2,"group_size":1,"with_lookup":{"collection":"named","with_payload":true}})"},
      {Operation::kQueryBatch, R"({"searches":[{"query":{"nearest":{"indices":[1,5],"values":[0.5,1]}},"using":"text","limit":2},{"query":[1,0,0,1],"using":"image","limit":1,"params":{"exact":true}}]})"},
  };
  auto named = [](Operation op) { return static_cast<uint8_t>(op); };  // the collection "named"
  for (const auto& [op, body] : bodies) Add("fuzz_request", named(op), body);
}

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: make_corpus <corpus folder>\n");
    return 2;
  }
  BinarySeeds();
  TextSeeds();
  HttpSeeds();
  SyncSeeds();
  FeedRecordSeeds();
  QuerySeeds();
  for (const auto& [target, list] : seeds) {
    const fs::path dir = fs::path(argv[1]) / target;
    fs::create_directories(dir);
    for (size_t i = 0; i < list.size(); ++i) {
      std::ofstream(dir / ("seed-" + std::to_string(i)), std::ios::binary) << list[i];
    }
    std::printf("%s: %zu seeds\n", target.c_str(), list.size());
  }
  return 0;
}
