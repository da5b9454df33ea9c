// CollectionCore: the change feed (collection_core.h, "Change feed"): register seqs assigned as applies change
// registers, the index seq -> point, the sync metadata, the feed's log record and manifest entry, the purge
// rule with its commit-time checkpoints, and installing a sync snapshot as a new generation of files.
#include <algorithm>
#include <boost/json.hpp>

#include "base/hashes.h"
#include "db/collection_core.h"
#include "db/feed_record.h"
#include "db/segment_file.h"

namespace quiver::db {
namespace {

KeyStamp* FindKey(PointState& st, std::string_view key) {
  auto it = std::lower_bound(st.key_stamps.begin(), st.key_stamps.end(), key,
                             [](const KeyStamp& ks, std::string_view k) { return ks.key < k; });
  return it != st.key_stamps.end() && it->key == key ? &*it : nullptr;
}

const KeyStamp* FindKey(const PointState& st, std::string_view key) {
  return FindKey(const_cast<PointState&>(st), key);
}

// Calls fn(key) for every payload key an op writes, in a fixed order.
template <typename Fn>
void ForEachOpKey(const Op& op, Fn fn) {
  switch (op.kind) {
    case OpKind::kUpsert:
    case OpKind::kSetPayload:
    case OpKind::kOverwritePayload:
      for (const auto& kv : op.payload) fn(std::string_view(kv.key()));
      break;
    case OpKind::kDeletePayloadKeys:
      for (const std::string& k : op.keys) fn(std::string_view(k));
      break;
    case OpKind::kDelete:
    case OpKind::kClearPayload:
      break;
  }
}

uint64_t MaxStamp(const PointState& st) {
  uint64_t m = std::max({st.alive.hlc, st.vectors_stamp.hlc, st.payload_reset.hlc});
  for (const KeyStamp& ks : st.key_stamps) m = std::max(m, ks.stamp.hlc);
  return m;
}

// Checkpoints are kept at most one per this fraction of the retention (the newest in each period), so their
// number stays bounded and a purge waits at most one period longer than the retention.
constexpr uint64_t kCheckpointPeriods = 64;

}  // namespace

// --- Seq assignment ---

void CollectionCore::MoveToWriteLocked(const PointId& id) {
  if (write_->FindSlot(id)) return;
  for (auto it = sealed_.rbegin(); it != sealed_.rend(); ++it) {
    auto slot = it->segment->FindSlot(id);
    if (!slot) continue;
    MovedPoint moved = it->segment->Extract(*slot);
    it->segment->Remove(*slot);
    it->dirty = true;
    write_->Adopt(moved);
    return;
  }
}

CollectionCore::FeedBefore CollectionCore::FeedBeforeLocked(const Op& op) const {
  FeedBefore b;
  auto slot = write_->FindSlot(op.id);
  const PointState* st = slot ? &write_->state(*slot) : nullptr;
  if (st) {
    b.present = true;
    b.alive = st->alive;
    b.reset = st->payload_reset;
    b.seq = st->seq();
  }
  ForEachOpKey(op, [&](std::string_view key) {
    const KeyStamp* ks = st ? FindKey(*st, key) : nullptr;
    b.keys.push_back(ks ? ks->stamp : Stamp{});
  });
  return b;
}

void CollectionCore::FeedAfterLocked(const Op& op, const FeedBefore& before) {
  auto slot = write_->FindSlot(op.id);
  if (!slot) return;
  PointState& st = write_->state_for_feed(*slot);
  const bool life = st.alive != before.alive;
  const bool reset = st.payload_reset != before.reset;
  std::vector<KeyStamp*> keys;
  size_t i = 0;
  ForEachOpKey(op, [&](std::string_view key) {
    KeyStamp* ks = FindKey(st, key);
    if (ks && ks->stamp == op.stamp && before.keys[i] != op.stamp) keys.push_back(ks);
    ++i;
  });
  if (!life && !reset && keys.empty()) return;
  const uint64_t seq = ++last_seq_;
  if (life) st.life_seq = seq;
  if (reset) st.reset_seq = seq;
  for (KeyStamp* ks : keys) ks->seq = seq;
  if (before.seq) {
    FeedIndexRemoveLocked(before.seq, op.id);
    std::lock_guard<std::mutex> moved_lock(moved_mu_);
    moved_.emplace_back(current_commit_, before.seq);
  }
  if (feed_index_kept_) feed_index_.push_back(FeedIndexEntry(seq, op.id));
}

void CollectionCore::FeedIndexRemoveLocked(uint64_t seq, const PointId& id) {
  if (!feed_index_kept_) return;
  auto it = std::lower_bound(feed_index_.begin(), feed_index_.end(), seq,
                             [](const FeedIndexEntry& e, uint64_t s) { return e.seq() < s; });
  if (it == feed_index_.end() || it->seq() != seq || !it->live() || it->id != id) return;
  it->Kill();
  ++feed_dead_;
  if (feed_dead_ > 1024 && feed_dead_ * 2 > feed_index_.size()) {
    std::erase_if(feed_index_, [](const FeedIndexEntry& e) { return !e.live(); });
    feed_dead_ = 0;
  }
}

void CollectionCore::FeedIndexRebuildLocked() {
  for (const Segment* seg : SegmentsLocked()) {
    for (uint32_t slot = 0; slot < seg->slot_count(); ++slot) {
      if (!seg->IsRemoved(slot)) last_seq_ = std::max(last_seq_, seg->state(slot).seq());
    }
  }
  if (feed_index_kept_) FillFeedIndexLocked();
}

void CollectionCore::FillFeedIndexLocked() const {
  feed_index_.clear();
  feed_dead_ = 0;
  for (const Segment* seg : SegmentsLocked()) {
    for (uint32_t slot = 0; slot < seg->slot_count(); ++slot) {
      if (seg->IsRemoved(slot)) continue;
      const uint64_t seq = seg->state(slot).seq();
      if (seq != 0) feed_index_.push_back(FeedIndexEntry(seq, seg->state(slot).id));
    }
  }
  std::sort(feed_index_.begin(), feed_index_.end(),
            [](const FeedIndexEntry& a, const FeedIndexEntry& b) { return a.seq() < b.seq(); });
  feed_index_kept_ = true;
}

void CollectionCore::FeedCheckpointLocked(uint64_t now) {
  while (!checkpoints_.empty() && checkpoints_.back().first > last_seq_) checkpoints_.pop_back();
  if (!checkpoints_.empty() && now < checkpoints_.back().second) return;  // the wall clock went back
  const uint64_t retention = stored() ? files_->options().tombstone_retention_ms : DatabaseOptions{}.tombstone_retention_ms;
  const uint64_t period = std::max<uint64_t>(1, retention / kCheckpointPeriods);
  if (!checkpoints_.empty() && checkpoints_.back().second / period == now / period) {
    checkpoints_.back() = {last_seq_, now};
  } else {
    checkpoints_.emplace_back(last_seq_, now);
  }
  // One checkpoint older than the retention is enough.
  const uint64_t cutoff = now > retention ? now - retention : 0;
  while (checkpoints_.size() >= 2 && checkpoints_[1].second <= cutoff) checkpoints_.erase(checkpoints_.begin());
}

// --- Writes ---

void CollectionCore::ApplyFeedWriteLocked(const FeedWrite& write) {
  for (const PointId& id : write.reset_points) {
    MoveToWriteLocked(id);
    auto slot = write_->FindSlot(id);
    if (!slot) continue;
    const uint64_t seq = write_->state(*slot).seq();
    write_->ClearForFeed(*slot);
    if (seq) {
      FeedIndexRemoveLocked(seq, id);
      std::lock_guard<std::mutex> moved_lock(moved_mu_);
      moved_.emplace_back(current_commit_, seq);
    }
  }
  for (const Op& op : write.ops) {
    clock_->Observe(op.stamp.hlc);
    ApplyLocked(op);
  }
  for (const auto& [key, value] : write.meta) {
    if (value) {
      meta_[key] = *value;
    } else {
      meta_.erase(key);
    }
  }
}

Result<FeedWriteResult> CollectionCore::CommitFeedWrite(FeedWrite&& write) {
  for (size_t i = 0; i < write.ops.size(); ++i) {
    Status s = CheckOp(write.ops[i]);
    if (!s.ok()) return s.WithContext("ops[" + std::to_string(i) + "]");
    write.ops[i].stored_form = write.ops[i].kind == OpKind::kUpsert;
  }
  FeedWriteResult result;
  std::shared_ptr<storage::WalWriter> wal;
  uint64_t notify = 0;
  uint64_t commit = 0;
  {
    std::unique_lock lock(mu_);
    QUIVER_RETURN_IF_ERROR(WritableLocked());
    commit = current_commit_ = ++commit_counter_;
    result.operation_id = next_sequence_;
    if (stored()) {
      log_buffer_.clear();
      EncodeFeedRecord(next_sequence_, write, &log_buffer_);
      QUIVER_RETURN_IF_ERROR(AppendLogLocked(log_buffer_, storage::WalRecordType::kSync, &wal));
    } else {
      ++next_sequence_;
    }
    const uint64_t before = last_seq_;
    ApplyFeedWriteLocked(write);
    result.changed_points = last_seq_ - before;
    if (last_seq_ != before) {
      FeedCheckpointLocked(std::max(HlcMillis(clock_->last()), clock_->PhysicalMs()));
      notify = last_seq_;
    }
    result.last_seq = last_seq_;
    if (stored()) {
      QUIVER_RETURN_IF_ERROR(MaybeSealLocked());
    } else {
      write_->Quantize(/*force=*/false);
    }
  }
  if (wal) QUIVER_RETURN_IF_ERROR(SyncPerDurability(wal));
  SettleCommit(commit, notify);
  if (notify) NotifyFeed(notify);
  bool optimize = false;
  {
    std::lock_guard<std::mutex> lock(pending_mu_);
    std::swap(optimize, optimize_due_);
  }
  // The write is durable whatever the merge gives: a storage failure there is kept in failed_ and reported by
  // the next write, as for merges in the background.
  if (optimize) (void)OptimizeBacklog();
  return result;
}

Status CollectionCore::ReplayFeedRecordLocked(std::string_view payload, const std::string& name, uint64_t offset) {
  QUIVER_ASSIGN_OR_RETURN(auto record, DecodeFeedRecord(payload, name, offset + storage::kWalRecordHeaderSize));
  for (const Op& op : record.second.ops) {
    Status c = CheckOp(op);
    if (!c.ok()) {
      return Status::Corruption(name + ": record at offset " + std::to_string(offset) + ": " +
                                std::string(c.message()));
    }
  }
  next_sequence_ = std::max(next_sequence_, record.first + 1);
  ApplyFeedWriteLocked(record.second);
  return Status::OK();
}

// --- Reads ---

FeedInfo CollectionCore::feed_info() const {
  std::shared_lock lock(mu_);
  const uint64_t durable = std::min(last_seq_, durable_seq_.load());
  return FeedInfo{durable, min_valid_cursor_, durable};
}

Status CollectionCore::health() const {
  std::shared_lock lock(mu_);
  return failed_;
}

void CollectionCore::SettleCommit(uint64_t commit, uint64_t seq) {
  uint64_t now = durable_seq_.load();
  while (now < seq && !durable_seq_.compare_exchange_weak(now, seq)) {
  }
  std::lock_guard<std::mutex> lock(moved_mu_);
  std::erase_if(moved_, [&](const auto& m) { return m.first == commit; });
}

uint64_t CollectionCore::ServableSeqLocked() const {
  uint64_t bound = std::min(last_seq_, durable_seq_.load());
  std::lock_guard<std::mutex> lock(moved_mu_);
  for (const auto& [commit, old] : moved_) bound = std::min(bound, old - 1);
  return bound;
}

std::optional<boost::json::value> CollectionCore::FeedMeta(std::string_view key) const {
  std::shared_lock lock(mu_);
  auto it = meta_.find(key);
  if (it == meta_.end()) return std::nullopt;
  return it->value();
}

boost::json::object CollectionCore::FeedMetaWithPrefix(std::string_view prefix) const {
  std::shared_lock lock(mu_);
  boost::json::object out;
  for (const auto& kv : meta_) {
    if (kv.key().substr(0, prefix.size()) == prefix) out[kv.key()] = kv.value();
  }
  return out;
}

FeedInfo CollectionCore::ScanFeed(
    uint64_t after, const std::function<bool(uint64_t, const PointState&, const Segment&)>& fn) const {
  std::shared_lock lock(mu_);
  if (!feed_index_kept_) {
    lock.unlock();
    {
      std::unique_lock exclusive(mu_);
      if (!feed_index_kept_) FillFeedIndexLocked();
    }
    lock.lock();  // once kept, the index stays kept
  }
  const uint64_t bound = ServableSeqLocked();
  auto it = std::upper_bound(feed_index_.begin(), feed_index_.end(), after,
                             [](uint64_t s, const FeedIndexEntry& e) { return s < e.seq(); });
  for (; it != feed_index_.end(); ++it) {
    if (it->seq() > bound) break;  // not synced yet (or never will be, after a failed sync)
    if (!it->live()) continue;
    auto loc = Locate(it->id);
    if (!loc) continue;
    const PointState& st = loc->segment->state(loc->slot);
    if (st.seq() != it->seq()) continue;
    if (!fn(it->seq(), st, *loc->segment)) break;
  }
  return FeedInfo{bound, min_valid_cursor_, std::min(last_seq_, durable_seq_.load())};
}

FeedInfo CollectionCore::VisitPoints(const std::function<void(const PointState&, const Segment&)>& fn) const {
  std::shared_lock lock(mu_);
  for (const Segment* seg : SegmentsLocked()) {
    for (uint32_t slot = 0; slot < seg->slot_count(); ++slot) {
      if (!seg->IsRemoved(slot)) fn(seg->state(slot), *seg);
    }
  }
  return FeedInfo{std::min(last_seq_, durable_seq_.load()), min_valid_cursor_};
}

bool CollectionCore::VisitPoint(const PointId& id,
                                const std::function<void(const PointState&, const Segment&)>& fn) const {
  std::shared_lock lock(mu_);
  auto loc = Locate(id);
  if (!loc) return false;
  fn(loc->segment->state(loc->slot), *loc->segment);
  return true;
}

// --- Listening ---

void CollectionCore::SetFeedListener(std::function<void(uint64_t)> listener) {
  std::unique_lock lock(mu_);
  feed_listener_ = std::move(listener);
}

void CollectionCore::NotifyFeed(uint64_t last_seq) {
  {
    std::lock_guard<std::mutex> lock(feed_wait_mu_);
    feed_notified_ = std::max(feed_notified_, last_seq);
  }
  feed_wait_cv_.notify_all();
  std::function<void(uint64_t)> listener;
  {
    std::shared_lock lock(mu_);
    listener = feed_listener_;
  }
  if (listener) listener(last_seq);
}

uint64_t CollectionCore::WaitForFeed(uint64_t after_seq, uint64_t timeout_ms) const {
  const uint64_t now = feed_info().last_seq;
  if (now > after_seq || timeout_ms == 0) return now;
  std::unique_lock<std::mutex> lock(feed_wait_mu_);
  feed_wait_cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return feed_notified_ > after_seq; });
  lock.unlock();
  return feed_info().last_seq;
}

// --- Garbage collection ---

void CollectionCore::SetFeedGcBounds(uint64_t horizon_hlc, uint64_t max_seq) {
  std::unique_lock lock(mu_);
  gc_horizon_hlc_ = horizon_hlc;
  gc_max_seq_ = max_seq;
}

CollectionCore::FeedGcRule CollectionCore::FeedGcRuleLocked(uint64_t now_ms) const {
  const uint64_t retention = stored() ? files_->options().tombstone_retention_ms : DatabaseOptions{}.tombstone_retention_ms;
  const uint64_t cutoff = now_ms > retention ? now_ms - retention : 0;
  FeedGcRule rule;
  if (gc_horizon_hlc_ == 0 && meta_.contains("sync.epoch")) {
    // A collection that syncs purges tombstones only within the bounds its sync client sets in this process (the
    // server's horizon, the acknowledged push). Until the client's first round after opening, nothing goes: by
    // this replica's own clock a tombstone not yet pushed, or one the server still needs, would be dropped, and
    // a merge may run before that round (opening resumes merges).
    rule.horizon_hlc = 0;
    rule.max_seq = 0;
    return rule;
  }
  rule.horizon_hlc = gc_horizon_hlc_ != 0 ? gc_horizon_hlc_ : MakeHlc(cutoff, 0);
  uint64_t committed = 0;
  for (const auto& [seq, ms] : checkpoints_) {
    if (ms <= cutoff && seq <= last_seq_) committed = std::max(committed, seq);
  }
  rule.max_seq = std::min(committed, gc_max_seq_);
  return rule;
}

void CollectionCore::FeedPurgedLocked(const std::vector<std::pair<uint64_t, PointId>>& purged) {
  for (const auto& [seq, id] : purged) {
    if (Locate(id)) continue;  // written again meanwhile: it lives on in the write segment
    if (seq) FeedIndexRemoveLocked(seq, id);
    min_valid_cursor_ = std::max(min_valid_cursor_, seq);
  }
}

// --- Persistence ---

void CollectionCore::LoadFeedLocked(const FeedEntry& entry) {
  last_seq_ = seq_at_wal_start_ = entry.seq;
  min_valid_cursor_ = entry.min_valid;
  checkpoints_ = entry.checkpoints;
  meta_ = meta_at_wal_start_ = entry.meta;
  FeedIndexRebuildLocked();
  seq_at_wal_start_ = last_seq_;
}

void CollectionCore::FeedSealedLocked() {
  seq_at_wal_start_ = last_seq_;
  meta_at_wal_start_ = meta_;
}

FeedEntry CollectionCore::FeedEntryLocked() const {
  FeedEntry f;
  f.seq = seq_at_wal_start_;
  f.min_valid = min_valid_cursor_;
  f.checkpoints = checkpoints_;
  f.meta = meta_at_wal_start_;
  return f;
}

// --- Snapshots and installing them ---

std::vector<CollectionCore::SegmentImage> CollectionCore::FeedSegmentImages(FeedInfo* info) const {
  std::shared_lock lock(mu_);
  std::vector<SegmentImage> out;
  std::lock_guard<std::mutex> cache_lock(image_mu_);
  std::vector<CachedImage> cache;
  for (const Sealed& s : sealed_) {
    const Segment& seg = *s.segment;
    if (seg.present_count() == 0) continue;
    const size_t removed = seg.slot_count() - seg.present_count();
    const CachedImage* hit = nullptr;
    for (const CachedImage& c : image_cache_) {
      if (s.file != 0 && c.file == s.file && c.removed == removed) hit = &c;
    }
    SegmentImage img;
    if (hit) {
      img.bytes = hit->image;
      img.sha256 = hit->sha256;
    } else {
      img.bytes = std::make_shared<const std::string>(EncodeSegment(seg, /*with_feed_seqs=*/false).Flatten());
      img.sha256 = Sha256Hex(*img.bytes);
    }
    img.points = seg.present_count();
    if (s.file != 0) cache.push_back(CachedImage{s.file, removed, img.bytes, img.sha256});
    out.push_back(std::move(img));
  }
  image_cache_ = std::move(cache);
  if (write_->present_count() > 0) {
    SegmentImage img;
    img.bytes = std::make_shared<const std::string>(EncodeSegment(*write_, /*with_feed_seqs=*/false).Flatten());
    img.sha256 = Sha256Hex(*img.bytes);
    img.points = write_->present_count();
    out.push_back(std::move(img));
  }
  if (info) *info = FeedInfo{ServableSeqLocked(), min_valid_cursor_};
  return out;
}

Status CollectionCore::InstallFeedGeneration(const std::vector<std::shared_ptr<const std::string>>& images,
                                             const CarryFn& carry, FeedWrite&& pending, SectionChecks checks) {
  for (size_t i = 0; i < pending.ops.size(); ++i) {
    Status s = CheckOp(pending.ops[i]);
    if (!s.ok()) return s.WithContext("ops[" + std::to_string(i) + "]");
    pending.ops[i].stored_form = pending.ops[i].kind == OpKind::kUpsert;
  }
  // Check every image before anything changes.
  std::vector<std::unique_ptr<Segment>> segments;
  for (size_t i = 0; i < images.size(); ++i) {
    const std::string& image = *images[i];
    QUIVER_ASSIGN_OR_RETURN(
        auto seg, DecodeSegment({reinterpret_cast<const uint8_t*>(image.data()), image.size()}, spaces_,
                                sparse_spaces_, images[i], "snapshot segment " + std::to_string(i), checks));
    segments.push_back(std::move(seg));
  }
  // Stage: the images become segment files no manifest lists yet.
  std::vector<uint64_t> numbers(images.size(), 0);
  if (stored()) {
    QUIVER_RETURN_IF_ERROR(CheckWritable());
    for (size_t i = 0; i < images.size(); ++i) {
      numbers[i] = files_->NewFileNumber();
      QUIVER_RETURN_IF_ERROR(files_->storage().WriteFileAtomic(SegmentFileName(id_, numbers[i]), *images[i]));
    }
  }
  uint64_t notify = 0;
  {
    std::unique_lock lock(mu_);
    QUIVER_RETURN_IF_ERROR(WritableLocked());
    for (auto& seg : segments) QUIVER_RETURN_IF_ERROR(seg->IndexPayloadFields(payload_fields_));
    // What the old state carries over, checked before anything changes.
    std::vector<Op> carried;
    if (carry) {
      for (const Segment* seg : SegmentsLocked()) {
        for (uint32_t slot = 0; slot < seg->slot_count(); ++slot) {
          if (seg->IsRemoved(slot)) continue;
          for (Op& op : carry(seg->state(slot), *seg)) carried.push_back(std::move(op));
        }
      }
      for (size_t i = 0; i < carried.size(); ++i) {
        Status s = CheckOp(carried[i]);
        if (!s.ok()) return s.WithContext("carried ops[" + std::to_string(i) + "]");
        carried[i].stored_form = carried[i].kind == OpKind::kUpsert;
      }
    }
    const uint64_t commit = current_commit_ = ++commit_counter_;
    std::vector<Sealed> old_sealed = std::move(sealed_);
    sealed_.clear();
    for (size_t i = 0; i < segments.size(); ++i) {
      uint64_t max = 0;
      for (uint32_t slot = 0; slot < segments[i]->slot_count(); ++slot) {
        max = std::max(max, MaxStamp(segments[i]->state(slot)));
      }
      clock_->Observe(max);
      sealed_.push_back(Sealed{std::shared_ptr<Segment>(std::move(segments[i])), numbers[i], 0, false, {}});
    }
    write_ = NewWriteSegment();
    FeedIndexRebuildLocked();
    for (const Op& op : carried) {
      clock_->Observe(op.stamp.hlc);
      ApplyLocked(op);
    }
    ApplyFeedWriteLocked(pending);
    FeedCheckpointLocked(std::max(HlcMillis(clock_->last()), clock_->PhysicalMs()));
    notify = last_seq_;
    {
      std::lock_guard<std::mutex> cache_lock(image_mu_);
      image_cache_.clear();
    }
    if (stored()) QUIVER_RETURN_IF_ERROR(CommitGenerationLocked(old_sealed));
    SettleCommit(commit, notify);
  }
  NotifyFeed(notify);
  return Status::OK();
}

Status CollectionCore::CommitGenerationLocked(const std::vector<Sealed>& old_sealed) {
  storage::Storage& st = files_->storage();
  auto fail = [&](Status s) {
    if (failed_.ok()) failed_ = s;
    return s;
  };
  // A new log: the old ones describe the previous generation.
  uint64_t wal_number = 0;
  Status s = NextLogLocked(&wal_number);
  if (!s.ok()) return fail(s);
  // The points written on top of the images.
  if (write_->slot_count() > 0) {
    const uint64_t seg_number = files_->NewFileNumber();
    s = st.WriteFileAtomic(SegmentFileName(id_, seg_number), EncodeSegment(*write_));
    if (!s.ok()) return fail(s);
    sealed_.push_back(Sealed{std::shared_ptr<Segment>(std::move(write_)), seg_number, 0, false, {}});
    write_ = NewWriteSegment();
  }
  std::vector<uint64_t> obsolete;
  s = PersistRemovalsLocked(&obsolete);
  if (!s.ok()) return fail(s);
  // The flip.
  FeedSealedLocked();
  s = CommitEntryLocked(wal_number);
  if (!s.ok()) return fail(s);
  for (uint64_t d : obsolete) (void)st.Remove(DeletionFileName(id_, d));
  for (const Sealed& old : old_sealed) {
    (void)st.Remove(SegmentFileName(id_, old.file));
    if (old.deletions) (void)st.Remove(DeletionFileName(id_, old.deletions));
  }
  return RemoveObsoleteFiles(wal_number);
}

}  // namespace quiver::db
