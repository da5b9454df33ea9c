// The Query API's executor (query.h): resolves a request's vectors, then runs its stages from the leaves up.
#include "db/query.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <unordered_set>

#include "db/collection_core.h"
#include "db/query_internal.h"
#include "payload/json_util.h"

namespace quiver::db {
namespace internal {

size_t ClampedProduct(size_t a, size_t b) {
  if (a != 0 && b > kMaxStagePoints / a) return kMaxStagePoints;
  return std::min(a * b, kMaxStagePoints);
}

FilterPtr And(FilterPtr a, FilterPtr b) {
  if (!a) return b;
  if (!b) return a;
  auto f = std::make_shared<payload::Filter>();
  f->must.push_back(payload::FilterCondition{std::move(a)});
  f->must.push_back(payload::FilterCondition{std::move(b)});
  return f;
}

namespace {

// "vector 'name'", or "the unnamed vector" (where VectorLabel's plain "vector" would read oddly).
std::string KindLabel(std::string_view name) { return name.empty() ? "the unnamed vector" : VectorLabel(name); }

}  // namespace

QueryRunner::QueryRunner(const CollectionCore& collection, const CollectionFinder& find)
    : collection_(collection), find_(find) {}

Result<const CollectionCore*> QueryRunner::Named(const std::string& name, const std::string& path) {
  if (name == collection_.name()) return &collection_;
  if (!find_) {
    return Status::FailedPrecondition(path + ": collection '" + name +
                                      "' is another collection; naming one needs the database (call through "
                                      "Database, qv_db_request, or the npm package's Database)");
  }
  auto other = find_(name);
  if (!other.ok()) return other.status().WithContext(path);
  held_.push_back(*other);
  return &(*other)->core();
}

Status QueryRunner::ResolveVector(const VectorInput& input, const QueryStage& stage, uint32_t dim,
                                  Distance distance, std::vector<float>* out) {
  switch (input.kind) {
    case VectorInput::Kind::kDense:
      if (input.dense.size() != dim) {
        return Status::InvalidArgument(input.path + ": the vector has " + std::to_string(input.dense.size()) +
                                       " dimensions; " + VectorLabel(stage.using_vector) + " has " +
                                       std::to_string(dim));
      }
      *out = input.dense;
      return Status::OK();
    case VectorInput::Kind::kPointId: {
      const CollectionCore* source = &collection_;
      std::string vector_name = stage.using_vector;
      std::string where = "collection " + collection_.name();
      if (stage.lookup_from) {
        QUIVER_ASSIGN_OR_RETURN(source, Named(stage.lookup_from->collection, stage.path + ".lookup_from.collection"));
        if (stage.lookup_from->vector) vector_name = *stage.lookup_from->vector;
        where = "collection " + source->name();
      }
      if (source == &collection_) referenced_.push_back(input.id);
      auto shape = source->VectorShape(vector_name);
      if (!shape.ok()) {
        return shape.status().WithContext(stage.path + (stage.lookup_from ? ".lookup_from.vector" : ".using"));
      }
      if (shape->first != dim) {
        return Status::InvalidArgument(input.path + ": " + VectorLabel(vector_name) + " of " + where + " has " +
                                       std::to_string(shape->first) + " dimensions; " +
                                       VectorLabel(stage.using_vector) + " has " + std::to_string(dim));
      }
      QUIVER_ASSIGN_OR_RETURN(auto records, source->Get({&input.id, 1}, PayloadSelector::None(),
                                                        VectorSelector::Only({vector_name})));
      if (records.empty() || records[0].vectors.count(vector_name) == 0) {
        return Status::NotFound(input.path + ": no point with id " + input.id.ToString() + " and " +
                                VectorLabel(vector_name) + " in " + where);
      }
      *out = std::move(records[0].vectors[vector_name]);
      return Status::OK();
    }
    case VectorInput::Kind::kSparse:
      return Status::InvalidArgument(input.path + ": " + KindLabel(stage.using_vector) + " of collection " +
                                     collection_.name() + " is dense; a sparse vector is not its kind");
  }
  return Status::Internal("unknown vector input");
}

Status QueryRunner::ResolveSparse(const VectorInput& input, const QueryStage& stage, SparseVector* out) {
  switch (input.kind) {
    case VectorInput::Kind::kSparse:
      *out = input.sparse;
      return Status::OK();
    case VectorInput::Kind::kDense:
      return Status::InvalidArgument(input.path + ": " + KindLabel(stage.using_vector) + " of collection " +
                                     collection_.name() + " is sparse; a dense vector is not its kind");
    case VectorInput::Kind::kPointId: {
      const CollectionCore* source = &collection_;
      std::string vector_name = stage.using_vector;
      if (stage.lookup_from) {
        QUIVER_ASSIGN_OR_RETURN(source, Named(stage.lookup_from->collection, stage.path + ".lookup_from.collection"));
        if (stage.lookup_from->vector) vector_name = *stage.lookup_from->vector;
      }
      if (source == &collection_) referenced_.push_back(input.id);
      auto space = source->FindSparseSpace(vector_name);
      if (!space.ok()) {
        return space.status().WithContext(stage.path + (stage.lookup_from ? ".lookup_from.vector" : ".using"));
      }
      QUIVER_ASSIGN_OR_RETURN(auto records, source->Get({&input.id, 1}, PayloadSelector::None(),
                                                        VectorSelector::Only({vector_name})));
      if (records.empty() || records[0].sparse_vectors.count(vector_name) == 0) {
        return Status::NotFound(input.path + ": no point with id " + input.id.ToString() + " and " +
                                VectorLabel(vector_name) + " in collection " + source->name());
      }
      *out = std::move(records[0].sparse_vectors[vector_name]);
      return Status::OK();
    }
  }
  return Status::Internal("unknown vector input");
}

// A nearest or recommend stage of a sparse vector. Recommend averages the examples as Qdrant's average_vector
// does for sparse vectors: per index, avg(positive) + (avg(positive) - avg(negative)), an index missing from an
// example counting as 0.
Status QueryRunner::PrepareSparse(const QueryStage& stage, SourceQuery* source) {
  if (const NearestQuery* n = std::get_if<NearestQuery>(&stage.query)) {
    SparseVector v;
    QUIVER_RETURN_IF_ERROR(ResolveSparse(n->vector, stage, &v));
    source->sparse = std::move(v);
    return Status::OK();
  }
  const RecommendQuery& r = std::get<RecommendQuery>(stage.query);
  auto average = [&](const std::vector<VectorInput>& list, std::map<uint32_t, double>* sum) -> Status {
    for (const VectorInput& input : list) {
      SparseVector v;
      QUIVER_RETURN_IF_ERROR(ResolveSparse(input, stage, &v));
      for (size_t i = 0; i < v.indices.size(); ++i) (*sum)[v.indices[i]] += v.values[i];
    }
    for (auto& entry : *sum) entry.second /= double(list.size());
    return Status::OK();
  };
  std::map<uint32_t, double> pos, neg;
  QUIVER_RETURN_IF_ERROR(average(r.positive, &pos));
  QUIVER_RETURN_IF_ERROR(average(r.negative, &neg));
  std::map<uint32_t, double> combined;
  for (const auto& [index, value] : pos) combined[index] = r.negative.empty() ? value : 2 * value;
  for (const auto& [index, value] : neg) combined[index] -= value;
  SparseVector v;
  for (const auto& [index, value] : combined) {
    if (value == 0) continue;
    v.indices.push_back(index);
    v.values.push_back(static_cast<float>(value));
  }
  source->sparse = std::move(v);
  return Status::OK();
}

namespace {

void Normalize(std::vector<float>* v) {
  double sum = 0;
  for (float x : *v) sum += double(x) * x;
  if (sum <= 0) return;
  const double inv = 1.0 / std::sqrt(sum);
  for (float& x : *v) x = static_cast<float>(x * inv);
}

}  // namespace

Status QueryRunner::Prepare(const QueryStage& stage, size_t depth) {
  if (depth > kMaxPrefetchDepth) {
    return Status::InvalidArgument(stage.path + ": prefetches are nested deeper than " +
                                   std::to_string(kMaxPrefetchDepth) + " levels");
  }
  Prepared& p = prepared_[&stage];
  if (stage.filter) p.filter = std::make_shared<payload::Filter>(*stage.filter);
  const bool nearest = std::holds_alternative<NearestQuery>(stage.query);
  const bool recommend = std::holds_alternative<RecommendQuery>(stage.query);
  if (nearest || recommend) {
    if (collection_.FindSparseSpace(stage.using_vector).ok()) {
      SourceQuery source;
      source.vector_name = stage.using_vector;
      QUIVER_RETURN_IF_ERROR(PrepareSparse(stage, &source));
      p.source = std::move(source);
      for (const QueryStage& child : stage.prefetch) QUIVER_RETURN_IF_ERROR(Prepare(child, depth + 1));
      return Status::OK();
    }
    auto shape = collection_.VectorShape(stage.using_vector);
    if (!shape.ok()) return shape.status().WithContext(stage.path + ".using");
    // (Not a structured binding: clang 14, Emscripten's, cannot capture one in a lambda.)
    const uint32_t dim = shape->first;
    const Distance distance = shape->second;
    SourceQuery source;
    source.vector_name = stage.using_vector;
    source.smaller_is_better = distance == Distance::kEuclid || distance == Distance::kManhattan;
    if (nearest) {
      QUIVER_RETURN_IF_ERROR(ResolveVector(std::get<NearestQuery>(stage.query).vector, stage, dim, distance,
                                           &source.dense));
    } else {
      // average_vector, as Qdrant computes it: each example normalised for Cosine first, then
      // avg(positive) + (avg(positive) - avg(negative)).
      const RecommendQuery& r = std::get<RecommendQuery>(stage.query);
      auto average = [&](const std::vector<VectorInput>& list, std::vector<double>* sum) -> Status {
        sum->assign(dim, 0.0);
        for (const VectorInput& input : list) {
          std::vector<float> v;
          QUIVER_RETURN_IF_ERROR(ResolveVector(input, stage, dim, distance, &v));
          if (distance == Distance::kCosine) Normalize(&v);
          for (uint32_t j = 0; j < dim; ++j) (*sum)[j] += v[j];
        }
        if (!list.empty()) {
          for (double& x : *sum) x /= double(list.size());
        }
        return Status::OK();
      };
      std::vector<double> pos, neg;
      QUIVER_RETURN_IF_ERROR(average(r.positive, &pos));
      QUIVER_RETURN_IF_ERROR(average(r.negative, &neg));
      source.dense.resize(dim);
      for (uint32_t j = 0; j < dim; ++j) {
        source.dense[j] = static_cast<float>(r.negative.empty() ? pos[j] : 2 * pos[j] - neg[j]);
      }
    }
    p.source = std::move(source);
  }
  for (const QueryStage& child : stage.prefetch) QUIVER_RETURN_IF_ERROR(Prepare(child, depth + 1));
  return Status::OK();
}

FilterPtr QueryRunner::Exclusions() const {
  if (referenced_.empty()) return nullptr;
  payload::HasIdCondition ids{referenced_};
  std::sort(ids.ids.begin(), ids.ids.end());
  ids.ids.erase(std::unique(ids.ids.begin(), ids.ids.end()), ids.ids.end());
  auto f = std::make_shared<payload::Filter>();
  f->must_not.push_back(std::move(ids));
  return f;
}

// ---- Reading a source (a leaf's vector query, or the rescoring of prefetched points) ----

Result<Ranked> QueryRunner::SearchSource(const SourceQuery& source, const QueryStage& stage,
                                         const payload::Filter* filter, size_t limit) {
  if (source.sparse) {
    auto found = collection_.SearchSparse(source.vector_name, *source.sparse, filter, limit, 0,
                                          stage.score_threshold, PayloadSelector::None(), VectorSelector::None());
    if (!found.ok()) return found.status().WithContext(stage.path);
    Ranked out;
    out.points.reserve(found->size());
    for (const ScoredPoint& p : *found) out.points.push_back(Candidate{p.id, p.score, std::nullopt});
    return out;
  }
  SearchRequest r;
  r.vector = source.dense;
  r.vector_name = source.vector_name;
  r.limit = limit;
  r.score_threshold = stage.score_threshold;
  r.hnsw_ef = stage.hnsw_ef;
  r.exact = stage.exact;
  r.quantization = stage.quantization;
  auto found = collection_.Search(r, filter);
  if (!found.ok()) return found.status().WithContext(stage.path);
  Ranked out;
  out.smaller_is_better = source.smaller_is_better;
  out.points.reserve(found->size());
  for (const ScoredPoint& p : *found) out.points.push_back(Candidate{p.id, p.score, std::nullopt});
  return out;
}

Result<Ranked> QueryRunner::ScoreSource(const SourceQuery& source, const QueryStage& stage,
                                        std::span<const PointId> ids, size_t limit) {
  if (source.sparse) {
    // The sparse search restricted to the prefetched points.
    if (ids.empty()) return Ranked{};
    payload::Filter only;
    payload::HasIdCondition has{std::vector<PointId>(ids.begin(), ids.end())};
    std::sort(has.ids.begin(), has.ids.end());
    only.must.push_back(std::move(has));
    return SearchSource(source, stage, &only, limit);
  }
  auto scored = collection_.ScorePoints(source.vector_name, source.dense, ids, limit, stage.score_threshold);
  if (!scored.ok()) return scored.status().WithContext(stage.path);
  Ranked out;
  out.smaller_is_better = source.smaller_is_better;
  out.points.reserve(scored->size());
  for (const ScoredPoint& p : *scored) out.points.push_back(Candidate{p.id, p.score, std::nullopt});
  return out;
}

// ---- Stages ----

namespace {

// Qdrant gives points read in id or payload order the score 1.
constexpr float kUnscored = 1.0f;

Ranked FromOrdered(std::vector<std::pair<PointId, OrderValue>>&& points) {
  Ranked out;
  out.ordered_by_payload = true;
  out.points.reserve(points.size());
  for (auto& [id, value] : points) out.points.push_back(Candidate{id, kUnscored, value});
  return out;
}

}  // namespace

Result<Ranked> QueryRunner::RunLeaf(const QueryStage& stage, const FilterPtr& filter, size_t limit) {
  const Prepared& p = prepared_.at(&stage);
  if (p.source) return SearchSource(*p.source, stage, filter.get(), limit);
  if (const OrderByQuery* o = std::get_if<OrderByQuery>(&stage.query)) {
    auto ordered = collection_.OrderByPayload(o->spec, filter.get(), nullptr, limit);
    if (!ordered.ok()) return ordered.status().WithContext(stage.path);
    return FromOrdered(std::move(*ordered));
  }
  if (std::holds_alternative<FusionQuery>(stage.query)) {
    return Status::InvalidArgument(stage.path + ".query: a fusion needs prefetches to fuse");
  }
  // No query: points in id order.
  ScrollRequest scroll;
  scroll.limit = limit;
  scroll.with_payload = PayloadSelector::None();
  auto page = collection_.Scroll(scroll, filter.get());
  if (!page.ok()) return page.status().WithContext(stage.path);
  Ranked out;
  for (const Record& r : page->points) out.points.push_back(Candidate{r.id, kUnscored, std::nullopt});
  return out;
}

Result<Ranked> QueryRunner::Run(const QueryStage& stage, const FilterPtr& inherited, size_t limit) {
  const Prepared& p = prepared_.at(&stage);
  const FilterPtr filter = And(inherited, p.filter);
  if (stage.prefetch.empty()) return RunLeaf(stage, filter, limit);

  std::vector<Ranked> inputs;
  inputs.reserve(stage.prefetch.size());
  for (const QueryStage& child : stage.prefetch) {
    QUIVER_ASSIGN_OR_RETURN(Ranked r, Run(child, filter, ClampedProduct(child.limit, limit_multiplier_)));
    inputs.push_back(std::move(r));
  }

  if (const FusionQuery* fusion = std::get_if<FusionQuery>(&stage.query)) {
    std::vector<RankedList> lists(inputs.size());
    for (size_t i = 0; i < inputs.size(); ++i) {
      lists[i].smaller_is_better = inputs[i].smaller_is_better;
      lists[i].points.reserve(inputs[i].points.size());
      for (const Candidate& c : inputs[i].points) lists[i].points.push_back(RankedPoint{c.id, c.score});
    }
    std::vector<RankedPoint> fused = fusion->method == FusionQuery::Method::kRrf
                                         ? FuseRrf(lists, fusion->k, fusion->weights)
                                         : FuseDbsf(lists);
    Ranked out;
    for (const RankedPoint& r : fused) {
      if (out.points.size() == limit) break;
      if (stage.score_threshold && r.score < *stage.score_threshold) break;
      out.points.push_back(Candidate{r.id, r.score, std::nullopt});
    }
    return out;
  }

  // Rescoring: the union of the prefetched points, in the order first found.
  std::vector<PointId> ids;
  std::unordered_set<PointId, PointIdHash> seen;
  for (const Ranked& r : inputs) {
    for (const Candidate& c : r.points) {
      if (seen.insert(c.id).second) ids.push_back(c.id);
    }
  }
  if (p.source) return ScoreSource(*p.source, stage, ids, limit);
  if (const OrderByQuery* o = std::get_if<OrderByQuery>(&stage.query)) {
    auto ordered = collection_.OrderByPayload(o->spec, nullptr, &ids, limit);
    if (!ordered.ok()) return ordered.status().WithContext(stage.path);
    return FromOrdered(std::move(*ordered));
  }
  return Status::InvalidArgument(stage.path + ": prefetches need a query to merge them");
}

Status QueryRunner::Fill(const QueryRequest& request, std::span<const Candidate> points, bool ordered,
                         QueryResponse* out) {
  out->points.clear();
  out->order_values.clear();
  const bool fetch =
      request.with_payload.mode != PayloadSelector::Mode::kNone || request.with_vector.all ||
      !request.with_vector.names.empty();
  std::vector<Record> records;
  if (fetch) {
    std::vector<PointId> ids;
    ids.reserve(points.size());
    for (const Candidate& c : points) ids.push_back(c.id);
    auto got = collection_.Get(ids, request.with_payload, request.with_vector);
    if (!got.ok()) return got.status().WithContext(request.root.path);
    records = std::move(*got);
  }
  // Get returns the points asked for in order, leaving out any deleted since they were found.
  size_t next = 0;
  for (const Candidate& c : points) {
    ScoredPoint sp{c.id, c.score, std::nullopt, {}, {}};
    if (fetch) {
      if (next == records.size() || !(records[next].id == c.id)) continue;
      sp.payload = std::move(records[next].payload);
      sp.vectors = std::move(records[next].vectors);
      sp.sparse_vectors = std::move(records[next].sparse_vectors);
      ++next;
    }
    out->points.push_back(std::move(sp));
    if (ordered && c.order) out->order_values.push_back(*c.order);
  }
  return Status::OK();
}

}  // namespace internal

Result<QueryResponse> RunQuery(const CollectionCore& collection, const QueryRequest& request,
                               const CollectionFinder& find) {
  internal::QueryRunner runner(collection, find);
  QUIVER_RETURN_IF_ERROR(runner.Prepare(request.root, 0));
  const size_t limit = std::min(request.root.limit + request.offset, kMaxStagePoints);
  QUIVER_ASSIGN_OR_RETURN(internal::Ranked ranked, runner.Run(request.root, runner.Exclusions(), limit));
  const size_t skip = std::min(request.offset, ranked.points.size());
  QueryResponse out;
  QUIVER_RETURN_IF_ERROR(runner.Fill(request, std::span(ranked.points).subspan(skip), ranked.ordered_by_payload, &out));
  return out;
}

}  // namespace quiver::db
