// Qdrant JSON request bodies, parsed and executed against a small in-memory database.
//
// Input: byte 0 picks the operation (api::Operation, modulo the count) and, with its high bit, the collection
// (a named-vector one or, through an alias, an unnamed-vector one); the rest is the body. Reads run against one
// database made at start-up; a write gets a fresh database holding only its collection, so a crash reproduces
// from its input alone. After a write, the collection must still answer consistently (fuzz_util.h,
// ExerciseCollection) and pass Verify.
//
// Call() below stands in for api::Call (quiver/api.h) until the request layer lands; switching means deleting
// it and Writes() (api::Describe(op).writes) and printing the response with api::Print.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "fuzz_util.h"
#include "quiver/api.h"
#include "quiver/json.h"

using namespace quiver;

namespace {

// Parses `body` for `op` with the quiver::json parsers, runs it and returns the printed result.
Result<std::string> Call(Database& db, api::Operation op, std::string_view collection, std::string_view body) {
  using Op = api::Operation;
  switch (op) {
    case Op::kListCollections: {
      std::string out;
      for (const std::string& n : db.ListCollections()) out += n + ",";
      return out;
    }
    case Op::kCreateCollection: {
      QUIVER_ASSIGN_OR_RETURN(CollectionConfig config, json::ParseCollectionConfig(body));
      // What a config prints as parses back to the same config.
      const std::string printed = json::CollectionConfigToJson(config);
      auto again = json::ParseCollectionConfig(printed);
      FUZZ_CHECK_OK(again);
      FUZZ_CHECK(json::CollectionConfigToJson(*again) == printed);
      QUIVER_RETURN_IF_ERROR(db.CreateCollection("created", config));
      QUIVER_ASSIGN_OR_RETURN(auto c, db.GetCollection("created"));
      return json::CollectionInfoToJson(c->Info());
    }
    case Op::kDeleteCollection:
      QUIVER_RETURN_IF_ERROR(db.DeleteCollection(body));
      return std::string("true");
    case Op::kCollectionExists:
      return std::string(db.CollectionExists(body) ? "true" : "false");
    default:
      break;
  }
  QUIVER_ASSIGN_OR_RETURN(auto c, db.GetCollection(collection));
  switch (op) {
    case Op::kGetCollection:
      return json::CollectionInfoToJson(c->Info());
    case Op::kUpsertPoints: {
      QUIVER_ASSIGN_OR_RETURN(auto points, json::ParseUpsert(body));
      QUIVER_RETURN_IF_ERROR(c->Upsert(points));
      return std::string("true");
    }
    case Op::kGetPoint: {
      QUIVER_ASSIGN_OR_RETURN(PointId id, PointId::Parse(body));
      QUIVER_ASSIGN_OR_RETURN(auto records, c->Get({&id, 1}, PayloadSelector::All(), VectorSelector::All()));
      return json::RecordsToJson(records);
    }
    case Op::kGetPoints: {
      QUIVER_ASSIGN_OR_RETURN(auto req, json::ParseGet(body));
      QUIVER_ASSIGN_OR_RETURN(auto records, c->Get(req.ids, req.with_payload, req.with_vector));
      return json::RecordsToJson(records);
    }
    case Op::kDeletePoints: {
      QUIVER_ASSIGN_OR_RETURN(auto sel, json::ParsePointsSelector(body));
      QUIVER_ASSIGN_OR_RETURN(size_t n, c->Delete(sel));
      return std::to_string(n);
    }
    case Op::kSetPayload:
    case Op::kOverwritePayload: {
      QUIVER_ASSIGN_OR_RETURN(auto req, json::ParseSetPayload(body));
      QUIVER_ASSIGN_OR_RETURN(size_t n, op == Op::kSetPayload ? c->SetPayload(req.points, req.payload)
                                                              : c->OverwritePayload(req.points, req.payload));
      return std::to_string(n);
    }
    case Op::kDeletePayload: {
      QUIVER_ASSIGN_OR_RETURN(auto req, json::ParseDeletePayloadKeys(body));
      QUIVER_ASSIGN_OR_RETURN(size_t n, c->DeletePayloadKeys(req.points, req.keys));
      return std::to_string(n);
    }
    case Op::kClearPayload: {
      QUIVER_ASSIGN_OR_RETURN(auto sel, json::ParsePointsSelector(body));
      QUIVER_ASSIGN_OR_RETURN(size_t n, c->ClearPayload(sel));
      return std::to_string(n);
    }
    case Op::kScrollPoints: {
      QUIVER_ASSIGN_OR_RETURN(auto req, json::ParseScroll(body));
      QUIVER_ASSIGN_OR_RETURN(auto result, c->Scroll(req));
      FUZZ_CHECK(result.points.size() <= req.limit);
      return json::ScrollResultToJson(result);
    }
    case Op::kCountPoints: {
      QUIVER_ASSIGN_OR_RETURN(std::string filter, json::ParseCount(body));
      QUIVER_ASSIGN_OR_RETURN(size_t n, c->Count(filter));
      return std::to_string(n);
    }
    case Op::kSearchPoints: {
      QUIVER_ASSIGN_OR_RETURN(auto req, json::ParseSearch(body));
      QUIVER_ASSIGN_OR_RETURN(auto hits, c->Search(req));
      FUZZ_CHECK(hits.size() <= req.limit);
      return json::ScoredPointsToJson(hits);
    }
    case Op::kSearchBatch: {
      QUIVER_ASSIGN_OR_RETURN(auto reqs, json::ParseSearchBatch(body));
      QUIVER_ASSIGN_OR_RETURN(auto hits, c->SearchBatch(reqs));
      FUZZ_CHECK(hits.size() == reqs.size());
      std::string out;
      for (const auto& h : hits) out += json::ScoredPointsToJson(h);
      return out;
    }
    case Op::kRecommendPoints:
    case Op::kRecommendBatch: {
      QUIVER_ASSIGN_OR_RETURN(auto req, json::ParseRecommend(body));
      QUIVER_ASSIGN_OR_RETURN(auto hits, c->Recommend(req));
      FUZZ_CHECK(hits.size() <= req.limit);
      return json::ScoredPointsToJson(hits);
    }
    case Op::kCreateFieldIndex: {
      QUIVER_ASSIGN_OR_RETURN(auto req, json::ParseCreatePayloadIndex(body));
      QUIVER_RETURN_IF_ERROR(c->CreatePayloadIndex(req.field, req.type));
      return std::string("true");
    }
    case Op::kDeleteFieldIndex:
      QUIVER_RETURN_IF_ERROR(c->DeletePayloadIndex(body));
      return std::string("true");
    case Op::kOptimize:
      QUIVER_RETURN_IF_ERROR(c->Optimize());
      return std::string("true");
    case Op::kCollectionStats:
      return json::CollectionStatsToJson(c->Stats());
    case Op::kVerify: {
      QUIVER_ASSIGN_OR_RETURN(auto problems, c->Verify());
      FUZZ_CHECK(problems.empty());
      return std::string("[]");
    }
    default:
      return Status::NotSupported("operation not yet in the fuzz target");
  }
}

bool Writes(api::Operation op) {
  using Op = api::Operation;
  switch (op) {
    case Op::kCreateCollection: case Op::kUpdateCollection: case Op::kDeleteCollection: case Op::kUpdateAliases:
    case Op::kUpsertPoints: case Op::kDeletePoints: case Op::kSetPayload: case Op::kOverwritePayload:
    case Op::kDeletePayload: case Op::kClearPayload: case Op::kBatchUpdate: case Op::kCreateFieldIndex:
    case Op::kDeleteFieldIndex: case Op::kOptimize:
      return true;
    default:
      return false;
  }
}

// "named" (fuzz::SeedConfig), or "single" (one unnamed 4-d Dot vector) with the alias "alias".
void AddCollection(Database& db, std::string_view name) {
  if (name == "named") {
    FUZZ_CHECK_OK(db.CreateCollection("named", fuzz::SeedConfig()));
  } else {
    CollectionConfig single;
    single.vectors[""] = VectorParams{4, Distance::kDot};
    FUZZ_CHECK_OK(db.CreateCollection("single", single));
    FUZZ_CHECK_OK(db.CreateAlias("alias", "single"));
  }
  auto c = *db.GetCollection(name);
  FUZZ_CHECK_OK(c->CreatePayloadIndex("city", "keyword"));
  FUZZ_CHECK_OK(c->CreatePayloadIndex("n", "integer"));
  std::vector<PointInput> points;
  for (int i = 0; i < 8; ++i) {
    PointInput p;
    p.id = PointId::Number(static_cast<uint64_t>(i));
    if (name == "named") {
      p.vectors["text"] = {float(i % 3), 1, 0, float(i % 5), 0, 1, 0, 2};
      if (i % 2) p.vectors["image"] = {float(i), 0, 1, 0};
    } else {
      p.vectors[""] = {float(i % 3), 1, float(i % 5), 0.5f};
    }
    p.payload = R"({"city":")" + std::string(i % 2 ? "Oslo" : "Lima") + R"(","n":)" + std::to_string(i) +
                R"(,"tags":["a","b"],"obj":{"x":[1,2,{"y":null}]}})";
    points.push_back(std::move(p));
  }
  FUZZ_CHECK_OK(c->Upsert(points));
}

std::unique_ptr<Database> NewDatabase() {
  DatabaseOptions o;
  o.replica_id = 7;
  auto wall = std::make_shared<uint64_t>(1'767'225'600'000ull);
  o.wall_clock_ms = [wall] { return (*wall) += 3; };
  return std::move(*Database::Open(o));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Database* readable = [] {
    Database* db = NewDatabase().release();
    AddCollection(*db, "named");
    AddCollection(*db, "single");
    return db;
  }();
  if (size < 1) return 0;
  const auto op = static_cast<api::Operation>(data[0] % api::kOperationCount);
  const std::string_view collection = data[0] & 0x80 ? "alias" : "named";
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  if (!Writes(op)) {
    auto result = Call(*readable, op, collection, body);
    if (!result.ok()) FUZZ_CHECK(!result.status().IsCorruption());
    return 0;
  }
  auto db = NewDatabase();
  AddCollection(*db, data[0] & 0x80 ? "single" : "named");
  auto result = Call(*db, op, collection, body);
  // A bad body is the caller's mistake, never the database's.
  if (!result.ok()) FUZZ_CHECK(!result.status().IsCorruption());
  for (const std::string& name : db->ListCollections()) {
    auto c = db->GetCollection(name);
    FUZZ_CHECK_OK(c);
    fuzz::ExerciseCollection(**c, /*check_filters=*/true);
    auto problems = (*c)->Verify();
    FUZZ_CHECK(problems.ok() && problems->empty());
  }
  return 0;
}
