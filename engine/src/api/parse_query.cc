// The Query API's bodies (Qdrant's QueryRequest, QueryRequestBatch, QueryGroupsRequest, Prefetch), read once
// into db::QueryRequest (db/query.h). What the executor cannot check without the collection (vector names,
// dimensions, points named by id) is checked when the query runs; everything else is checked here, by path.
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <limits>

#include "api/body_reader.h"
#include "api/request.h"
#include "api/vector_reader.h"
#include "payload/datetime.h"
#include "payload/json_util.h"

namespace quiver::api {
namespace {

namespace json = boost::json;
using payload::BadField;
using payload::CheckKeys;
using payload::Element;
using payload::Find;
using payload::Member;

Status NotSupported(const std::string& path, std::string_view what) {
  return Status::NotSupported(path + ": " + std::string(what));
}

// Qdrant's VectorInput.
Result<db::VectorInput> ReadVectorInput(const json::value& v, const std::string& path) {
  db::VectorInput in;
  in.path = path;
  if (const json::array* a = v.if_array()) {
    if (!a->empty() && (*a)[0].is_array()) return NotSupported(path, "multivectors are not supported");
    in.kind = db::VectorInput::Kind::kDense;
    QUIVER_ASSIGN_OR_RETURN(in.dense, payload::ReadVector(v, path));
    if (in.dense.empty()) return BadField(path, "expected a vector, got an empty array");
    return in;
  }
  if (v.is_number() || v.is_string()) {
    in.kind = db::VectorInput::Kind::kPointId;
    QUIVER_ASSIGN_OR_RETURN(in.id, payload::ReadPointId(v, path));
    return in;
  }
  if (const json::object* o = v.if_object()) {
    if (o->contains("indices") || o->contains("values")) {
      in.kind = db::VectorInput::Kind::kSparse;
      QUIVER_ASSIGN_OR_RETURN(in.sparse, ReadSparseVector(v, path));
      return in;
    }
    if (o->contains("text")) {
      // A document is embedded here, once, as a BM25 query (distinct tokens, weight 1): from then on it is a
      // sparse vector like any other.
      in.kind = db::VectorInput::Kind::kSparse;
      VectorReader reader;
      QUIVER_ASSIGN_OR_RETURN(in.sparse, reader.ReadDocument(v, path, text::Bm25Side::kQuery));
      return in;
    }
    if (o->contains("image")) return NotSupported(path, "images (inference) are not supported");
    if (o->contains("object")) return NotSupported(path, "inference objects are not supported");
  }
  return BadField(path, "expected a vector (an array of numbers), a sparse vector {\"indices\", \"values\"}, a "
                        "point id or a document {\"text\", \"model\"}");
}

Result<std::vector<db::VectorInput>> ReadVectorInputs(const json::object& o, std::string_view key,
                                                      const std::string& path) {
  std::vector<db::VectorInput> out;
  const json::value* v = Find(o, key);
  if (!v) return out;
  const std::string p = Member(path, key);
  QUIVER_ASSIGN_OR_RETURN(const json::array* a, payload::ReadArray(*v, p));
  for (size_t i = 0; i < a->size(); ++i) {
    QUIVER_ASSIGN_OR_RETURN(db::VectorInput in, ReadVectorInput((*a)[i], Element(p, i)));
    out.push_back(std::move(in));
  }
  return out;
}

Result<db::RecommendQuery> ReadRecommend(const json::value& v, const std::string& path) {
  QUIVER_ASSIGN_OR_RETURN(const json::object* o, payload::ReadObject(v, path));
  QUIVER_RETURN_IF_ERROR(CheckKeys(*o, {"positive", "negative", "strategy"}, path));
  if (const json::value* s = Find(*o, "strategy")) {
    const std::string sp = Member(path, "strategy");
    QUIVER_ASSIGN_OR_RETURN(std::string strategy, payload::ReadString(*s, sp));
    if (strategy == "best_score" || strategy == "sum_scores") {
      return NotSupported(sp, "the " + strategy + " strategy is not supported; use \"average_vector\"");
    }
    if (strategy != "average_vector") {
      return BadField(sp, "expected \"average_vector\", \"best_score\" or \"sum_scores\"");
    }
  }
  db::RecommendQuery r;
  QUIVER_ASSIGN_OR_RETURN(r.positive, ReadVectorInputs(*o, "positive", path));
  QUIVER_ASSIGN_OR_RETURN(r.negative, ReadVectorInputs(*o, "negative", path));
  if (r.positive.empty()) {
    return BadField(Member(path, "positive"), "at least one positive example is required (average_vector)");
  }
  return r;
}

Result<db::OrderByQuery> ReadOrderBy(const json::value& v, const std::string& path) {
  db::OrderByQuery q;
  const json::value* key = &v;
  std::string key_path = path;
  const json::object* o = v.if_object();
  if (o) {
    QUIVER_RETURN_IF_ERROR(CheckKeys(*o, {"key", "direction", "start_from"}, path));
    key = Find(*o, "key");
    key_path = Member(path, "key");
    if (!key) return BadField(path, "missing 'key'");
  } else if (!v.is_string()) {
    return BadField(path, "expected a payload key or {\"key\", \"direction\", \"start_from\"}");
  }
  QUIVER_ASSIGN_OR_RETURN(q.key, payload::ReadString(*key, key_path));
  auto parsed = payload::JsonPath::Parse(q.key);
  if (!parsed.ok()) return BadField(key_path, parsed.status().message());
  q.spec.key = std::move(*parsed);
  if (!o) return q;
  if (const json::value* d = Find(*o, "direction")) {
    const std::string dp = Member(path, "direction");
    QUIVER_ASSIGN_OR_RETURN(std::string direction, payload::ReadString(*d, dp));
    if (direction != "asc" && direction != "desc") return BadField(dp, "expected \"asc\" or \"desc\"");
    q.spec.descending = direction == "desc";
  }
  if (const json::value* s = Find(*o, "start_from")) {
    const std::string sp = Member(path, "start_from");
    if (const int64_t* i = s->if_int64()) {
      q.spec.start_from = OrderValue{*i};
    } else if (const uint64_t* u = s->if_uint64()) {
      if (*u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
        return BadField(sp, "expected an integer that fits 64 signed bits");
      }
      q.spec.start_from = OrderValue{static_cast<int64_t>(*u)};
    } else if (const double* d = s->if_double()) {
      q.spec.start_from = OrderValue{*d};
    } else if (const json::string* text = s->if_string()) {
      std::optional<int64_t> t = payload::ParseDatetime(std::string_view(text->data(), text->size()));
      if (!t) return BadField(sp, "'" + std::string(text->data(), text->size()) + "' is not a datetime");
      q.spec.start_from = OrderValue{*t};
      q.spec.datetime = true;
    } else {
      return BadField(sp, "expected a number or a datetime string");
    }
  }
  return q;
}

Result<db::FusionQuery> ReadRrf(const json::value& v, const std::string& path) {
  QUIVER_ASSIGN_OR_RETURN(const json::object* o, payload::ReadObject(v, path));
  QUIVER_RETURN_IF_ERROR(CheckKeys(*o, {"k", "weights"}, path));
  db::FusionQuery f;
  f.method = db::FusionQuery::Method::kRrf;
  if (const json::value* k = Find(*o, "k")) {
    QUIVER_ASSIGN_OR_RETURN(uint64_t n, payload::ReadUint(*k, Member(path, "k"), 1, 1u << 30));
    f.k = static_cast<uint32_t>(n);
  }
  if (const json::value* w = Find(*o, "weights")) {
    QUIVER_ASSIGN_OR_RETURN(f.weights, payload::ReadVector(*w, Member(path, "weights")));
    if (f.weights.empty()) return BadField(Member(path, "weights"), "expected one weight per prefetch");
  }
  return f;
}

// Qdrant's QueryInterface: a VectorInput (a nearest query) or one of the Query objects.
Status ReadQuery(const json::value& v, const std::string& path, db::StageQuery* out) {
  if (const json::object* o = v.if_object()) {
    auto only = [&](std::initializer_list<std::string_view> keys) { return CheckKeys(*o, keys, path); };
    if (o->contains("nearest")) {
      QUIVER_RETURN_IF_ERROR(only({"nearest", "mmr"}));
      if (Find(*o, "mmr")) return NotSupported(Member(path, "mmr"), "MMR reranking is not supported");
      QUIVER_ASSIGN_OR_RETURN(db::VectorInput in, ReadVectorInput(o->at("nearest"), Member(path, "nearest")));
      *out = db::NearestQuery{std::move(in)};
      return Status::OK();
    }
    if (o->contains("recommend")) {
      QUIVER_RETURN_IF_ERROR(only({"recommend"}));
      QUIVER_ASSIGN_OR_RETURN(db::RecommendQuery r, ReadRecommend(o->at("recommend"), Member(path, "recommend")));
      *out = std::move(r);
      return Status::OK();
    }
    if (o->contains("order_by")) {
      QUIVER_RETURN_IF_ERROR(only({"order_by"}));
      QUIVER_ASSIGN_OR_RETURN(db::OrderByQuery q, ReadOrderBy(o->at("order_by"), Member(path, "order_by")));
      *out = std::move(q);
      return Status::OK();
    }
    if (o->contains("fusion")) {
      QUIVER_RETURN_IF_ERROR(only({"fusion"}));
      const std::string fp = Member(path, "fusion");
      QUIVER_ASSIGN_OR_RETURN(std::string name, payload::ReadString(o->at("fusion"), fp));
      db::FusionQuery f;
      if (name == "rrf") {
        f.method = db::FusionQuery::Method::kRrf;
      } else if (name == "dbsf") {
        f.method = db::FusionQuery::Method::kDbsf;
      } else {
        return BadField(fp, "expected \"rrf\" or \"dbsf\"");
      }
      *out = std::move(f);
      return Status::OK();
    }
    if (o->contains("rrf")) {
      QUIVER_RETURN_IF_ERROR(only({"rrf"}));
      QUIVER_ASSIGN_OR_RETURN(db::FusionQuery f, ReadRrf(o->at("rrf"), Member(path, "rrf")));
      *out = std::move(f);
      return Status::OK();
    }
    for (std::string_view kind : {"discover", "context", "formula", "sample", "relevance_feedback"}) {
      if (o->contains(kind)) {
        return NotSupported(Member(path, kind), "the " + std::string(kind) + " query is not supported");
      }
    }
    if (!o->contains("indices") && !o->contains("values") && !o->contains("text") && !o->contains("image") &&
        !o->contains("object")) {
      const std::string first = o->empty() ? std::string() : std::string(o->begin()->key());
      return BadField(path, "unknown query '" + first +
                                "' (a vector, a point id, nearest, recommend, order_by, fusion or rrf)");
    }
  }
  QUIVER_ASSIGN_OR_RETURN(db::VectorInput in, ReadVectorInput(v, path));
  *out = db::NearestQuery{std::move(in)};
  return Status::OK();
}

Result<db::LookupLocation> ReadLookupFrom(const json::value& v, const std::string& path) {
  QUIVER_ASSIGN_OR_RETURN(const json::object* o, payload::ReadObject(v, path));
  QUIVER_RETURN_IF_ERROR(CheckKeys(*o, {"collection", "vector", "shard_key"}, path));
  db::LookupLocation l;
  const json::value* c = Find(*o, "collection");
  if (!c) return BadField(path, "missing 'collection'");
  QUIVER_ASSIGN_OR_RETURN(l.collection, payload::ReadString(*c, Member(path, "collection")));
  if (const json::value* vec = Find(*o, "vector")) {
    QUIVER_ASSIGN_OR_RETURN(std::string name, payload::ReadString(*vec, Member(path, "vector")));
    l.vector = std::move(name);
  }
  return l;
}

Status CheckPrefetchKeys(const json::object& o, const std::string& path) {
  return CheckKeys(o, {"prefetch", "query", "using", "filter", "params", "score_threshold", "limit", "lookup_from"},
                   path);
}

// The members a Prefetch and a QueryRequest share, into `stage` (its path set).
Status ReadStage(const json::object& o, size_t depth, db::QueryStage* stage) {
  const std::string& path = stage->path;
  if (const json::value* p = Find(o, "prefetch")) {
    const std::string pp = Member(path, "prefetch");
    if (depth >= db::kMaxPrefetchDepth) {
      return BadField(pp, "prefetches are nested deeper than " + std::to_string(db::kMaxPrefetchDepth) + " levels");
    }
    auto one = [&](const json::value& item, const std::string& ip) -> Status {
      QUIVER_ASSIGN_OR_RETURN(const json::object* io, payload::ReadObject(item, ip));
      QUIVER_RETURN_IF_ERROR(CheckPrefetchKeys(*io, ip));
      db::QueryStage child;
      child.path = ip;
      QUIVER_RETURN_IF_ERROR(ReadStage(*io, depth + 1, &child));
      stage->prefetch.push_back(std::move(child));
      return Status::OK();
    };
    if (const json::array* a = p->if_array()) {
      for (size_t i = 0; i < a->size(); ++i) QUIVER_RETURN_IF_ERROR(one((*a)[i], Element(pp, i)));
    } else {
      QUIVER_RETURN_IF_ERROR(one(*p, pp));
    }
  }
  const std::string qp = Member(path, "query");
  if (const json::value* q = Find(o, "query")) QUIVER_RETURN_IF_ERROR(ReadQuery(*q, qp, &stage->query));
  if (const json::value* u = Find(o, "using")) {
    QUIVER_ASSIGN_OR_RETURN(stage->using_vector, payload::ReadString(*u, Member(path, "using")));
  }
  QUIVER_ASSIGN_OR_RETURN(stage->filter, ReadFilter(o, path));
  QUIVER_RETURN_IF_ERROR(ReadSearchParams(o, &stage->hnsw_ef, &stage->exact, &stage->quantization, path));
  QUIVER_ASSIGN_OR_RETURN(stage->score_threshold, ReadScoreThreshold(o, path));
  QUIVER_ASSIGN_OR_RETURN(stage->limit, ReadLimit(o, 10, path));
  if (const json::value* l = Find(o, "lookup_from")) {
    QUIVER_ASSIGN_OR_RETURN(db::LookupLocation loc, ReadLookupFrom(*l, Member(path, "lookup_from")));
    stage->lookup_from = std::move(loc);
  }

  // Qdrant's rules for how the parts combine.
  const bool none = std::holds_alternative<std::monostate>(stage->query);
  const db::FusionQuery* fusion = std::get_if<db::FusionQuery>(&stage->query);
  if (!stage->prefetch.empty() && none) {
    return BadField(path, "prefetches need a query to merge them (a vector, nearest, recommend, order_by or a "
                          "fusion)");
  }
  if (fusion && stage->prefetch.empty()) {
    return BadField(qp, "a fusion needs prefetches to fuse: give 'prefetch' with the queries whose results it "
                        "fuses");
  }
  if (fusion && !stage->using_vector.empty()) {
    return BadField(Member(path, "using"), "a fusion takes no 'using' (each prefetch names its own)");
  }
  if (fusion && !fusion->weights.empty() && fusion->weights.size() != stage->prefetch.size()) {
    return BadField(Member(Member(qp, "rrf"), "weights"),
                    std::to_string(fusion->weights.size()) + " weights for " +
                        std::to_string(stage->prefetch.size()) + " prefetches (give one per prefetch)");
  }
  if (stage->score_threshold) {
    const std::string tp = Member(path, "score_threshold");
    if (none) return BadField(tp, "a score threshold needs a query");
    if (std::holds_alternative<db::OrderByQuery>(stage->query)) {
      return BadField(tp, "an order_by query gives no scores to threshold");
    }
  }
  return Status::OK();
}

Result<db::QueryRequest> ReadQueryRequest(const json::object& o, const std::string& path) {
  QUIVER_RETURN_IF_ERROR(CheckKeys(o, {"prefetch", "query", "using", "filter", "params", "score_threshold",
                                       "limit", "offset", "with_payload", "with_vector", "with_vectors",
                                       "lookup_from", "shard_key"},
                                   path));
  db::QueryRequest r;
  r.root.path = path;
  QUIVER_RETURN_IF_ERROR(ReadStage(o, 0, &r.root));
  QUIVER_ASSIGN_OR_RETURN(r.offset, ReadOffset(o, path));
  QUIVER_ASSIGN_OR_RETURN(r.with_payload, ReadWithPayload(o, PayloadSelector::None(), path));
  QUIVER_ASSIGN_OR_RETURN(r.with_vector, ReadWithVector(o, path));
  return r;
}

Result<db::WithLookup> ReadWithLookup(const json::value& v, const std::string& path) {
  db::WithLookup w;
  if (const json::string* s = v.if_string()) {
    w.collection = std::string(s->data(), s->size());
    return w;
  }
  QUIVER_ASSIGN_OR_RETURN(const json::object* o, payload::ReadObject(v, path));
  QUIVER_RETURN_IF_ERROR(CheckKeys(*o, {"collection", "with_payload", "with_vectors", "with_vector"}, path));
  const json::value* c = Find(*o, "collection");
  if (!c) return BadField(path, "missing 'collection'");
  QUIVER_ASSIGN_OR_RETURN(w.collection, payload::ReadString(*c, Member(path, "collection")));
  QUIVER_ASSIGN_OR_RETURN(w.with_payload, ReadWithPayload(*o, PayloadSelector::All(), path));
  QUIVER_ASSIGN_OR_RETURN(w.with_vector, ReadWithVector(*o, path));
  return w;
}

Result<db::QueryGroupsRequest> ReadQueryGroups(const json::object& o, const std::string& path) {
  QUIVER_RETURN_IF_ERROR(CheckKeys(o, {"prefetch", "query", "using", "filter", "params", "score_threshold",
                                       "with_payload", "with_vector", "with_vectors", "lookup_from", "group_by",
                                       "group_size", "limit", "with_lookup", "shard_key"},
                                   path));
  db::QueryGroupsRequest r;
  r.query.root.path = path;
  QUIVER_RETURN_IF_ERROR(ReadStage(o, 0, &r.query.root));
  QUIVER_ASSIGN_OR_RETURN(r.query.with_payload, ReadWithPayload(o, PayloadSelector::None(), path));
  QUIVER_ASSIGN_OR_RETURN(r.query.with_vector, ReadWithVector(o, path));
  const json::value* g = Find(o, "group_by");
  if (!g) return BadField(path, "missing 'group_by'");
  const std::string gp = Member(path, "group_by");
  QUIVER_ASSIGN_OR_RETURN(r.group_by_text, payload::ReadString(*g, gp));
  if (r.group_by_text.empty()) return BadField(gp, "expected a payload key");
  auto parsed = payload::JsonPath::Parse(r.group_by_text);
  if (!parsed.ok()) return BadField(gp, parsed.status().message());
  r.group_by = std::move(*parsed);
  if (const json::value* s = Find(o, "group_size")) {
    QUIVER_ASSIGN_OR_RETURN(uint64_t n, payload::ReadUint(*s, Member(path, "group_size"), 1, kMaxLimit));
    r.group_size = static_cast<size_t>(n);
  }
  if (const json::value* w = Find(o, "with_lookup")) {
    QUIVER_ASSIGN_OR_RETURN(db::WithLookup lookup, ReadWithLookup(*w, Member(path, "with_lookup")));
    r.with_lookup = std::move(lookup);
  }
  return r;
}

}  // namespace

Result<Request> ParseQueryRequest(Operation operation, const json::object& body, std::string_view root) {
  const std::string path(root);
  switch (operation) {
    case Operation::kQueryPoints: {
      QUIVER_ASSIGN_OR_RETURN(db::QueryRequest r, ReadQueryRequest(body, path));
      return Request(QueryPointsRequest{std::move(r)});
    }
    case Operation::kQueryBatch: {
      QUIVER_RETURN_IF_ERROR(CheckKeys(body, {"searches"}, path));
      const json::value* s = Find(body, "searches");
      if (!s) return BadField(path, "missing 'searches'");
      const std::string sp = Member(path, "searches");
      QUIVER_ASSIGN_OR_RETURN(const json::array* a, payload::ReadArray(*s, sp));
      QueryBatchRequest batch;
      batch.searches.reserve(a->size());
      for (size_t i = 0; i < a->size(); ++i) {
        const std::string ip = Element(sp, i);
        QUIVER_ASSIGN_OR_RETURN(const json::object* io, payload::ReadObject((*a)[i], ip));
        QUIVER_ASSIGN_OR_RETURN(db::QueryRequest r, ReadQueryRequest(*io, ip));
        batch.searches.push_back(std::move(r));
      }
      return Request(std::move(batch));
    }
    case Operation::kQueryGroups: {
      QUIVER_ASSIGN_OR_RETURN(db::QueryGroupsRequest r, ReadQueryGroups(body, path));
      return Request(QueryGroupsPointsRequest{std::move(r)});
    }
    default:
      break;
  }
  return Status::Internal("not a query operation");
}

}  // namespace quiver::api
