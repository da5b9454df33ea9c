// The server's change feeds behind an interface (SYNC.md 2.4), so that they can later be kept in PostgreSQL
// without changing the protocol: SyncService (service.h) speaks the protocol, a FeedStore keeps the feeds.
//
// A Feed is one collection's feed: points with register stamps and register seqs, a seq index that lists each
// point once at its latest seq, a head (last seq, purge watermark), and metadata (uid, epoch, horizon, replica
// states) committed atomically with the points. LocalFeedStore (local_feed.h) keeps them in a Quiver database.
//
// Thread safety: implementations are internally synchronised; the service serialises commits per feed.
#ifndef QUIVER_SYNC_FEED_H_
#define QUIVER_SYNC_FEED_H_

#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "db/hlc.h"
#include "quiver/types.h"
#include "sync/delta.h"

namespace quiver::sync {

using MetaChanges = std::vector<std::pair<std::string, std::optional<boost::json::value>>>;

struct FeedHead {
  uint64_t last_seq = 0;
  uint64_t min_valid_cursor = 0;
};

struct PageLimits {
  size_t limit = 1000;            // points returned at most
  size_t max_bytes = 4 << 20;     // estimated wire bytes at most (one point is always returned)
  size_t max_scan = 20000;        // points looked at at most (echo-only points are skipped but count)
};

struct FeedPage {
  std::vector<PointDelta> points;
  uint64_t next_seq = 0;     // the seq of the last point looked at, or the head when the scan reached the end
  bool reached_end = false;
  // No progress possible now: changes that moved points are not durable yet (see health()).
  bool stalled = false;
  FeedHead head;
};

struct FeedImage {
  std::string sha256;
  std::shared_ptr<const std::string> bytes;
  uint64_t points = 0;
};

struct FeedSnapshot {
  FeedHead head;
  std::vector<FeedImage> images;  // segment files, content-addressed
};

class Feed {
 public:
  virtual ~Feed() = default;
  virtual std::string name() const = 0;
  // Equal for two handles on the same underlying feed.
  virtual const void* identity() const = 0;
  virtual const CollectionConfig& config() const = 0;
  virtual FeedHead Head() const = 0;
  virtual std::optional<boost::json::value> Meta(std::string_view key) const = 0;
  // OK, or why the feed cannot serve reads consistently now (a storage error left it ahead of its files).
  virtual Status Health() const { return Status::OK(); }
  // Checks a point's registers against the collection (vector names and sizes, finite values, stored form);
  // InvalidArgument or NotSupported naming the problem.
  virtual Status Validate(const PointDelta& point) const = 0;
  // Merges the (validated) points and applies the metadata changes as one atomic, durable commit. Registers that
  // change get new seqs; a duplicate changes nothing.
  virtual Result<FeedHead> Commit(const std::vector<PointDelta>& points, const MetaChanges& meta) = 0;
  // The points after seq `after` for `requester` (SYNC.md 2.4 "Serve pull"): per point, registers with reg_seq >
  // since (<= after; the start of the requester's catch-up), without the requester's own, with `del` always for
  // deleted points; empty deltas skipped.
  virtual FeedPage Read(uint64_t after, uint64_t since, uint64_t requester, const PageLimits& limits) const = 0;
  // The whole state of a point, or none.
  virtual std::optional<PointDelta> Get(const PointId& id) const = 0;
  // Segment file images of the whole state at one seq.
  virtual FeedSnapshot Snapshot() const = 0;
  // The anti-entropy digest (SYNC.md 2.7; delta.h DigestTerm) and the number of points in it.
  virtual std::pair<uint64_t, uint64_t> Digest(uint64_t horizon_hlc, FeedHead* head) const = 0;
  // Purges tombstones whose registers are all below the horizon and that were committed longer than the retention
  // ago; raises min_valid_cursor.
  virtual Status CollectGarbage(uint64_t horizon_hlc) = 0;
  // Called after each commit that allocated seqs (outside locks).
  virtual void SetListener(std::function<void(uint64_t last_seq)> listener) = 0;
};

class FeedStore {
 public:
  virtual ~FeedStore() = default;
  virtual std::vector<std::string> Names() const = 0;
  // NotFound when absent.
  virtual Result<std::shared_ptr<Feed>> Get(std::string_view name) = 0;
  // AlreadyExists when taken.
  virtual Result<std::shared_ptr<Feed>> Create(std::string_view name, const CollectionConfig& config) = 0;
  virtual Status Drop(std::string_view name) = 0;
  // Store-level metadata (replica bindings, collection tombstones), durable when SetMeta returns.
  virtual std::optional<boost::json::value> Meta(std::string_view key) const = 0;
  virtual Status SetMeta(const MetaChanges& changes) = 0;
  // The server's clock (its replica's HLC and physical time).
  virtual db::HybridClock& clock() = 0;
  virtual uint64_t replica_id() const = 0;
};

}  // namespace quiver::sync

#endif  // QUIVER_SYNC_FEED_H_
