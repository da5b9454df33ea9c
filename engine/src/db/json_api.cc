#include <boost/json.hpp>
#include <cmath>
#include <cstdio>

#include "db/config_json.h"
#include "payload/json_util.h"
#include "quiver/json.h"

namespace quiver::json {
namespace {

using boost::json::array;
using boost::json::object;
using boost::json::value;

Status Bad(const std::string& path, const std::string& why) { return Status::InvalidArgument(path + ": " + why); }

Result<value> ParseBody(std::string_view body, const std::string& what) {
  boost::json::error_code ec;
  boost::json::parse_options opt;
  opt.max_depth = 64;
  value v = boost::json::parse(body, ec, {}, opt);
  if (ec) return Bad(what, "malformed JSON (" + ec.message() + ")");
  if (!v.is_object()) return Bad(what, "expected a JSON object");
  return v;
}

Status CheckKeys(const object& o, std::initializer_list<std::string_view> allowed, const std::string& path) {
  for (const auto& kv : o) {
    bool ok = false;
    for (std::string_view a : allowed) ok |= kv.key() == a;
    if (!ok) return Bad(path, "unknown field '" + std::string(kv.key()) + "'");
  }
  return Status::OK();
}

Result<PointId> ParseId(const value& v, const std::string& path) {
  if (auto i = v.if_int64(); i && *i >= 0) return PointId::Number(static_cast<uint64_t>(*i));
  if (auto u = v.if_uint64()) return PointId::Number(*u);
  if (auto s = v.if_string()) {
    auto id = PointId::ParseUuid(std::string_view(*s));
    if (!id.ok()) return Bad(path, std::string(id.status().message()));
    return id;
  }
  return Bad(path, "expected a point id (an unsigned integer or a UUID string)");
}

Result<std::vector<PointId>> ParseIds(const value& v, const std::string& path) {
  const array* a = v.if_array();
  if (!a) return Bad(path, "expected an array of point ids");
  std::vector<PointId> out;
  for (size_t i = 0; i < a->size(); ++i) {
    QUIVER_ASSIGN_OR_RETURN(PointId id, ParseId((*a)[i], path + "[" + std::to_string(i) + "]"));
    out.push_back(id);
  }
  return out;
}

Result<std::vector<float>> ParseVector(const value& v, const std::string& path) {
  const array* a = v.if_array();
  if (!a) return Bad(path, "expected an array of numbers");
  std::vector<float> out;
  out.reserve(a->size());
  for (size_t i = 0; i < a->size(); ++i) {
    const value& x = (*a)[i];
    double d;
    if (auto p = x.if_double()) {
      d = *p;
    } else if (auto q = x.if_int64()) {
      d = double(*q);
    } else if (auto r = x.if_uint64()) {
      d = double(*r);
    } else {
      return Bad(path + "[" + std::to_string(i) + "]", "expected a number");
    }
    const float f = static_cast<float>(d);
    if (!std::isfinite(f)) return Bad(path + "[" + std::to_string(i) + "]", "the number does not fit a finite float");
    out.push_back(f);
  }
  return out;
}

// "vector": [...] or {"name": [...]}
Result<std::map<std::string, std::vector<float>>> ParseVectors(const value& v, const std::string& path) {
  std::map<std::string, std::vector<float>> out;
  if (v.is_array()) {
    QUIVER_ASSIGN_OR_RETURN(out[""], ParseVector(v, path));
    return out;
  }
  const object* o = v.if_object();
  if (!o) return Bad(path, "expected an array of numbers or an object of named vectors");
  for (const auto& kv : *o) {
    QUIVER_ASSIGN_OR_RETURN(out[std::string(kv.key())], ParseVector(kv.value(), path + "." + std::string(kv.key())));
  }
  return out;
}

Result<std::string> ObjectText(const value& v, const std::string& path) {
  if (v.is_null()) return std::string();
  if (!v.is_object()) return Bad(path, "expected a JSON object");
  return boost::json::serialize(v);
}

Result<std::string> FilterText(const object& o, const std::string& path) {
  auto it = o.find("filter");
  if (it == o.end() || it->value().is_null()) return std::string();
  if (!it->value().is_object()) return Bad(path + ".filter", "expected an object");
  return boost::json::serialize(it->value());
}

Result<size_t> ParseCount(const object& o, std::string_view key, size_t fallback, bool positive, const std::string& path) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return fallback;
  int64_t n = -1;
  if (auto p = it->value().if_int64()) n = *p;
  if (auto p = it->value().if_uint64(); p && *p < (uint64_t{1} << 62)) n = static_cast<int64_t>(*p);
  if (n < (positive ? 1 : 0)) {
    return Bad(path + "." + std::string(key), positive ? "expected a positive integer" : "expected a non-negative integer");
  }
  return static_cast<size_t>(n);
}

Result<std::vector<std::string>> ParseStrings(const value& v, const std::string& path) {
  const array* a = v.if_array();
  if (!a) return Bad(path, "expected an array of strings");
  std::vector<std::string> out;
  for (size_t i = 0; i < a->size(); ++i) {
    if (!(*a)[i].is_string()) return Bad(path + "[" + std::to_string(i) + "]", "expected a string");
    out.emplace_back((*a)[i].get_string());
  }
  return out;
}

Result<PayloadSelector> ParseWithPayload(const object& o, PayloadSelector fallback, const std::string& path) {
  auto it = o.find("with_payload");
  if (it == o.end() || it->value().is_null()) return fallback;
  const value& v = it->value();
  const std::string p = path + ".with_payload";
  if (auto b = v.if_bool()) return *b ? PayloadSelector::All() : PayloadSelector::None();
  if (v.is_array()) {
    QUIVER_ASSIGN_OR_RETURN(auto keys, ParseStrings(v, p));
    return PayloadSelector::Include(std::move(keys));
  }
  if (const object* s = v.if_object()) {
    QUIVER_RETURN_IF_ERROR(CheckKeys(*s, {"include", "exclude"}, p));
    if (auto inc = s->find("include"); inc != s->end() && s->size() == 1) {
      QUIVER_ASSIGN_OR_RETURN(auto keys, ParseStrings(inc->value(), p + ".include"));
      return PayloadSelector::Include(std::move(keys));
    }
    if (auto exc = s->find("exclude"); exc != s->end() && s->size() == 1) {
      QUIVER_ASSIGN_OR_RETURN(auto keys, ParseStrings(exc->value(), p + ".exclude"));
      return PayloadSelector::Exclude(std::move(keys));
    }
  }
  return Bad(p, "expected true, false, a list of keys, {\"include\": [...]} or {\"exclude\": [...]}");
}

Result<VectorSelector> ParseWithVector(const object& o, const std::string& path) {
  auto it = o.find("with_vector");
  if (it == o.end() || it->value().is_null()) it = o.find("with_vectors");
  if (it == o.end() || it->value().is_null()) return VectorSelector::None();
  if (auto b = it->value().if_bool()) return *b ? VectorSelector::All() : VectorSelector::None();
  QUIVER_ASSIGN_OR_RETURN(auto names, ParseStrings(it->value(), path + ".with_vector"));
  return VectorSelector::Only(std::move(names));
}

Status ParseParams(const object& o, std::optional<size_t>* ef, bool* exact, QuantizationSearchParams* quantization,
                   const std::string& path) {
  auto it = o.find("params");
  if (it == o.end() || it->value().is_null()) return Status::OK();
  const object* p = it->value().if_object();
  if (!p) return Bad(path + ".params", "expected an object");
  QUIVER_RETURN_IF_ERROR(CheckKeys(*p, {"hnsw_ef", "exact", "quantization", "indexed_only"}, path + ".params"));
  if (auto h = p->find("hnsw_ef"); h != p->end() && !h->value().is_null()) {
    QUIVER_ASSIGN_OR_RETURN(size_t e, ParseCount(*p, "hnsw_ef", 0, true, path + ".params"));
    *ef = e;
  }
  if (auto e = p->find("exact"); e != p->end() && !e->value().is_null()) {
    if (!e->value().is_bool()) return Bad(path + ".params.exact", "expected true or false");
    *exact = e->value().get_bool();
  }
  if (auto q = p->find("quantization"); q != p->end() && !q->value().is_null()) {
    const std::string qp = path + ".params.quantization";
    const object* qo = q->value().if_object();
    if (!qo) return Bad(qp, "expected an object");
    QUIVER_RETURN_IF_ERROR(CheckKeys(*qo, {"ignore", "rescore", "oversampling"}, qp));
    for (auto [key, field] : {std::pair{"ignore", &quantization->ignore}, std::pair{"rescore", &quantization->rescore}}) {
      auto it2 = qo->find(key);
      if (it2 == qo->end() || it2->value().is_null()) continue;
      if (!it2->value().is_bool()) return Bad(qp + "." + key, "expected true or false");
      *field = it2->value().get_bool();
    }
    if (auto it2 = qo->find("oversampling"); it2 != qo->end() && !it2->value().is_null()) {
      const double v = it2->value().is_number() ? it2->value().to_number<double>() : 0.0;
      if (!(v >= 1.0 && v <= 1000.0)) return Bad(qp + ".oversampling", "expected a number from 1 to 1000");
      quantization->oversampling = v;
    }
  }
  return Status::OK();
}

Result<std::optional<float>> ParseThreshold(const object& o, const std::string& path) {
  auto it = o.find("score_threshold");
  if (it == o.end() || it->value().is_null()) return std::optional<float>();
  if (auto d = it->value().if_double()) return std::optional<float>(static_cast<float>(*d));
  if (auto i = it->value().if_int64()) return std::optional<float>(static_cast<float>(*i));
  return Bad(path + ".score_threshold", "expected a number");
}

Result<SearchRequest> SearchFromObject(const object& o, const std::string& path) {
  QUIVER_RETURN_IF_ERROR(CheckKeys(o, {"vector", "filter", "limit", "offset", "with_payload", "with_vector",
                                       "with_vectors", "score_threshold", "params", "using"},
                                   path));
  SearchRequest r;
  auto vec = o.find("vector");
  if (vec == o.end()) return Bad(path, "missing 'vector'");
  if (const object* named = vec->value().if_object()) {
    auto name = named->find("name");
    auto values = named->find("vector");
    if (name == named->end() || !name->value().is_string() || values == named->end() || named->size() != 2) {
      return Bad(path + ".vector", "expected an array of numbers or {\"name\": ..., \"vector\": [...]}");
    }
    r.vector_name = std::string(name->value().get_string());
    QUIVER_ASSIGN_OR_RETURN(r.vector, ParseVector(values->value(), path + ".vector.vector"));
  } else {
    QUIVER_ASSIGN_OR_RETURN(r.vector, ParseVector(vec->value(), path + ".vector"));
  }
  if (auto u = o.find("using"); u != o.end() && u->value().is_string()) r.vector_name = std::string(u->value().get_string());
  QUIVER_ASSIGN_OR_RETURN(r.filter, FilterText(o, path));
  QUIVER_ASSIGN_OR_RETURN(r.limit, ParseCount(o, "limit", 10, true, path));
  QUIVER_ASSIGN_OR_RETURN(r.offset, ParseCount(o, "offset", 0, false, path));
  QUIVER_ASSIGN_OR_RETURN(r.with_payload, ParseWithPayload(o, PayloadSelector::None(), path));
  QUIVER_ASSIGN_OR_RETURN(r.with_vector, ParseWithVector(o, path));
  QUIVER_ASSIGN_OR_RETURN(r.score_threshold, ParseThreshold(o, path));
  QUIVER_RETURN_IF_ERROR(ParseParams(o, &r.hnsw_ef, &r.exact, &r.quantization, path));
  return r;
}

Result<PointsSelector> SelectorFromObject(const object& o, const std::string& path) {
  auto points = o.find("points");
  auto filter = o.find("filter");
  if ((points == o.end()) == (filter == o.end())) return Bad(path, "expected either 'points' or 'filter'");
  if (points != o.end()) {
    QUIVER_ASSIGN_OR_RETURN(auto ids, ParseIds(points->value(), path + ".points"));
    return PointsSelector::Ids(std::move(ids));
  }
  QUIVER_ASSIGN_OR_RETURN(std::string f, FilterText(o, path));
  if (f.empty()) return Bad(path + ".filter", "expected an object");
  return PointsSelector::Filter(std::move(f));
}

// A float in the shortest form that reads back to the same float (9 significant digits).
std::string Number(double d) {
  char buf[32];
  int n = std::snprintf(buf, sizeof(buf), "%.9g", d);
  return std::string(buf, n > 0 ? static_cast<size_t>(n) : 0);
}

void AppendVectors(const std::map<std::string, std::vector<float>>& vectors, std::string* out) {
  auto one = [&](const std::vector<float>& v) {
    out->push_back('[');
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) out->push_back(',');
      out->append(Number(v[i]));
    }
    out->push_back(']');
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
    out->append(boost::json::serialize(value(name)));
    out->push_back(':');
    one(v);
  }
  out->push_back('}');
}

void AppendPoint(const PointId& id, const float* score, const std::optional<std::string>& payload,
                 const std::map<std::string, std::vector<float>>& vectors, std::string* out) {
  out->append("{\"id\":");
  out->append(PointIdToJson(id));
  if (score) {
    out->append(",\"version\":0,\"score\":");
    out->append(Number(*score));
  }
  if (payload) {
    out->append(",\"payload\":");
    out->append(*payload);
  }
  if (!vectors.empty()) {
    out->append(",\"vector\":");
    AppendVectors(vectors, out);
  }
  out->push_back('}');
}

}  // namespace

Result<CollectionConfig> ParseCollectionConfig(std::string_view body) {
  QUIVER_ASSIGN_OR_RETURN(value v, ParseBody(body, "config"));
  return db::ConfigFromJson(v, "config");
}

std::string CollectionConfigToJson(const CollectionConfig& config) {
  return boost::json::serialize(db::ConfigToJson(config));
}

Result<std::vector<PointInput>> ParseUpsert(std::string_view body) {
  QUIVER_ASSIGN_OR_RETURN(value v, ParseBody(body, "upsert"));
  const object& o = v.get_object();
  std::vector<PointInput> out;
  if (auto pts = o.find("points"); pts != o.end()) {
    QUIVER_RETURN_IF_ERROR(CheckKeys(o, {"points"}, "upsert"));
    const array* a = pts->value().if_array();
    if (!a) return Bad("upsert.points", "expected an array of points");
    for (size_t i = 0; i < a->size(); ++i) {
      const std::string path = "upsert.points[" + std::to_string(i) + "]";
      const object* p = (*a)[i].if_object();
      if (!p) return Bad(path, "expected an object");
      QUIVER_RETURN_IF_ERROR(CheckKeys(*p, {"id", "vector", "payload"}, path));
      PointInput pi;
      auto id = p->find("id");
      if (id == p->end()) return Bad(path, "missing 'id'");
      QUIVER_ASSIGN_OR_RETURN(pi.id, ParseId(id->value(), path + ".id"));
      if (auto vec = p->find("vector"); vec != p->end()) {
        QUIVER_ASSIGN_OR_RETURN(pi.vectors, ParseVectors(vec->value(), path + ".vector"));
      }
      if (auto pl = p->find("payload"); pl != p->end()) {
        QUIVER_ASSIGN_OR_RETURN(pi.payload, ObjectText(pl->value(), path + ".payload"));
      }
      out.push_back(std::move(pi));
    }
    return out;
  }
  auto batch = o.find("batch");
  if (batch == o.end() || !batch->value().is_object()) return Bad("upsert", "expected 'points' or 'batch'");
  const object& b = batch->value().get_object();
  QUIVER_RETURN_IF_ERROR(CheckKeys(b, {"ids", "vectors", "payloads"}, "upsert.batch"));
  auto ids = b.find("ids");
  if (ids == b.end()) return Bad("upsert.batch", "missing 'ids'");
  QUIVER_ASSIGN_OR_RETURN(auto id_list, ParseIds(ids->value(), "upsert.batch.ids"));
  out.resize(id_list.size());
  for (size_t i = 0; i < out.size(); ++i) out[i].id = id_list[i];
  auto add_vectors = [&](const std::string& name, const value& list, const std::string& path) -> Status {
    const array* a = list.if_array();
    if (!a || a->size() != out.size()) return Bad(path, "expected one vector per id");
    for (size_t i = 0; i < out.size(); ++i) {
      QUIVER_ASSIGN_OR_RETURN(out[i].vectors[name], ParseVector((*a)[i], path + "[" + std::to_string(i) + "]"));
    }
    return Status::OK();
  };
  if (auto vecs = b.find("vectors"); vecs != b.end()) {
    if (vecs->value().is_array()) {
      QUIVER_RETURN_IF_ERROR(add_vectors("", vecs->value(), "upsert.batch.vectors"));
    } else if (const object* named = vecs->value().if_object()) {
      for (const auto& kv : *named) {
        QUIVER_RETURN_IF_ERROR(add_vectors(std::string(kv.key()), kv.value(), "upsert.batch.vectors." + std::string(kv.key())));
      }
    } else {
      return Bad("upsert.batch.vectors", "expected an array of vectors or an object of named vector arrays");
    }
  }
  if (auto pls = b.find("payloads"); pls != b.end() && !pls->value().is_null()) {
    const array* a = pls->value().if_array();
    if (!a || a->size() != out.size()) return Bad("upsert.batch.payloads", "expected one payload per id");
    for (size_t i = 0; i < out.size(); ++i) {
      QUIVER_ASSIGN_OR_RETURN(out[i].payload, ObjectText((*a)[i], "upsert.batch.payloads[" + std::to_string(i) + "]"));
    }
  }
  return out;
}

Result<SearchRequest> ParseSearch(std::string_view body) {
  QUIVER_ASSIGN_OR_RETURN(value v, ParseBody(body, "search"));
  return SearchFromObject(v.get_object(), "search");
}

Result<std::vector<SearchRequest>> ParseSearchBatch(std::string_view body) {
  QUIVER_ASSIGN_OR_RETURN(value v, ParseBody(body, "search_batch"));
  const object& o = v.get_object();
  QUIVER_RETURN_IF_ERROR(CheckKeys(o, {"searches"}, "search_batch"));
  auto s = o.find("searches");
  if (s == o.end() || !s->value().is_array()) return Bad("search_batch", "expected 'searches': [...]");
  std::vector<SearchRequest> out;
  const array& a = s->value().get_array();
  for (size_t i = 0; i < a.size(); ++i) {
    const std::string path = "search_batch.searches[" + std::to_string(i) + "]";
    if (!a[i].is_object()) return Bad(path, "expected an object");
    QUIVER_ASSIGN_OR_RETURN(SearchRequest r, SearchFromObject(a[i].get_object(), path));
    out.push_back(std::move(r));
  }
  return out;
}

Result<RecommendRequest> ParseRecommend(std::string_view body) {
  QUIVER_ASSIGN_OR_RETURN(value v, ParseBody(body, "recommend"));
  const object& o = v.get_object();
  const std::string path = "recommend";
  QUIVER_RETURN_IF_ERROR(CheckKeys(o, {"positive", "negative", "using", "filter", "limit", "offset", "with_payload",
                                       "with_vector", "with_vectors", "score_threshold", "params", "strategy",
                                       "lookup_from"},
                                   path));
  RecommendRequest r;
  auto examples = [&](std::string_view key, std::vector<PointId>* ids,
                      std::vector<std::vector<float>>* vectors) -> Status {
    auto it = o.find(key);
    if (it == o.end() || it->value().is_null()) return Status::OK();
    const array* a = it->value().if_array();
    const std::string p = path + "." + std::string(key);
    if (!a) return Bad(p, "expected an array of point ids or vectors");
    for (size_t i = 0; i < a->size(); ++i) {
      const std::string ip = p + "[" + std::to_string(i) + "]";
      if ((*a)[i].is_array()) {
        QUIVER_ASSIGN_OR_RETURN(auto vec, ParseVector((*a)[i], ip));
        vectors->push_back(std::move(vec));
      } else {
        QUIVER_ASSIGN_OR_RETURN(PointId id, ParseId((*a)[i], ip));
        ids->push_back(id);
      }
    }
    return Status::OK();
  };
  QUIVER_RETURN_IF_ERROR(examples("positive", &r.positive, &r.positive_vectors));
  QUIVER_RETURN_IF_ERROR(examples("negative", &r.negative, &r.negative_vectors));
  if (auto u = o.find("using"); u != o.end() && !u->value().is_null()) {
    if (!u->value().is_string()) return Bad(path + ".using", "expected a vector name");
    r.vector_name = std::string(u->value().get_string());
  }
  if (auto s = o.find("strategy"); s != o.end() && !s->value().is_null()) {
    if (!s->value().is_string() || s->value().get_string() != "average_vector") {
      return Bad(path + ".strategy", "only \"average_vector\" is supported");
    }
  }
  QUIVER_ASSIGN_OR_RETURN(r.filter, FilterText(o, path));
  QUIVER_ASSIGN_OR_RETURN(r.limit, ParseCount(o, "limit", 10, true, path));
  QUIVER_ASSIGN_OR_RETURN(r.offset, ParseCount(o, "offset", 0, false, path));
  QUIVER_ASSIGN_OR_RETURN(r.with_payload, ParseWithPayload(o, PayloadSelector::None(), path));
  QUIVER_ASSIGN_OR_RETURN(r.with_vector, ParseWithVector(o, path));
  QUIVER_ASSIGN_OR_RETURN(r.score_threshold, ParseThreshold(o, path));
  QUIVER_RETURN_IF_ERROR(ParseParams(o, &r.hnsw_ef, &r.exact, &r.quantization, path));
  return r;
}

Result<ScrollRequest> ParseScroll(std::string_view body) {
  QUIVER_ASSIGN_OR_RETURN(value v, ParseBody(body, "scroll"));
  const object& o = v.get_object();
  QUIVER_RETURN_IF_ERROR(
      CheckKeys(o, {"filter", "limit", "offset", "with_payload", "with_vector", "with_vectors", "order_by"}, "scroll"));
  ScrollRequest r;
  QUIVER_ASSIGN_OR_RETURN(r.filter, FilterText(o, "scroll"));
  QUIVER_ASSIGN_OR_RETURN(r.limit, ParseCount(o, "limit", 10, true, "scroll"));
  if (auto off = o.find("offset"); off != o.end() && !off->value().is_null()) {
    QUIVER_ASSIGN_OR_RETURN(PointId id, ParseId(off->value(), "scroll.offset"));
    r.offset = id;
  }
  QUIVER_ASSIGN_OR_RETURN(r.with_payload, ParseWithPayload(o, PayloadSelector::All(), "scroll"));
  QUIVER_ASSIGN_OR_RETURN(r.with_vector, ParseWithVector(o, "scroll"));
  return r;
}

Result<std::string> ParseCount(std::string_view body) {
  QUIVER_ASSIGN_OR_RETURN(value v, ParseBody(body, "count"));
  const object& o = v.get_object();
  QUIVER_RETURN_IF_ERROR(CheckKeys(o, {"filter", "exact"}, "count"));
  return FilterText(o, "count");
}

Result<GetRequest> ParseGet(std::string_view body) {
  QUIVER_ASSIGN_OR_RETURN(value v, ParseBody(body, "get"));
  const object& o = v.get_object();
  QUIVER_RETURN_IF_ERROR(CheckKeys(o, {"ids", "with_payload", "with_vector", "with_vectors"}, "get"));
  GetRequest r;
  auto ids = o.find("ids");
  if (ids == o.end()) return Bad("get", "missing 'ids'");
  QUIVER_ASSIGN_OR_RETURN(r.ids, ParseIds(ids->value(), "get.ids"));
  QUIVER_ASSIGN_OR_RETURN(r.with_payload, ParseWithPayload(o, PayloadSelector::All(), "get"));
  QUIVER_ASSIGN_OR_RETURN(r.with_vector, ParseWithVector(o, "get"));
  return r;
}

Result<PointsSelector> ParsePointsSelector(std::string_view body) {
  QUIVER_ASSIGN_OR_RETURN(value v, ParseBody(body, "selector"));
  QUIVER_RETURN_IF_ERROR(CheckKeys(v.get_object(), {"points", "filter"}, "selector"));
  return SelectorFromObject(v.get_object(), "selector");
}

Result<PayloadRequest> ParseSetPayload(std::string_view body) {
  QUIVER_ASSIGN_OR_RETURN(value v, ParseBody(body, "set_payload"));
  const object& o = v.get_object();
  QUIVER_RETURN_IF_ERROR(CheckKeys(o, {"payload", "points", "filter", "key"}, "set_payload"));
  if (o.contains("key")) return Bad("set_payload.key", "setting a nested key is not supported; set the top-level key");
  PayloadRequest r;
  auto payload = o.find("payload");
  if (payload == o.end()) return Bad("set_payload", "missing 'payload'");
  QUIVER_ASSIGN_OR_RETURN(r.payload, ObjectText(payload->value(), "set_payload.payload"));
  if (r.payload.empty()) return Bad("set_payload.payload", "expected a JSON object");
  QUIVER_ASSIGN_OR_RETURN(r.points, SelectorFromObject(o, "set_payload"));
  return r;
}

Result<PayloadRequest> ParseDeletePayloadKeys(std::string_view body) {
  QUIVER_ASSIGN_OR_RETURN(value v, ParseBody(body, "delete_payload"));
  const object& o = v.get_object();
  QUIVER_RETURN_IF_ERROR(CheckKeys(o, {"keys", "points", "filter"}, "delete_payload"));
  PayloadRequest r;
  auto keys = o.find("keys");
  if (keys == o.end()) return Bad("delete_payload", "missing 'keys'");
  QUIVER_ASSIGN_OR_RETURN(r.keys, ParseStrings(keys->value(), "delete_payload.keys"));
  QUIVER_ASSIGN_OR_RETURN(r.points, SelectorFromObject(o, "delete_payload"));
  return r;
}

Result<PayloadIndexRequest> ParseCreatePayloadIndex(std::string_view body) {
  QUIVER_ASSIGN_OR_RETURN(value v, ParseBody(body, "index"));
  const object& o = v.get_object();
  QUIVER_RETURN_IF_ERROR(CheckKeys(o, {"field_name", "field_schema", "field_type"}, "index"));
  PayloadIndexRequest r;
  auto field = o.find("field_name");
  if (field == o.end() || !field->value().is_string()) return Bad("index.field_name", "expected a string");
  r.field = std::string(field->value().get_string());
  auto schema = o.find("field_schema");
  if (schema == o.end()) schema = o.find("field_type");
  if (schema == o.end()) return Bad("index", "missing 'field_schema'");
  if (schema->value().is_string()) {
    r.type = std::string(schema->value().get_string());
  } else if (const object* so = schema->value().if_object(); so && so->find("type") != so->end() &&
                                                              so->find("type")->value().is_string()) {
    r.type = std::string(so->find("type")->value().get_string());
  } else {
    return Bad("index.field_schema", "expected a type name or {\"type\": ...}");
  }
  return r;
}

std::string PointIdToJson(const PointId& id) {
  return id.is_uuid() ? "\"" + id.ToString() + "\"" : id.ToString();
}

std::string ScoredPointsToJson(const std::vector<ScoredPoint>& points) {
  std::string out = "[";
  for (size_t i = 0; i < points.size(); ++i) {
    if (i) out.push_back(',');
    AppendPoint(points[i].id, &points[i].score, points[i].payload, points[i].vectors, &out);
  }
  out.push_back(']');
  return out;
}

std::string RecordsToJson(const std::vector<Record>& records) {
  std::string out = "[";
  for (size_t i = 0; i < records.size(); ++i) {
    if (i) out.push_back(',');
    AppendPoint(records[i].id, nullptr, records[i].payload, records[i].vectors, &out);
  }
  out.push_back(']');
  return out;
}

std::string ScrollResultToJson(const ScrollResult& result) {
  return "{\"points\":" + RecordsToJson(result.points) + ",\"next_page_offset\":" +
         (result.next_page_offset ? PointIdToJson(*result.next_page_offset) : "null") + "}";
}

std::string CollectionInfoToJson(const CollectionInfo& info) {
  object o;
  o["status"] = "green";
  o["optimizer_status"] = "ok";
  o["points_count"] = info.points_count;
  o["vectors_count"] = info.points_count;
  o["indexed_vectors_count"] = info.indexed_vectors_count;
  o["segments_count"] = info.segments_count;
  value config = db::ConfigToJson(info.config);
  object cfg;
  cfg["params"] = object{{"vectors", config.get_object()["vectors"]}};
  cfg["hnsw_config"] = config.get_object()["hnsw_config"];
  if (auto q = config.get_object().find("quantization_config"); q != config.get_object().end()) {
    cfg["quantization_config"] = q->value();
  } else {
    cfg["quantization_config"] = nullptr;
  }
  o["config"] = std::move(cfg);
  object schema;
  for (const PayloadIndexInfo& p : info.payload_schema) {
    schema[p.field] = object{{"data_type", p.type}, {"points", p.points}};
  }
  o["payload_schema"] = std::move(schema);
  return boost::json::serialize(o);
}

std::string CollectionStatsToJson(const CollectionStats& stats) {
  object o{{"points", stats.points},
           {"tombstones", stats.tombstones},
           {"segments", stats.segments},
           {"indexed_vectors", stats.indexed_vectors},
           {"unindexed_vectors", stats.unindexed_vectors},
           {"disk_bytes", stats.disk_bytes},
           {"memory_bytes", stats.memory_bytes},
           {"simd", stats.simd}};
  return boost::json::serialize(o);
}

}  // namespace quiver::json
