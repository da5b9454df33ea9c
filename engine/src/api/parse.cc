// ParseRequest: each operation's body, read once into its typed request (request.h).
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "api/body_reader.h"
#include "api/json_names.h"
#include "api/request.h"
#include "db/config_json.h"
#include "payload/payload_index.h"
#include "payload/json_util.h"

namespace quiver::api {
namespace {

// ---- Collections and aliases ----

Result<Request> ParseCreateCollection(const json::value& body) {
  QUIVER_ASSIGN_OR_RETURN(CollectionConfig config, db::ConfigFromJson(body, "create_collection"));
  return Request(CreateCollectionRequest{std::move(config)});
}

Result<HnswUpdate> ReadHnswUpdate(const json::value& v, const std::string& path) {
  QUIVER_ASSIGN_OR_RETURN(const json::object* o, payload::ReadObject(v, path));
  QUIVER_RETURN_IF_ERROR(CheckKeys(*o, {"m", "ef_construct", "full_scan_threshold", "max_indexing_threads",
                                        "on_disk", "payload_m", "inline_storage"},
                                   path));
  HnswUpdate h;
  if (const json::value* x = Find(*o, "m")) {
    QUIVER_ASSIGN_OR_RETURN(uint64_t m, payload::ReadUint(*x, Member(path, "m"), 2, 128));
    h.m = static_cast<uint32_t>(m);
  }
  if (const json::value* x = Find(*o, "ef_construct")) {
    QUIVER_ASSIGN_OR_RETURN(uint64_t e, payload::ReadUint(*x, Member(path, "ef_construct"), 4, 1u << 20));
    h.ef_construct = static_cast<uint32_t>(e);
  }
  if (const json::value* x = Find(*o, "full_scan_threshold")) {
    QUIVER_ASSIGN_OR_RETURN(uint64_t t, payload::ReadUint(*x, Member(path, "full_scan_threshold"), 0, 1u << 30));
    h.full_scan_threshold_kb = static_cast<uint32_t>(t);
  }
  return h;
}

Result<QuantizationUpdate> ReadQuantizationUpdate(const json::value& v, const std::string& path) {
  if (const json::string* s = v.if_string(); s && *s == "Disabled") return QuantizationUpdate{};
  QUIVER_ASSIGN_OR_RETURN(const json::object* o, payload::ReadObject(v, path));
  if (o->size() == 1 && o->contains("disabled")) return QuantizationUpdate{};  // tolerated spelling
  json::object wrapped{{"quantization_config", *o}};
  json::value config{{"vectors", {{"size", 1}, {"distance", "Dot"}}}, {"quantization_config", *o}};
  auto parsed = db::ConfigFromJson(config, "");
  if (!parsed.ok()) {
    std::string m(parsed.status().message());
    // ConfigFromJson names the part from its own root: ".quantization_config.scalar.type: ...".
    if (auto pos = m.find("quantization_config"); pos != std::string::npos) m = m.substr(pos + 19);
    return Status::InvalidArgument(path + m);
  }
  return QuantizationUpdate{parsed->quantization};
}

Result<Request> ParseUpdateCollection(const json::value& body) {
  const std::string path = "update_collection";
  const json::object& o = body.get_object();
  QUIVER_RETURN_IF_ERROR(CheckKeys(o, {"vectors", "optimizers_config", "params", "hnsw_config",
                                       "quantization_config", "sparse_vectors", "strict_mode_config", "metadata"},
                                   path));
  UpdateCollectionRequest r;
  if (const json::value* v = Find(o, "hnsw_config")) {
    QUIVER_ASSIGN_OR_RETURN(r.update.hnsw, ReadHnswUpdate(*v, Member(path, "hnsw_config")));
  }
  if (const json::value* v = Find(o, "quantization_config")) {
    QUIVER_ASSIGN_OR_RETURN(r.update.quantization, ReadQuantizationUpdate(*v, Member(path, "quantization_config")));
  }
  if (const json::value* v = Find(o, "vectors")) {
    const std::string vp = Member(path, "vectors");
    QUIVER_ASSIGN_OR_RETURN(const json::object* vo, payload::ReadObject(*v, vp));
    for (const auto& kv : *vo) {
      const std::string p = Member(vp, kv.key());
      QUIVER_ASSIGN_OR_RETURN(const json::object* d, payload::ReadObject(kv.value(), p));
      QUIVER_RETURN_IF_ERROR(CheckKeys(*d, {"hnsw_config", "quantization_config", "on_disk"}, p));
      VectorUpdate& u = r.update.vectors[std::string(kv.key())];
      if (const json::value* h = Find(*d, "hnsw_config")) {
        QUIVER_ASSIGN_OR_RETURN(u.hnsw, ReadHnswUpdate(*h, Member(p, "hnsw_config")));
      }
      if (const json::value* q = Find(*d, "quantization_config")) {
        QUIVER_ASSIGN_OR_RETURN(u.quantization, ReadQuantizationUpdate(*q, Member(p, "quantization_config")));
      }
    }
  }
  if (const json::value* v = Find(o, "sparse_vectors")) {
    QUIVER_ASSIGN_OR_RETURN(const json::object* so, payload::ReadObject(*v, Member(path, "sparse_vectors")));
    if (!so->empty()) {
      return Status::NotSupported(Member(path, "sparse_vectors") +
                                  ": changing the sparse vectors of an existing collection is not supported");
    }
  }
  // optimizers_config, params, strict_mode_config and metadata tune or describe a Qdrant cluster; they are
  // accepted and have no effect on one Quiver node (docs/server.md).
  for (std::string_view key : {"optimizers_config", "params", "strict_mode_config", "metadata"}) {
    if (const json::value* v = Find(o, key)) QUIVER_RETURN_IF_ERROR(payload::ReadObject(*v, Member(path, key)).status());
  }
  return Request(std::move(r));
}

Result<Request> ParseUpdateAliases(const json::value& body) {
  const std::string path = "update_aliases";
  const json::object& o = body.get_object();
  QUIVER_RETURN_IF_ERROR(CheckKeys(o, {"actions"}, path));
  const json::value* actions = Find(o, "actions");
  if (!actions) return BadField(path, "missing 'actions'");
  QUIVER_ASSIGN_OR_RETURN(const json::array* list, payload::ReadArray(*actions, Member(path, "actions")));
  UpdateAliasesRequest r;
  for (size_t i = 0; i < list->size(); ++i) {
    const std::string p = Element(Member(path, "actions"), i);
    QUIVER_ASSIGN_OR_RETURN(const json::object* a, payload::ReadObject((*list)[i], p));
    if (a->size() != 1) return BadField(p, "expected one of create_alias, delete_alias, rename_alias");
    const std::string kind(a->begin()->key());
    const std::string kp = Member(p, kind);
    QUIVER_ASSIGN_OR_RETURN(const json::object* args, payload::ReadObject(a->begin()->value(), kp));
    AliasAction action;
    auto str = [&](std::string_view key, std::string* out) -> Status {
      const json::value* v = Find(*args, key);
      if (!v) return BadField(kp, "missing '" + std::string(key) + "'");
      QUIVER_ASSIGN_OR_RETURN(*out, payload::ReadString(*v, Member(kp, key)));
      return Status::OK();
    };
    if (kind == "create_alias") {
      QUIVER_RETURN_IF_ERROR(CheckKeys(*args, {"collection_name", "alias_name"}, kp));
      action.kind = AliasAction::Kind::kCreate;
      QUIVER_RETURN_IF_ERROR(str("collection_name", &action.collection));
      QUIVER_RETURN_IF_ERROR(str("alias_name", &action.alias));
    } else if (kind == "delete_alias") {
      QUIVER_RETURN_IF_ERROR(CheckKeys(*args, {"alias_name"}, kp));
      action.kind = AliasAction::Kind::kDelete;
      QUIVER_RETURN_IF_ERROR(str("alias_name", &action.alias));
    } else if (kind == "rename_alias") {
      QUIVER_RETURN_IF_ERROR(CheckKeys(*args, {"old_alias_name", "new_alias_name"}, kp));
      action.kind = AliasAction::Kind::kRename;
      QUIVER_RETURN_IF_ERROR(str("old_alias_name", &action.alias));
      QUIVER_RETURN_IF_ERROR(str("new_alias_name", &action.new_alias));
    } else {
      return BadField(p, "unknown action '" + kind + "' (create_alias, delete_alias or rename_alias)");
    }
    r.actions.push_back(std::move(action));
  }
  return Request(std::move(r));
}

// ---- Points: writes ----

Result<UpsertRequest> ReadUpsert(json::object& o, const std::string& path) {
  QUIVER_RETURN_IF_ERROR(CheckKeys(o, {"points", "batch", "shard_key", "update_filter", "update_mode"}, path));
  if (o.contains("points") && o.contains("batch")) return BadField(path, "give either 'points' or 'batch', not both");
  UpsertRequest r;
  QUIVER_RETURN_IF_ERROR(ReadUpsertPoints(o, path, &r.points));
  if (const json::value* f = Find(o, "update_filter")) {
    const std::string fp = Member(path, "update_filter");
    if (!f->is_object()) return BadField(fp, "expected an object");
    QUIVER_ASSIGN_OR_RETURN(payload::Filter uf, payload::ParseFilter(*f, fp));
    r.condition.update_filter = std::move(uf);
  }
  if (const json::value* m = Find(o, "update_mode")) {
    const std::string mp = Member(path, "update_mode");
    QUIVER_ASSIGN_OR_RETURN(std::string mode, payload::ReadString(*m, mp));
    if (mode == "upsert") {
      r.condition.mode = db::UpsertMode::kUpsert;
    } else if (mode == "insert_only") {
      r.condition.mode = db::UpsertMode::kInsertOnly;
    } else if (mode == "update_only") {
      r.condition.mode = db::UpsertMode::kUpdateOnly;
    } else {
      return BadField(mp, "expected \"upsert\", \"insert_only\" or \"update_only\"");
    }
  }
  return r;
}

Result<PayloadWriteRequest> ReadPayloadWrite(json::object& o, const std::string& path) {
  QUIVER_RETURN_IF_ERROR(CheckKeys(o, {"payload", "points", "filter", "shard_key", "key"}, path));
  if (Find(o, "key")) {
    return Status::NotSupported(Member(path, "key") +
                                ": setting the payload under a nested key is not supported; set the top-level key");
  }
  PayloadWriteRequest r;
  json::value* payload = o.if_contains("payload");
  if (!payload || payload->is_null()) return BadField(path, "missing 'payload'");
  QUIVER_ASSIGN_OR_RETURN(r.payload, TakePayload(*payload, Member(path, "payload")));
  QUIVER_ASSIGN_OR_RETURN(r.points, ReadSelector(o, path));
  return r;
}

Result<DeletePayloadRequest> ReadDeletePayload(const json::object& o, const std::string& path) {
  QUIVER_RETURN_IF_ERROR(CheckKeys(o, {"keys", "points", "filter", "shard_key"}, path));
  DeletePayloadRequest r;
  const json::value* keys = Find(o, "keys");
  if (!keys) return BadField(path, "missing 'keys'");
  QUIVER_ASSIGN_OR_RETURN(r.keys, payload::ReadStrings(*keys, Member(path, "keys")));
  for (size_t i = 0; i < r.keys.size(); ++i) {
    Status s = payload::ValidateKeyPath(r.keys[i]);
    if (!s.ok()) return BadField(Element(Member(path, "keys"), i), s.message());
  }
  QUIVER_ASSIGN_OR_RETURN(r.points, ReadSelector(o, path));
  return r;
}

Result<Selector> ReadSelectorBody(const json::object& o, const std::string& path) {
  QUIVER_RETURN_IF_ERROR(CheckKeys(o, {"points", "filter", "shard_key"}, path));
  return ReadSelector(o, path);
}

Result<Request> ParseBatchUpdate(json::value& body) {
  const std::string path = "batch_update";
  json::object& o = body.get_object();
  QUIVER_RETURN_IF_ERROR(CheckKeys(o, {"operations"}, path));
  json::value* ops = o.if_contains("operations");
  if (!ops || !ops->is_array()) return BadField(path, "expected 'operations': [...]");
  BatchUpdateRequest r;
  json::array& list = ops->get_array();
  r.operations.resize(list.size());
  for (size_t i = 0; i < list.size(); ++i) {
    const std::string p = Element(Member(path, "operations"), i);
    json::object* op = list[i].if_object();
    if (!op || op->size() != 1) {
      return BadField(p, "expected one of upsert, delete, set_payload, overwrite_payload, delete_payload, "
                         "clear_payload");
    }
    const std::string kind(op->begin()->key());
    const std::string kp = Member(p, kind);
    json::object* args = op->begin()->value().if_object();
    if (!args) return BadField(kp, "expected an object");
    BatchOperation& b = r.operations[i];
    if (kind == "upsert") {
      b.kind = BatchOperation::Kind::kUpsert;
      QUIVER_ASSIGN_OR_RETURN(b.upsert, ReadUpsert(*args, kp));
    } else if (kind == "delete") {
      b.kind = BatchOperation::Kind::kDelete;
      QUIVER_ASSIGN_OR_RETURN(b.points, ReadSelectorBody(*args, kp));
    } else if (kind == "set_payload" || kind == "overwrite_payload") {
      b.kind = kind == "set_payload" ? BatchOperation::Kind::kSetPayload : BatchOperation::Kind::kOverwritePayload;
      QUIVER_ASSIGN_OR_RETURN(PayloadWriteRequest w, ReadPayloadWrite(*args, kp));
      b.points = std::move(w.points);
      b.payload = std::move(w.payload);
    } else if (kind == "delete_payload") {
      b.kind = BatchOperation::Kind::kDeletePayload;
      QUIVER_ASSIGN_OR_RETURN(DeletePayloadRequest d, ReadDeletePayload(*args, kp));
      b.points = std::move(d.points);
      b.keys = std::move(d.keys);
    } else if (kind == "clear_payload") {
      b.kind = BatchOperation::Kind::kClearPayload;
      QUIVER_ASSIGN_OR_RETURN(b.points, ReadSelectorBody(*args, kp));
    } else if (kind == "update_vectors" || kind == "delete_vectors") {
      return Status::NotSupported(kp + ": updating or deleting single vectors of a point is not supported; "
                                       "upsert the point");
    } else {
      return BadField(p, "unknown operation '" + kind + "'");
    }
  }
  return Request(std::move(r));
}

// ---- Points: reads ----

Result<Request> ParseGetPoints(const json::value& body) {
  const std::string path = "get_points";
  const json::object& o = body.get_object();
  QUIVER_RETURN_IF_ERROR(CheckKeys(o, {"ids", "with_payload", "with_vector", "with_vectors", "shard_key", "consistency"}, path));
  GetPointsRequest r;
  const json::value* ids = Find(o, "ids");
  if (!ids) return BadField(path, "missing 'ids'");
  QUIVER_ASSIGN_OR_RETURN(r.ids, payload::ReadPointIds(*ids, Member(path, "ids")));
  QUIVER_ASSIGN_OR_RETURN(r.with_payload, ReadWithPayload(o, PayloadSelector::All(), path));
  QUIVER_ASSIGN_OR_RETURN(r.with_vector, ReadWithVector(o, path));
  return Request(std::move(r));
}

Result<Request> ParseScroll(const json::value& body) {
  const std::string path = "scroll";
  const json::object& o = body.get_object();
  QUIVER_RETURN_IF_ERROR(CheckKeys(o, {"filter", "limit", "offset", "with_payload", "with_vector", "with_vectors",
                                       "order_by", "shard_key", "consistency"},
                                   path));
  if (Find(o, "order_by")) {
    return Status::NotSupported(Member(path, "order_by") + ": ordering a scroll by a payload field is not supported");
  }
  ScrollPointsRequest r;
  QUIVER_ASSIGN_OR_RETURN(r.filter, ReadFilter(o, path));
  QUIVER_ASSIGN_OR_RETURN(r.request.limit, ReadLimit(o, 10, path));
  if (const json::value* off = Find(o, "offset")) {
    QUIVER_ASSIGN_OR_RETURN(PointId id, payload::ReadPointId(*off, Member(path, "offset")));
    r.request.offset = id;
  }
  QUIVER_ASSIGN_OR_RETURN(r.request.with_payload, ReadWithPayload(o, PayloadSelector::All(), path));
  QUIVER_ASSIGN_OR_RETURN(r.request.with_vector, ReadWithVector(o, path));
  return Request(std::move(r));
}

Result<Request> ParseCount(const json::value& body) {
  const std::string path = "count";
  const json::object& o = body.get_object();
  QUIVER_RETURN_IF_ERROR(CheckKeys(o, {"filter", "exact", "shard_key"}, path));
  if (const json::value* e = Find(o, "exact")) QUIVER_RETURN_IF_ERROR(payload::ReadBool(*e, Member(path, "exact")).status());
  CountPointsRequest r;
  QUIVER_ASSIGN_OR_RETURN(r.filter, ReadFilter(o, path));
  return Request(std::move(r));
}

// `kept`: the parse that kept the body's "vector" out of its tree (json_parse.h), if any.
Result<SearchPointsRequest> ReadSearch(const json::object& o, const std::string& path, bool with_vector_required,
                                       const payload::KeptNumbers* kept = nullptr) {
  QUIVER_RETURN_IF_ERROR(CheckKeys(o, {"vector", "filter", "limit", "offset", "with_payload", "with_vector",
                                       "with_vectors", "score_threshold", "params", "shard_key", "consistency"},
                                   path));
  SearchPointsRequest r;
  SearchRequest& s = r.request;
  if (const json::value* v = Find(o, "vector")) {
    const std::string vp = Member(path, "vector");
    if (v->is_array() || (kept != nullptr && kept->Find(*v) != nullptr)) {
      QUIVER_ASSIGN_OR_RETURN(s.vector, payload::ReadVector(*v, vp, kept));
    } else if (const json::object* named = v->if_object()) {
      if (IsBareSparseVector(*v) || IsBareDocument(*v)) {
        return BadField(vp, "a sparse vector or document is searched by name: give {\"name\": ..., \"vector\": "
                            "{\"indices\": ..., \"values\": ...}}");
      }
      QUIVER_RETURN_IF_ERROR(CheckKeys(*named, {"name", "vector"}, vp));
      const json::value* name = Find(*named, "name");
      const json::value* values = Find(*named, "vector");
      if (!name || !values) return BadField(vp, "expected {\"name\": ..., \"vector\": [...]}");
      QUIVER_ASSIGN_OR_RETURN(s.vector_name, payload::ReadString(*name, Member(vp, "name")));
      const std::string inner = Member(vp, "vector");
      if (IsSparseVector(*values)) {
        // Qdrant's NamedSparseVector.
        QUIVER_ASSIGN_OR_RETURN(s.sparse_vector, ReadSparseVector(*values, inner));
      } else if (IsDocument(*values)) {
        // Quiver's extension until the Query API: a document, embedded as a BM25 query.
        VectorReader reader;
        QUIVER_ASSIGN_OR_RETURN(s.sparse_vector, reader.ReadDocument(*values, inner, text::Bm25Side::kQuery));
      } else {
        QUIVER_ASSIGN_OR_RETURN(s.vector, payload::ReadVector(*values, inner));
      }
    } else {
      return BadField(vp, "expected an array of numbers or {\"name\": ..., \"vector\": [...]}");
    }
  } else if (with_vector_required) {
    return BadField(path, "missing 'vector'");
  }
  QUIVER_ASSIGN_OR_RETURN(r.filter, ReadFilter(o, path));
  QUIVER_ASSIGN_OR_RETURN(s.limit, ReadLimit(o, 10, path));
  QUIVER_ASSIGN_OR_RETURN(s.offset, ReadOffset(o, path));
  QUIVER_ASSIGN_OR_RETURN(s.with_payload, ReadWithPayload(o, PayloadSelector::None(), path));
  QUIVER_ASSIGN_OR_RETURN(s.with_vector, ReadWithVector(o, path));
  QUIVER_ASSIGN_OR_RETURN(s.score_threshold, ReadScoreThreshold(o, path));
  QUIVER_RETURN_IF_ERROR(ReadSearchParams(o, &s.hnsw_ef, &s.exact, &s.quantization, path));
  return r;
}

Result<RecommendPointsRequest> ReadRecommend(const json::object& o, const std::string& path) {
  QUIVER_RETURN_IF_ERROR(CheckKeys(o, {"positive", "negative", "using", "filter", "limit", "offset", "with_payload",
                                       "with_vector", "with_vectors", "score_threshold", "params", "strategy",
                                       "lookup_from", "shard_key", "consistency"},
                                   path));
  RecommendPointsRequest r;
  RecommendRequest& q = r.request;
  auto examples = [&](std::string_view key, std::vector<PointId>* ids,
                      std::vector<std::vector<float>>* vectors) -> Status {
    const json::value* v = Find(o, key);
    if (!v) return Status::OK();
    const std::string p = Member(path, key);
    QUIVER_ASSIGN_OR_RETURN(const json::array* a, payload::ReadArray(*v, p));
    for (size_t i = 0; i < a->size(); ++i) {
      if ((*a)[i].is_array()) {
        QUIVER_ASSIGN_OR_RETURN(auto vec, payload::ReadVector((*a)[i], Element(p, i)));
        vectors->push_back(std::move(vec));
      } else {
        QUIVER_ASSIGN_OR_RETURN(PointId id, payload::ReadPointId((*a)[i], Element(p, i)));
        ids->push_back(id);
      }
    }
    return Status::OK();
  };
  QUIVER_RETURN_IF_ERROR(examples("positive", &q.positive, &q.positive_vectors));
  QUIVER_RETURN_IF_ERROR(examples("negative", &q.negative, &q.negative_vectors));
  if (const json::value* u = Find(o, "using")) {
    QUIVER_ASSIGN_OR_RETURN(q.vector_name, payload::ReadString(*u, Member(path, "using")));
  }
  if (const json::value* s = Find(o, "strategy")) {
    QUIVER_ASSIGN_OR_RETURN(std::string strategy, payload::ReadString(*s, Member(path, "strategy")));
    if (strategy != "average_vector") {
      return Status::NotSupported(Member(path, "strategy") + ": only \"average_vector\" is supported");
    }
  }
  if (Find(o, "lookup_from")) {
    return Status::NotSupported(Member(path, "lookup_from") +
                                ": taking examples from another collection is not supported");
  }
  QUIVER_ASSIGN_OR_RETURN(r.filter, ReadFilter(o, path));
  QUIVER_ASSIGN_OR_RETURN(q.limit, ReadLimit(o, std::nullopt, path));
  QUIVER_ASSIGN_OR_RETURN(q.offset, ReadOffset(o, path));
  QUIVER_ASSIGN_OR_RETURN(q.with_payload, ReadWithPayload(o, PayloadSelector::None(), path));
  QUIVER_ASSIGN_OR_RETURN(q.with_vector, ReadWithVector(o, path));
  QUIVER_ASSIGN_OR_RETURN(q.score_threshold, ReadScoreThreshold(o, path));
  QUIVER_RETURN_IF_ERROR(ReadSearchParams(o, &q.hnsw_ef, &q.exact, &q.quantization, path));
  return r;
}

template <typename Item, typename Read>
Result<std::vector<Item>> ReadBatch(const json::object& o, const std::string& path, Read read) {
  QUIVER_RETURN_IF_ERROR(CheckKeys(o, {"searches"}, path));
  const json::value* s = Find(o, "searches");
  if (!s) return BadField(path, "missing 'searches'");
  QUIVER_ASSIGN_OR_RETURN(const json::array* a, payload::ReadArray(*s, Member(path, "searches")));
  std::vector<Item> out;
  out.reserve(a->size());
  for (size_t i = 0; i < a->size(); ++i) {
    const std::string p = Element(Member(path, "searches"), i);
    QUIVER_ASSIGN_OR_RETURN(const json::object* so, payload::ReadObject((*a)[i], p));
    QUIVER_ASSIGN_OR_RETURN(Item item, read(*so, p));
    out.push_back(std::move(item));
  }
  return out;
}

Result<Request> ParseCreateFieldIndex(const json::value& body) {
  const std::string path = "create_field_index";
  const json::object& o = body.get_object();
  QUIVER_RETURN_IF_ERROR(CheckKeys(o, {"field_name", "field_schema", "field_type"}, path));
  CreateFieldIndexRequest r;
  const json::value* field = Find(o, "field_name");
  if (!field) return BadField(path, "missing 'field_name'");
  QUIVER_ASSIGN_OR_RETURN(r.field, payload::ReadString(*field, Member(path, "field_name")));
  std::string key = "field_schema";
  const json::value* schema = Find(o, key);
  if (!schema) schema = Find(o, key = "field_type");
  if (!schema) return BadField(path, "missing 'field_schema'");
  const std::string sp = Member(path, key);
  if (const json::string* s = schema->if_string()) {
    r.type = std::string(*s);
  } else if (const json::object* so = schema->if_object()) {
    const json::value* type = Find(*so, "type");
    if (!type) return BadField(sp, "missing 'type'");
    QUIVER_ASSIGN_OR_RETURN(r.type, payload::ReadString(*type, Member(sp, "type")));
    // The index parameters (tokenizer, is_tenant, on_disk, ...) tune Qdrant's index; Quiver's indexes answer
    // the same filters whatever they say.
  } else {
    return BadField(sp, "expected a type name or {\"type\": ...}");
  }
  if (auto t = payload::ParseFieldIndexType(r.type); !t.ok()) return BadField(sp, t.status().message());
  return Request(std::move(r));
}

// The name errors in a body start with: the same short names for the same shapes ("search.limit" in a search
// and in a batch's "search_batch.searches[0].limit").
std::string_view BodyRoot(Operation operation) {
  switch (operation) {
    case Operation::kUpsertPoints: return "upsert";
    case Operation::kDeletePoints: return "delete";
    case Operation::kScrollPoints: return "scroll";
    case Operation::kCountPoints: return "count";
    case Operation::kSearchPoints: return "search";
    case Operation::kSearchBatch: return "search_batch";
    case Operation::kRecommendPoints: return "recommend";
    case Operation::kRecommendBatch: return "recommend_batch";
    case Operation::kGetPoints: return "get_points";
    case Operation::kQueryPoints: return "query";
    case Operation::kQueryBatch: return "query_batch";
    case Operation::kQueryGroups: return "query_groups";
    default: return Describe(operation).name;
  }
}

}  // namespace

Result<Request> ParseRequest(Operation operation, const Target& target, std::string_view body) {
  const OperationInfo& info = Describe(operation);
  // A search body's vector goes straight to floats, without a JSON array in between.
  payload::KeptNumbers kept;
  if (operation == Operation::kSearchPoints) kept.member = "vector";
  QUIVER_ASSIGN_OR_RETURN(json::value v, payload::ParseBody(body, BodyRoot(operation), &kept));
  json::object& o = v.get_object();
  auto no_body = [&]() -> Result<Request> {
    if (!o.empty()) return BadField(info.name, "takes no body, got field '" + std::string(o.begin()->key()) + "'");
    return Request(NoBody{});
  };
  const std::string path(info.name);
  switch (operation) {
    case Operation::kListCollections:
    case Operation::kGetCollection:
    case Operation::kDeleteCollection:
    case Operation::kCollectionExists:
    case Operation::kListAliases:
    case Operation::kListCollectionAliases:
    case Operation::kOptimize:
    case Operation::kCollectionStats:
    case Operation::kVerify:
    case Operation::kRepairCollection:
      return no_body();
    case Operation::kCreateCollection:
      return ParseCreateCollection(v);
    case Operation::kUpdateCollection:
      return ParseUpdateCollection(v);
    case Operation::kUpdateAliases:
      return ParseUpdateAliases(v);
    case Operation::kUpsertPoints: {
      QUIVER_ASSIGN_OR_RETURN(UpsertRequest r, ReadUpsert(o, "upsert"));
      return Request(std::move(r));
    }
    case Operation::kGetPoint: {
      QUIVER_RETURN_IF_ERROR(no_body().status());
      QUIVER_ASSIGN_OR_RETURN(PointId id, ParsePointIdText(target.point));
      return Request(GetPointRequest{id});
    }
    case Operation::kGetPoints:
      return ParseGetPoints(v);
    case Operation::kDeletePoints: {
      QUIVER_ASSIGN_OR_RETURN(Selector s, ReadSelectorBody(o, "delete"));
      return Request(DeletePointsRequest{std::move(s)});
    }
    case Operation::kSetPayload:
    case Operation::kOverwritePayload: {
      QUIVER_ASSIGN_OR_RETURN(PayloadWriteRequest r, ReadPayloadWrite(o, path));
      return Request(std::move(r));
    }
    case Operation::kDeletePayload: {
      QUIVER_ASSIGN_OR_RETURN(DeletePayloadRequest r, ReadDeletePayload(o, path));
      return Request(std::move(r));
    }
    case Operation::kClearPayload: {
      QUIVER_ASSIGN_OR_RETURN(Selector s, ReadSelectorBody(o, path));
      return Request(ClearPayloadRequest{std::move(s)});
    }
    case Operation::kBatchUpdate:
      return ParseBatchUpdate(v);
    case Operation::kScrollPoints:
      return ParseScroll(v);
    case Operation::kCountPoints:
      return ParseCount(v);
    case Operation::kSearchPoints: {
      QUIVER_ASSIGN_OR_RETURN(SearchPointsRequest r, ReadSearch(o, "search", true, &kept));
      return Request(std::move(r));
    }
    case Operation::kSearchBatch: {
      QUIVER_ASSIGN_OR_RETURN(auto list, ReadBatch<SearchPointsRequest>(o, "search_batch",
                                                                         [](const json::object& so, const std::string& p) {
                                                                           return ReadSearch(so, p, true);
                                                                         }));
      return Request(SearchBatchRequest{std::move(list)});
    }
    case Operation::kRecommendPoints: {
      QUIVER_ASSIGN_OR_RETURN(RecommendPointsRequest r, ReadRecommend(o, "recommend"));
      return Request(std::move(r));
    }
    case Operation::kRecommendBatch: {
      QUIVER_ASSIGN_OR_RETURN(auto list, ReadBatch<RecommendPointsRequest>(o, "recommend_batch", ReadRecommend));
      return Request(RecommendBatchRequest{std::move(list)});
    }
    case Operation::kCreateFieldIndex:
      return ParseCreateFieldIndex(v);
    case Operation::kDeleteFieldIndex: {
      QUIVER_RETURN_IF_ERROR(no_body().status());
      if (target.field.empty()) return BadField(path, "missing the field name");
      return Request(DeleteFieldIndexRequest{std::string(target.field)});
    }
    case Operation::kQueryPoints:
    case Operation::kQueryBatch:
    case Operation::kQueryGroups:
      return ParseQueryRequest(operation, o, BodyRoot(operation));
  }
  return Status::InvalidArgument("unknown operation");
}

Result<SearchRequest> ParseSearch(std::string_view body) {
  payload::KeptNumbers kept;
  kept.member = "vector";
  QUIVER_ASSIGN_OR_RETURN(json::value v, payload::ParseBody(body, "search", &kept));
  QUIVER_ASSIGN_OR_RETURN(SearchPointsRequest r, ReadSearch(v.get_object(), "search", true, &kept));
  if (r.filter) {
    // The public SearchRequest carries its filter as text.
    r.request.filter = json::serialize(v.get_object().at("filter"));
  }
  return std::move(r.request);
}

Result<SearchPointsRequest> ParseSearchWithoutVector(std::string_view body) {
  QUIVER_ASSIGN_OR_RETURN(json::value v, payload::ParseBody(body, "search"));
  if (v.get_object().contains("vector")) return BadField("search", "the options of a search take no 'vector'");
  return ReadSearch(v.get_object(), "search", false);
}

Result<SearchRequest> ParseSearchOptions(std::string_view body, std::string_view vector_name) {
  QUIVER_ASSIGN_OR_RETURN(json::value v, payload::ParseBody(body, "search"));
  if (v.get_object().contains("vector")) return BadField("search", "the options of a search take no 'vector'");
  QUIVER_ASSIGN_OR_RETURN(SearchPointsRequest r, ReadSearch(v.get_object(), "search", false));
  r.request.vector_name = std::string(vector_name);
  if (r.filter) r.request.filter = json::serialize(v.get_object().at("filter"));
  return std::move(r.request);
}

Result<CollectionConfig> ParseCollectionConfig(std::string_view body) {
  QUIVER_ASSIGN_OR_RETURN(json::value v, payload::ParseBody(body, "config"));
  return db::ConfigFromJson(v, "config");
}

std::string PrintCollectionConfig(const CollectionConfig& config) {
  return payload::ReadableJson(db::ConfigToJson(config));
}

Result<PointId> ParsePointIdText(std::string_view text) {
  auto id = PointId::Parse(text);
  if (!id.ok()) return BadField("id", id.status().message());
  return id;
}

}  // namespace quiver::api
