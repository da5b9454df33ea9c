// The stored half of CollectionCore: opening and recovery, logging, sealing, the optimizer (merging and
// indexing segments), snapshots and the collection's files. See collection_core.h and docs/formats.md.
#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstring>

#include "base/coding.h"
#include "base/section_file.h"
#include "db/collection_core.h"
#include "db/config_json.h"
#include "db/op_codec.h"
#include "db/segment_file.h"
#include "index/flat_index.h"
#include "index/hnsw_index.h"
#include "index/vector_store.h"
#include "payload/json_util.h"
#include "simd/distance.h"
#include "storage/wal_reader.h"

namespace quiver::db {
namespace {

// A log file is closed and a new one begun past this size, so a browser's IndexedDB rewrites small files
// only.
constexpr uint64_t kWalFileBytes = 4 << 20;
// Batched durability syncs at least this often (milliseconds), or when this much is unsynced.
constexpr uint64_t kBatchedSyncMs = 100;
constexpr uint64_t kBatchedSyncBytes = 4 << 20;
// A graph index is reused by a merge while fewer than this fraction of its rows are deleted.
constexpr double kReuseDeadFraction = 0.2;

uint64_t SteadyMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

// Keeps a whole file's bytes alive: a memory map, or a copy when the storage cannot map.
struct FileImage {
  std::unique_ptr<storage::FileBytes> mapped;
  std::string copy;
  std::span<const uint8_t> bytes() const {
    return mapped ? mapped->bytes()
                  : std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(copy.data()), copy.size());
  }
};

Status Missing(const std::string& name, const Status& s) {
  if (s.IsNotFound()) return Status::Corruption(name + ": listed in the manifest but missing");
  return s;
}

Result<std::shared_ptr<FileImage>> ReadImage(storage::Storage& storage, const std::string& name) {
  QUIVER_ASSIGN_OR_RETURN(bool exists, storage.Exists(name));
  if (!exists) return Missing(name, Status::NotFound(name));
  auto image = std::make_shared<FileImage>();
  auto mapped = storage.Map(name);
  if (mapped.ok()) {
    image->mapped = std::move(*mapped);
  } else if (mapped.status().code() == StatusCode::kNotSupported) {
    QUIVER_ASSIGN_OR_RETURN(image->copy, storage.ReadFile(name));
  } else {
    return mapped.status();
  }
  return image;
}

void ObserveStamps(const Segment& seg, HybridClock* clock) {
  uint64_t max = 0;
  for (uint32_t slot = 0; slot < seg.slot_count(); ++slot) {
    const PointState& st = seg.state(slot);
    max = std::max({max, st.alive.hlc, st.vectors_stamp.hlc, st.payload_reset.hlc});
    for (const KeyStamp& ks : st.key_stamps) max = std::max(max, ks.stamp.hlc);
  }
  clock->Observe(max);
}

}  // namespace

Result<std::unique_ptr<CollectionCore>> CollectionCore::Open(const CollectionEntry& entry, HybridClock* clock,
                                                             uint64_t replica, DatabaseFiles* files) {
  QUIVER_RETURN_IF_ERROR(ValidateConfig(entry.config));
  std::unique_ptr<CollectionCore> core(new CollectionCore(entry.name, entry.config, clock, replica));
  core->id_ = entry.id;
  core->files_ = files;
  for (const auto& [field, type] : entry.payload_indexes) {
    auto t = payload::ParseFieldIndexType(type);
    if (!t.ok())
      return Status::Corruption("manifest: collection " + entry.name + ": " +
                                std::string(t.status().message()));
    core->payload_fields_.emplace_back(field, *t);
  }
  core->write_ = core->NewWriteSegment();
  QUIVER_RETURN_IF_ERROR(core->OpenFiles(entry));
  return core;
}

Status CollectionCore::OpenFiles(const CollectionEntry& entry) {
  storage::Storage& st = files_->storage();
  std::unique_lock lock(mu_);
  wal_start_ = entry.wal_start;
  next_sequence_ = entry.next_sequence;
  for (const SegmentEntry& se : entry.segments) {
    const std::string name = SegmentFileName(id_, se.file);
    QUIVER_ASSIGN_OR_RETURN(auto image, ReadImage(st, name));
    QUIVER_ASSIGN_OR_RETURN(auto seg, DecodeSegment(image->bytes(), spaces_, image, name));
    if (seg->slot_count() != se.slots) {
      return Status::Corruption(name + ": holds " + std::to_string(seg->slot_count()) +
                                " points, the manifest says " + std::to_string(se.slots));
    }
    if (se.deletions != 0) {
      const std::string del_name = DeletionFileName(id_, se.deletions);
      auto read = st.ReadFile(del_name);
      if (!read.ok()) return Missing(del_name, read.status());
      std::string del = std::move(*read);
      QUIVER_ASSIGN_OR_RETURN(
          auto removed,
          DecodeDeletions({reinterpret_cast<const uint8_t*>(del.data()), del.size()}, se.slots, del_name));
      for (uint32_t slot : removed) seg->Remove(slot);
    }
    QUIVER_RETURN_IF_ERROR(seg->IndexPayloadFields(payload_fields_).WithContext(name));
    ObserveStamps(*seg, clock_);
    sealed_.push_back(Sealed{std::shared_ptr<Segment>(std::move(seg)), se.file, se.deletions, false});
  }
  std::vector<const Segment*> loaded;
  std::vector<std::string> names;
  for (const Sealed& s : sealed_) {
    loaded.push_back(s.segment.get());
    names.push_back(SegmentFileName(id_, s.file));
  }
  QUIVER_RETURN_IF_ERROR(CheckSegmentsDisjoint(loaded, names));
  QUIVER_RETURN_IF_ERROR(ReplayLogs());
  return Status::OK();
}

Status CollectionCore::ReplayLogs() {
  storage::Storage& st = files_->storage();
  QUIVER_ASSIGN_OR_RETURN(std::vector<std::string> names, st.List());
  std::vector<std::pair<uint64_t, std::string>> logs;
  for (const std::string& name : names) {
    ParsedFileName p = ParseFileName(name);
    if (p.kind == ParsedFileName::Kind::kWal && p.collection == id_ && p.number >= wal_start_) {
      logs.emplace_back(p.number, name);
    }
  }
  std::sort(logs.begin(), logs.end());
  const bool read_only = files_->options().read_only;
  for (size_t i = 0; i < logs.size(); ++i) {
    const uint64_t number = logs[i].first;
    const std::string name = logs[i].second;
    QUIVER_ASSIGN_OR_RETURN(std::string bytes, st.ReadFile(name));
    storage::WalTail tail;
    const bool newest = i + 1 == logs.size();
    Status s = storage::ReadWalFile(
        {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, name, number, newest,
        [&](std::string_view payload, uint64_t offset) -> Status {
          QUIVER_ASSIGN_OR_RETURN(OpBatch batch,
                                  DecodeOpBatch(payload, name, offset + storage::kWalRecordHeaderSize));
          for (const Op& op : batch.ops) {
            Status c = CheckOp(op);
            if (!c.ok())
              return Status::Corruption(name + ": record at offset " + std::to_string(offset) + ": " +
                                        std::string(c.message()));
          }
          next_sequence_ = std::max(next_sequence_, batch.sequence + 1);
          for (const Op& op : batch.ops) {
            clock_->Observe(op.stamp.hlc);
            ApplyLocked(op);
          }
          return Status::OK();
        },
        &tail);
    QUIVER_RETURN_IF_ERROR(s);
    if (tail.torn && !read_only) {
      // Cut the torn tail so appends continue after the last whole record; a log without a whole header goes.
      if (tail.valid_bytes < storage::kWalFileHeaderSize) {
        QUIVER_RETURN_IF_ERROR(st.Remove(name));
        logs.pop_back();
        break;
      }
      QUIVER_RETURN_IF_ERROR(st.Truncate(name, tail.valid_bytes));
    }
  }
  if (read_only) return Status::OK();
  if (!logs.empty()) {
    QUIVER_ASSIGN_OR_RETURN(auto w, storage::WalWriter::Reopen(&st, logs.back().second, logs.back().first));
    wal_ = std::move(w);
  } else {
    const uint64_t number = files_->NewFileNumber();
    QUIVER_ASSIGN_OR_RETURN(auto w, storage::WalWriter::Create(&st, WalFileName(id_, number), number));
    wal_ = std::move(w);
  }
  return Status::OK();
}

Status CollectionCore::LogBatch(std::span<const Op> ops, std::shared_ptr<storage::WalWriter>* wal) {
  log_buffer_.clear();
  EncodeOpBatch(next_sequence_, ops, &log_buffer_);
  Status s = wal_->Append(log_buffer_);
  if (!s.ok()) {
    failed_ = s;
    return s;
  }
  ++next_sequence_;
  *wal = wal_;
  if (wal_->size() >= kWalFileBytes) {
    // Begin a new, small log file. The old one is synced and closed first (only the newest log may be torn)
    // and stays until a seal covers it.
    s = wal_->Close();
    if (!s.ok()) {
      failed_ = s;
      return s;
    }
    const uint64_t number = files_->NewFileNumber();
    auto next = storage::WalWriter::Create(&files_->storage(), WalFileName(id_, number), number);
    if (!next.ok()) {
      failed_ = next.status();
      return failed_;
    }
    wal_ = std::move(*next);
  }
  return Status::OK();
}

Status CollectionCore::SyncPerDurability(const std::shared_ptr<storage::WalWriter>& wal) {
  Status s;
  switch (files_->options().durability) {
    case Durability::kSync:
      s = wal->Sync();
      break;
    case Durability::kBatched: {
      const uint64_t now = SteadyMs();
      if (now - last_sync_ms_ >= kBatchedSyncMs || wal->unsynced() >= kBatchedSyncBytes) {
        s = wal->Sync();
        last_sync_ms_ = now;
      }
      break;
    }
    case Durability::kNone:
      break;
  }
  if (!s.ok()) {
    std::unique_lock lock(mu_);
    if (failed_.ok()) failed_ = s;
  }
  return s;
}

Status CollectionCore::Flush() {
  std::shared_ptr<storage::WalWriter> wal;
  {
    std::shared_lock lock(mu_);
    wal = wal_;
  }
  return wal ? wal->Sync() : Status::OK();
}

Status CollectionCore::MaybeSealLocked() {
  if (write_->slot_count() < files_->options().segment_points) return Status::OK();
  QUIVER_RETURN_IF_ERROR(SealLocked());
  if (files_->options().auto_optimize) ScheduleOptimize();
  return Status::OK();
}

Status CollectionCore::SealLocked() {
  if (write_->slot_count() == 0) return Status::OK();
  storage::Storage& st = files_->storage();
  auto fail = [&](Status s) {
    if (failed_.ok()) failed_ = s;
    return s;
  };
  // 1. Later writes go to a new log; the old ones are covered by the segment written next. The old log is
  // synced and closed before the new one exists, so only the newest log can ever have a torn tail.
  Status s = wal_->Close();
  if (!s.ok()) return fail(s);
  const uint64_t wal_number = files_->NewFileNumber();
  auto next = storage::WalWriter::Create(&st, WalFileName(id_, wal_number), wal_number);
  if (!next.ok()) return fail(next.status());
  wal_ = std::move(*next);
  // 2. The write segment becomes a segment file.
  const uint64_t seg_number = files_->NewFileNumber();
  s = st.WriteFileAtomic(SegmentFileName(id_, seg_number), EncodeSegment(*write_));
  if (!s.ok()) return fail(s);
  // 3. Removals in sealed segments since their last deletion file.
  std::vector<uint64_t> obsolete;
  for (Sealed& sealed : sealed_) {
    if (!sealed.dirty) continue;
    const uint64_t del_number = files_->NewFileNumber();
    s = st.WriteFileAtomic(DeletionFileName(id_, del_number), EncodeDeletions(*sealed.segment));
    if (!s.ok()) return fail(s);
    if (sealed.deletions) obsolete.push_back(sealed.deletions);
    sealed.deletions = del_number;
    sealed.dirty = false;
  }
  sealed_.push_back(Sealed{std::shared_ptr<Segment>(std::move(write_)), seg_number, 0, false});
  write_ = NewWriteSegment();
  // 4. The manifest switches to the new files; then the covered logs and old deletion files go.
  s = CommitEntryLocked(wal_number);
  if (!s.ok()) return fail(s);
  for (uint64_t d : obsolete) (void)st.Remove(DeletionFileName(id_, d));
  return RemoveObsoleteFiles(wal_number);
}

CollectionEntry CollectionCore::EntryLocked() const {
  CollectionEntry e;
  e.id = id_;
  e.name = name_;
  e.config = config_;
  for (const auto& [field, type] : payload_fields_)
    e.payload_indexes.emplace_back(field, payload::FieldIndexTypeName(type));
  e.wal_start = wal_start_;
  e.next_sequence = next_sequence_;
  for (const Sealed& s : sealed_)
    e.segments.push_back(SegmentEntry{s.file, s.deletions, s.segment->slot_count()});
  return e;
}

CollectionEntry CollectionCore::Entry() const {
  std::shared_lock lock(mu_);
  return EntryLocked();
}

Status CollectionCore::CommitEntryLocked(uint64_t wal_start) {
  CollectionEntry e = EntryLocked();
  e.wal_start = wal_start;
  QUIVER_RETURN_IF_ERROR(files_->CommitEntry(e));
  wal_start_ = wal_start;
  return Status::OK();
}

Status CollectionCore::RemoveObsoleteFiles(uint64_t wal_start) {
  storage::Storage& st = files_->storage();
  QUIVER_ASSIGN_OR_RETURN(std::vector<std::string> names, st.List());
  for (const std::string& name : names) {
    ParsedFileName p = ParseFileName(name);
    if (p.kind == ParsedFileName::Kind::kWal && p.collection == id_ && p.number < wal_start)
      (void)st.Remove(name);
  }
  return Status::OK();
}

Status CollectionCore::DestroyFiles() {
  if (!stored()) return Status::OK();
  {
    std::unique_lock lock(mu_);
    closed_ = true;
    if (wal_) (void)wal_->Close();
  }
  storage::Storage& st = files_->storage();
  QUIVER_ASSIGN_OR_RETURN(std::vector<std::string> names, st.List());
  for (const std::string& name : names) {
    ParsedFileName p = ParseFileName(name);
    if (p.collection == id_ &&
        (p.kind == ParsedFileName::Kind::kWal || p.kind == ParsedFileName::Kind::kSegment ||
         p.kind == ParsedFileName::Kind::kDeletions)) {
      QUIVER_RETURN_IF_ERROR(st.Remove(name));
    }
  }
  return st.SyncDir();
}

Status CollectionCore::Close() {
  {
    std::unique_lock<std::mutex> lock(pending_mu_);
    pending_cv_.wait(lock, [&] { return pending_optimizations_ == 0; });
  }
  std::unique_lock lock(mu_);
  if (closed_) return Status::OK();
  closed_ = true;
  Status s;
  if (wal_) s = wal_->Close();
  return s;
}

void CollectionCore::ScheduleOptimize() {
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    ++pending_optimizations_;
  }
  auto run = [this] {
    (void)OptimizeNow();
    std::lock_guard<std::mutex> lock(pending_mu_);
    --pending_optimizations_;
    pending_cv_.notify_all();
  };
  if (!files_->Schedule(run)) {
    // No executor: the writer that sealed runs it after releasing the lock (Commit checks optimize_due_).
    std::lock_guard<std::mutex> lock(pending_mu_);
    --pending_optimizations_;
    optimize_due_ = true;
  }
}

Status CollectionCore::Optimize() {
  if (!stored()) {
    // In memory the write segment is the graph: optimizing re-learns its codes from every vector.
    std::unique_lock lock(mu_);
    QUIVER_RETURN_IF_ERROR(CheckWritable());
    write_->Quantize(/*force=*/true);
    return Status::OK();
  }
  {
    std::unique_lock lock(mu_);
    QUIVER_RETURN_IF_ERROR(CheckWritable());
    QUIVER_RETURN_IF_ERROR(SealLocked());
  }
  return OptimizeNow();
}

Status CollectionCore::OptimizeNow() {
  if (!stored()) return Status::OK();
  std::lock_guard<std::mutex> one_at_a_time(optimize_mu_);
  // Phase 1, under the lock: choose the inputs and snapshot what is removed in them.
  std::vector<Sealed> inputs;
  std::vector<std::vector<uint8_t>> removed_then;
  std::vector<std::pair<std::string, payload::FieldIndexType>> fields;
  uint64_t now_ms;
  {
    std::shared_lock lock(mu_);
    QUIVER_RETURN_IF_ERROR(CheckWritable());
    inputs = sealed_;
    fields = payload_fields_;
    now_ms = HlcMillis(clock_->last());
  }
  if (inputs.empty()) return Status::OK();
  const uint64_t retention = files_->options().tombstone_retention_ms;
  auto expired = [&](const PointState& st) {
    return st.deleted && HlcMillis(st.alive.hlc) + retention < now_ms;
  };
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
    for (const Sealed& in : inputs) removed_then.push_back(in.segment->removed());
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

  std::vector<PointState> states;
  // Per space: the vectors to add (stored form) and the states they belong to.
  std::vector<std::vector<float>> pending(spaces_.size());
  std::vector<std::vector<uint32_t>> pending_slots(spaces_.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Segment& seg = *inputs[i].segment;
    const auto& removed = removed_then[i];
    for (uint32_t slot = 0; slot < seg.slot_count(); ++slot) {
      const PointState& st = seg.state(slot);
      const bool gone = (slot < removed.size() && removed[slot]) || expired(st);
      for (size_t s = 0; s < spaces_.size(); ++s) {
        if (base[s] == static_cast<int>(i) && st.rows[s] != kNoRow && gone)
          (void)indexes[s]->Remove(st.rows[s]);
      }
      if (gone) continue;
      PointState copy = st;
      const uint32_t new_slot = static_cast<uint32_t>(states.size());
      for (size_t s = 0; s < spaces_.size(); ++s) {
        if (base[s] == static_cast<int>(i)) continue;  // rows stay as they are in the reused graph
        const uint32_t row = st.rows[s];
        copy.rows[s] = kNoRow;
        if (row == kNoRow || st.deleted) continue;
        const index::VectorIndex& from = seg.vector_index(s);
        const float* v = from.Vector(row);
        pending[s].insert(pending[s].end(), v, v + from.stride());
        pending_slots[s].push_back(new_slot);
      }
      states.push_back(std::move(copy));
    }
  }
  for (size_t s = 0; s < spaces_.size(); ++s) {
    const uint32_t first = static_cast<uint32_t>(indexes[s]->size());
    const size_t n = pending_slots[s].size();
    if (n) QUIVER_RETURN_IF_ERROR(indexes[s]->AddPrepared(pending[s].data(), n, files_->options().executor));
    for (size_t j = 0; j < n; ++j) states[pending_slots[s][j]].rows[s] = first + static_cast<uint32_t>(j);
    pending[s] = {};
  }
  QUIVER_ASSIGN_OR_RETURN(
      auto merged, Segment::FromParts(spaces_, std::move(states), std::move(indexes), "merged segment"));
  QUIVER_RETURN_IF_ERROR(merged->IndexPayloadFields(fields));
  storage::Storage& st = files_->storage();
  const uint64_t seg_number = files_->NewFileNumber();
  Status s = st.WriteFileAtomic(SegmentFileName(id_, seg_number), EncodeSegment(*merged));
  if (!s.ok()) {
    std::unique_lock lock(mu_);
    if (failed_.ok()) failed_ = s;
    return s;
  }

  // Phase 3, under the lock: carry over removals made meanwhile, swap the segments, commit, delete the
  // inputs.
  std::unique_lock lock(mu_);
  bool dirty = false;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Segment& seg = *inputs[i].segment;
    for (uint32_t slot = 0; slot < seg.slot_count(); ++slot) {
      const bool then = slot < removed_then[i].size() && removed_then[i][slot];
      if (then || !seg.IsRemoved(slot)) continue;
      if (auto moved = merged->FindSlot(seg.state(slot).id)) {
        merged->Remove(*moved);
        dirty = true;
      }
    }
  }
  if (payload_fields_ != fields) QUIVER_RETURN_IF_ERROR(merged->IndexPayloadFields(payload_fields_));
  std::vector<Sealed> kept;
  kept.push_back(Sealed{std::shared_ptr<Segment>(std::move(merged)), seg_number, 0, dirty});
  for (const Sealed& s2 : sealed_) {
    bool was_input = false;
    for (const Sealed& in : inputs) was_input |= in.segment == s2.segment;
    if (!was_input) kept.push_back(s2);
  }
  sealed_ = std::move(kept);
  s = CommitEntryLocked(wal_start_);
  if (!s.ok()) {
    if (failed_.ok()) failed_ = s;
    return s;
  }
  for (const Sealed& in : inputs) {
    (void)st.Remove(SegmentFileName(id_, in.file));
    if (in.deletions) (void)st.Remove(DeletionFileName(id_, in.deletions));
  }
  return Status::OK();
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

Result<std::vector<std::string>> CollectionCore::Verify() const {
  std::vector<std::string> problems;
  std::shared_lock lock(mu_);
  auto check_graphs = [&](const Segment& seg, const std::string& where) {
    if (Status st = seg.CheckPayloadIndex(); !st.ok()) problems.push_back(where + ": " + st.ToString());
    for (size_t s = 0; s < spaces_.size(); ++s) {
      const auto* hnsw = dynamic_cast<const index::HnswIndex*>(&seg.vector_index(s));
      if (!hnsw) continue;
      Status st = hnsw->CheckInvariants();
      if (!st.ok()) problems.push_back(where + ", vector space '" + spaces_[s].name + "': " + st.ToString());
    }
  };
  for (const Sealed& sealed : sealed_) {
    const std::string where = stored() ? SegmentFileName(id_, sealed.file) : "sealed segment";
    check_graphs(*sealed.segment, where);
    if (!stored()) continue;
    storage::Storage& st = files_->storage();
    auto bytes = st.ReadFile(where);
    if (!bytes.ok()) {
      problems.push_back(where + ": " + bytes.status().ToString());
      continue;
    }
    auto reread = DecodeSegment({reinterpret_cast<const uint8_t*>(bytes->data()), bytes->size()}, spaces_,
                                nullptr, where);
    if (!reread.ok()) {
      problems.push_back(reread.status().ToString());
    } else if (Status pst = (*reread)->CheckPayloadIndex(); !pst.ok()) {
      problems.push_back(where + " as stored: " + pst.ToString());
    } else if ((*reread)->slot_count() != sealed.segment->slot_count()) {
      problems.push_back(where + ": holds " + std::to_string((*reread)->slot_count()) + " points, " +
                         std::to_string(sealed.segment->slot_count()) + " expected");
    }
    if (sealed.deletions) {
      const std::string del = DeletionFileName(id_, sealed.deletions);
      auto dbytes = st.ReadFile(del);
      if (!dbytes.ok()) {
        problems.push_back(del + ": " + dbytes.status().ToString());
      } else if (auto d = DecodeDeletions({reinterpret_cast<const uint8_t*>(dbytes->data()), dbytes->size()},
                                          sealed.segment->slot_count(), del);
                 !d.ok()) {
        problems.push_back(d.status().ToString());
      }
    }
  }
  check_graphs(*write_, "write segment");
  return problems;
}

// Snapshot: see docs/formats.md, "Snapshot". Deterministic: canonical JSON, points in id order, stored
// vectors.
Result<std::string> CollectionCore::CreateSnapshot() const {
  std::shared_lock lock(mu_);
  std::vector<std::pair<PointId, MovedPoint>> points;
  for (const Segment* seg : SegmentsLocked()) {
    for (const auto& [id, slot] : seg->id_map()) {
      if (!seg->IsRemoved(slot)) points.emplace_back(id, seg->Extract(slot));
    }
  }
  lock.unlock();
  std::sort(points.begin(), points.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  boost::json::object meta;
  meta["format"] = 1;
  meta["name"] = name_;
  meta["config"] = ConfigToJson(config_);
  boost::json::array indexes;
  for (const auto& [field, type] : payload_fields_) {
    indexes.push_back(boost::json::array{field, std::string(payload::FieldIndexTypeName(type))});
  }
  meta["payload_indexes"] = std::move(indexes);
  meta["points"] = points.size();
  std::string body;
  for (const auto& [id, mp] : points) {
    const PointState& st = mp.state;
    PutFixed8(&body, id.is_uuid() ? 1 : 0);
    if (id.is_uuid()) {
      body.append(reinterpret_cast<const char*>(id.uuid().data()), 16);
    } else {
      PutFixed64(&body, id.number());
    }
    for (const Stamp* s : {&st.alive, &st.vectors_stamp, &st.payload_reset}) {
      PutFixed64(&body, s->hlc);
      PutFixed64(&body, s->replica);
    }
    PutFixed8(&body, st.deleted ? 1 : 0);
    PutVarint64(&body, st.key_stamps.size());
    for (const KeyStamp& ks : st.key_stamps) {
      PutLengthPrefixed(&body, ks.key);
      PutFixed64(&body, ks.stamp.hlc);
      PutFixed64(&body, ks.stamp.replica);
    }
    PutLengthPrefixed(&body, payload::CanonicalJson(boost::json::value(st.payload)));
    for (size_t s = 0; s < spaces_.size(); ++s) {
      const std::vector<float>& v = mp.vectors[s];
      PutFixed8(&body, v.empty() ? 0 : 1);
      if (!v.empty())
        body.append(reinterpret_cast<const char*>(v.data()), spaces_[s].params.size * sizeof(float));
    }
  }
  SectionFileWriter w(FileKind::kSnapshot);
  w.Add(SectionTag("SNAP"), payload::CanonicalJson(boost::json::value(meta)));
  w.Add(SectionTag("PNTS"), body);
  return w.Finish();
}

Status CollectionCore::LoadSnapshotPoints(std::vector<MovedPoint> points) {
  std::unique_lock lock(mu_);
  QUIVER_RETURN_IF_ERROR(CheckWritable());
  for (MovedPoint& mp : points) {
    // Stored vectors carry the index's padding.
    for (size_t s = 0; s < spaces_.size(); ++s) {
      if (!mp.vectors[s].empty()) mp.vectors[s].resize(write_->vector_index(s).stride(), 0.0f);
    }
    clock_->Observe(std::max({mp.state.alive.hlc, mp.state.vectors_stamp.hlc, mp.state.payload_reset.hlc}));
    for (const KeyStamp& ks : mp.state.key_stamps) clock_->Observe(ks.stamp.hlc);
    write_->Adopt(mp);
  }
  if (stored()) {
    QUIVER_RETURN_IF_ERROR(SealLocked());
    if (files_->options().auto_optimize) ScheduleOptimize();
  }
  return Status::OK();
}

Result<SnapshotContents> DecodeSnapshot(std::span<const uint8_t> bytes, const std::string& what) {
  QUIVER_ASSIGN_OR_RETURN(auto reader, SectionFileReader::Open(bytes, FileKind::kSnapshot, what));
  QUIVER_ASSIGN_OR_RETURN(auto meta_bytes, reader.Get(SectionTag("SNAP")));
  QUIVER_ASSIGN_OR_RETURN(auto body, reader.Get(SectionTag("PNTS")));
  auto corrupt = [&](const std::string& why) { return Status::Corruption(what + ": " + why); };
  boost::json::error_code ec;
  boost::json::value mv = boost::json::parse(
      std::string_view(reinterpret_cast<const char*>(meta_bytes.data()), meta_bytes.size()), ec);
  if (ec || !mv.is_object()) return corrupt("snapshot header is not a JSON object");
  const boost::json::object& meta = mv.get_object();
  SnapshotContents out;
  auto format = meta.find("format");
  if (format == meta.end() || !format->value().is_int64() || format->value().get_int64() != 1) {
    return corrupt("unsupported snapshot format");
  }
  auto name = meta.find("name");
  if (name == meta.end() || !name->value().is_string()) return corrupt("snapshot has no collection name");
  out.name = std::string(name->value().get_string());
  auto config = meta.find("config");
  if (config == meta.end()) return corrupt("snapshot has no configuration");
  auto parsed = ConfigFromJson(config->value(), "config");
  if (!parsed.ok()) return corrupt(std::string(parsed.status().message()));
  out.config = std::move(*parsed);
  auto indexes = meta.find("payload_indexes");
  if (indexes == meta.end() || !indexes->value().is_array())
    return corrupt("snapshot has no payload index list");
  for (const auto& iv : indexes->value().get_array()) {
    const boost::json::array* pair = iv.if_array();
    if (!pair || pair->size() != 2 || !(*pair)[0].is_string() || !(*pair)[1].is_string()) {
      return corrupt("bad payload index entry");
    }
    out.payload_indexes.emplace_back(std::string((*pair)[0].get_string()),
                                     std::string((*pair)[1].get_string()));
  }
  auto count_it = meta.find("points");
  if (count_it == meta.end() || !count_it->value().is_int64() || count_it->value().get_int64() < 0) {
    return corrupt("snapshot has no point count");
  }
  const uint64_t count = static_cast<uint64_t>(count_it->value().get_int64());
  std::vector<uint32_t> dims;
  for (const auto& [vname, params] : out.config.vectors) dims.push_back(params.size);

  ByteReader r(body, what + " PNTS", reader.OffsetOf(SectionTag("PNTS")));
  if (count > r.remaining()) return r.Error("point count exceeds the section");
  out.points.reserve(count);
  PointId previous;
  for (uint64_t i = 0; i < count; ++i) {
    MovedPoint mp;
    PointState& st = mp.state;
    uint8_t tag = 0;
    QUIVER_RETURN_IF_ERROR(r.ReadU8(&tag, "point id kind"));
    if (tag == 0) {
      uint64_t n = 0;
      QUIVER_RETURN_IF_ERROR(r.ReadU64(&n, "point id"));
      st.id = PointId::Number(n);
    } else if (tag == 1) {
      std::span<const uint8_t> u;
      QUIVER_RETURN_IF_ERROR(r.ReadBytes(16, &u, "point id"));
      PointId::UuidBytes b;
      std::memcpy(b.data(), u.data(), 16);
      st.id = PointId::Uuid(b);
    } else {
      return r.Error("unknown point id kind " + std::to_string(tag));
    }
    if (i > 0 && !(previous < st.id)) return r.Error("points out of order");
    previous = st.id;
    for (Stamp* s : {&st.alive, &st.vectors_stamp, &st.payload_reset}) {
      QUIVER_RETURN_IF_ERROR(r.ReadU64(&s->hlc, "stamp"));
      QUIVER_RETURN_IF_ERROR(r.ReadU64(&s->replica, "stamp"));
    }
    uint8_t deleted = 0;
    QUIVER_RETURN_IF_ERROR(r.ReadU8(&deleted, "deleted flag"));
    if (deleted > 1) return r.Error("bad deleted flag");
    st.deleted = deleted == 1;
    uint64_t nkeys = 0;
    QUIVER_RETURN_IF_ERROR(r.ReadVarint64(&nkeys, "key count"));
    if (nkeys > r.remaining()) return r.Error("key count exceeds the section");
    for (uint64_t k = 0; k < nkeys; ++k) {
      std::string_view key;
      KeyStamp ks;
      QUIVER_RETURN_IF_ERROR(r.ReadLengthPrefixed(&key, "key"));
      QUIVER_RETURN_IF_ERROR(r.ReadU64(&ks.stamp.hlc, "key stamp"));
      QUIVER_RETURN_IF_ERROR(r.ReadU64(&ks.stamp.replica, "key stamp"));
      ks.key = std::string(key);
      st.key_stamps.push_back(std::move(ks));
    }
    std::string_view text;
    QUIVER_RETURN_IF_ERROR(r.ReadLengthPrefixed(&text, "payload"));
    boost::json::value pv = boost::json::parse(text, ec);
    if (ec || !pv.is_object())
      return r.Error("payload of point " + st.id.ToString() + " is not a JSON object");
    st.payload = std::move(pv.get_object());
    mp.vectors.resize(dims.size());
    st.rows.assign(dims.size(), kNoRow);
    for (size_t s = 0; s < dims.size(); ++s) {
      uint8_t has = 0;
      QUIVER_RETURN_IF_ERROR(r.ReadU8(&has, "vector flag"));
      if (has > 1) return r.Error("bad vector flag");
      if (!has) continue;
      std::span<const uint8_t> raw;
      QUIVER_RETURN_IF_ERROR(r.ReadBytes(size_t{dims[s]} * sizeof(float), &raw, "vector"));
      mp.vectors[s].resize(dims[s]);
      std::memcpy(mp.vectors[s].data(), raw.data(), raw.size());
      Status fin = index::CheckFinite(mp.vectors[s].data(), dims[s]);
      if (!fin.ok()) return r.Error("point " + st.id.ToString() + ": " + std::string(fin.message()));
    }
    out.points.push_back(std::move(mp));
  }
  if (!r.empty()) return r.Error("unexpected bytes after the last point");
  return out;
}

}  // namespace quiver::db
