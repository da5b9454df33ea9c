#include "db/collection_core.h"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <mutex>
#include <set>

#include "index/hnsw_index.h"
#include "index/vector_store.h"
#include "payload/json_util.h"

namespace quiver::db {
namespace {

bool ValidName(std::string_view name) {
  if (name.empty() || name.size() > 255) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

Status ValidateHnsw(const HnswConfig& h, const std::string& where) {
  if (h.m < index::kMinHnswM || h.m > index::kMaxHnswM) {
    return Status::InvalidArgument(where + ".m: " + std::to_string(h.m) + " is out of range 2..128");
  }
  if (h.ef_construct < 4) {
    return Status::InvalidArgument(where + ".ef_construct: " + std::to_string(h.ef_construct) +
                                   " is below 4");
  }
  return Status::OK();
}

Status ValidateQuantization(const std::optional<ScalarQuantization>& q, const std::string& where) {
  if (q && !(q->quantile >= 0.5 && q->quantile <= 1.0)) {
    return Status::InvalidArgument(where + ".scalar.quantile: " + std::to_string(q->quantile) +
                                   " is out of range 0.5..1");
  }
  return Status::OK();
}

std::string VectorLabel(std::string_view name) {
  return name.empty() ? "vector" : "vector '" + std::string(name) + "'";
}

// Sorted, duplicate-free list of top-level keys for delete_payload_keys; false if any path is nested.
bool AllTopLevel(const std::vector<std::string>& keys) {
  return std::all_of(keys.begin(), keys.end(),
                     [](const std::string& k) { return k.find_first_of(".[]\"") == std::string::npos; });
}

}  // namespace

Status ValidateConfig(const CollectionConfig& config) {
  if (config.vectors.empty())
    return Status::InvalidArgument("vectors: a collection needs at least one vector");
  QUIVER_RETURN_IF_ERROR(ValidateHnsw(config.hnsw, "hnsw_config"));
  QUIVER_RETURN_IF_ERROR(ValidateQuantization(config.quantization, "quantization_config"));
  for (const auto& [name, params] : config.vectors) {
    const std::string where = name.empty() ? "vectors" : "vectors." + name;
    if (!name.empty() && !ValidName(name)) {
      return Status::InvalidArgument(where + ": vector names are 1..255 letters, digits, '-', '_' or '.'");
    }
    if (params.size < 1 || params.size > index::kMaxDimension) {
      return Status::InvalidArgument(where + ".size: " + std::to_string(params.size) +
                                     " is out of range 1..65536");
    }
    if (params.hnsw) QUIVER_RETURN_IF_ERROR(ValidateHnsw(*params.hnsw, where + ".hnsw_config"));
    QUIVER_RETURN_IF_ERROR(ValidateQuantization(params.quantization, where + ".quantization_config"));
  }
  if (config.vectors.count(std::string(kDefaultVector)) && config.vectors.size() > 1) {
    return Status::InvalidArgument("vectors: the unnamed vector cannot be combined with named vectors");
  }
  return Status::OK();
}

CollectionCore::CollectionCore(std::string name, CollectionConfig config, HybridClock* clock, uint64_t replica)
    : name_(std::move(name)), config_(std::move(config)), clock_(clock), replica_(replica) {
  for (const auto& [vname, params] : config_.vectors) {
    spaces_.push_back(VectorSpace{vname, params, params.hnsw.value_or(config_.hnsw),
                                  params.quantization ? params.quantization : config_.quantization});
  }
}

CollectionCore::~CollectionCore() { (void)Close(); }

std::unique_ptr<Segment> CollectionCore::NewWriteSegment() const {
  // Stored collections write into a flat segment (cheap to append, searched exactly) that the optimizer indexes
  // after sealing; in memory the write segment is indexed as points arrive.
  auto seg = Segment::Create(spaces_, stored() ? std::optional<IndexKind>(IndexKind::kFlat) : std::nullopt);
  std::unique_ptr<Segment> out = std::move(*seg);
  for (const auto& [field, type] : payload_fields_) (void)out->CreatePayloadIndex(field, type);
  return out;
}

Result<std::unique_ptr<CollectionCore>> CollectionCore::Create(std::string name, CollectionConfig config,
                                                               HybridClock* clock, uint64_t replica) {
  QUIVER_RETURN_IF_ERROR(ValidateConfig(config));
  std::unique_ptr<CollectionCore> core(new CollectionCore(std::move(name), std::move(config), clock, replica));
  QUIVER_RETURN_IF_ERROR(Segment::Create(core->spaces_).status());
  core->write_ = core->NewWriteSegment();
  return core;
}

void CollectionCore::SetOpListener(std::function<Status(std::span<const Op>)> listener) {
  std::unique_lock lock(mu_);
  listener_ = std::move(listener);
}

Result<size_t> CollectionCore::FindSpace(std::string_view vector_name) const {
  for (size_t i = 0; i < spaces_.size(); ++i) {
    if (spaces_[i].name == vector_name) return i;
  }
  if (vector_name.empty()) {
    return Status::InvalidArgument("collection " + name_ + " has only named vectors; name one");
  }
  return Status::InvalidArgument("collection " + name_ + " has no vector named '" + std::string(vector_name) +
                                 "'");
}

Status CollectionCore::CheckOp(const Op& op) const {
  if (op.kind != OpKind::kUpsert) return Status::OK();
  if (spaces_.size() == 1 && spaces_[0].name.empty() && op.vectors.empty()) {
    return Status::InvalidArgument("point " + op.id.ToString() + ": a vector is required");
  }
  for (size_t i = 0; i < op.vectors.size(); ++i) {
    const auto& [vname, values] = op.vectors[i];
    if (i > 0 && !(op.vectors[i - 1].first < vname)) {
      return Status::InvalidArgument("point " + op.id.ToString() + ": vector names must be sorted and unique");
    }
    QUIVER_ASSIGN_OR_RETURN(size_t space, FindSpace(vname));
    const uint32_t dim = spaces_[space].params.size;
    if (values.size() != dim) {
      return Status::InvalidArgument("point " + op.id.ToString() + ": " + VectorLabel(vname) + " has " +
                                     std::to_string(values.size()) + " dimensions, expected " +
                                     std::to_string(dim));
    }
    Status s = index::CheckFinite(values.data(), dim);
    if (!s.ok()) return s.WithContext("point " + op.id.ToString() + ": " + VectorLabel(vname));
  }
  return Status::OK();
}

Status CollectionCore::CheckWritable() const {
  if (closed_) return Status::FailedPrecondition("collection " + name_ + " is closed");
  if (!failed_.ok()) return failed_.WithContext("collection " + name_ + " is read-only after a storage error");
  if (stored() && files_->options().read_only) return Status::FailedPrecondition("the database is open read-only");
  return Status::OK();
}

std::optional<CollectionCore::Location> CollectionCore::Locate(const PointId& id) const {
  if (auto slot = write_->FindSlot(id)) return Location{write_.get(), *slot};
  for (auto it = sealed_.rbegin(); it != sealed_.rend(); ++it) {
    if (auto slot = it->segment->FindSlot(id)) return Location{it->segment.get(), *slot};
  }
  return std::nullopt;
}

const PointState* CollectionCore::FindLocked(const PointId& id) const {
  auto loc = Locate(id);
  return loc ? &loc->segment->state(loc->slot) : nullptr;
}

const float* CollectionCore::StoredVector(const PointId& id, size_t space) const {
  auto loc = Locate(id);
  return loc ? loc->segment->StoredVector(loc->segment->state(loc->slot), space) : nullptr;
}

std::vector<const Segment*> CollectionCore::SegmentsLocked() const {
  std::vector<const Segment*> out;
  for (const Sealed& s : sealed_) out.push_back(s.segment.get());
  out.push_back(write_.get());
  return out;
}

void CollectionCore::ApplyLocked(const Op& op) {
  if (!write_->FindSlot(op.id)) {
    for (auto it = sealed_.rbegin(); it != sealed_.rend(); ++it) {
      auto slot = it->segment->FindSlot(op.id);
      if (!slot) continue;
      MovedPoint moved = it->segment->Extract(*slot);
      it->segment->Remove(*slot);
      it->dirty = true;
      write_->Adopt(moved);
      break;
    }
  }
  write_->Apply(op);
}

Status CollectionCore::Commit(std::vector<Op>&& ops, bool stamp, const UpsertCondition* condition,
                              WriteOutcome* outcome) {
  std::shared_ptr<storage::WalWriter> wal;
  {
    std::unique_lock lock(mu_);
    QUIVER_RETURN_IF_ERROR(CheckWritable());
    if (condition && (condition->mode != UpsertMode::kUpsert || condition->update_filter)) {
      // Decided against the state before the batch, under the lock, so no other write slips in between.
      std::erase_if(ops, [&](const Op& op) {
        const PointState* st = FindLocked(op.id);
        const bool exists = st != nullptr && !st->deleted;
        if (condition->mode == UpsertMode::kInsertOnly && exists) return true;
        if (condition->mode == UpsertMode::kUpdateOnly && !exists) return true;
        return exists && condition->update_filter && !payload::Matches(*condition->update_filter, op.id, st->payload);
      });
    }
    if (outcome) {
      outcome->points = ops.size();
      outcome->operation_id = next_sequence_;
    }
    if (ops.empty()) return Status::OK();
    if (stamp) {
      for (Op& op : ops) op.stamp = NextStamp();
    } else {
      for (const Op& op : ops) clock_->Observe(op.stamp.hlc);
    }
    if (listener_) QUIVER_RETURN_IF_ERROR(listener_(ops));
    if (stored()) {
      QUIVER_RETURN_IF_ERROR(LogBatch(ops, &wal));
    } else {
      ++next_sequence_;
    }
    for (const Op& op : ops) ApplyLocked(op);
    if (stored()) {
      QUIVER_RETURN_IF_ERROR(MaybeSealLocked());
    } else {
      write_->Quantize(/*force=*/false);
    }
  }
  if (wal) QUIVER_RETURN_IF_ERROR(SyncPerDurability(wal));
  bool optimize = false;
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    std::swap(optimize, optimize_due_);
  }
  // Without an executor the writer whose batch sealed a segment merges and indexes it before returning.
  if (optimize) QUIVER_RETURN_IF_ERROR(OptimizeNow());
  return Status::OK();
}

Status CollectionCore::ApplyOps(std::span<const Op> ops) {
  for (const Op& op : ops) QUIVER_RETURN_IF_ERROR(CheckOp(op));
  return Commit(std::vector<Op>(ops.begin(), ops.end()), /*stamp=*/false);
}

Result<WriteOutcome> CollectionCore::UpsertOps(std::vector<Op>&& ops, const UpsertCondition& condition) {
  for (size_t i = 0; i < ops.size(); ++i) {
    ops[i].kind = OpKind::kUpsert;
    Status s = CheckOp(ops[i]);
    if (!s.ok()) return s.WithContext("points[" + std::to_string(i) + "]");
  }
  WriteOutcome outcome;
  QUIVER_RETURN_IF_ERROR(Commit(std::move(ops), /*stamp=*/true, &condition, &outcome));
  return outcome;
}

Status CollectionCore::Upsert(std::span<const PointInput> points) {
  std::vector<Op> ops(points.size());
  for (size_t i = 0; i < points.size(); ++i) {
    const PointInput& p = points[i];
    Op& op = ops[i];
    op.id = p.id;
    for (const auto& [vname, values] : p.vectors) op.vectors.emplace_back(vname, values);
    if (!p.payload.empty()) {
      auto payload = payload::ParsePayloadText(p.payload);
      if (!payload.ok()) return payload.status().WithContext("points[" + std::to_string(i) + "]");
      op.payload = std::move(*payload);
    }
  }
  return UpsertOps(std::move(ops)).status();
}

Result<WriteOutcome> CollectionCore::UpsertDense(std::span<const PointId> ids, std::string_view vector_name,
                                                 std::span<const float> vectors,
                                                 std::vector<boost::json::object>&& payloads) {
  if (!payloads.empty() && payloads.size() != ids.size()) {
    return Status::InvalidArgument(std::to_string(payloads.size()) + " payloads for " + std::to_string(ids.size()) +
                                   " ids");
  }
  QUIVER_ASSIGN_OR_RETURN(size_t space, FindSpace(vector_name));
  const size_t dim = spaces_[space].params.size;
  if (vectors.size() != ids.size() * dim) {
    return Status::InvalidArgument(std::to_string(vectors.size()) + " floats for " + std::to_string(ids.size()) +
                                   " ids: " + VectorLabel(vector_name) + " of collection " + name_ + " has " +
                                   std::to_string(dim) + " dimensions, so " + std::to_string(ids.size()) +
                                   " points need " + std::to_string(ids.size() * dim) + " floats");
  }
  std::vector<Op> ops(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    Op& op = ops[i];
    op.id = ids[i];
    op.vectors.emplace_back(std::string(vector_name),
                            std::vector<float>(vectors.begin() + i * dim, vectors.begin() + (i + 1) * dim));
    if (!payloads.empty()) op.payload = std::move(payloads[i]);
  }
  return UpsertOps(std::move(ops));
}

Status CollectionCore::UpsertDense(std::span<const PointId> ids, std::string_view vector_name,
                                   std::span<const float> vectors, std::span<const std::string> payloads) {
  if (!payloads.empty() && payloads.size() != ids.size()) {
    return Status::InvalidArgument(std::to_string(payloads.size()) + " payloads for " + std::to_string(ids.size()) +
                                   " ids");
  }
  std::vector<boost::json::object> parsed(payloads.size());
  for (size_t i = 0; i < payloads.size(); ++i) {
    if (payloads[i].empty()) continue;
    auto payload = payload::ParsePayloadText(payloads[i]);
    if (!payload.ok()) return payload.status().WithContext("points[" + std::to_string(i) + "]");
    parsed[i] = std::move(*payload);
  }
  return UpsertDense(ids, vector_name, vectors, std::move(parsed)).status();
}

Result<std::optional<payload::Filter>> CollectionCore::ParseOptionalFilter(std::string_view json) const {
  if (json.empty()) return std::optional<payload::Filter>();
  QUIVER_ASSIGN_OR_RETURN(payload::Filter f, payload::ParseFilterText(json));
  return std::optional<payload::Filter>(std::move(f));
}

Result<Selection> CollectionCore::ParseSelection(const PointsSelector& points) const {
  Selection out;
  if (!points.filter.empty()) {
    QUIVER_ASSIGN_OR_RETURN(out.filter, ParseOptionalFilter(points.filter));
  } else {
    out.ids = points.ids;
  }
  return out;
}

Result<std::vector<PointId>> CollectionCore::Resolve(const Selection& points, bool must_exist) const {
  std::vector<PointId> out;
  if (points.filter) {
    for (const Segment* seg : SegmentsLocked()) {
      for (uint32_t slot : seg->Select(*points.filter)) out.push_back(seg->state(slot).id);
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  std::set<PointId> seen;
  for (const PointId& id : points.ids) {
    const PointState* st = FindLocked(id);
    if (st == nullptr || st->deleted) {
      if (must_exist) return Status::NotFound("no point with id " + id.ToString() + " in collection " + name_);
      continue;
    }
    if (seen.insert(id).second) out.push_back(id);
  }
  return out;
}

// Builds one op per selected point (`make` fills kind and data), then commits them.
Result<WriteOutcome> CollectionCore::WriteToSelected(const Selection& points, bool must_exist,
                                                     const std::function<void(Op*)>& make) {
  std::vector<PointId> ids;
  {
    std::shared_lock lock(mu_);
    QUIVER_ASSIGN_OR_RETURN(ids, Resolve(points, must_exist));
  }
  std::vector<Op> ops(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    ops[i].id = ids[i];
    make(&ops[i]);
  }
  WriteOutcome outcome;
  QUIVER_RETURN_IF_ERROR(Commit(std::move(ops), /*stamp=*/true, nullptr, &outcome));
  return outcome;
}

Result<WriteOutcome> CollectionCore::Delete(const Selection& points) {
  return WriteToSelected(points, false, [](Op* op) { op->kind = OpKind::kDelete; });
}

Result<WriteOutcome> CollectionCore::SetPayload(const Selection& points, const boost::json::object& payload) {
  return WriteToSelected(points, true, [&](Op* op) {
    op->kind = OpKind::kSetPayload;
    op->payload = payload;
  });
}

Result<WriteOutcome> CollectionCore::OverwritePayload(const Selection& points, const boost::json::object& payload) {
  return WriteToSelected(points, true, [&](Op* op) {
    op->kind = OpKind::kOverwritePayload;
    op->payload = payload;
  });
}

Result<WriteOutcome> CollectionCore::ClearPayload(const Selection& points) {
  return WriteToSelected(points, true, [](Op* op) { op->kind = OpKind::kClearPayload; });
}

Result<size_t> CollectionCore::Delete(const PointsSelector& points) {
  QUIVER_ASSIGN_OR_RETURN(Selection sel, ParseSelection(points));
  QUIVER_ASSIGN_OR_RETURN(WriteOutcome w, Delete(sel));
  return w.points;
}

Result<size_t> CollectionCore::SetPayload(const PointsSelector& points, std::string_view payload_json) {
  QUIVER_ASSIGN_OR_RETURN(boost::json::object payload, payload::ParsePayloadText(payload_json));
  QUIVER_ASSIGN_OR_RETURN(Selection sel, ParseSelection(points));
  QUIVER_ASSIGN_OR_RETURN(WriteOutcome w, SetPayload(sel, payload));
  return w.points;
}

Result<size_t> CollectionCore::OverwritePayload(const PointsSelector& points, std::string_view payload_json) {
  QUIVER_ASSIGN_OR_RETURN(boost::json::object payload, payload::ParsePayloadText(payload_json));
  QUIVER_ASSIGN_OR_RETURN(Selection sel, ParseSelection(points));
  QUIVER_ASSIGN_OR_RETURN(WriteOutcome w, OverwritePayload(sel, payload));
  return w.points;
}

Result<size_t> CollectionCore::ClearPayload(const PointsSelector& points) {
  QUIVER_ASSIGN_OR_RETURN(Selection sel, ParseSelection(points));
  QUIVER_ASSIGN_OR_RETURN(WriteOutcome w, ClearPayload(sel));
  return w.points;
}

Result<size_t> CollectionCore::DeletePayloadKeys(const PointsSelector& points, const std::vector<std::string>& keys) {
  QUIVER_ASSIGN_OR_RETURN(Selection sel, ParseSelection(points));
  QUIVER_ASSIGN_OR_RETURN(WriteOutcome w, DeletePayloadKeys(sel, keys));
  return w.points;
}

Result<WriteOutcome> CollectionCore::DeletePayloadKeys(const Selection& points, const std::vector<std::string>& keys) {
  for (const std::string& key : keys) {
    if (key.empty()) return Status::InvalidArgument("keys: an empty key");
  }
  std::vector<Op> ops;
  size_t count = 0;
  {
    std::shared_lock lock(mu_);
    QUIVER_ASSIGN_OR_RETURN(std::vector<PointId> ids, Resolve(points, true));
    count = ids.size();
    const bool top_level = AllTopLevel(keys);
    for (const PointId& id : ids) {
      if (top_level) {
        Op op;
        op.kind = OpKind::kDeletePayloadKeys;
        op.id = id;
        op.keys = keys;
        ops.push_back(std::move(op));
        continue;
      }
      // Nested paths: rewrite the affected top-level keys (last writer wins on each top-level key).
      const PointState* st = FindLocked(id);
      boost::json::object edited = st->payload;
      for (const std::string& key : keys) QUIVER_RETURN_IF_ERROR(payload::DeletePath(&edited, key).status());
      Op set, del;
      set.kind = OpKind::kSetPayload;
      del.kind = OpKind::kDeletePayloadKeys;
      set.id = del.id = id;
      for (const auto& kv : st->payload) {
        auto it = edited.find(kv.key());
        if (it == edited.end()) {
          del.keys.emplace_back(kv.key());
        } else if (it->value() != kv.value()) {
          set.payload[kv.key()] = it->value();
        }
      }
      if (!set.payload.empty()) ops.push_back(std::move(set));
      if (!del.keys.empty()) ops.push_back(std::move(del));
    }
  }
  WriteOutcome outcome;
  QUIVER_RETURN_IF_ERROR(Commit(std::move(ops), /*stamp=*/true, nullptr, &outcome));
  outcome.points = count;
  return outcome;
}

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
  return r;
}

Result<std::vector<Record>> CollectionCore::Get(std::span<const PointId> ids, const PayloadSelector& with_payload,
                                                const VectorSelector& with_vector) const {
  for (const std::string& vname : with_vector.names) QUIVER_RETURN_IF_ERROR(FindSpace(vname).status());
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
  for (const std::string& vname : request.with_vector.names) QUIVER_RETURN_IF_ERROR(FindSpace(vname).status());
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
  struct Hit {
    const Segment* seg;
    uint32_t slot;
    float distance;
  };
  std::vector<Hit> hits;
  std::vector<SlotHit> found;
  for (const Segment* seg : SegmentsLocked()) {
    QUIVER_RETURN_IF_ERROR(seg->Search(space, query.data(), k, beam, exact, quantization, filter, &found, plan));
    for (const SlotHit& h : found) hits.push_back(Hit{seg, h.slot, h.distance});
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    if (a.distance != b.distance) return a.distance < b.distance;
    return a.seg->state(a.slot).id < b.seg->state(b.slot).id;
  });
  std::vector<ScoredPoint> out;
  size_t skipped = 0;
  for (const Hit& h : hits) {
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
    out.push_back(ScoredPoint{r.id, score, std::move(r.payload), std::move(r.vectors)});
  }
  return out;
}

Result<std::vector<ScoredPoint>> CollectionCore::Search(const SearchRequest& request, SearchPlan* plan) const {
  QUIVER_ASSIGN_OR_RETURN(auto filter, ParseOptionalFilter(request.filter));
  return Search(request, filter ? &*filter : nullptr, plan);
}

Result<std::vector<ScoredPoint>> CollectionCore::Search(const SearchRequest& request, const payload::Filter* filter,
                                                        SearchPlan* plan) const {
  QUIVER_ASSIGN_OR_RETURN(size_t space, FindSpace(request.vector_name));
  const uint32_t dim = spaces_[space].params.size;
  if (request.vector.size() != dim) {
    return Status::InvalidArgument("query " + VectorLabel(request.vector_name) + " has " +
                                   std::to_string(request.vector.size()) + " dimensions, expected " +
                                   std::to_string(dim));
  }
  QUIVER_RETURN_IF_ERROR(index::CheckFinite(request.vector.data(), dim).WithContext("query"));
  if (request.limit == 0) return Status::InvalidArgument("limit must be at least 1");
  for (const std::string& vname : request.with_vector.names) QUIVER_RETURN_IF_ERROR(FindSpace(vname).status());
  std::shared_lock lock(mu_);
  return SearchLocked(space, request.vector, filter, request.limit, request.offset,
                      request.score_threshold, request.with_payload, request.with_vector, request.hnsw_ef,
                      request.exact, request.quantization, {}, plan);
}

Result<std::vector<std::vector<ScoredPoint>>> CollectionCore::SearchBatch(
    std::span<const SearchRequest> requests) const {
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
  QUIVER_ASSIGN_OR_RETURN(auto filter, ParseOptionalFilter(request.filter));
  return Recommend(request, filter ? &*filter : nullptr);
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
  for (const std::string& vname : request.with_vector.names) QUIVER_RETURN_IF_ERROR(FindSpace(vname).status());
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

Status CollectionCore::CreatePayloadIndex(std::string_view field, std::string_view type) {
  QUIVER_ASSIGN_OR_RETURN(payload::FieldIndexType t, payload::ParseFieldIndexType(type));
  std::unique_lock lock(mu_);
  QUIVER_RETURN_IF_ERROR(CheckWritable());
  QUIVER_RETURN_IF_ERROR(write_->CreatePayloadIndex(field, t));
  for (Sealed& s : sealed_) QUIVER_RETURN_IF_ERROR(s.segment->CreatePayloadIndex(field, t));
  payload_fields_ = write_->payload_index().Fields();  // canonical names
  if (stored()) QUIVER_RETURN_IF_ERROR(CommitEntryLocked(wal_start_));
  return Status::OK();
}

Status CollectionCore::DeletePayloadIndex(std::string_view field) {
  std::unique_lock lock(mu_);
  QUIVER_RETURN_IF_ERROR(CheckWritable());
  QUIVER_RETURN_IF_ERROR(write_->DeletePayloadIndex(field));
  for (Sealed& s : sealed_) (void)s.segment->DeletePayloadIndex(field);
  payload_fields_ = write_->payload_index().Fields();
  if (stored()) QUIVER_RETURN_IF_ERROR(CommitEntryLocked(wal_start_));
  return Status::OK();
}

namespace {

void ApplyHnsw(const HnswUpdate& u, HnswConfig* h) {
  if (u.m) h->m = *u.m;
  if (u.ef_construct) h->ef_construct = *u.ef_construct;
  if (u.full_scan_threshold_kb) h->full_scan_threshold_kb = *u.full_scan_threshold_kb;
}

}  // namespace

Status CollectionCore::Update(const CollectionUpdate& update) {
  CollectionConfig next = config_;
  if (update.hnsw) ApplyHnsw(*update.hnsw, &next.hnsw);
  if (update.quantization) next.quantization = update.quantization->scalar;
  for (const auto& [vname, u] : update.vectors) {
    auto it = next.vectors.find(vname);
    if (it == next.vectors.end()) {
      return Status::NotFound("collection " + name_ + " has no " + VectorLabel(vname));
    }
    if (u.hnsw) {
      HnswConfig h = it->second.hnsw.value_or(next.hnsw);
      ApplyHnsw(*u.hnsw, &h);
      it->second.hnsw = h;
    }
    if (u.quantization) it->second.quantization = u.quantization->scalar;
  }
  QUIVER_RETURN_IF_ERROR(ValidateConfig(next));
  std::unique_lock lock(mu_);
  QUIVER_RETURN_IF_ERROR(CheckWritable());
  config_ = std::move(next);
  size_t i = 0;
  for (const auto& [vname, params] : config_.vectors) {
    VectorSpace& vs = spaces_[i++];
    vs.params = params;
    vs.hnsw = params.hnsw.value_or(config_.hnsw);
    vs.quantization = params.quantization ? params.quantization : config_.quantization;
  }
  write_->UpdateSpaces(spaces_);
  for (Sealed& s : sealed_) s.segment->UpdateSpaces(spaces_);
  if (stored()) QUIVER_RETURN_IF_ERROR(CommitEntryLocked(wal_start_));
  return Status::OK();
}

CollectionInfo CollectionCore::Info() const {
  std::shared_lock lock(mu_);
  CollectionInfo info;
  info.name = name_;
  info.config = config_;
  for (const Segment* seg : SegmentsLocked()) {
    info.points_count += seg->live_count();
    info.indexed_vectors_count += seg->indexed_vectors();
  }
  info.segments_count = sealed_.size() + 1;
  for (const auto& [field, type] : payload_fields_) {
    size_t points = 0;
    for (const Segment* seg : SegmentsLocked()) points += seg->payload_index().IndexedPoints(field);
    info.payload_schema.push_back(PayloadIndexInfo{field, std::string(payload::FieldIndexTypeName(type)), points});
  }
  return info;
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

}  // namespace quiver::db
