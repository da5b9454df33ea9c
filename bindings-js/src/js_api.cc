#include "js_api.h"

#include <boost/json.hpp>
#include <cstdio>
#include <utility>

#include "quiver/json.h"

namespace quiver::js {
namespace {

// Integers above 2^53 - 1 lose precision as JavaScript numbers, so they travel as decimal strings.
constexpr uint64_t kMaxSafeInteger = (1ull << 53) - 1;

void AppendId(const PointId& id, std::string* out) {
  if (!id.is_uuid() && id.number() <= kMaxSafeInteger) {
    out->append(id.ToString());
  } else {
    out->push_back('"');
    out->append(id.ToString());
    out->push_back('"');
  }
}

void AppendNumber(double d, std::string* out) {
  char buf[32];
  int n = std::snprintf(buf, sizeof(buf), "%.9g", d);
  if (n > 0) out->append(buf, static_cast<size_t>(n));
}

void AppendString(std::string_view s, std::string* out) {
  out->append(boost::json::serialize(boost::json::string_view(s.data(), s.size())));
}

// Vectors as [offset, length] into `floats`: a bare pair for the unnamed vector, else an object of pairs.
void AppendVectors(const std::map<std::string, std::vector<float>>& vectors, std::vector<float>* floats,
                   std::string* out) {
  auto one = [&](const std::vector<float>& v) {
    out->push_back('[');
    AppendNumber(static_cast<double>(floats->size()), out);
    out->push_back(',');
    AppendNumber(static_cast<double>(v.size()), out);
    out->push_back(']');
    floats->insert(floats->end(), v.begin(), v.end());
  };
  if (vectors.size() == 1 && vectors.begin()->first.empty()) {
    one(vectors.begin()->second);
    return;
  }
  out->push_back('{');
  bool first = true;
  for (const auto& [name, v] : vectors) {
    if (!first) out->push_back(',');
    first = false;
    AppendString(name, out);
    out->push_back(':');
    one(v);
  }
  out->push_back('}');
}

void AppendPoint(const PointId& id, const float* score, const std::optional<std::string>& payload,
                 const std::map<std::string, std::vector<float>>& vectors, std::vector<float>* floats,
                 std::string* out) {
  out->append("{\"id\":");
  AppendId(id, out);
  if (score) {
    out->append(",\"score\":");
    AppendNumber(*score, out);
  }
  if (payload) {
    out->append(",\"payload\":");
    out->append(payload->empty() ? "{}" : *payload);
  }
  if (!vectors.empty()) {
    out->append(",\"vector\":");
    AppendVectors(vectors, floats, out);
  }
  out->push_back('}');
}

std::string RecordsJson(const std::vector<Record>& records, std::vector<float>* floats) {
  std::string out = "[";
  for (size_t i = 0; i < records.size(); ++i) {
    if (i) out.push_back(',');
    AppendPoint(records[i].id, nullptr, records[i].payload, records[i].vectors, floats, &out);
  }
  out.push_back(']');
  return out;
}

Result<PointId> IdFromJson(const boost::json::value& v, size_t index) {
  if (v.is_uint64()) return PointId::Number(v.get_uint64());
  if (v.is_int64() && v.get_int64() >= 0) return PointId::Number(static_cast<uint64_t>(v.get_int64()));
  if (v.is_double()) {
    double d = v.get_double();
    if (d >= 0 && d <= static_cast<double>(kMaxSafeInteger) && d == static_cast<double>(static_cast<uint64_t>(d))) {
      return PointId::Number(static_cast<uint64_t>(d));
    }
  }
  if (v.is_string()) {
    auto id = PointId::Parse(std::string_view(v.get_string().data(), v.get_string().size()));
    if (id.ok()) return id;
  }
  return Status::InvalidArgument("ids[" + std::to_string(index) +
                                 "]: expected an unsigned integer or a UUID, got " + boost::json::serialize(v));
}

Result<boost::json::value> ParseJson(const std::string& text, std::string_view what) {
  boost::json::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  if (ec) return Status::InvalidArgument(std::string(what) + ": malformed JSON: " + ec.message());
  return v;
}

}  // namespace

int CallState::Fail(const Status& status) {
  code_ = static_cast<int>(status.code());
  message_ = std::string(status.message());
  if (code_ == 0) code_ = static_cast<int>(StatusCode::kInternal);
  return code_;
}

// ---- JsCollection ----

std::string JsCollection::Info() {
  Begin();
  return json::CollectionInfoToJson(c_->Info());
}

std::string JsCollection::Stats() {
  Begin();
  return json::CollectionStatsToJson(c_->Stats());
}

int JsCollection::Upsert(const std::string& body) {
  Begin();
  auto points = json::ParseUpsert(body);
  if (!points.ok()) return Fail(points.status());
  return Done(c_->Upsert(*points));
}

int JsCollection::UpsertDense(const std::string& ids_json, const std::string& vector_name, uintptr_t vectors,
                              double count, double dim, const std::string& payloads_json) {
  Begin();
  const CollectionInfo info = c_->Info();
  auto params = info.config.vectors.find(vector_name);
  if (params == info.config.vectors.end()) {
    return Fail(Status::InvalidArgument("upsert: collection " + c_->name() + " has no vector named \"" +
                                        vector_name + "\""));
  }
  if (static_cast<double>(params->second.size) != dim) {
    return Fail(Status::InvalidArgument("upsert: vector has " + std::to_string(static_cast<int64_t>(dim)) +
                                        " dimensions, expected " + std::to_string(params->second.size)));
  }
  auto ids_value = ParseJson(ids_json, "ids");
  if (!ids_value.ok()) return Fail(ids_value.status());
  const boost::json::array* ids_array = ids_value->if_array();
  if (!ids_array) return Fail(Status::InvalidArgument("ids: expected an array"));
  const size_t n = static_cast<size_t>(count);
  if (ids_array->size() != n) {
    return Fail(Status::InvalidArgument("ids: " + std::to_string(ids_array->size()) + " ids for " +
                                        std::to_string(n) + " vectors"));
  }
  std::vector<PointId> ids;
  ids.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    auto id = IdFromJson((*ids_array)[i], i);
    if (!id.ok()) return Fail(id.status());
    ids.push_back(*id);
  }
  std::vector<std::string> payloads;
  if (!payloads_json.empty()) {
    auto pv = ParseJson(payloads_json, "payloads");
    if (!pv.ok()) return Fail(pv.status());
    const boost::json::array* arr = pv->if_array();
    if (!arr || arr->size() != n) {
      return Fail(Status::InvalidArgument("payloads: expected an array of " + std::to_string(n) + " objects"));
    }
    payloads.reserve(n);
    for (size_t i = 0; i < n; ++i) {
      const boost::json::value& p = (*arr)[i];
      if (p.is_null()) {
        payloads.emplace_back("{}");
      } else if (p.is_object()) {
        payloads.push_back(boost::json::serialize(p));
      } else {
        return Fail(Status::InvalidArgument("payloads[" + std::to_string(i) + "]: expected an object"));
      }
    }
  }
  return Done(c_->UpsertDense(ids, vector_name, reinterpret_cast<const float*>(vectors), n, payloads));
}

std::string JsCollection::Get(const std::string& body) {
  Begin();
  auto req = json::ParseGet(body);
  if (!req.ok()) return Fail(req.status()), "";
  auto records = c_->Get(req->ids, req->with_payload, req->with_vector);
  if (!records.ok()) return Fail(records.status()), "";
  return RecordsJson(*records, &floats_);
}

double JsCollection::Delete(const std::string& body) {
  Begin();
  auto sel = json::ParsePointsSelector(body);
  if (!sel.ok()) return Fail(sel.status()), -1;
  auto n = c_->Delete(*sel);
  if (!n.ok()) return Fail(n.status()), -1;
  return static_cast<double>(*n);
}

double JsCollection::SetPayload(const std::string& body) {
  Begin();
  auto req = json::ParseSetPayload(body);
  if (!req.ok()) return Fail(req.status()), -1;
  auto n = c_->SetPayload(req->points, req->payload);
  if (!n.ok()) return Fail(n.status()), -1;
  return static_cast<double>(*n);
}

double JsCollection::OverwritePayload(const std::string& body) {
  Begin();
  auto req = json::ParseSetPayload(body);
  if (!req.ok()) return Fail(req.status()), -1;
  auto n = c_->OverwritePayload(req->points, req->payload);
  if (!n.ok()) return Fail(n.status()), -1;
  return static_cast<double>(*n);
}

double JsCollection::DeletePayloadKeys(const std::string& body) {
  Begin();
  auto req = json::ParseDeletePayloadKeys(body);
  if (!req.ok()) return Fail(req.status()), -1;
  auto n = c_->DeletePayloadKeys(req->points, req->keys);
  if (!n.ok()) return Fail(n.status()), -1;
  return static_cast<double>(*n);
}

double JsCollection::ClearPayload(const std::string& body) {
  Begin();
  auto sel = json::ParsePointsSelector(body);
  if (!sel.ok()) return Fail(sel.status()), -1;
  auto n = c_->ClearPayload(*sel);
  if (!n.ok()) return Fail(n.status()), -1;
  return static_cast<double>(*n);
}

std::string JsCollection::ScoredJson(const std::vector<ScoredPoint>& points) {
  std::string out = "[";
  for (size_t i = 0; i < points.size(); ++i) {
    if (i) out.push_back(',');
    AppendPoint(points[i].id, &points[i].score, points[i].payload, points[i].vectors, &floats_, &out);
  }
  out.push_back(']');
  return out;
}

std::string JsCollection::Search(const std::string& body) {
  Begin();
  auto req = json::ParseSearch(body);
  if (!req.ok()) return Fail(req.status()), "";
  auto points = c_->Search(*req);
  if (!points.ok()) return Fail(points.status()), "";
  return ScoredJson(*points);
}

std::string JsCollection::SearchVector(const std::string& vector_name, uintptr_t vector, double dim,
                                       const std::string& options) {
  Begin();
  if (!has_cached_ || options != cached_options_ || vector_name != cached_name_) {
    has_cached_ = false;
    auto opts = ParseJson(options.empty() ? "{}" : options, "search");
    if (!opts.ok()) return Fail(opts.status()), "";
    boost::json::object* obj = opts->if_object();
    if (!obj) return Fail(Status::InvalidArgument("search: expected an object")), "";
    boost::json::array placeholder = {0};
    if (vector_name.empty()) {
      (*obj)["vector"] = placeholder;
    } else {
      (*obj)["vector"] = boost::json::object{{"name", vector_name}, {"vector", placeholder}};
    }
    auto req = json::ParseSearch(boost::json::serialize(*opts));
    if (!req.ok()) return Fail(req.status()), "";
    cached_request_ = std::move(*req);
    cached_options_ = options;
    cached_name_ = vector_name;
    has_cached_ = true;
  }
  const float* v = reinterpret_cast<const float*>(vector);
  cached_request_.vector.assign(v, v + static_cast<size_t>(dim));
  auto points = c_->Search(cached_request_);
  if (!points.ok()) return Fail(points.status()), "";
  return ScoredJson(*points);
}

std::string JsCollection::SearchBatch(const std::string& body) {
  Begin();
  auto reqs = json::ParseSearchBatch(body);
  if (!reqs.ok()) return Fail(reqs.status()), "";
  auto results = c_->SearchBatch(*reqs);
  if (!results.ok()) return Fail(results.status()), "";
  std::string out = "[";
  const auto& lists = *results;
  for (size_t i = 0; i < lists.size(); ++i) {
    if (i) out.push_back(',');
    out.append(ScoredJson(lists[i]));
  }
  out.push_back(']');
  return out;
}

std::string JsCollection::Recommend(const std::string& body) {
  Begin();
  auto req = json::ParseRecommend(body);
  if (!req.ok()) return Fail(req.status()), "";
  auto points = c_->Recommend(*req);
  if (!points.ok()) return Fail(points.status()), "";
  return ScoredJson(*points);
}

std::string JsCollection::Scroll(const std::string& body) {
  Begin();
  auto req = json::ParseScroll(body);
  if (!req.ok()) return Fail(req.status()), "";
  auto result = c_->Scroll(*req);
  if (!result.ok()) return Fail(result.status()), "";
  std::string out = "{\"points\":" + RecordsJson(result->points, &floats_) + ",\"next_page_offset\":";
  if (result->next_page_offset) {
    AppendId(*result->next_page_offset, &out);
  } else {
    out.append("null");
  }
  out.push_back('}');
  return out;
}

double JsCollection::Count(const std::string& body) {
  Begin();
  auto filter = json::ParseCount(body);
  if (!filter.ok()) return Fail(filter.status()), -1;
  auto n = c_->Count(*filter);
  if (!n.ok()) return Fail(n.status()), -1;
  return static_cast<double>(*n);
}

int JsCollection::CreatePayloadIndex(const std::string& body) {
  Begin();
  auto req = json::ParseCreatePayloadIndex(body);
  if (!req.ok()) return Fail(req.status());
  return Done(c_->CreatePayloadIndex(req->field, req->type));
}

int JsCollection::DeletePayloadIndex(const std::string& field) {
  Begin();
  return Done(c_->DeletePayloadIndex(field));
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
  boost::json::array out;
  for (const std::string& p : *problems) out.emplace_back(p);
  return boost::json::serialize(out);
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
  auto config = json::ParseCollectionConfig(config_json);
  if (!config.ok()) return Fail(config.status());
  return Done(db_->CreateCollection(name, *config));
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

std::string JsDatabase::ListAliases() {
  Begin();
  if (Status s = CheckOpen(); !s.ok()) return Fail(s), "";
  boost::json::array out;
  for (const auto& [alias, collection] : db_->ListAliases()) {
    out.emplace_back(boost::json::object{{"alias_name", alias}, {"collection_name", collection}});
  }
  return boost::json::serialize(out);
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
