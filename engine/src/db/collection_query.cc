// CollectionCore: the reads the Query API adds (db/query.h): exact scores of given points, and points in the
// order of a payload value.
#include <algorithm>
#include <mutex>

#include "db/collection_core.h"
#include "index/vector_store.h"
#include "payload/payload_index.h"

namespace quiver::db {

Result<std::pair<uint32_t, Distance>> CollectionCore::VectorShape(std::string_view vector_name) const {
  QUIVER_ASSIGN_OR_RETURN(size_t space, FindSpace(vector_name));
  return std::make_pair(spaces_[space].params.size, spaces_[space].params.distance);
}

Result<std::vector<ScoredPoint>> CollectionCore::ScorePoints(std::string_view vector_name,
                                                             std::span<const float> query,
                                                             std::span<const PointId> ids, size_t limit,
                                                             std::optional<float> threshold) const {
  QUIVER_ASSIGN_OR_RETURN(size_t space, FindSpace(vector_name));
  const uint32_t dim = spaces_[space].params.size;
  if (query.size() != dim) {
    return Status::InvalidArgument("query " + VectorLabel(vector_name) + " has " + std::to_string(query.size()) +
                                   " dimensions, expected " + std::to_string(dim));
  }
  QUIVER_RETURN_IF_ERROR(index::CheckFinite(query.data(), dim).WithContext("query"));
  std::vector<ScoredPoint> out;
  if (limit == 0 || ids.empty()) return out;
  std::shared_lock lock(mu_);
  // The rows of the listed points, segment by segment (a point lives in one segment).
  const std::vector<const Segment*> segments = SegmentsLocked();
  std::vector<std::vector<uint32_t>> rows(segments.size());
  for (const PointId& id : ids) {
    auto loc = Locate(id);
    if (!loc) continue;
    const PointState& st = loc->segment->state(loc->slot);
    if (st.deleted || st.rows[space] == kNoRow) continue;
    const size_t s = std::find(segments.begin(), segments.end(), loc->segment) - segments.begin();
    rows[s].push_back(st.rows[space]);
  }
  struct Hit {
    PointId id;
    float distance;
  };
  std::vector<Hit> hits;
  std::vector<index::Neighbor> found;
  for (size_t s = 0; s < segments.size(); ++s) {
    if (rows[s].empty()) continue;
    const index::VectorIndex& idx = segments[s]->vector_index(space);
    QUIVER_RETURN_IF_ERROR(idx.SearchRows(query.data(), rows[s], rows[s].size(), &found));
    const std::vector<uint32_t>& row_slot = segments[s]->row_slots(space);
    for (const index::Neighbor& nb : found) hits.push_back(Hit{segments[s]->state(row_slot[nb.row]).id, nb.distance});
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    if (a.distance != b.distance) return a.distance < b.distance;
    return a.id < b.id;
  });
  for (const Hit& h : hits) {
    if (out.size() == limit) break;
    const float score = Score(space, h.distance);
    if (threshold && !PassesThreshold(space, score, *threshold)) break;
    out.push_back(ScoredPoint{h.id, score, std::nullopt, {}, {}});
  }
  return out;
}

Result<std::vector<std::pair<PointId, OrderValue>>> CollectionCore::OrderByPayload(
    OrderBySpec spec, const payload::Filter* filter, const std::vector<PointId>* ids, size_t limit) const {
  std::shared_lock lock(mu_);
  for (const auto& [field, type] : payload_fields_) {
    if (type == payload::FieldIndexType::kDatetime && field == spec.key.text()) spec.datetime = true;
  }
  std::vector<std::pair<PointId, OrderValue>> out;
  auto consider = [&](const PointState& st) {
    if (std::optional<OrderValue> v = EffectiveOrderValue(spec, st.payload)) out.emplace_back(st.id, *v);
  };
  if (ids != nullptr) {
    for (const PointId& id : *ids) {
      const PointState* st = FindLocked(id);
      if (st == nullptr || st->deleted) continue;
      if (filter && !payload::Matches(*filter, st->id, st->payload)) continue;
      consider(*st);
    }
  } else {
    for (const Segment* seg : SegmentsLocked()) {
      if (filter != nullptr) {
        for (uint32_t slot : seg->Select(*filter)) consider(seg->state(slot));
      } else {
        seg->ScanInOrder(std::nullopt, nullptr, [&](uint32_t slot) {
          consider(seg->state(slot));
          return true;
        });
      }
    }
  }
  auto before = [&](const std::pair<PointId, OrderValue>& a, const std::pair<PointId, OrderValue>& b) {
    return OrderedBefore(spec, a.second, a.first, b.second, b.first);
  };
  if (out.size() > limit) {
    std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(limit), out.end(), before);
    out.resize(limit);
  } else {
    std::sort(out.begin(), out.end(), before);
  }
  return out;
}

}  // namespace quiver::db
