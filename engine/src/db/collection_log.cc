// CollectionCore, stored collections: logging each batch, syncing per the durability option, sealing the write
// segment into a segment file, the manifest entry, and closing. See collection_core.h and docs/formats.md.
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

uint64_t SteadyMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

}  // namespace

Status CollectionCore::LogBatch(std::span<const Op> ops, std::shared_ptr<storage::WalWriter>* wal) {
  log_buffer_.clear();
  EncodeOpBatch(next_sequence_, ops, &log_buffer_);
  return AppendLogLocked(log_buffer_, storage::WalRecordType::kBatch, wal);
}

Status CollectionCore::AppendLogLocked(std::string_view record, storage::WalRecordType type,
                                       std::shared_ptr<storage::WalWriter>* wal) {
  Status s = wal_->Append(record, type);
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
      if (now - last_sync_ms_.load(std::memory_order_relaxed) >= kBatchedSyncMs ||
          wal->unsynced() >= kBatchedSyncBytes) {
        s = wal->Sync();
        last_sync_ms_.store(now, std::memory_order_relaxed);
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
  // 1. Later writes go to a new log; the old ones are covered by the segment written next.
  uint64_t wal_number = 0;
  Status s = NextLogLocked(&wal_number);
  if (!s.ok()) return fail(s);
  // 2. The write segment becomes a segment file.
  const uint64_t seg_number = files_->NewFileNumber();
  s = st.WriteFileAtomic(SegmentFileName(id_, seg_number), EncodeSegment(*write_));
  if (!s.ok()) return fail(s);
  // 3. Removals in sealed segments since their last deletion file.
  std::vector<uint64_t> obsolete;
  s = PersistRemovalsLocked(&obsolete);
  if (!s.ok()) return fail(s);
  sealed_.push_back(Sealed{std::shared_ptr<Segment>(std::move(write_)), seg_number, 0, false, {}});
  write_ = NewWriteSegment();
  // 4. The manifest switches to the new files; then the covered logs and old deletion files go.
  FeedSealedLocked();
  s = CommitEntryLocked(wal_number);
  if (!s.ok()) return fail(s);
  for (uint64_t d : obsolete) (void)st.Remove(DeletionFileName(id_, d));
  return RemoveObsoleteFiles(wal_number);
}

Status CollectionCore::NextLogLocked(uint64_t* number) {
  // The old log is synced and closed before the new one exists, so only the newest log can ever have a torn
  // tail.
  QUIVER_RETURN_IF_ERROR(wal_->Close());
  *number = files_->NewFileNumber();
  QUIVER_ASSIGN_OR_RETURN(wal_, storage::WalWriter::Create(&files_->storage(), WalFileName(id_, *number), *number));
  return Status::OK();
}

Status CollectionCore::PersistRemovalsLocked(std::vector<uint64_t>* obsolete) {
  for (Sealed& sealed : sealed_) {
    if (!sealed.dirty) continue;
    const uint64_t del_number = files_->NewFileNumber();
    QUIVER_RETURN_IF_ERROR(
        files_->storage().WriteFileAtomic(DeletionFileName(id_, del_number), EncodeDeletions(*sealed.segment)));
    if (sealed.deletions) obsolete->push_back(sealed.deletions);
    sealed.deletions = del_number;
    sealed.dirty = false;
    sealed.durable_removed = sealed.segment->removed();
  }
  return Status::OK();
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
  e.feed = FeedEntryLocked();
  return e;
}

CollectionEntry CollectionCore::Entry() const {
  std::shared_lock lock(mu_);
  return EntryLocked();
}

Status CollectionCore::CommitEntryLocked(uint64_t wal_start) {
  CollectionEntry e = EntryLocked();
  e.wal_start = wal_start;
  Status s = files_->CommitEntry(e);
  if (!s.ok()) {
    // What memory holds may now differ from the manifest: writes stop until RecoverLocked reloads the files.
    if (failed_.ok()) failed_ = s;
    return s;
  }
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

void CollectionCore::WaitIdle() {
  std::unique_lock<std::mutex> lock(pending_mu_);
  pending_cv_.wait(lock, [&] { return pending_optimizations_ == 0; });
}

Status CollectionCore::Close() {
  WaitIdle();
  std::unique_lock lock(mu_);
  if (closed_) return Status::OK();
  closed_ = true;
  Status s;
  if (wal_) s = wal_->Close();
  return s;
}

}  // namespace quiver::db
