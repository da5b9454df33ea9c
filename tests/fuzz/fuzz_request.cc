// Qdrant JSON request bodies through the request layer (quiver/api.h: api::Call, then api::Print), executed
// against a small in-memory database, plus the layer's faster paths (api::PreparedSearch, api::UpsertDense).
//
// Input: byte 0 picks the operation (api::Operation, modulo the count plus two: kOperationCount is a prepared
// search, kOperationCount + 1 a dense upsert) and, with its high bit, the collection (a named-vector one or,
// through an alias, an unnamed-vector one); the rest is the body. For get_point the body is the point id and
// for delete_field_index the field (the REST path's parts); create_collection creates "created". Reads run
// against one database made at start-up; a write gets a fresh database holding only its collection, so a crash
// reproduces from its input alone. Checks: a bad body is never Corruption; every response prints; after a
// write, every collection answers consistently (fuzz_util.h, ExerciseCollection) and passes Verify.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_util.h"
#include "quiver/api.h"

using namespace quiver;

namespace {

constexpr size_t kPreparedSearch = api::kOperationCount;
constexpr size_t kUpsertDense = api::kOperationCount + 1;
constexpr size_t kOperations = api::kOperationCount + 2;

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

// The faster paths: a search body without its vector, run with one; ids and payloads as JSON (split at the
// first newline) with three vectors' worth of floats.
Result<std::string> CallFast(Database& db, size_t op, std::string_view collection, std::string_view body) {
  QUIVER_ASSIGN_OR_RETURN(auto c, db.GetCollection(collection));
  const std::string vector_name = collection == "named" ? "text" : "";
  const uint32_t dim = c->Info().config.vectors.at(vector_name).size;
  if (op == kPreparedSearch) {
    QUIVER_ASSIGN_OR_RETURN(auto prepared, api::PreparedSearch::Parse(body, vector_name));
    std::vector<float> query(dim, 0.5f);
    QUIVER_ASSIGN_OR_RETURN(auto hits, prepared.Run(*c, query));
    std::string out;
    api::PrintScoredPoints(hits, {}, &out);
    return out;
  }
  const size_t newline = body.find('\n');
  const std::string_view ids = body.substr(0, newline);
  const std::string_view payloads = newline == std::string_view::npos ? "" : body.substr(newline + 1);
  std::vector<float> vectors(3 * dim);
  for (size_t i = 0; i < vectors.size(); ++i) vectors[i] = static_cast<float>(i % 7) - 3.0f;
  QUIVER_ASSIGN_OR_RETURN(auto response, api::UpsertDense(*c, ids, vector_name, vectors, payloads));
  return api::Print(response);
}

Result<std::string> Call(Database& db, size_t op, std::string_view collection, std::string_view body) {
  if (op >= api::kOperationCount) return CallFast(db, op, collection, body);
  const auto operation = static_cast<api::Operation>(op);
  api::Target target;
  target.collection = operation == api::Operation::kCreateCollection ? "created" : collection;
  if (operation == api::Operation::kGetPoint) {
    target.point = body;
    body = {};
  } else if (operation == api::Operation::kDeleteFieldIndex) {
    target.field = body;
    body = {};
  }
  QUIVER_ASSIGN_OR_RETURN(api::Response response, api::Call(db, operation, target, body));
  if (operation == api::Operation::kVerify) {
    FUZZ_CHECK(std::get<api::VerifyReport>(response).problems.empty());
  }
  api::PrintOptions options;
  options.big_ids_as_strings = body.size() % 2;
  std::vector<float> sink;
  if (body.size() % 3 == 0) options.vector_sink = &sink;
  return api::Print(response, options);
}

bool Writes(size_t op) {
  if (op == kPreparedSearch) return false;
  if (op == kUpsertDense) return true;
  return api::Describe(static_cast<api::Operation>(op)).writes;
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
  const size_t op = (data[0] & 0x7f) % kOperations;
  const std::string_view collection = data[0] & 0x80 ? "alias" : "named";
  const std::string_view body(reinterpret_cast<const char*>(data + 1), size - 1);
  if (!Writes(op)) {
    auto result = Call(*readable, op, collection, body);
    // A bad body is the caller's mistake, never the database's.
    if (!result.ok()) FUZZ_CHECK(!result.status().IsCorruption());
    return 0;
  }
  auto db = NewDatabase();
  AddCollection(*db, data[0] & 0x80 ? "single" : "named");
  auto result = Call(*db, op, collection, body);
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
