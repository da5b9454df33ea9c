// CollectionCore: the optimizer, which merges segments, drops removed points and expired tombstones, and
// builds graph indexes (reusing a segment's graph while few of its rows are deleted).
//
// The merge policy works in bounded steps, so that a process killed at any moment (a serverless writer lives for
// a second or two) still leaves the collection better indexed than it found it, and the next process carries on:
//  - a step indexes at most kStepFactor x segment_points rows that have no graph yet (freshly sealed segments,
//    oldest first), adding them to the largest healthy graph that stays within kMaxFactor x segment_points, so
//    every vector is inserted into a graph once and only copied afterwards (a step costs at most one segment's
//    inserts and a copy of kMaxFactor segments' rows: well under a second at the default sizes' ratio);
//  - with nothing to index, a segment with a fifth or more of its rows removed or expired is rewritten, and two
//    small graphs are joined;
//  - steps run until the policy finds nothing to do, and opening a collection resumes them.
// The segment count so stays near rows / (kMaxFactor x segment_points) plus a few, whatever the restart pattern.
// Optimize() merges everything into one segment instead.
#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstring>

#include "base/coding.h"
#include "base/huge_pages.h"
#include "base/section_file.h"
#include "db/collection_core.h"
#include "db/config_json.h"
#include "db/op_codec.h"
#include "db/segment_file.h"
#include "index/flat_index.h"
#include "index/hnsw_index.h"
#include "index/sparse_index.h"
#include "index/vector_store.h"
#include "payload/json_util.h"
#include "simd/distance.h"
#include "storage/wal_reader.h"

namespace quiver::db {
namespace {

// A graph index is reused by a merge while fewer than this fraction of its rows are deleted.
constexpr double kReuseDeadFraction = 0.2;
// A merge step inserts at most this many x segment_points rows into graphs (more only for one larger segment).
constexpr size_t kStepFactor = 1;
// Merge steps do not grow a segment past this many x segment_points live rows.
constexpr size_t kMaxFactor = 32;
// A merge adds vectors to the index it builds in blocks of this many rows (a few MiB at common dimensions).
constexpr size_t kAddBlockRows = 4096;
// A writer waits for the background merges while more sealed segments than this wait for one (AwaitBacklog).
constexpr size_t kStallBacklog = 4;

}  // namespace

void CollectionCore::ScheduleOptimize() {
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    // One backlog at a time: a running one is told to look again rather than a second queued behind it, which
    // would hold a pool thread waiting on optimize_mu_ that the running merge could use for its inserts.
    if (optimizer_running_) {
      optimize_again_ = true;
      return;
    }
    optimizer_running_ = true;
    ++pending_optimizations_;
  }
  auto run = [this] {
    // The count drops however the merge ends (an exception included), or Close would wait for it forever.
    struct Done {
      CollectionCore* core;
      ~Done() {
        std::lock_guard<std::mutex> lock(core->pending_mu_);
        core->optimizer_running_ = false;
        --core->pending_optimizations_;
        core->pending_cv_.notify_all();
      }
    } done{this};
    for (;;) {
      (void)OptimizeBacklog();  // a storage failure is kept in failed_ and reported by the next write
      std::lock_guard<std::mutex> lock(pending_mu_);
      if (!optimize_again_) {
        optimizer_running_ = false;  // under the lock that a seal checks, so no request is lost
        break;
      }
      optimize_again_ = false;
    }
  };
  if (!files_->Schedule(run)) {
    // No executor: the writer that sealed runs it after releasing the lock (Commit checks optimize_due_).
    std::lock_guard<std::mutex> lock(pending_mu_);
    optimizer_running_ = false;
    --pending_optimizations_;
    optimize_due_ = true;
  }
}

Status CollectionCore::Optimize() {
  if (!stored()) {
    // In memory the write segment is the graph: optimizing re-learns its codes from every vector, and hands back
    // to the system what the writes before it left free in the allocator (the point table's earlier, smaller
    // copies: a tenth of a graph's memory at 100,000 points).
    {
      std::unique_lock lock(mu_);
      QUIVER_RETURN_IF_ERROR(WritableLocked());
      write_->Quantize(/*force=*/true);
    }
    ReleaseFreeHeap();
    return Status::OK();
  }
  {
    std::unique_lock lock(mu_);
    QUIVER_RETURN_IF_ERROR(WritableLocked());
    QUIVER_RETURN_IF_ERROR(SealLocked());
  }
  bool merged = false;
  const Status status = OptimizeNow(MergeScope::kAll, &merged);
  if (merged) ReleaseFreeHeap();
  return status;
}

void CollectionCore::ResumeOptimize() {
  if (!stored() || files_->options().read_only || !files_->options().auto_optimize) return;
  bool due;
  {
    std::shared_lock lock(mu_);
    due = !ChooseMergeLocked(FeedGcRuleLocked(HlcMillis(clock_->last()))).empty();
  }
  if (due) ScheduleOptimize();
}

// A merge frees its input segments (tens of megabytes for large ones) and the buffers it built the new one in, in
// the middle of the allocator's arenas where they are not returned to the system on their own, and under
// concurrent merges and writes the arena holding the free space is often not the one the next allocation comes
// from. Handing it back after each merge keeps a process's memory near what its segments use
// (docs/reliability.md, "A soak").
Status CollectionCore::OptimizeBacklog() {
  for (;;) {
    bool merged = false;
    const Status status = OptimizeNow(MergeScope::kStep, &merged);
    pending_cv_.notify_all();  // writers waiting in AwaitBacklog look at the backlog again
    if (merged) ReleaseFreeHeap();
    QUIVER_RETURN_IF_ERROR(status);
    if (!merged) return Status::OK();
  }
}

bool CollectionCore::GraphedLocked(const Segment& seg) const {
  for (size_t s = 0; s < spaces_.size(); ++s) {
    if (spaces_[s].params.index == IndexKind::kHnsw && seg.present_count() > 0 &&
        seg.vector_index(s).kind() != index::IndexKind::kHnsw)
      return false;
  }
  return true;
}

size_t CollectionCore::BacklogLocked() const {
  size_t n = 0;
  for (const Sealed& s : sealed_) {
    const Segment& seg = *s.segment;
    const bool dead = double(seg.slot_count() - seg.present_count()) >= kReuseDeadFraction * double(seg.slot_count());
    n += !GraphedLocked(seg) || (seg.slot_count() > 0 && dead);
  }
  return n;
}

// Backpressure. Merges in the background keep up with most writers, but one that writes faster than the
// executor's threads can build graphs and rewrite segments would pile up sealed segments without end: memory,
// disk, the open's time and the unindexed rows that every search scans would all grow (the soak of
// docs/reliability.md measured it). So while more than kStallBacklog sealed segments wait for a merge and the
// background merge is running, a writer waits for it to bring the count down before its call returns (its
// write is already committed). It stops waiting as soon as no background merge runs (nothing more will come
// down, or a storage failure stopped it: the next write reports that).
void CollectionCore::AwaitBacklog() {
  if (!stored() || files_->options().read_only || !files_->options().auto_optimize) return;
  for (;;) {
    {
      // Most writes return here: no background merge runs, so there is nothing to wait for.
      std::lock_guard<std::mutex> lock(pending_mu_);
      if (!optimizer_running_) return;
    }
    {
      std::shared_lock lock(mu_);
      if (BacklogLocked() <= kStallBacklog) return;
    }
    std::unique_lock<std::mutex> lock(pending_mu_);
    if (!optimizer_running_) return;
    // A step notifies when it ends; the timeout only bounds a notification missed between the check and the wait.
    pending_cv_.wait_for(lock, std::chrono::milliseconds(50));
  }
}

std::vector<CollectionCore::Sealed> CollectionCore::ChooseMergeLocked(const FeedGcRule& gc) const {
  const size_t unit = files_->options().segment_points;
  const size_t step_rows = kStepFactor * unit, max_rows = kMaxFactor * unit;
  auto graphed = [&](const Segment& seg) { return GraphedLocked(seg); };
  // The share of rows a rewrite would drop: removals in the files and expired tombstones (a removal only in
  // memory stays in the rewritten file, so counting it would rewrite the segment again and again).
  auto dead = [&](const Sealed& s) {
    const Segment& seg = *s.segment;
    size_t gone = 0;
    for (uint32_t slot = 0; slot < seg.slot_count(); ++slot) {
      const bool durable = slot < s.durable_removed.size() && s.durable_removed[slot];
      gone += durable || (!seg.IsRemoved(slot) && gc.Purgeable(seg.state(slot)));
    }
    return seg.slot_count() == 0 ? 0.0 : double(gone) / double(seg.slot_count());
  };
  std::vector<Sealed> chosen;
  // 1. Rows without a graph, oldest first, joined to the largest healthy graph they fit in.
  size_t fresh_rows = 0;
  for (const Sealed& s : sealed_) {
    if (graphed(*s.segment)) continue;
    if (!chosen.empty() && fresh_rows + s.segment->present_count() > step_rows) break;
    chosen.push_back(s);
    fresh_rows += s.segment->present_count();
  }
  if (!chosen.empty()) {
    const Sealed* base = nullptr;
    for (const Sealed& s : sealed_) {
      const Segment& seg = *s.segment;
      if (!graphed(seg) || seg.present_count() == 0 || seg.present_count() + fresh_rows > max_rows) continue;
      if (dead(s) >= kReuseDeadFraction) continue;
      if (!base || seg.present_count() > base->segment->present_count()) base = &s;
    }
    if (base) chosen.push_back(*base);
    return chosen;
  }
  // 2. A segment with many rows removed or expired.
  for (const Sealed& s : sealed_) {
    if (dead(s) >= kReuseDeadFraction) return {s};
  }
  // 3. The two smallest graphs, when the smaller is a step's worth and together they fit.
  const Sealed *a = nullptr, *b = nullptr;
  for (const Sealed& s : sealed_) {
    const size_t n = s.segment->present_count();
    if (!a || n < a->segment->present_count()) {
      b = a;
      a = &s;
    } else if (!b || n < b->segment->present_count()) {
      b = &s;
    }
  }
  if (a && b && a->segment->present_count() <= step_rows &&
      a->segment->present_count() + b->segment->present_count() <= max_rows)
    return {*a, *b};
  return {};
}

Status CollectionCore::OptimizeNow(MergeScope scope, bool* replaced) {
  if (!stored()) return Status::OK();
  std::lock_guard<std::mutex> one_at_a_time(optimize_mu_);
  // Phase 1, under the lock: choose the inputs and snapshot what is removed in them.
  std::vector<Sealed> inputs;
  std::vector<std::vector<uint8_t>> removed_then;
  std::vector<std::pair<std::string, payload::FieldIndexType>> fields;
  FeedGcRule gc;
  uint64_t recoveries = 0;
  {
    std::shared_lock lock(mu_);
    QUIVER_RETURN_IF_ERROR(CheckWritable());
    recoveries = recoveries_;
    fields = payload_fields_;
    gc = FeedGcRuleLocked(HlcMillis(clock_->last()));
    inputs = scope == MergeScope::kAll ? sealed_ : ChooseMergeLocked(gc);
  }
  if (inputs.empty()) return Status::OK();
  // Expired tombstones (the change feed's purge rule, collection_feed.cc).
  auto expired = [&](const PointState& st) { return gc.Purgeable(st); };
  std::vector<std::pair<uint64_t, PointId>> purged;
  // Nothing to gain from one segment already indexed, without removals or expired tombstones.
  if (inputs.size() == 1) {
    std::shared_lock lock(mu_);
    const Segment& only = *inputs[0].segment;
    bool indexed = true, clean = only.present_count() == only.slot_count();
    for (size_t s = 0; s < spaces_.size(); ++s) {
      indexed &=
          only.vector_index(s).kind() ==
          (spaces_[s].params.index == IndexKind::kFlat ? index::IndexKind::kFlat : index::IndexKind::kHnsw);
    }
    for (uint32_t slot = 0; clean && slot < only.slot_count(); ++slot) clean = !expired(only.state(slot));
    if (indexed && clean) return Status::OK();
  }

  // Phase 2, without the lock (sealed segments change only by removals, which phase 3 carries over): per
  // space, start from the largest healthy graph among the inputs, or an empty index, and add every other live
  // vector.
  std::vector<std::unique_ptr<index::VectorIndex>> indexes(spaces_.size());
  std::vector<int> base(spaces_.size(), -1);
  {
    std::shared_lock lock(mu_);
    // Only removals in the files drop a row: a point that moved to the write segment lives in the files here
    // until the next seal, so the merged file keeps it (and phase 3 removes it in memory).
    for (const Sealed& in : inputs) removed_then.push_back(in.durable_removed);
    for (size_t s = 0; s < spaces_.size(); ++s) {
      if (spaces_[s].params.index == IndexKind::kFlat) continue;
      size_t best_rows = 0;
      for (size_t i = 0; i < inputs.size(); ++i) {
        const index::VectorIndex& idx = inputs[i].segment->vector_index(s);
        if (idx.kind() != index::IndexKind::kHnsw || idx.size() == 0) continue;
        const double dead = 1.0 - double(idx.live_size()) / double(idx.size());
        if (dead < kReuseDeadFraction && idx.size() > best_rows) {
          best_rows = idx.size();
          base[s] = static_cast<int>(i);
        }
      }
      if (base[s] >= 0) {
        std::string image = inputs[base[s]].segment->vector_index(s).Serialize();
        QUIVER_ASSIGN_OR_RETURN(
            indexes[s], index::LoadIndex({reinterpret_cast<const uint8_t*>(image.data()), image.size()}));
      }
    }
  }
  for (size_t s = 0; s < spaces_.size(); ++s) {
    if (indexes[s]) continue;
    const VectorSpace& vs = spaces_[s];
    const index::Metric metric = vs.params.distance == Distance::kCosine   ? index::Metric::kCosine
                                 : vs.params.distance == Distance::kDot    ? index::Metric::kInnerProduct
                                 : vs.params.distance == Distance::kEuclid ? index::Metric::kL2
                                                                           : index::Metric::kL1;
    if (vs.params.index == IndexKind::kFlat) {
      QUIVER_ASSIGN_OR_RETURN(indexes[s], index::FlatIndex::Create(vs.params.size, metric));
    } else {
      QUIVER_ASSIGN_OR_RETURN(indexes[s], index::HnswIndex::Create(vs.params.size, metric,
                                                                   {vs.hnsw.m, vs.hnsw.ef_construct, 42}));
    }
  }

  // Sparse vectors are copied into fresh inverted indexes, in slot order.
  std::vector<std::unique_ptr<index::SparseIndex>> sparse_indexes;
  for (size_t s = 0; s < sparse_spaces_.size(); ++s) sparse_indexes.push_back(std::make_unique<index::SparseIndex>());
  PointStates states;
  // Per space: vectors to add (stored form) and the states they belong to, added to the index a block at a time
  // so that a merge holds at most one block of them beside the inputs and the index it builds.
  std::vector<std::vector<float>> pending(spaces_.size());
  std::vector<std::vector<uint32_t>> pending_slots(spaces_.size());
  auto flush = [&](size_t s) -> Status {
    const size_t n = pending_slots[s].size();
    if (n == 0) return Status::OK();
    const uint32_t first = static_cast<uint32_t>(indexes[s]->size());
    QUIVER_RETURN_IF_ERROR(indexes[s]->AddPrepared(pending[s].data(), n, files_->options().executor));
    for (size_t j = 0; j < n; ++j) states[pending_slots[s][j]].rows[s] = first + static_cast<uint32_t>(j);
    pending[s].clear();
    pending_slots[s].clear();
    return Status::OK();
  };
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Segment& seg = *inputs[i].segment;
    const auto& removed = removed_then[i];
    for (uint32_t slot = 0; slot < seg.slot_count(); ++slot) {
      const PointState& st = seg.state(slot);
      const bool was_removed = slot < removed.size() && removed[slot];
      const bool gone = was_removed || expired(st);
      if (!was_removed && gone) purged.emplace_back(st.seq(), st.id);
      for (size_t s = 0; s < spaces_.size(); ++s) {
        if (base[s] == static_cast<int>(i) && st.rows[s] != kNoRow && gone)
          (void)indexes[s]->Remove(st.rows[s]);
      }
      if (gone) continue;
      PointState copy = st;
      const uint32_t new_slot = static_cast<uint32_t>(states.size());
      for (size_t s = 0; s < spaces_.size(); ++s) {
        const uint32_t row = st.rows[s];
        // Rows stay as they are in the reused graph, except those of points that moved to the write segment
        // since the last seal: they are removed from this graph in memory only, and the merged file keeps the
        // point (durable_removed), so its vector goes in again as a new row.
        if (base[s] == static_cast<int>(i) &&
            (row == kNoRow || st.deleted || !indexes[s]->IsDeleted(row))) {
          continue;
        }
        const index::VectorIndex& from = base[s] == static_cast<int>(i) ? *indexes[s] : seg.vector_index(s);
        copy.rows[s] = kNoRow;
        if (row == kNoRow || st.deleted) continue;
        const float* v = from.Vector(row);
        pending[s].insert(pending[s].end(), v, v + from.stride());
        pending_slots[s].push_back(new_slot);
      }
      for (size_t s = 0; s < sparse_spaces_.size(); ++s) {
        copy.sparse_rows[s] = kNoRow;
        if (auto v = seg.StoredSparse(st, s)) copy.sparse_rows[s] = sparse_indexes[s]->Add(*v);
      }
      states.push_back(std::move(copy));
      for (size_t s = 0; s < spaces_.size(); ++s) {
        if (pending_slots[s].size() >= kAddBlockRows) QUIVER_RETURN_IF_ERROR(flush(s));
      }
    }
  }
  for (size_t s = 0; s < spaces_.size(); ++s) {
    QUIVER_RETURN_IF_ERROR(flush(s));
    pending[s] = {};
  }
  QUIVER_ASSIGN_OR_RETURN(
      auto merged, Segment::FromParts(spaces_, sparse_spaces_, std::move(states), std::move(indexes),
                                      std::move(sparse_indexes), "merged segment"));
  QUIVER_RETURN_IF_ERROR(merged->IndexPayloadFields(fields));
  storage::Storage& st = files_->storage();
  const uint64_t seg_number = files_->NewFileNumber();
  // A failure before the manifest commit changes nothing the collection holds: the merge is simply not done
  // (the next seal, Optimize or open tries again), and its file goes now or at the next open.
  Status s = st.WriteFileAtomic(SegmentFileName(id_, seg_number), EncodeSegment(*merged));
  if (!s.ok()) {
    (void)st.Remove(SegmentFileName(id_, seg_number));
    return s.WithContext("merging segments of collection " + name_);
  }

  // Phase 3, under the lock: carry over the removals the merged file does not hold, swap the segments, commit,
  // delete the inputs. A removal whose point's new home is already in the files (a seal ran meanwhile) goes into
  // a deletion file for the merged segment now, or the files would hold the point twice; the others stay in
  // memory until the next seal writes the write segment (dirty).
  std::unique_lock lock(mu_);
  if (recoveries_ != recoveries || !failed_.ok() || closed_) {
    // The collection was reloaded from its files meanwhile (or must be): its inputs are gone.
    (void)st.Remove(SegmentFileName(id_, seg_number));
    return closed_ || failed_.ok() ? Status::OK() : failed_;
  }
  bool dirty = false;
  std::vector<uint8_t> merged_durable;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Segment& seg = *inputs[i].segment;
    const std::vector<uint8_t>* durable_now = nullptr;
    for (const Sealed& current : sealed_) {
      if (current.segment == inputs[i].segment) durable_now = &current.durable_removed;
    }
    for (uint32_t slot = 0; slot < seg.slot_count(); ++slot) {
      const bool dropped = slot < removed_then[i].size() && removed_then[i][slot];
      if (dropped || !seg.IsRemoved(slot)) continue;
      auto moved = merged->FindSlot(seg.state(slot).id);
      if (!moved) continue;
      merged->Remove(*moved);
      if (durable_now && slot < durable_now->size() && (*durable_now)[slot]) {
        merged_durable.resize(merged->slot_count(), 0);
        merged_durable[*moved] = 1;
      } else {
        dirty = true;
      }
    }
  }
  uint64_t del_number = 0;
  if (!merged_durable.empty()) {
    del_number = files_->NewFileNumber();
    s = st.WriteFileAtomic(DeletionFileName(id_, del_number), EncodeDeletions(merged->slot_count(), merged_durable));
    if (!s.ok()) {
      (void)st.Remove(SegmentFileName(id_, seg_number));
      (void)st.Remove(DeletionFileName(id_, del_number));
      return s.WithContext("merging segments of collection " + name_);
    }
  }
  if (payload_fields_ != fields) QUIVER_RETURN_IF_ERROR(merged->IndexPayloadFields(payload_fields_));
  std::vector<Sealed> kept;
  kept.push_back(
      Sealed{std::shared_ptr<Segment>(std::move(merged)), seg_number, del_number, dirty, std::move(merged_durable)});
  for (const Sealed& s2 : sealed_) {
    bool was_input = false;
    for (const Sealed& in : inputs) was_input |= in.segment == s2.segment;
    if (!was_input) kept.push_back(s2);
  }
  sealed_ = std::move(kept);
  FeedPurgedLocked(purged);
  s = CommitEntryLocked(wal_start_);
  if (!s.ok()) return s.WithContext("merging segments of collection " + name_);
  for (const Sealed& in : inputs) {
    (void)st.Remove(SegmentFileName(id_, in.file));
    if (in.deletions) (void)st.Remove(DeletionFileName(id_, in.deletions));
  }
  if (replaced) *replaced = true;
  return Status::OK();
}

}  // namespace quiver::db
