// CollectionCore, stored collections: opening (loading segment files and replaying the write-ahead logs) and
// Verify, which re-reads every file. See collection_core.h and docs/formats.md.
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
#include "payload/json_path.h"
#include "payload/json_util.h"
#include "simd/distance.h"
#include "storage/wal_reader.h"

namespace quiver::db {
namespace {

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
    // Every segment written later indexes this path: a path that does not parse would make the collection's
    // next open fail (found by fuzz_database).
    auto path = payload::JsonPath::Parse(field);
    if (!path.ok()) {
      return Status::Corruption("manifest: collection " + entry.name + ": payload index " +
                                std::string(path.status().message()));
    }
    core->payload_fields_.emplace_back(path->text(), *t);
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
    QUIVER_ASSIGN_OR_RETURN(auto seg, DecodeSegment(image->bytes(), spaces_, sparse_spaces_, image, name));
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
    std::vector<uint8_t> durable = seg->removed();
    sealed_.push_back(Sealed{std::shared_ptr<Segment>(std::move(seg)), se.file, se.deletions, false, std::move(durable)});
  }
  std::vector<const Segment*> loaded;
  std::vector<std::string> names;
  for (const Sealed& s : sealed_) {
    loaded.push_back(s.segment.get());
    names.push_back(SegmentFileName(id_, s.file));
  }
  QUIVER_RETURN_IF_ERROR(CheckSegmentsDisjoint(loaded, names));
  LoadFeedLocked(entry.feed);
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
    Status s = storage::ReadWalRecords(
        {reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, name, number, newest,
        [&](storage::WalRecordType type, std::string_view payload, uint64_t offset) -> Status {
          if (type == storage::WalRecordType::kSync) return ReplayFeedRecordLocked(payload, name, offset);
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
  durable_seq_ = last_seq_;  // what was read back is in storage
  {
    std::lock_guard<std::mutex> moved_lock(moved_mu_);
    moved_.clear();
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
                                sparse_spaces_, nullptr, where);
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

// After a storage failure (failed_ set), the next write calls this: the collection is loaded again from the last
// committed manifest entry and its logs (a torn record a short write left is cut as at any open), and the loaded
// state replaces what memory held, whole.
Status CollectionCore::RecoverLocked() {
  QUIVER_ASSIGN_OR_RETURN(CollectionEntry entry, files_->CommittedEntry(id_));
  // The log the failure left behind goes first: the fresh open appends to the newest log itself.
  if (wal_) {
    (void)wal_->Close();
    wal_.reset();
  }
  QUIVER_ASSIGN_OR_RETURN(std::unique_ptr<CollectionCore> fresh, Open(entry, clock_, replica_, files_));
  CollectionCore& f = *fresh;
  std::unique_lock fresh_lock(f.mu_);
  config_ = f.config_;  // an Update whose commit failed is undone with the rest
  spaces_ = f.spaces_;
  payload_fields_ = f.payload_fields_;
  write_ = std::move(f.write_);
  sealed_ = std::move(f.sealed_);
  wal_ = std::move(f.wal_);
  wal_start_ = f.wal_start_;
  next_sequence_ = f.next_sequence_;
  last_seq_ = f.last_seq_;
  durable_seq_ = f.durable_seq_.load();
  seq_at_wal_start_ = f.seq_at_wal_start_;
  min_valid_cursor_ = f.min_valid_cursor_;
  checkpoints_ = std::move(f.checkpoints_);
  meta_ = std::move(f.meta_);
  meta_at_wal_start_ = std::move(f.meta_at_wal_start_);
  feed_index_ = std::move(f.feed_index_);
  feed_dead_ = f.feed_dead_;
  feed_index_kept_ = f.feed_index_kept_;
  {
    std::lock_guard<std::mutex> moved_lock(moved_mu_);
    moved_.clear();
  }
  {
    std::lock_guard<std::mutex> cache_lock(image_mu_);
    image_cache_.clear();
  }
  f.closed_ = true;  // its log now belongs to this collection
  fresh_lock.unlock();
  failed_ = Status::OK();
  ++recoveries_;
  if (files_->options().auto_optimize) ScheduleOptimize();
  return Status::OK();
}

}  // namespace quiver::db
