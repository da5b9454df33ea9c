#include "api/body_reader.h"

#include <algorithm>

#include "payload/json_util.h"

namespace quiver::api {

namespace json = boost::json;
using payload::BadField;
using payload::CheckKeys;
using payload::Element;
using payload::Find;
using payload::Member;

Result<std::optional<payload::Filter>> ReadFilter(const json::object& o, std::string_view path) {
  const json::value* f = Find(o, "filter");
  if (!f) return std::optional<payload::Filter>();
  if (!f->is_object()) return BadField(Member(path, "filter"), "expected an object, got " + payload::JsonKindName(*f));
  QUIVER_ASSIGN_OR_RETURN(payload::Filter filter, payload::ParseFilter(*f, Member(path, "filter")));
  return std::optional<payload::Filter>(std::move(filter));
}

Result<Selector> ReadSelector(const json::object& o, std::string_view path) {
  Selector s;
  const json::value* points = Find(o, "points");
  QUIVER_ASSIGN_OR_RETURN(s.filter, ReadFilter(o, path));
  if (points && s.filter) return BadField(path, "give either 'points' or 'filter', not both");
  if (points) {
    QUIVER_ASSIGN_OR_RETURN(s.ids, payload::ReadPointIds(*points, Member(path, "points")));
  } else if (!s.filter) {
    return BadField(path, "expected 'points': [ids] or 'filter': {...}");
  }
  return s;
}

Result<PayloadSelector> ReadWithPayload(const json::object& o, PayloadSelector fallback, std::string_view path) {
  const json::value* v = Find(o, "with_payload");
  if (!v) return fallback;
  const std::string p = Member(path, "with_payload");
  if (const bool* b = v->if_bool()) return *b ? PayloadSelector::All() : PayloadSelector::None();
  auto checked = [&](std::vector<std::string> keys, const std::string& where) -> Result<std::vector<std::string>> {
    for (size_t i = 0; i < keys.size(); ++i) {
      Status s = payload::ValidateKeyPath(keys[i]);
      if (!s.ok()) return BadField(Element(where, i), s.message());
    }
    return keys;
  };
  if (v->is_array()) {
    QUIVER_ASSIGN_OR_RETURN(auto keys, payload::ReadStrings(*v, p));
    QUIVER_ASSIGN_OR_RETURN(keys, checked(std::move(keys), p));
    return PayloadSelector::Include(std::move(keys));
  }
  if (const json::object* s = v->if_object()) {
    QUIVER_RETURN_IF_ERROR(CheckKeys(*s, {"include", "exclude"}, p));
    if (s->size() == 1) {
      const bool include = s->contains("include");
      const std::string where = Member(p, include ? "include" : "exclude");
      QUIVER_ASSIGN_OR_RETURN(auto keys, payload::ReadStrings(s->begin()->value(), where));
      QUIVER_ASSIGN_OR_RETURN(keys, checked(std::move(keys), where));
      return include ? PayloadSelector::Include(std::move(keys)) : PayloadSelector::Exclude(std::move(keys));
    }
  }
  return BadField(p, "expected true, false, a list of keys, {\"include\": [...]} or {\"exclude\": [...]}");
}

Result<VectorSelector> ReadWithVector(const json::object& o, std::string_view path) {
  const json::value* v = Find(o, "with_vector");
  std::string_view key = "with_vector";
  if (!v) {
    v = Find(o, "with_vectors");
    key = "with_vectors";
  }
  if (!v) return VectorSelector::None();
  if (const bool* b = v->if_bool()) return *b ? VectorSelector::All() : VectorSelector::None();
  QUIVER_ASSIGN_OR_RETURN(auto names, payload::ReadStrings(*v, Member(path, key)));
  return VectorSelector::Only(std::move(names));
}

Status ReadSearchParams(const json::object& o, std::optional<size_t>* ef, bool* exact,
                        QuantizationSearchParams* quantization, std::string_view path) {
  const json::value* v = Find(o, "params");
  if (!v) return Status::OK();
  const std::string p = Member(path, "params");
  QUIVER_ASSIGN_OR_RETURN(const json::object* params, payload::ReadObject(*v, p));
  QUIVER_RETURN_IF_ERROR(CheckKeys(*params, {"hnsw_ef", "exact", "quantization", "indexed_only", "acorn"}, p));
  if (const json::value* h = Find(*params, "hnsw_ef")) {
    QUIVER_ASSIGN_OR_RETURN(uint64_t e, payload::ReadUint(*h, Member(p, "hnsw_ef"), 1, kMaxLimit));
    *ef = static_cast<size_t>(e);
  }
  if (const json::value* e = Find(*params, "exact")) {
    QUIVER_ASSIGN_OR_RETURN(*exact, payload::ReadBool(*e, Member(p, "exact")));
  }
  // indexed_only (skip unindexed segments) would leave points out; Quiver always searches every point, which
  // is the answer indexed_only: false gives. acorn (a filtered-search strategy) changes speed, not results.
  for (std::string_view flag : {"indexed_only"}) {
    if (const json::value* f = Find(*params, flag)) QUIVER_RETURN_IF_ERROR(payload::ReadBool(*f, Member(p, flag)).status());
  }
  if (const json::value* a = Find(*params, "acorn")) {
    QUIVER_RETURN_IF_ERROR(payload::ReadObject(*a, Member(p, "acorn")).status());
  }
  if (const json::value* q = Find(*params, "quantization")) {
    const std::string qp = Member(p, "quantization");
    QUIVER_ASSIGN_OR_RETURN(const json::object* qo, payload::ReadObject(*q, qp));
    QUIVER_RETURN_IF_ERROR(CheckKeys(*qo, {"ignore", "rescore", "oversampling"}, qp));
    if (const json::value* x = Find(*qo, "ignore")) {
      QUIVER_ASSIGN_OR_RETURN(quantization->ignore, payload::ReadBool(*x, Member(qp, "ignore")));
    }
    if (const json::value* x = Find(*qo, "rescore")) {
      QUIVER_ASSIGN_OR_RETURN(quantization->rescore, payload::ReadBool(*x, Member(qp, "rescore")));
    }
    if (const json::value* x = Find(*qo, "oversampling")) {
      auto d = payload::ReadNumber(*x, Member(qp, "oversampling"));
      if (!d.ok() || !(*d >= 1.0 && *d <= 1000.0)) {
        return BadField(Member(qp, "oversampling"), "expected a number from 1 to 1000");
      }
      quantization->oversampling = *d;
    }
  }
  return Status::OK();
}

Result<std::optional<float>> ReadScoreThreshold(const json::object& o, std::string_view path) {
  const json::value* v = Find(o, "score_threshold");
  if (!v) return std::optional<float>();
  QUIVER_ASSIGN_OR_RETURN(double d, payload::ReadNumber(*v, Member(path, "score_threshold")));
  return std::optional<float>(static_cast<float>(d));
}

Result<size_t> ReadLimit(const json::object& o, std::optional<size_t> fallback, std::string_view path) {
  const json::value* v = Find(o, "limit");
  if (!v) {
    if (fallback) return *fallback;
    return BadField(path, "missing 'limit'");
  }
  QUIVER_ASSIGN_OR_RETURN(uint64_t n, payload::ReadUint(*v, Member(path, "limit"), 1, kMaxLimit));
  return static_cast<size_t>(n);
}

Result<size_t> ReadOffset(const json::object& o, std::string_view path) {
  const json::value* v = Find(o, "offset");
  if (!v) return size_t{0};
  QUIVER_ASSIGN_OR_RETURN(uint64_t n, payload::ReadUint(*v, Member(path, "offset"), 0, kMaxLimit));
  return static_cast<size_t>(n);
}

namespace {

// Explains vector forms Quiver does not store, instead of a bare type error.
Status UnsupportedVector(const json::value& v, std::string_view path) {
  if (const json::object* o = v.if_object(); o && (o->contains("image") || o->contains("object"))) {
    return Status::NotSupported(std::string(path) + ": images and other inference objects are not supported; "
                                                    "documents embed with \"model\": \"qdrant/bm25\"");
  }
  if (const json::array* a = v.if_array(); a && !a->empty() && (*a)[0].is_array()) {
    return Status::NotSupported(std::string(path) + ": multivectors are not supported");
  }
  return Status::OK();
}

// A document or sparse vector where only a dense vector can go (the unnamed vector).
Status NotUnnamed(const json::value& v, std::string_view path) {
  if (IsBareDocument(v)) {
    return BadField(path, "a document embeds into a sparse vector, which has a name: give {\"<sparse name>\": "
                          "{\"text\": ..., \"model\": \"qdrant/bm25\"}}");
  }
  if (IsBareSparseVector(v)) {
    return BadField(path, "a sparse vector has a name: give {\"<sparse name>\": {\"indices\": ..., \"values\": ...}}");
  }
  return Status::OK();
}

// One named vector of any kind, added to `dense` or `sparse`.
Status ReadNamedVector(const json::value& v, const std::string& name, const std::string& path, VectorReader* reader,
                       std::vector<std::pair<std::string, std::vector<float>>>* dense,
                       std::vector<std::pair<std::string, SparseVector>>* sparse) {
  QUIVER_RETURN_IF_ERROR(UnsupportedVector(v, path));
  if (IsSparseVector(v)) {
    QUIVER_ASSIGN_OR_RETURN(SparseVector sv, ReadSparseVector(v, path));
    sparse->emplace_back(name, std::move(sv));
  } else if (IsDocument(v)) {
    QUIVER_ASSIGN_OR_RETURN(SparseVector sv, reader->ReadDocument(v, path, text::Bm25Side::kDocument));
    sparse->emplace_back(name, std::move(sv));
  } else {
    QUIVER_ASSIGN_OR_RETURN(auto values, payload::ReadVector(v, path));
    dense->emplace_back(name, std::move(values));
  }
  return Status::OK();
}

template <typename T>
void SortByName(std::vector<std::pair<std::string, T>>* list) {
  std::sort(list->begin(), list->end(), [](const auto& a, const auto& b) { return a.first < b.first; });
}

}  // namespace

Status ReadPointVectors(const json::value& v, std::string_view path, VectorReader* reader,
                        std::vector<std::pair<std::string, std::vector<float>>>* dense,
                        std::vector<std::pair<std::string, SparseVector>>* sparse) {
  dense->clear();
  sparse->clear();
  // An object is a map of named vectors, unless it is a bare sparse vector or document (Qdrant's order).
  if (v.is_array()) QUIVER_RETURN_IF_ERROR(UnsupportedVector(v, path));
  QUIVER_RETURN_IF_ERROR(NotUnnamed(v, path));
  if (v.is_array()) {
    QUIVER_ASSIGN_OR_RETURN(auto values, payload::ReadVector(v, path));
    dense->emplace_back(std::string(), std::move(values));
    return Status::OK();
  }
  const json::object* o = v.if_object();
  if (!o) return BadField(path, "expected an array of numbers or an object of named vectors");
  for (const auto& kv : *o) {
    QUIVER_RETURN_IF_ERROR(ReadNamedVector(kv.value(), std::string(kv.key()), Member(path, kv.key()), reader, dense,
                                           sparse));
  }
  SortByName(dense);
  SortByName(sparse);
  return Status::OK();
}

Result<json::object> TakePayload(json::value& v, std::string_view path) {
  if (v.is_null()) return json::object();
  json::object* o = v.if_object();
  if (!o) return BadField(path, "expected a JSON object, got " + payload::JsonKindName(v));
  QUIVER_RETURN_IF_ERROR(payload::ValidatePayload(*o, path));
  return std::move(*o);
}

Status ReadUpsertPoints(json::object& o, std::string_view path, std::vector<PointWrite>* out) {
  out->clear();
  VectorReader reader;
  if (json::value* pts = o.if_contains("points")) {
    const std::string pp = Member(path, "points");
    json::array* a = pts->if_array();
    if (!a) return BadField(pp, "expected an array of points");
    out->resize(a->size());
    for (size_t i = 0; i < a->size(); ++i) {
      const std::string p = Element(pp, i);
      json::object* po = (*a)[i].if_object();
      if (!po) return BadField(p, "expected an object");
      QUIVER_RETURN_IF_ERROR(CheckKeys(*po, {"id", "vector", "payload"}, p));
      PointWrite& w = (*out)[i];
      json::value* id = po->if_contains("id");
      if (!id) return BadField(p, "missing 'id'");
      QUIVER_ASSIGN_OR_RETURN(w.id, payload::ReadPointId(*id, Member(p, "id")));
      if (const json::value* vec = Find(*po, "vector")) {
        QUIVER_RETURN_IF_ERROR(ReadPointVectors(*vec, Member(p, "vector"), &reader, &w.vectors, &w.sparse));
      }
      if (json::value* pl = po->if_contains("payload")) {
        QUIVER_ASSIGN_OR_RETURN(w.payload, TakePayload(*pl, Member(p, "payload")));
      }
    }
    return Status::OK();
  }
  json::value* batch = o.if_contains("batch");
  if (!batch) return BadField(path, "expected 'points': [...] or 'batch': {...}");
  const std::string bp = Member(path, "batch");
  json::object* b = batch->if_object();
  if (!b) return BadField(bp, "expected an object");
  QUIVER_RETURN_IF_ERROR(CheckKeys(*b, {"ids", "vectors", "payloads"}, bp));
  const json::value* ids = Find(*b, "ids");
  if (!ids) return BadField(bp, "missing 'ids'");
  QUIVER_ASSIGN_OR_RETURN(auto id_list, payload::ReadPointIds(*ids, Member(bp, "ids")));
  out->resize(id_list.size());
  for (size_t i = 0; i < out->size(); ++i) (*out)[i].id = id_list[i];
  auto add = [&](const std::string& name, const json::value& list, const std::string& p) -> Status {
    const json::array* a = list.if_array();
    if (!a) return BadField(p, "expected an array of vectors");
    if (a->size() != out->size()) {
      return BadField(p, std::to_string(a->size()) + " vectors for " + std::to_string(out->size()) + " ids");
    }
    for (size_t i = 0; i < out->size(); ++i) {
      const std::string ep = Element(p, i);
      if (name.empty()) QUIVER_RETURN_IF_ERROR(NotUnnamed((*a)[i], ep));
      QUIVER_RETURN_IF_ERROR(ReadNamedVector((*a)[i], name, ep, &reader, &(*out)[i].vectors, &(*out)[i].sparse));
    }
    return Status::OK();
  };
  const json::value* vecs = Find(*b, "vectors");
  if (!vecs) return BadField(bp, "missing 'vectors'");
  if (vecs->is_array()) {
    QUIVER_RETURN_IF_ERROR(add("", *vecs, Member(bp, "vectors")));
  } else if (const json::object* named = vecs->if_object()) {
    for (const auto& kv : *named) QUIVER_RETURN_IF_ERROR(add(std::string(kv.key()), kv.value(), Member(Member(bp, "vectors"), kv.key())));
    for (PointWrite& w : *out) {
      SortByName(&w.vectors);
      SortByName(&w.sparse);
    }
  } else {
    return BadField(Member(bp, "vectors"), "expected an array of vectors or an object of named vector arrays");
  }
  if (json::value* pls = b->if_contains("payloads"); pls && !pls->is_null()) {
    const std::string pp = Member(bp, "payloads");
    json::array* a = pls->if_array();
    if (!a) return BadField(pp, "expected an array of payloads");
    if (a->size() != out->size()) {
      return BadField(pp, std::to_string(a->size()) + " payloads for " + std::to_string(out->size()) + " ids");
    }
    for (size_t i = 0; i < out->size(); ++i) {
      QUIVER_ASSIGN_OR_RETURN((*out)[i].payload, TakePayload((*a)[i], Element(pp, i)));
    }
  }
  return Status::OK();
}

}  // namespace quiver::api
