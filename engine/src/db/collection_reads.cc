// CollectionCore: reads (get, scroll, count, search, recommend), merging each segment's answer, and stats.
#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <mutex>
#include <set>

#include "db/collection_core.h"
#include "index/hnsw_index.h"
#include "index/sparse_index.h"
#include "index/vector_store.h"
#include "payload/json_util.h"
#include "simd/distance.h"

namespace quiver::db {

Record CollectionCore::MakeRecord(const Segment& seg, const PointState& st, const PayloadSelector& wp,
                                  const VectorSelector& wv) const {
  Record r;
  r.id = st.id;
  switch (wp.mode) {
    case PayloadSelector::Mode::kNone: break;
    case PayloadSelector::Mode::kAll: r.payload = payload::ReadableJson(st.payload); break;
    case PayloadSelector::Mode::kInclude:
      r.payload = payload::ReadableJson(payload::IncludePaths(st.payload, wp.keys));
      break;
    case PayloadSelector::Mode::kExclude:
      r.payload = payload::ReadableJson(payload::ExcludePaths(st.payload, wp.keys));
      break;
  }
  for (size_t s = 0; s < spaces_.size(); ++s) {
    const std::string& vname = spaces_[s].name;
    if (!wv.all && std::find(wv.names.begin(), wv.names.end(), vname) == wv.names.end()) continue;
    if (const float* v = seg.StoredVector(st, s)) r.vectors[vname].assign(v, v + spaces_[s].params.size);
  }
  for (size_t s = 0; s < sparse_spaces_.size(); ++s) {
    const std::string& vname = sparse_spaces_[s].name;
    if (!wv.all && std::find(wv.names.begin(), wv.names.end(), vname) == wv.names.end()) continue;
    if (auto v = seg.StoredSparse(st, s)) r.sparse_vectors[vname] = v->ToVector();
  }
  return r;
}

Result<std::vector<Record>> CollectionCore::Get(std::span<const PointId> ids, const PayloadSelector& with_payload,
                                                const VectorSelector& with_vector) const {
  for (const std::string& vname : with_vector.names) QUIVER_RETURN_IF_ERROR(CheckVectorName(vname));
  std::shared_lock lock(mu_);
  std::vector<Record> out;
  for (const PointId& id : ids) {
    auto loc = Locate(id);
    if (!loc) continue;
    const PointState& st = loc->segment->state(loc->slot);
    if (!st.deleted) out.push_back(MakeRecord(*loc->segment, st, with_payload, with_vector));
  }
  return out;
}

Result<ScrollResult> CollectionCore::Scroll(const ScrollRequest& request) const {
  QUIVER_ASSIGN_OR_RETURN(auto filter, ParseOptionalFilter(request.filter));
  return Scroll(request, filter ? &*filter : nullptr);
}

Result<ScrollResult> CollectionCore::Scroll(const ScrollRequest& request, const payload::Filter* filter) const {
  if (request.limit == 0) return Status::InvalidArgument("limit must be at least 1");
  for (const std::string& vname : request.with_vector.names) QUIVER_RETURN_IF_ERROR(CheckVectorName(vname));
  std::shared_lock lock(mu_);
  // Each segment yields its first limit + 1 matches from the offset, in id order; the smallest limit + 1 of them
  // all are the page and the next page's first id (an id is present in one segment only).
  struct Hit {
    PointId id;
    const Segment* seg;
    uint32_t slot;
  };
  std::vector<Hit> hits;
  for (const Segment* seg : SegmentsLocked()) {
    size_t taken = 0;
    seg->ScanInOrder(request.offset, filter, [&](uint32_t slot) {
      hits.push_back(Hit{seg->state(slot).id, seg, slot});
      return ++taken <= request.limit;
    });
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) { return a.id < b.id; });
  ScrollResult result;
  for (const Hit& h : hits) {
    if (result.points.size() == request.limit) {
      result.next_page_offset = h.id;
      break;
    }
    result.points.push_back(MakeRecord(*h.seg, h.seg->state(h.slot), request.with_payload, request.with_vector));
  }
  return result;
}

Result<size_t> CollectionCore::Count(std::string_view filter_json) const {
  QUIVER_ASSIGN_OR_RETURN(auto filter, ParseOptionalFilter(filter_json));
  return Count(filter ? &*filter : nullptr);
}

Result<size_t> CollectionCore::Count(const payload::Filter* filter) const {
  std::shared_lock lock(mu_);
  size_t n = 0;
  for (const Segment* seg : SegmentsLocked()) n += seg->Count(filter);
  return n;
}

float CollectionCore::Score(size_t space, float distance) const {
  switch (spaces_[space].params.distance) {
    case Distance::kCosine:
    case Distance::kDot: return -distance;
    case Distance::kEuclid: return std::sqrt(std::max(0.0f, distance));
    case Distance::kManhattan: return distance;
  }
  return distance;
}

bool CollectionCore::PassesThreshold(size_t space, float score, float threshold) const {
  switch (spaces_[space].params.distance) {
    case Distance::kCosine:
    case Distance::kDot: return score >= threshold;
    case Distance::kEuclid:
    case Distance::kManhattan: return score <= threshold;
  }
  return true;
}

Result<std::vector<ScoredPoint>> CollectionCore::SearchLocked(
    size_t space, const std::vector<float>& query, const payload::Filter* filter, size_t limit, size_t offset,
    std::optional<float> threshold, const PayloadSelector& wp, const VectorSelector& wv, std::optional<size_t> ef,
    bool exact, const QuantizationSearchParams& quantization, const std::vector<PointId>& exclude,
    SearchPlan* plan) const {
  const size_t k = limit + offset + exclude.size();
  const size_t beam = ef.value_or(std::max<size_t>(k, spaces_[space].hnsw.ef_construct));
  std::vector<SegmentHit> hits;
  std::vector<SlotHit> found;
  for (const Segment* seg : SegmentsLocked()) {
    QUIVER_RETURN_IF_ERROR(seg->Search(space, query.data(), k, beam, exact, quantization, filter, &found, plan));
    hits.reserve(hits.size() + found.size());  // one allocation per segment, not one per doubling
    for (const SlotHit& h : found) hits.push_back(SegmentHit{seg, h.slot, h.distance});
  }
  return MergeHitsLocked(space, hits, limit, offset, threshold, wp, wv, exclude);
}

std::vector<ScoredPoint> CollectionCore::MergeHitsLocked(size_t space, std::vector<SegmentHit>& hits, size_t limit,
                                                         size_t offset, std::optional<float> threshold,
                                                         const PayloadSelector& wp, const VectorSelector& wv,
                                                         const std::vector<PointId>& exclude) const {
  std::sort(hits.begin(), hits.end(), [](const SegmentHit& a, const SegmentHit& b) {
    if (a.distance != b.distance) return a.distance < b.distance;
    return a.seg->state(a.slot).id < b.seg->state(b.slot).id;
  });
  std::vector<ScoredPoint> out;
  out.reserve(std::min(limit, hits.size()));
  size_t skipped = 0;
  for (const SegmentHit& h : hits) {
    const PointState& st = h.seg->state(h.slot);
    if (std::find(exclude.begin(), exclude.end(), st.id) != exclude.end()) continue;
    const float score = Score(space, h.distance);
    if (threshold && !PassesThreshold(space, score, *threshold)) break;
    if (skipped < offset) {
      ++skipped;
      continue;
    }
    if (out.size() == limit) break;
    Record r = MakeRecord(*h.seg, st, wp, wv);
    out.push_back(ScoredPoint{r.id, score, std::move(r.payload), std::move(r.vectors), std::move(r.sparse_vectors)});
  }
  return out;
}

Result<std::shared_ptr<const payload::Filter>> CollectionCore::SearchFilter(std::string_view json) const {
  if (json.empty()) return std::shared_ptr<const payload::Filter>();
  {
    std::lock_guard<std::mutex> lock(filter_cache_mu_);
    if (filter_cache_ && filter_cache_text_ == json) return filter_cache_;
  }
  QUIVER_ASSIGN_OR_RETURN(payload::Filter f, payload::ParseFilterText(json));
  auto parsed = std::make_shared<const payload::Filter>(std::move(f));
  std::lock_guard<std::mutex> lock(filter_cache_mu_);
  filter_cache_text_.assign(json);
  filter_cache_ = parsed;
  return parsed;
}

Result<std::vector<ScoredPoint>> CollectionCore::Search(const SearchRequest& request, SearchPlan* plan) const {
  QUIVER_ASSIGN_OR_RETURN(auto filter, SearchFilter(request.filter));
  return Search(request, filter.get(), plan);
}

Result<std::vector<ScoredPoint>> CollectionCore::Search(const SearchRequest& request, const payload::Filter* filter,
                                                        SearchPlan* plan) const {
  if (request.sparse_vector) {
    return SearchSparse(request.vector_name, *request.sparse_vector, filter, request.limit, request.offset,
                        request.score_threshold, request.with_payload, request.with_vector, plan);
  }
  for (const SparseSpace& ss : sparse_spaces_) {
    if (ss.name == request.vector_name) {
      return Status::InvalidArgument("vector '" + ss.name +
                                     "' is a sparse vector: search it with {\"indices\": [...], \"values\": [...]}");
    }
  }
  QUIVER_ASSIGN_OR_RETURN(size_t space, CheckDenseSearch(request));
  std::shared_lock lock(mu_);
  return SearchLocked(space, request.vector, filter, request.limit, request.offset,
                      request.score_threshold, request.with_payload, request.with_vector, request.hnsw_ef,
                      request.exact, request.quantization, {}, plan);
}

Result<size_t> CollectionCore::CheckDenseSearch(const SearchRequest& request) const {
  QUIVER_ASSIGN_OR_RETURN(size_t space, FindSpace(request.vector_name));
  const uint32_t dim = spaces_[space].params.size;
  if (request.vector.size() != dim) {
    return Status::InvalidArgument("query " + VectorLabel(request.vector_name) + " has " +
                                   std::to_string(request.vector.size()) + " dimensions, expected " +
                                   std::to_string(dim));
  }
  QUIVER_RETURN_IF_ERROR(index::CheckFinite(request.vector.data(), dim).WithContext("query"));
  if (request.limit == 0) return Status::InvalidArgument("limit must be at least 1");
  for (const std::string& vname : request.with_vector.names) QUIVER_RETURN_IF_ERROR(CheckVectorName(vname));
  return space;
}

Result<std::vector<std::vector<ScoredPoint>>> CollectionCore::SearchExactBatch(
    std::span<const SearchRequest> requests) const {
  size_t space = 0, k = 0;
  std::vector<float> queries;
  for (size_t i = 0; i < requests.size(); ++i) {
    auto checked = CheckDenseSearch(requests[i]);
    if (!checked.ok()) return checked.status().WithContext("searches[" + std::to_string(i) + "]");
    space = *checked;
    queries.insert(queries.end(), requests[i].vector.begin(), requests[i].vector.end());
    k = std::max(k, requests[i].limit + requests[i].offset);
  }
  const size_t nq = requests.size();
  std::shared_lock lock(mu_);
  std::vector<std::vector<SegmentHit>> hits(nq);
  std::vector<std::vector<SlotHit>> found(nq);
  for (const Segment* seg : SegmentsLocked()) {
    QUIVER_RETURN_IF_ERROR(seg->SearchExactBatch(space, queries.data(), nq, k, found.data()));
    for (size_t q = 0; q < nq; ++q) {
      hits[q].reserve(hits[q].size() + found[q].size());
      for (const SlotHit& h : found[q]) hits[q].push_back(SegmentHit{seg, h.slot, h.distance});
    }
  }
  std::vector<std::vector<ScoredPoint>> out;
  out.reserve(nq);
  for (size_t q = 0; q < nq; ++q) {
    const SearchRequest& r = requests[q];
    out.push_back(MergeHitsLocked(space, hits[q], r.limit, r.offset, r.score_threshold, r.with_payload,
                                  r.with_vector, {}));
  }
  return out;
}

Result<std::vector<std::vector<ScoredPoint>>> CollectionCore::SearchBatch(
    std::span<const SearchRequest> requests) const {
  // Exact, unfiltered searches of one dense vector share one pass over the vectors.
  const bool one_pass = requests.size() > 1 && std::all_of(requests.begin(), requests.end(), [&](const auto& r) {
    return r.exact && r.filter.empty() && !r.sparse_vector && r.vector_name == requests[0].vector_name &&
           FindSpace(r.vector_name).ok();
  });
  if (one_pass) return SearchExactBatch(requests);
  std::vector<std::vector<ScoredPoint>> out;
  out.reserve(requests.size());
  for (size_t i = 0; i < requests.size(); ++i) {
    auto r = Search(requests[i]);
    if (!r.ok()) return r.status().WithContext("searches[" + std::to_string(i) + "]");
    out.push_back(std::move(*r));
  }
  return out;
}

Result<std::vector<ScoredPoint>> CollectionCore::Recommend(const RecommendRequest& request) const {
  QUIVER_ASSIGN_OR_RETURN(auto filter, SearchFilter(request.filter));
  return Recommend(request, filter.get());
}

Result<std::vector<ScoredPoint>> CollectionCore::Recommend(const RecommendRequest& request,
                                                           const payload::Filter* filter) const {
  QUIVER_ASSIGN_OR_RETURN(size_t space, FindSpace(request.vector_name));
  const uint32_t dim = spaces_[space].params.size;
  if (request.positive.empty() && request.positive_vectors.empty()) {
    return Status::InvalidArgument("positive: at least one positive example is required");
  }
  if (request.limit == 0) return Status::InvalidArgument("limit must be at least 1");
  for (const auto* list : {&request.positive_vectors, &request.negative_vectors}) {
    for (const auto& v : *list) {
      if (v.size() != dim) {
        return Status::InvalidArgument("example " + VectorLabel(request.vector_name) + " has " +
                                       std::to_string(v.size()) + " dimensions, expected " + std::to_string(dim));
      }
      QUIVER_RETURN_IF_ERROR(index::CheckFinite(v.data(), dim).WithContext("example"));
    }
  }
  for (const std::string& vname : request.with_vector.names) QUIVER_RETURN_IF_ERROR(CheckVectorName(vname));
  std::shared_lock lock(mu_);
  auto average = [&](const std::vector<PointId>& ids, const std::vector<std::vector<float>>& vectors,
                     std::vector<double>* sum) -> Result<size_t> {
    sum->assign(dim, 0.0);
    size_t n = 0;
    for (const PointId& id : ids) {
      const float* v = StoredVector(id, space);
      if (v == nullptr) {
        return Status::NotFound("no point with id " + id.ToString() + " and " + VectorLabel(request.vector_name));
      }
      for (uint32_t j = 0; j < dim; ++j) (*sum)[j] += v[j];
      ++n;
    }
    for (const auto& v : vectors) {
      for (uint32_t j = 0; j < dim; ++j) (*sum)[j] += v[j];
      ++n;
    }
    if (n) {
      for (double& x : *sum) x /= double(n);
    }
    return n;
  };
  std::vector<double> pos, neg;
  QUIVER_RETURN_IF_ERROR(average(request.positive, request.positive_vectors, &pos).status());
  QUIVER_ASSIGN_OR_RETURN(size_t negatives, average(request.negative, request.negative_vectors, &neg));
  std::vector<float> query(dim);
  for (uint32_t j = 0; j < dim; ++j) query[j] = static_cast<float>(negatives ? 2 * pos[j] - neg[j] : pos[j]);
  std::vector<PointId> exclude = request.positive;
  exclude.insert(exclude.end(), request.negative.begin(), request.negative.end());
  return SearchLocked(space, query, filter, request.limit, request.offset,
                      request.score_threshold, request.with_payload, request.with_vector, request.hnsw_ef,
                      request.exact, request.quantization, exclude, nullptr);
}

Result<std::vector<ScoredPoint>> CollectionCore::SearchSparse(std::string_view vector_name, const SparseVector& query,
                                                              const payload::Filter* filter, size_t limit,
                                                              size_t offset, std::optional<float> score_threshold,
                                                              const PayloadSelector& with_payload,
                                                              const VectorSelector& with_vector,
                                                              SearchPlan* plan) const {
  QUIVER_ASSIGN_OR_RETURN(size_t space, FindSparseSpace(vector_name));
  SparseVector q = query;
  QUIVER_RETURN_IF_ERROR(index::NormalizeSparse(&q).WithContext("query"));
  if (limit == 0) return Status::InvalidArgument("limit must be at least 1");
  for (const std::string& vname : with_vector.names) QUIVER_RETURN_IF_ERROR(CheckVectorName(vname));
  std::shared_lock lock(mu_);
  const std::vector<const Segment*> segments = SegmentsLocked();
  if (sparse_spaces_[space].params.modifier == SparseModifier::kIdf) {
    // Qdrant's IDF over the collection's live points with this sparse vector.
    size_t n_all = 0;
    for (const Segment* seg : segments) n_all += seg->SparseLiveRows(space);
    for (size_t i = 0; i < q.indices.size(); ++i) {
      size_t n = 0;
      for (const Segment* seg : segments) n += seg->SparseDocumentFrequency(space, q.indices[i]);
      q.values[i] *= static_cast<float>(index::SparseIdf(n_all, n));
    }
  }
  const size_t k = offset > SIZE_MAX - limit ? SIZE_MAX : limit + offset;  // saturating
  struct Hit {
    const Segment* seg;
    uint32_t slot;
    float distance;
  };
  std::vector<Hit> hits;
  std::vector<SlotHit> found;
  const index::SparseView view{q.indices, q.values};
  for (const Segment* seg : segments) {
    QUIVER_RETURN_IF_ERROR(seg->SearchSparse(space, view, k, score_threshold, filter, &found, plan));
    for (const SlotHit& h : found) hits.push_back(Hit{seg, h.slot, h.distance});
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    if (a.distance != b.distance) return a.distance < b.distance;
    return a.seg->state(a.slot).id < b.seg->state(b.slot).id;
  });
  std::vector<ScoredPoint> out;
  for (size_t i = offset; i < hits.size() && out.size() < limit; ++i) {
    const Hit& h = hits[i];
    Record r = MakeRecord(*h.seg, h.seg->state(h.slot), with_payload, with_vector);
    out.push_back(ScoredPoint{r.id, -h.distance, std::move(r.payload), std::move(r.vectors),
                              std::move(r.sparse_vectors)});
  }
  return out;
}

std::string CollectionCore::StateDigest() const {
  std::shared_lock lock(mu_);
  std::vector<std::pair<PointId, std::string>> all;
  for (const Segment* seg : SegmentsLocked()) seg->Digest(&all);
  std::sort(all.begin(), all.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out;
  for (const auto& [id, d] : all) {
    out.append(d);
    out.push_back('\n');
  }
  return out;
}

CollectionStats CollectionCore::Stats() const {
  std::shared_lock lock(mu_);
  CollectionStats stats;
  stats.simd = std::string(simd::Best().isa);
  stats.segments = sealed_.size() + 1;
  for (const Segment* seg : SegmentsLocked()) {
    stats.points += seg->live_count();
    stats.tombstones += seg->present_count() - seg->live_count();
    stats.indexed_vectors += seg->indexed_vectors();
    for (size_t s = 0; s < spaces_.size(); ++s) {
      const index::VectorIndex& idx = seg->vector_index(s);
      if (idx.kind() == index::IndexKind::kFlat) stats.unindexed_vectors += idx.live_size();
    }
    stats.memory_bytes += seg->MemoryUsage();
  }
  if (stored()) {
    storage::Storage& st = files_->storage();
    if (auto names = st.List(); names.ok()) {
      for (const std::string& name : *names) {
        ParsedFileName p = ParseFileName(name);
        if (p.collection != id_ || p.kind == ParsedFileName::Kind::kUnknown ||
            p.kind == ParsedFileName::Kind::kManifest)
          continue;
        if (auto size = st.FileSize(name); size.ok()) stats.disk_bytes += *size;
      }
    }
  }
  return stats;
}

}  // namespace quiver::db
