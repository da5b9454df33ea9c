// CollectionCore: the state and logic behind a public Collection. It validates requests, turns writes into
// stamped ops, applies ops (local and replicated alike) under its lock, and answers reads by asking each segment
// and merging, turning index distances into Qdrant scores.
//
// Segments: one write segment (the only one ops apply to) and, in a stored database, sealed segments. A point's
// current state lives in exactly one segment: an op on a point held by a sealed segment first moves the point to
// the write segment (removing it from the sealed one). Stored collections also log every batch (write-ahead
// log), seal the write segment into a segment file at a size threshold, and merge and index sealed segments
// (Optimize). The implementation is one file per concept: collection_config.cc, collection_writes.cc,
// collection_reads.cc, and for stored collections collection_recovery.cc, collection_log.cc,
// collection_optimizer.cc and collection_snapshot.cc.
//
// Thread safety: internally synchronised with a reader-writer lock; every public method may be called from any
// thread. Optimize builds indexes without holding the lock, so reads and writes go on meanwhile.
#ifndef QUIVER_DB_COLLECTION_CORE_H_
#define QUIVER_DB_COLLECTION_CORE_H_

#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "base/section_file.h"
#include "db/hlc.h"
#include "db/manifest.h"
#include "db/op.h"
#include "db/order_by.h"
#include "db/segment.h"
#include "payload/filter.h"
#include "quiver/database.h"
#include "quiver/types.h"
#include "storage/storage.h"
#include "storage/wal_format.h"
#include "storage/wal_writer.h"

namespace quiver::db {

// Points chosen by ids or by a parsed filter (the request layer's form of a PointsSelector).
struct Selection {
  std::vector<PointId> ids;
  std::optional<payload::Filter> filter;
};

// Which points an upsert may write (Qdrant's update_mode and update_filter), checked under the write lock.
enum class UpsertMode : uint8_t { kUpsert, kInsertOnly, kUpdateOnly };
struct UpsertCondition {
  UpsertMode mode = UpsertMode::kUpsert;
  std::optional<payload::Filter> update_filter;  // an existing point is replaced only when it matches
};

// What a write did: how many points it wrote, and its operation number (increasing per collection; the
// write-ahead log's batch number in a stored collection).
struct WriteOutcome {
  size_t points = 0;
  uint64_t operation_id = 0;
};

// "vector" for the unnamed vector, else "vector 'name'", for messages.
std::string VectorLabel(std::string_view name);

// Checks a collection configuration; InvalidArgument names the bad field.
Status ValidateConfig(const CollectionConfig& config);

// The contents of a snapshot file (docs/formats.md, "Snapshot").
struct SnapshotContents {
  std::string name;
  CollectionConfig config;
  std::vector<std::pair<std::string, std::string>> payload_indexes;  // (field, type)
  std::vector<MovedPoint> points;  // vectors of `size` floats, unpadded; sparse vectors per sparse space
};
Result<SnapshotContents> DecodeSnapshot(std::span<const uint8_t> bytes, const std::string& what);

// Change feed (collection_feed.cc): a write the sync layer commits as one unit, logged as one record
// (docs/formats.md, "Sync record"): points erased first (turned back into points never written), then replicated
// ops merged (upsert vectors in stored form), then sync metadata set (a value) or erased (none).
struct FeedWrite {
  std::vector<PointId> reset_points;
  std::vector<Op> ops;
  std::vector<std::pair<std::string, std::optional<boost::json::value>>> meta;
};
struct FeedWriteResult {
  uint64_t operation_id = 0;   // the batch's number
  uint64_t last_seq = 0;       // the collection's last seq after it
  size_t changed_points = 0;   // points given a new seq (a duplicate changes none)
};
// The feed's head as one read saw it.
struct FeedInfo {
  uint64_t last_seq = 0;          // the last seq allocated (ScanFeed: the last it could serve)
  uint64_t min_valid_cursor = 0;  // tombstones with seqs up to this were purged (cursors below it are invalid)
  // ScanFeed: the durable head. Above last_seq while a change that moved points is not yet durable: a
  // catch-up is not over until the scan can go on to the head.
  uint64_t durable_seq = 0;
};

// What a stored collection needs from its database.
class DatabaseFiles {
 public:
  virtual ~DatabaseFiles() = default;
  virtual storage::Storage& storage() = 0;
  virtual const DatabaseOptions& options() const = 0;
  virtual uint64_t NewFileNumber() = 0;
  // Records the collection's entry and writes a new manifest (synced, CURRENT switched).
  virtual Status CommitEntry(const CollectionEntry& entry) = 0;
  // The collection's entry as the last manifest written holds it (NotFound when none does).
  virtual Result<CollectionEntry> CommittedEntry(uint32_t id) const = 0;
  // Runs work in the background when the database has an executor (returns false otherwise).
  virtual bool Schedule(std::function<void()> work) = 0;
};

class CollectionCore {
 public:
  // An in-memory collection. `clock` and `replica` are the database's; the clock must outlive the collection.
  static Result<std::unique_ptr<CollectionCore>> Create(std::string name, CollectionConfig config,
                                                        HybridClock* clock, uint64_t replica);
  // A stored collection: opens (or, with a fresh entry, starts) its files, loading segments and replaying logs.
  static Result<std::unique_ptr<CollectionCore>> Open(const CollectionEntry& entry, HybridClock* clock,
                                                      uint64_t replica, DatabaseFiles* files);
  // Repair (collection_repair.cc) of a collection that is not open: salvages its segment, deletion and log files
  // into what Open accepts (rewriting damaged segments with their derived data rebuilt, cutting logs at the
  // first bad record), fills `report`, and returns the entry to open. Files no longer named are left to the
  // caller.
  static Result<CollectionEntry> Salvage(const CollectionEntry& entry, HybridClock* clock, uint64_t replica,
                                         DatabaseFiles* files, RepairReport* report);
  ~CollectionCore();

  const std::string& name() const { return name_; }
  uint32_t id() const { return id_; }
  const CollectionConfig& config() const { return config_; }
  CollectionInfo Info() const;
  CollectionStats Stats() const;
  Result<std::vector<std::string>> Verify() const;

  // The request layer's forms: payloads and filters already parsed, results with their operation number.
  // Upsert ops carry their id, vectors sorted by name and payload; they are checked and stamped here.
  Result<WriteOutcome> UpsertOps(std::vector<Op>&& ops, const UpsertCondition& condition = {});
  Result<WriteOutcome> Delete(const Selection& points);
  Result<WriteOutcome> SetPayload(const Selection& points, const boost::json::object& payload);
  Result<WriteOutcome> OverwritePayload(const Selection& points, const boost::json::object& payload);
  Result<WriteOutcome> DeletePayloadKeys(const Selection& points, const std::vector<std::string>& keys);
  Result<WriteOutcome> ClearPayload(const Selection& points);
  Result<ScrollResult> Scroll(const ScrollRequest& request, const payload::Filter* filter) const;
  Result<size_t> Count(const payload::Filter* filter) const;
  Result<std::vector<ScoredPoint>> Search(const SearchRequest& request, const payload::Filter* filter,
                                          SearchPlan* plan = nullptr) const;
  Result<std::vector<ScoredPoint>> Recommend(const RecommendRequest& request, const payload::Filter* filter) const;
  // Sparse search of the sparse vector `vector_name` (Qdrant's NamedSparseVector search, and the Query API's
  // sparse "nearest"): the points sharing at least one index with `query` (indices in any order, no duplicates,
  // finite values), by the dot product over shared indices, highest first and equal scores by id. With the IDF
  // modifier each query weight is first multiplied by its index's IDF over the collection's live points. Only
  // points passing `filter` (null for none), scoring at least `score_threshold` when given; `offset` best ones
  // skipped, then at most `limit` (>= 1). InvalidArgument names a bad query or an unknown or dense name.
  Result<std::vector<ScoredPoint>> SearchSparse(std::string_view vector_name, const SparseVector& query,
                                                const payload::Filter* filter, size_t limit, size_t offset,
                                                std::optional<float> score_threshold,
                                                const PayloadSelector& with_payload,
                                                const VectorSelector& with_vector, SearchPlan* plan = nullptr) const;
  // The Query API's reads (collection_query.cc; db/query.h runs queries from them and the reads above).
  // Exact scores of the live points among `ids` that have the named vector, measured with the float vectors,
  // best first (ties by id), at most `limit`, those passing `threshold`. InvalidArgument for a bad query vector.
  Result<std::vector<ScoredPoint>> ScorePoints(std::string_view vector_name, std::span<const float> query,
                                               std::span<const PointId> ids, size_t limit,
                                               std::optional<float> threshold) const;
  // The first `limit` live points matching `filter` (null: all), or only those among `ids` when given, in the
  // order of the payload value `spec` names (db/order_by.h), with that value.
  Result<std::vector<std::pair<PointId, OrderValue>>> OrderByPayload(OrderBySpec spec, const payload::Filter* filter,
                                                                    const std::vector<PointId>* ids,
                                                                    size_t limit) const;
  // The named vector's dimension and distance (fixed when the collection is created).
  Result<std::pair<uint32_t, Distance>> VectorShape(std::string_view vector_name) const;
  // The sparse space of that name; InvalidArgument for a dense or unknown name.
  Result<size_t> FindSparseSpace(std::string_view vector_name) const;
  // Applies a CollectionUpdate (graph and quantization settings), persisting the new configuration.
  Status Update(const CollectionUpdate& update);

  // The public API's forms (JSON text payloads and filters).
  Status Upsert(std::span<const PointInput> points);
  // `vectors` holds ids.size() vectors of the named vector's dimension, row after row; payloads are empty or one
  // per id (JSON text, or parsed).
  Status UpsertDense(std::span<const PointId> ids, std::string_view vector_name, std::span<const float> vectors,
                     std::span<const std::string> payloads);
  Result<WriteOutcome> UpsertDense(std::span<const PointId> ids, std::string_view vector_name,
                                   std::span<const float> vectors, std::vector<boost::json::object>&& payloads);
  Result<std::vector<Record>> Get(std::span<const PointId> ids, const PayloadSelector& with_payload,
                                  const VectorSelector& with_vector) const;
  Result<size_t> Delete(const PointsSelector& points);
  Result<size_t> SetPayload(const PointsSelector& points, std::string_view payload_json);
  Result<size_t> OverwritePayload(const PointsSelector& points, std::string_view payload_json);
  Result<size_t> DeletePayloadKeys(const PointsSelector& points, const std::vector<std::string>& keys);
  Result<size_t> ClearPayload(const PointsSelector& points);
  Result<ScrollResult> Scroll(const ScrollRequest& request) const;
  Result<size_t> Count(std::string_view filter_json) const;
  Result<std::vector<ScoredPoint>> Search(const SearchRequest& request, SearchPlan* plan = nullptr) const;
  Result<std::vector<std::vector<ScoredPoint>>> SearchBatch(std::span<const SearchRequest> requests) const;
  Result<std::vector<ScoredPoint>> Recommend(const RecommendRequest& request) const;
  Status CreatePayloadIndex(std::string_view field, std::string_view type);
  Status DeletePayloadIndex(std::string_view field);
  Status Optimize();
  Result<std::string> CreateSnapshot() const;

  // The one apply path: merges ops (local or replicated) into the state. Each op is checked against the
  // configuration first; an invalid op fails the whole call before anything is applied. Stored collections log
  // the ops as one batch first.
  Status ApplyOps(std::span<const Op> ops);
  // Called with every batch of locally made ops before they are applied. An error aborts the write.
  void SetOpListener(std::function<Status(std::span<const Op>)> listener);
  // Digest text of all registers and values, for comparing replicas in tests.
  std::string StateDigest() const;
  // Vector spaces in index order.
  const std::vector<VectorSpace>& spaces() const { return spaces_; }
  const std::vector<SparseSpace>& sparse_spaces() const { return sparse_spaces_; }
  // Makes logged writes durable.
  Status Flush();
  // Flushes and waits for background work; the collection accepts no more writes.
  Status Close();
  // Waits until no merge is queued or running (a merge scheduled later is not waited for).
  void WaitIdle();
  // After the database has opened (and collected its garbage): schedules the merge steps a stopped process left
  // undone.
  void ResumeOptimize();
  // The manifest entry describing the collection's files now.
  CollectionEntry Entry() const;
  // Removes the collection's files (after the database dropped it from the manifest).
  Status DestroyFiles();
  // Fills a new collection from a snapshot's points (restore).
  Status LoadSnapshotPoints(std::vector<MovedPoint> points);

  // --- Change feed (collection_feed.cc; engine/sync builds the sync protocol on it) ---
  // Every register an apply actually changes (a local write, a replicated op, a replayed log record) gets the
  // point a new per-collection seq, under the write lock, in commit order: one seq per changed point, so a
  // duplicate changes nothing and allocates nothing, and no two points share a seq. An index seq -> point lists
  // each point once, at its latest seq. Seqs live in the segment files (section SSEQ) and are derived again
  // when the log is replayed; the feed's head and the sync metadata live in the manifest entry.

  // Commits a FeedWrite atomically (one log record, then one apply under the write lock) and syncs per the
  // durability option. Ops are checked first (InvalidArgument, nothing applied).
  Result<FeedWriteResult> CommitFeedWrite(FeedWrite&& write);
  FeedInfo feed_info() const;
  // OK, or the storage error that stopped the collection's writes (its memory may then be ahead of its files)
  // until the next write recovers it from its files (RecoverLocked).
  Status health() const;
  // One sync metadata value, or none.
  std::optional<boost::json::value> FeedMeta(std::string_view key) const;
  // The sync metadata whose keys start with `prefix`.
  boost::json::object FeedMetaWithPrefix(std::string_view prefix) const;
  // Calls fn(seq, state, segment) for every point with seq > after, in seq order, from one read of the state (the
  // shared lock is held: fn must not call into the collection), until fn returns false. Returns the head as of
  // that read.
  FeedInfo ScanFeed(uint64_t after,
                    const std::function<bool(uint64_t seq, const PointState&, const Segment&)>& fn) const;
  // Calls fn(state, segment) for every present point (tombstones included), in no particular order, from one read.
  FeedInfo VisitPoints(const std::function<void(const PointState&, const Segment&)>& fn) const;
  // Calls fn(state, segment) for one present point under the shared lock; false when absent.
  bool VisitPoint(const PointId& id, const std::function<void(const PointState&, const Segment&)>& fn) const;
  // Which tombstones the optimizer may purge (SYNC.md 2.9). By default a tombstone older than the database's
  // tombstone_retention_ms; with a horizon, one stamped below it. Either way its seq must be at most `max_seq`
  // and committed longer than the retention ago (the commit-time checkpoints). A purge raises min_valid_cursor.
  void SetFeedGcBounds(uint64_t horizon_hlc, uint64_t max_seq);
  // Called after every commit that allocated seqs, with the last seq, outside the lock (one listener).
  void SetFeedListener(std::function<void(uint64_t last_seq)> listener);
  // Blocks until the feed's last seq passes `after_seq` or `timeout_ms` passes; returns the last seq.
  uint64_t WaitForFeed(uint64_t after_seq, uint64_t timeout_ms) const;
  // Replaces the collection's whole state with the given segment file images (a sync snapshot, SYNC.md 2.10)
  // plus, merged on top, the ops `carry` returns for each point of the old state (the sync client's pending
  // registers; called under the write lock, so no write slips between) and then `pending`, in one flip: the
  // images are checked and written as segment files first (a crash leaves them unreferenced, removed at the next
  // open), then one manifest commit switches the collection to them (stored collections). Seqs continue from the
  // current last seq. `checks`: SectionChecks::kSkipSectionCrcs when the images were checked whole already (their
  // SHA-256 matched a sync snapshot's manifest); their structure is checked either way.
  using CarryFn = std::function<std::vector<Op>(const PointState&, const Segment&)>;
  Status InstallFeedGeneration(const std::vector<std::shared_ptr<const std::string>>& images, const CarryFn& carry,
                               FeedWrite&& pending, SectionChecks checks = SectionChecks::kAll);
  // A segment file image of each segment, as of one read, without register seqs (for sync snapshots): a sealed
  // segment's image and its SHA-256 are cached by its file number and removal count, so unchanged segments give
  // the same bytes and are neither encoded nor hashed again.
  struct SegmentImage {
    std::shared_ptr<const std::string> bytes;
    uint64_t points = 0;  // present
    std::string sha256;   // of bytes, 64 lower-case hex digits
  };
  std::vector<SegmentImage> FeedSegmentImages(FeedInfo* info) const;

 private:
  struct Sealed {
    std::shared_ptr<Segment> segment;
    uint64_t file = 0;        // segment file number (0 in memory)
    uint64_t deletions = 0;   // deletion file number, 0 for none
    bool dirty = false;       // removals not yet in a deletion file
    // The removals the files hold (segment file and deletion file). The others are points that moved to the
    // write segment: on disk they live here until the seal that writes the write segment also writes the
    // deletion file, so a merge must keep them.
    std::vector<uint8_t> durable_removed;
  };
  // Where a present id lives.
  struct Location {
    Segment* segment;
    uint32_t slot;
  };

  CollectionCore(std::string name, CollectionConfig config, HybridClock* clock, uint64_t replica);
  bool stored() const { return files_ != nullptr; }
  std::unique_ptr<Segment> NewWriteSegment() const;

  Stamp NextStamp() { return Stamp{clock_->Now(), replica_}; }
  Result<size_t> FindSpace(std::string_view vector_name) const;
  // OK when a dense or sparse vector has this name (with_vector selectors).
  Status CheckVectorName(std::string_view vector_name) const;
  Status CheckOp(const Op& op) const;
  Status CheckWritable() const;
  // CheckWritable for a writer holding the write lock: after a storage error it first recovers (RecoverLocked),
  // so a write after a passing fault succeeds; while recovery fails, the error names both.
  Status WritableLocked();
  // Reloads the collection from its files as the manifest and logs hold them (what a reopen would see): the
  // state in memory, which a failed write may have left ahead of or apart from the files, is replaced whole, a
  // torn log tail is cut and writes go on in the newest log. Clears failed_ on success; on failure nothing
  // changes. Merges in flight are abandoned (recoveries_) and merging is scheduled again.
  Status RecoverLocked();
  // Stamps, logs and applies locally made ops (takes the write lock), then syncs per the durability option.
  // With a condition, upserts it refuses are dropped (under the lock) first. Sets *outcome when given.
  Status Commit(std::vector<Op>&& ops, bool stamp = true, const UpsertCondition* condition = nullptr,
                WriteOutcome* outcome = nullptr);
  // Applies one op under the write lock, moving its point into the write segment first when needed.
  void ApplyLocked(const Op& op);
  // Change feed (collection_feed.cc).
  struct FeedBefore {
    bool present = false;
    Stamp alive, reset;
    std::vector<Stamp> keys;  // the op's keys' stamps before (zero when absent), payload keys then op.keys
    uint64_t seq = 0;
  };
  // 40 bytes: the live flag is the top bit of the seq (a seq counts the collection's changes: far below 2^63).
  struct FeedIndexEntry {
    static constexpr uint64_t kDead = uint64_t{1} << 63;
    FeedIndexEntry(uint64_t seq, const PointId& point) : seq_and_dead(seq), id(point) {}
    uint64_t seq() const { return seq_and_dead & ~kDead; }
    bool live() const { return (seq_and_dead & kDead) == 0; }
    void Kill() { seq_and_dead |= kDead; }
    uint64_t seq_and_dead;
    PointId id;
  };
  struct CachedImage {
    uint64_t file = 0;
    size_t removed = 0;
    std::shared_ptr<const std::string> image;
    std::string sha256;
  };
  void MoveToWriteLocked(const PointId& id);
  FeedBefore FeedBeforeLocked(const Op& op) const;
  void FeedAfterLocked(const Op& op, const FeedBefore& before);
  void FeedIndexRemoveLocked(uint64_t seq, const PointId& id);
  // Raises last_seq_ to the segments' largest seq and, once a reader has asked for the feed, rebuilds its index.
  void FeedIndexRebuildLocked();
  // Fills feed_index_ from the segments' states (under an exclusive lock on mu_).
  void FillFeedIndexLocked() const;
  // Records that every seq so far was committed by `now_ms` (at or after the true time).
  void FeedCheckpointLocked(uint64_t now_ms);
  void ApplyFeedWriteLocked(const FeedWrite& write);
  Status ReplayFeedRecordLocked(std::string_view payload, const std::string& name, uint64_t offset);
  void LoadFeedLocked(const FeedEntry& entry);
  void FeedSealedLocked();
  FeedEntry FeedEntryLocked() const;
  // The optimizer's purge rule as of now, and what a purge did.
  struct FeedGcRule {
    uint64_t horizon_hlc = 0;
    uint64_t max_seq = 0;
    // A tombstone whose every register is below the horizon (so anything accepted later beats all of it).
    bool Purgeable(const PointState& st) const {
      if (!st.deleted || st.alive.hlc >= horizon_hlc || st.payload_reset.hlc >= horizon_hlc) return false;
      for (const KeyStamp& ks : st.key_stamps) {
        if (ks.stamp.hlc >= horizon_hlc) return false;
      }
      return st.seq() <= max_seq;
    }
  };
  FeedGcRule FeedGcRuleLocked(uint64_t now_ms) const;
  void FeedPurgedLocked(const std::vector<std::pair<uint64_t, PointId>>& purged);
  Status AppendLogLocked(std::string_view record, storage::WalRecordType type,
                         std::shared_ptr<storage::WalWriter>* wal);
  Status CommitGenerationLocked(const std::vector<Sealed>& old_sealed);
  void NotifyFeed(uint64_t last_seq);
  // After the sync that made commit `commit` durable: raises durable_seq_ to `seq` (0: no new seq) and
  // forgets the commit's moves.
  void SettleCommit(uint64_t commit, uint64_t seq);
  // The highest seq a feed scan may serve (durable_seq_, lowered below the old seqs of pending moves).
  uint64_t ServableSeqLocked() const;
  std::optional<Location> Locate(const PointId& id) const;
  const PointState* FindLocked(const PointId& id) const;
  const float* StoredVector(const PointId& id, size_t space) const;
  // All segments, write segment last.
  std::vector<const Segment*> SegmentsLocked() const;
  Result<std::vector<PointId>> Resolve(const Selection& points, bool must_exist) const;
  Result<Selection> ParseSelection(const PointsSelector& points) const;
  Result<WriteOutcome> WriteToSelected(const Selection& points, bool must_exist, const std::function<void(Op*)>& make);
  Result<std::optional<payload::Filter>> ParseOptionalFilter(std::string_view json) const;
  // A search's filter (null for none), parsed once for a run of searches with the same filter text, as
  // applications send them (one filter, new query vectors): the last one is kept.
  Result<std::shared_ptr<const payload::Filter>> SearchFilter(std::string_view json) const;
  Record MakeRecord(const Segment& seg, const PointState& st, const PayloadSelector& wp,
                    const VectorSelector& wv) const;
  Result<std::vector<ScoredPoint>> SearchLocked(size_t space, const std::vector<float>& query,
                                                const payload::Filter* filter, size_t limit, size_t offset,
                                                std::optional<float> threshold, const PayloadSelector& wp,
                                                const VectorSelector& wv, std::optional<size_t> ef, bool exact,
                                                const QuantizationSearchParams& quantization,
                                                const std::vector<PointId>& exclude, SearchPlan* plan) const;
  // A hit of a search in one segment, and their merge: closest first (ties by id), `exclude` and the first
  // `offset` skipped, at most `limit`, cut at `threshold`.
  struct SegmentHit {
    const Segment* seg;
    uint32_t slot;
    float distance;
  };
  std::vector<ScoredPoint> MergeHitsLocked(size_t space, std::vector<SegmentHit>& hits, size_t limit,
                                           size_t offset, std::optional<float> threshold,
                                           const PayloadSelector& wp, const VectorSelector& wv,
                                           const std::vector<PointId>& exclude) const;
  // Checks a dense search request as Search does; its space.
  Result<size_t> CheckDenseSearch(const SearchRequest& request) const;
  // SearchBatch of exact, unfiltered searches of one dense vector: one pass over each segment for them all.
  Result<std::vector<std::vector<ScoredPoint>>> SearchExactBatch(std::span<const SearchRequest> requests) const;
  float Score(size_t space, float distance) const;
  bool PassesThreshold(size_t space, float score, float threshold) const;

  // collection_log.cc, collection_recovery.cc, collection_optimizer.cc (stored collections)
  Status OpenFiles(const CollectionEntry& entry);
  Status ReplayLogs();
  Status LogBatch(std::span<const Op> ops, std::shared_ptr<storage::WalWriter>* wal);
  Status SyncPerDurability(const std::shared_ptr<storage::WalWriter>& wal);
  Status MaybeSealLocked();
  Status SealLocked();
  Status CommitEntryLocked(uint64_t wal_start);
  // Closes the log and starts the next; *number is its file number.
  Status NextLogLocked(uint64_t* number);
  // Writes a deletion file for each sealed segment with removals since its last one (all of them durable from
  // then on); the numbers of the deletion files replaced go to *obsolete, to remove after the manifest commit.
  Status PersistRemovalsLocked(std::vector<uint64_t>* obsolete);
  Status RemoveObsoleteFiles(uint64_t wal_start);
  // How much one optimization merges: a bounded step of the merge policy (collection_optimizer.cc), or every
  // segment into one (Optimize()).
  enum class MergeScope : uint8_t { kStep, kAll };
  // One merge; *replaced tells whether it replaced segments.
  Status OptimizeNow(MergeScope scope, bool* replaced = nullptr);
  // Merge steps until the policy finds nothing to do.
  Status OptimizeBacklog();
  // The inputs of the next merge step; empty when there is nothing to do.
  std::vector<Sealed> ChooseMergeLocked(const FeedGcRule& gc) const;
  // Whether every vector space of `seg` that asks for a graph has one.
  bool GraphedLocked(const Segment& seg) const;
  // Sealed segments waiting for a merge step: without their graph, or with a fifth or more of their rows removed.
  size_t BacklogLocked() const;
  void ScheduleOptimize();
  // Backpressure for writers faster than the background merges (collection_optimizer.cc).
  void AwaitBacklog();
  CollectionEntry EntryLocked() const;

  std::string name_;
  uint32_t id_ = 0;
  CollectionConfig config_;
  std::vector<VectorSpace> spaces_;
  std::vector<SparseSpace> sparse_spaces_;
  HybridClock* clock_;
  uint64_t replica_;
  std::function<Status(std::span<const Op>)> listener_;
  std::vector<std::pair<std::string, payload::FieldIndexType>> payload_fields_;

  mutable std::shared_mutex mu_;
  std::unique_ptr<Segment> write_;   // guarded by mu_
  std::vector<Sealed> sealed_;       // guarded by mu_; oldest first

  // Stored collections.
  DatabaseFiles* files_ = nullptr;
  std::shared_ptr<storage::WalWriter> wal_;  // guarded by mu_
  uint64_t wal_start_ = 0;                   // guarded by mu_
  uint64_t next_sequence_ = 1;               // guarded by mu_
  // When Durability::kBatched last synced; writers read and set it after releasing mu_ (group commit).
  std::atomic<uint64_t> last_sync_ms_{0};
  std::string log_buffer_;                   // guarded by mu_: reused batch encoding
  Status failed_;                            // guarded by mu_: a storage error stops writes until recovery
  uint64_t recoveries_ = 0;                  // guarded by mu_: RecoverLocked calls that replaced the state
  bool closed_ = false;                      // guarded by mu_
  std::mutex optimize_mu_;                   // one optimization at a time
  std::mutex pending_mu_;
  std::condition_variable pending_cv_;
  int pending_optimizations_ = 0;            // guarded by pending_mu_
  bool optimize_due_ = false;                // guarded by pending_mu_: run by the next writer, no executor
  bool optimizer_running_ = false;           // guarded by pending_mu_: a backlog is queued or running
  bool optimize_again_ = false;              // guarded by pending_mu_: work arrived while it ran

  // Change feed (collection_feed.cc).
  uint64_t last_seq_ = 0;                    // guarded by mu_
  // The feed's durable head: every seq up to it is in synced storage (with Durability::kSync; at once
  // otherwise). Feed scans (ScanFeed) stop below it, so no sync client is ever served a change a crash can
  // still take back: it would hold a cursor past seqs the server hands out again for other changes. They also
  // stop below the old seq of every point a not yet durable change moved (moved_), or a client's cursor would
  // pass the point's older registers while the point itself is out of reach.
  std::atomic<uint64_t> durable_seq_{0};
  mutable std::mutex moved_mu_;
  std::vector<std::pair<uint64_t, uint64_t>>
      moved_;                                // guarded by moved_mu_: (commit, old seq) not yet durable
  uint64_t commit_counter_ = 0;              // guarded by mu_
  uint64_t current_commit_ = 0;              // guarded by mu_: the commit applying now (0: recovery)
  uint64_t seq_at_wal_start_ = 0;            // guarded by mu_: last_seq_ when wal_start_ was set
  uint64_t min_valid_cursor_ = 0;            // guarded by mu_
  std::vector<std::pair<uint64_t, uint64_t>> checkpoints_;  // guarded by mu_: (seq, unix ms)
  boost::json::object meta_;                 // guarded by mu_
  boost::json::object meta_at_wal_start_;    // guarded by mu_
  // The feed's index by seq is kept only from the first feed scan on (a collection never synced does without
  // its 40 bytes a point); the first scan builds it from the segments' states under an exclusive lock.
  mutable std::vector<FeedIndexEntry> feed_index_;   // guarded by mu_: increasing seqs; dead entries skipped
  mutable size_t feed_dead_ = 0;                     // guarded by mu_
  mutable bool feed_index_kept_ = false;             // guarded by mu_
  uint64_t gc_horizon_hlc_ = 0;              // guarded by mu_: 0 = by tombstone_retention_ms
  uint64_t gc_max_seq_ = UINT64_MAX;         // guarded by mu_
  mutable std::vector<CachedImage> image_cache_;  // guarded by image_mu_
  mutable std::mutex image_mu_;
  // SearchFilter's last filter text and its parse.
  mutable std::mutex filter_cache_mu_;
  mutable std::string filter_cache_text_;                      // guarded by filter_cache_mu_
  mutable std::shared_ptr<const payload::Filter> filter_cache_;  // guarded by filter_cache_mu_
  std::function<void(uint64_t)> feed_listener_;   // set before use
  mutable std::mutex feed_wait_mu_;
  mutable std::condition_variable feed_wait_cv_;
  uint64_t feed_notified_ = 0;               // guarded by feed_wait_mu_
};

}  // namespace quiver::db

#endif  // QUIVER_DB_COLLECTION_CORE_H_
