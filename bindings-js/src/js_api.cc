#include "js_api.h"

#include <boost/json.hpp>
#include <cstdio>
#include <utility>

#include "quiver/api.h"

namespace quiver::js {
namespace {

using api::Operation;

}  // namespace

int CallState::Fail(const Status& status) {
  code_ = static_cast<int>(status.code());
  message_ = std::string(status.message());
  if (code_ == 0) code_ = static_cast<int>(StatusCode::kInternal);
  return code_;
}

api::PrintOptions CallState::PrintOptions() {
  api::PrintOptions o;
  o.big_ids_as_strings = true;  // integers above 2^53 - 1 lose precision as JavaScript numbers
  o.omit_version = true;
  o.vector_sink = &floats_;
  return o;
}

std::string CallState::Printed(Result<api::Response> response) {
  if (!response.ok()) return Fail(response.status()), "";
  std::string out;
  api::Print(*response, PrintOptions(), &out);
  return out;
}

double CallState::Affected(Result<api::Response> response) {
  if (!response.ok()) return Fail(response.status()), -1;
  return static_cast<double>(api::AffectedPoints(*response));
}

// ---- JsCollection ----

std::string JsCollection::CallJson(Operation op, const std::string& body) {
  Begin();
  return Printed(api::Call(*c_, op, {}, body));
}

double JsCollection::CallCount(Operation op, const std::string& body) {
  Begin();
  return Affected(api::Call(*c_, op, {}, body));
}

std::string JsCollection::Info() { return CallJson(Operation::kGetCollection, ""); }
std::string JsCollection::Stats() { return CallJson(Operation::kCollectionStats, ""); }

int JsCollection::Upsert(const std::string& body) {
  Begin();
  return Done(api::Call(*c_, Operation::kUpsertPoints, {}, body).status());
}

int JsCollection::UpsertDense(const std::string& ids_json, const std::string& vector_name, uintptr_t vectors,
                              double floats, const std::string& payloads_json) {
  Begin();
  // The engine checks the float count against the ids and the vector's dimension.
  return Done(api::UpsertDense(*c_, ids_json, vector_name,
                               {reinterpret_cast<const float*>(vectors), static_cast<size_t>(floats)},
                               payloads_json)
                  .status());
}

std::string JsCollection::Get(const std::string& body) { return CallJson(Operation::kGetPoints, body); }
double JsCollection::Delete(const std::string& body) { return CallCount(Operation::kDeletePoints, body); }
double JsCollection::SetPayload(const std::string& body) { return CallCount(Operation::kSetPayload, body); }
double JsCollection::OverwritePayload(const std::string& body) { return CallCount(Operation::kOverwritePayload, body); }
double JsCollection::DeletePayloadKeys(const std::string& body) { return CallCount(Operation::kDeletePayload, body); }
double JsCollection::ClearPayload(const std::string& body) { return CallCount(Operation::kClearPayload, body); }
std::string JsCollection::Search(const std::string& body) { return CallJson(Operation::kSearchPoints, body); }

std::string JsCollection::SearchVector(const std::string& vector_name, uintptr_t vector, double dim,
                                       const std::string& options) {
  Begin();
  if (!prepared_ || options != cached_options_ || vector_name != cached_name_) {
    prepared_.reset();
    auto parsed = api::PreparedSearch::Parse(options, vector_name);
    if (!parsed.ok()) return Fail(parsed.status()), "";
    prepared_ = std::make_unique<api::PreparedSearch>(std::move(*parsed));
    cached_options_ = options;
    cached_name_ = vector_name;
  }
  auto points = prepared_->Run(*c_, {reinterpret_cast<const float*>(vector), static_cast<size_t>(dim)});
  if (!points.ok()) return Fail(points.status()), "";
  std::string out;
  api::PrintScoredPoints(*points, PrintOptions(), &out);
  return out;
}

std::string JsCollection::SearchBatch(const std::string& body) { return CallJson(Operation::kSearchBatch, body); }
std::string JsCollection::Recommend(const std::string& body) { return CallJson(Operation::kRecommendPoints, body); }
std::string JsCollection::Scroll(const std::string& body) { return CallJson(Operation::kScrollPoints, body); }
double JsCollection::Count(const std::string& body) { return CallCount(Operation::kCountPoints, body); }

int JsCollection::CreatePayloadIndex(const std::string& body) {
  Begin();
  return Done(api::Call(*c_, Operation::kCreateFieldIndex, {}, body).status());
}

int JsCollection::DeletePayloadIndex(const std::string& field) {
  Begin();
  return Done(api::Call(*c_, Operation::kDeleteFieldIndex, {.field = field}, "").status());
}

int JsCollection::Optimize() {
  Begin();
  return Done(c_->Optimize());
}

int JsCollection::CreateSnapshot() {
  Begin();
  auto snap = c_->CreateSnapshot();
  if (!snap.ok()) return Fail(snap.status());
  bytes_ = std::move(*snap);
  return 0;
}

std::string JsCollection::Verify() {
  Begin();
  auto problems = c_->Verify();
  if (!problems.ok()) return Fail(problems.status()), "";
  auto printed = api::Print(api::Response(api::VerifyReport{std::move(*problems)}));
  // {"problems":[...]} -> [...]
  const size_t open = printed.find('[');
  return printed.substr(open, printed.size() - open - 1);
}

// ---- JsDatabase ----

Status JsDatabase::CheckOpen() const {
  return db_ ? Status::OK() : Status::FailedPrecondition("the database is closed");
}

int JsDatabase::Open(const std::string& path, bool read_only, int durability, double segment_points,
                     double replica_id) {
  Begin();
  if (db_) return Fail(Status::FailedPrecondition("the database is already open"));
  DatabaseOptions o;
  o.path = path;
  o.read_only = read_only;
  if (durability < 0 || durability > 2) return Fail(Status::InvalidArgument("durability: expected 0, 1 or 2"));
  o.durability = static_cast<Durability>(durability);
  if (segment_points > 0) o.segment_points = static_cast<size_t>(segment_points);
  if (replica_id > 0) o.replica_id = static_cast<uint64_t>(replica_id);
  auto db = Database::Open(o);
  if (!db.ok()) return Fail(db.status());
  db_ = std::move(*db);
  return 0;
}

int JsDatabase::Close() {
  Begin();
  if (!db_) return 0;
  Status s = db_->Close();
  db_.reset();
  return Done(s);
}

int JsDatabase::Flush() {
  Begin();
  if (Status s = CheckOpen(); !s.ok()) return Fail(s);
  return Done(db_->Flush());
}

std::string JsDatabase::ReplicaId() {
  Begin();
  return db_ ? std::to_string(db_->replica_id()) : "";
}

int JsDatabase::CreateCollection(const std::string& name, const std::string& config_json) {
  Begin();
  if (Status s = CheckOpen(); !s.ok()) return Fail(s);
  return Done(api::Call(*db_, api::Operation::kCreateCollection, {.collection = name}, config_json).status());
}

int JsDatabase::DeleteCollection(const std::string& name) {
  Begin();
  if (Status s = CheckOpen(); !s.ok()) return Fail(s);
  return Done(db_->DeleteCollection(name));
}

std::string JsDatabase::ListCollections() {
  Begin();
  if (Status s = CheckOpen(); !s.ok()) return Fail(s), "";
  boost::json::array out;
  for (const std::string& name : db_->ListCollections()) out.emplace_back(name);
  return boost::json::serialize(out);
}

bool JsDatabase::CollectionExists(const std::string& name) {
  Begin();
  return db_ && db_->CollectionExists(name);
}

JsCollection* JsDatabase::GetCollection(const std::string& name) {
  Begin();
  if (Status s = CheckOpen(); !s.ok()) return Fail(s), nullptr;
  auto c = db_->GetCollection(name);
  if (!c.ok()) return Fail(c.status()), nullptr;
  return new JsCollection(std::move(*c));
}

int JsDatabase::RestoreSnapshot(const std::string& name, uintptr_t data, double size) {
  Begin();
  if (Status s = CheckOpen(); !s.ok()) return Fail(s);
  return Done(db_->RestoreSnapshot(
      name, std::string_view(reinterpret_cast<const char*>(data), static_cast<size_t>(size))));
}

int JsDatabase::CreateAlias(const std::string& alias, const std::string& collection) {
  Begin();
  if (Status s = CheckOpen(); !s.ok()) return Fail(s);
  return Done(db_->CreateAlias(alias, collection));
}

int JsDatabase::DeleteAlias(const std::string& alias) {
  Begin();
  if (Status s = CheckOpen(); !s.ok()) return Fail(s);
  return Done(db_->DeleteAlias(alias));
}

std::string JsDatabase::Repair(const std::string& name) {
  Begin();
  if (Status s = CheckOpen(); !s.ok()) return Fail(s), "";
  return Printed(api::Call(*db_, api::Operation::kRepairCollection, {.collection = name}, ""));
}

std::string JsDatabase::ListAliases() {
  Begin();
  if (Status s = CheckOpen(); !s.ok()) return Fail(s), "";
  auto aliases = api::Call(*db_, api::Operation::kListAliases, {}, "");
  if (!aliases.ok()) return Fail(aliases.status()), "";
  // {"aliases":[...]} -> [...]
  std::string printed = api::Print(*aliases);
  const size_t open = printed.find('[');
  return printed.substr(open, printed.size() - open - 1);
}

std::string JsDatabase::Query(const std::string& name, int kind, const std::string& body) {
  Begin();
  if (Status s = CheckOpen(); !s.ok()) return Fail(s), "";
  static constexpr api::Operation kKinds[] = {api::Operation::kQueryPoints, api::Operation::kQueryBatch,
                                              api::Operation::kQueryGroups};
  if (kind < 0 || kind > 2) return Fail(Status::InvalidArgument("query: unknown kind")), "";
  return Printed(api::Call(*db_, kKinds[kind], {.collection = name}, body));
}

std::string SimdIsa() {
  auto db = Database::Open();
  if (!db.ok()) return "";
  CollectionConfig config;
  config.vectors[""] = VectorParams{4, Distance::kDot, IndexKind::kFlat, std::nullopt, std::nullopt};
  if (!(*db)->CreateCollection("probe", config).ok()) return "";
  auto c = (*db)->GetCollection("probe");
  return c.ok() ? (*c)->Stats().simd : "";
}

}  // namespace quiver::js
