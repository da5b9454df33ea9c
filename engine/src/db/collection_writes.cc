// CollectionCore: writes. Every write becomes stamped ops that Commit logs (stored collections) and applies under
// the write lock; the request layer's forms take parsed payloads and filters.
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

namespace quiver::db {
namespace {

// Sorted, duplicate-free list of top-level keys for delete_payload_keys; false if any path is nested.
bool AllTopLevel(const std::vector<std::string>& keys) {
  return std::all_of(keys.begin(), keys.end(),
                     [](const std::string& k) { return k.find_first_of(".[]\"") == std::string::npos; });
}

}  // namespace

Status CollectionCore::CheckOp(const Op& op) const {
  if (op.kind != OpKind::kUpsert) return Status::OK();
  const std::string point = "point " + op.id.ToString();
  if (spaces_.size() == 1 && spaces_[0].name.empty() && sparse_spaces_.empty() && op.vectors.empty()) {
    return Status::InvalidArgument(point + ": a vector is required");
  }
  for (size_t i = 0; i < op.vectors.size(); ++i) {
    const auto& [vname, values] = op.vectors[i];
    if (i > 0 && !(op.vectors[i - 1].first < vname)) {
      return Status::InvalidArgument(point + ": vector names must be sorted and unique");
    }
    for (const SparseSpace& ss : sparse_spaces_) {
      if (ss.name == vname) {
        return Status::InvalidArgument(point + ": vector '" + vname +
                                       "' is a sparse vector: give {\"indices\": [...], \"values\": [...]}");
      }
    }
    QUIVER_ASSIGN_OR_RETURN(size_t space, FindSpace(vname));
    const uint32_t dim = spaces_[space].params.size;
    if (values.size() != dim) {
      return Status::InvalidArgument("point " + op.id.ToString() + ": " + VectorLabel(vname) + " has " +
                                     std::to_string(values.size()) + " dimensions, expected " +
                                     std::to_string(dim));
    }
    Status s = index::CheckFinite(values.data(), dim);
    if (!s.ok()) return s.WithContext(point + ": " + VectorLabel(vname));
  }
  for (size_t i = 0; i < op.sparse.size(); ++i) {
    const auto& [vname, v] = op.sparse[i];
    if (i > 0 && !(op.sparse[i - 1].first < vname)) {
      return Status::InvalidArgument(point + ": sparse vector names must be sorted and unique");
    }
    auto space = FindSparseSpace(vname);
    if (!space.ok()) return space.status().WithContext(point);
    Status s = index::CheckSparse(v.indices, v.values);
    if (!s.ok()) return s.WithContext(point + ": sparse vector '" + vname + "'");
  }
  return Status::OK();
}

Status CollectionCore::CheckWritable() const {
  if (closed_) return Status::FailedPrecondition("collection " + name_ + " is closed");
  if (!failed_.ok()) return failed_.WithContext("collection " + name_ + " is read-only after a storage error");
  if (stored() && files_->options().read_only) return Status::FailedPrecondition("the database is open read-only");
  return Status::OK();
}

Status CollectionCore::WritableLocked() {
  if (!failed_.ok() && !closed_ && stored() && !files_->options().read_only) {
    Status s = RecoverLocked();
    if (!s.ok()) {
      return failed_.WithContext("collection " + name_ + " is read-only after a storage error (recovery failed: " +
                                 s.ToString() + ")");
    }
  }
  return CheckWritable();
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
  MoveToWriteLocked(op.id);
  const FeedBefore before = FeedBeforeLocked(op);
  write_->Apply(op);
  FeedAfterLocked(op, before);
}

Status CollectionCore::Commit(std::vector<Op>&& ops, bool stamp, const UpsertCondition* condition,
                              WriteOutcome* outcome) {
  std::shared_ptr<storage::WalWriter> wal;
  uint64_t notify_seq = 0;
  uint64_t commit = 0;
  {
    std::unique_lock lock(mu_);
    QUIVER_RETURN_IF_ERROR(WritableLocked());
    commit = current_commit_ = ++commit_counter_;
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
    const uint64_t seq_before = last_seq_;
    for (const Op& op : ops) ApplyLocked(op);
    if (last_seq_ != seq_before) {
      // Local stamps were just taken from the wall clock; replicated ones may be older than now.
      FeedCheckpointLocked(stamp ? HlcMillis(clock_->last())
                                 : std::max(HlcMillis(clock_->last()), clock_->PhysicalMs()));
      notify_seq = last_seq_;
    }
    if (stored()) {
      QUIVER_RETURN_IF_ERROR(MaybeSealLocked());
    } else {
      write_->Quantize(/*force=*/false);
    }
  }
  if (wal) QUIVER_RETURN_IF_ERROR(SyncPerDurability(wal));
  SettleCommit(commit, notify_seq);
  if (notify_seq) NotifyFeed(notify_seq);
  bool optimize = false;
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    std::swap(optimize, optimize_due_);
  }
  // Without an executor the writer whose batch sealed a segment merges and indexes it before returning.
  // The write is durable whatever the merge gives: a storage failure there is kept in failed_ and reported by
  // the next write, as for merges in the background.
  if (optimize) {
    (void)OptimizeBacklog();
  } else {
    AwaitBacklog();
  }
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
    for (const auto& [vname, v] : p.sparse_vectors) {
      SparseVector sorted = v;
      Status s = index::NormalizeSparse(&sorted);
      if (!s.ok()) return s.WithContext("points[" + std::to_string(i) + "]: sparse vector '" + vname + "'");
      op.sparse.emplace_back(vname, std::move(sorted));
    }
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

}  // namespace quiver::db
