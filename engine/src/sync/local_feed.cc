#include "sync/local_feed.h"

#include <boost/json.hpp>
#include <cmath>

#include "base/hashes.h"
#include "db/collection_core.h"
#include "db/database_core.h"
#include "index/sparse_index.h"
#include "payload/json_util.h"
#include "sync/codec.h"

namespace quiver::sync {
namespace local {

std::string ConfigHash(const CollectionConfig& config) {
  boost::json::object vectors;
  for (const auto& [name, params] : config.vectors) {
    vectors[name] = boost::json::object{{"size", params.size}, {"distance", static_cast<int>(params.distance)}};
  }
  boost::json::object hashed{{"vectors", std::move(vectors)}};
  if (!config.sparse_vectors.empty()) {
    boost::json::object sparse;
    for (const auto& [name, params] : config.sparse_vectors) {
      sparse[name] = boost::json::object{{"modifier", static_cast<int>(params.modifier)}};
    }
    hashed["sparse"] = std::move(sparse);
  }
  return Hex16(XxHash64(payload::CanonicalJson(hashed)));
}

Status ValidateDelta(const PointDelta& point, const std::vector<db::VectorSpace>& spaces,
                     const std::vector<db::SparseSpace>& sparse_spaces) {
  const std::string where = "point " + point.id.ToString();
  if (!point.vec) return Status::OK();
  if (spaces.size() == 1 && spaces[0].name.empty() && sparse_spaces.empty() && point.vec->dense.empty()) {
    return Status::InvalidArgument(where + ": a vector is required");
  }
  for (size_t i = 0; i < point.vec->sparse.size(); ++i) {
    const auto& [name, v] = point.vec->sparse[i];
    if (i > 0 && !(point.vec->sparse[i - 1].first < name)) {
      return Status::InvalidArgument(where + ": sparse vector names repeat");
    }
    bool known = false;
    for (const db::SparseSpace& ss : sparse_spaces) known |= ss.name == name;
    if (!known)
      return Status::InvalidArgument(where + ": no sparse vector '" + name + "' in this collection");
    // Sparse vectors travel in stored form: strictly increasing indices, finite values.
    Status s = index::CheckSparse(v.indices, v.values);
    if (!s.ok()) return s.WithContext(where + ": sparse vector '" + name + "'");
  }
  for (size_t i = 0; i < point.vec->dense.size(); ++i) {
    const auto& [name, values] = point.vec->dense[i];
    if (i > 0 && !(point.vec->dense[i - 1].first < name)) {
      return Status::InvalidArgument(where + ": vector names repeat");
    }
    const db::VectorSpace* space = nullptr;
    for (const db::VectorSpace& vs : spaces) {
      if (vs.name == name) space = &vs;
    }
    const std::string label = name.empty() ? "vector" : "vector '" + name + "'";
    if (!space) return Status::InvalidArgument(where + ": no " + label + " in this collection");
    if (values.size() != space->params.size) {
      return Status::InvalidArgument(where + ": " + label + " has " + std::to_string(values.size()) +
                                     " dimensions, expected " + std::to_string(space->params.size));
    }
    double sum = 0;
    for (float x : values) {
      if (!std::isfinite(x)) return Status::InvalidArgument(where + ": " + label + " holds a value that is not finite");
      sum += double(x) * double(x);
    }
    // Vectors travel in stored form: normalised for Cosine (a zero vector stays zero).
    if (space->params.distance == Distance::kCosine && sum != 0 && std::fabs(sum - 1.0) > 1e-3) {
      return Status::InvalidArgument(where + ": " + label + " is not normalised (Cosine vectors travel in stored form)");
    }
  }
  return Status::OK();
}

}  // namespace local

namespace {

class LocalFeed final : public Feed {
 public:
  explicit LocalFeed(std::shared_ptr<Collection> collection) : collection_(std::move(collection)) {}

  db::CollectionCore& core() const { return collection_->core(); }

  std::string name() const override { return collection_->name(); }
  const void* identity() const override { return &collection_->core(); }
  const CollectionConfig& config() const override { return core().config(); }
  FeedHead Head() const override {
    const db::FeedInfo f = core().feed_info();
    return FeedHead{f.last_seq, f.min_valid_cursor};
  }
  std::optional<boost::json::value> Meta(std::string_view key) const override { return core().FeedMeta(key); }
  Status Health() const override { return core().health(); }
  Status Validate(const PointDelta& point) const override {
    QUIVER_RETURN_IF_ERROR(local::ValidateDelta(point, core().spaces(), core().sparse_spaces()));
    return DeltaToOps(point).status();
  }

  Result<FeedHead> Commit(const std::vector<PointDelta>& points, const MetaChanges& meta) override {
    db::FeedWrite write;
    for (const PointDelta& p : points) {
      QUIVER_ASSIGN_OR_RETURN(std::vector<db::Op> ops, DeltaToOps(p));
      for (db::Op& op : ops) write.ops.push_back(std::move(op));
    }
    write.meta = meta;
    QUIVER_ASSIGN_OR_RETURN(db::FeedWriteResult r, core().CommitFeedWrite(std::move(write)));
    (void)r;
    return Head();
  }

  FeedPage Read(uint64_t after, uint64_t since, uint64_t requester, const PageLimits& limits) const override {
    FeedPage page;
    RegisterFilter filter;
    filter.include = [&](uint64_t seq, const Stamp& stamp) { return seq > since && stamp.replica != requester; };
    filter.always_del = true;
    size_t bytes = 0, scanned = 0;
    bool stopped = false;
    const std::vector<db::VectorSpace>& spaces = core().spaces();
    const db::FeedInfo info = core().ScanFeed(after, [&](uint64_t seq, const db::PointState& st, const db::Segment& seg) {
      if (scanned >= limits.max_scan || page.points.size() >= limits.limit) {
        stopped = true;
        return false;
      }
      PointDelta d = DeltaFromState(st, seg, spaces, filter);
      if (!d.empty()) {
        const size_t size = d.EstimateBytes();
        if (!page.points.empty() && bytes + size > limits.max_bytes) {
          stopped = true;
          return false;
        }
        bytes += size;
        page.points.push_back(std::move(d));
      }
      ++scanned;
      page.next_seq = seq;
      return true;
    });
    page.head = FeedHead{info.durable_seq, info.min_valid_cursor};
    // A scan cut short by changes not yet durable has not reached the end: the catch-up goes on.
    page.reached_end = !stopped && info.last_seq >= info.durable_seq;
    page.next_seq = std::max(after, stopped ? page.next_seq : info.last_seq);
    page.stalled = !stopped && !page.reached_end && page.points.empty() && page.next_seq == after;
    return page;
  }

  std::optional<PointDelta> Get(const PointId& id) const override {
    std::optional<PointDelta> out;
    const std::vector<db::VectorSpace>& spaces = core().spaces();
    core().VisitPoint(id, [&](const db::PointState& st, const db::Segment& seg) {
      PointDelta d = FullDelta(st, seg, spaces);
      if (!d.empty()) out = std::move(d);
    });
    return out;
  }

  FeedSnapshot Snapshot() const override {
    FeedSnapshot snap;
    db::FeedInfo info;
    for (db::CollectionCore::SegmentImage& image : core().FeedSegmentImages(&info)) {
      FeedImage fi;
      fi.sha256 = std::move(image.sha256);
      fi.bytes = std::move(image.bytes);
      fi.points = image.points;
      snap.images.push_back(std::move(fi));
    }
    snap.head = FeedHead{info.last_seq, info.min_valid_cursor};
    return snap;
  }

  std::pair<uint64_t, uint64_t> Digest(uint64_t horizon_hlc, FeedHead* head) const override {
    uint64_t sum = 0, points = 0;
    const db::FeedInfo info = core().VisitPoints([&](const db::PointState& st, const db::Segment&) {
      const uint64_t term = DigestTerm(st, horizon_hlc);
      sum += term;
      points += term != 0 ? 1 : 0;
    });
    if (head) *head = FeedHead{info.last_seq, info.min_valid_cursor};
    return {sum, points};
  }

  Status CollectGarbage(uint64_t horizon_hlc) override {
    core().SetFeedGcBounds(horizon_hlc, UINT64_MAX);
    return core().Optimize();
  }

  void SetListener(std::function<void(uint64_t)> listener) override { core().SetFeedListener(std::move(listener)); }

 private:
  std::shared_ptr<Collection> collection_;
};

class LocalFeedStore final : public FeedStore {
 public:
  explicit LocalFeedStore(db::DatabaseCore* db) : db_(db) {}

  std::vector<std::string> Names() const override { return db_->ListCollections(); }
  Result<std::shared_ptr<Feed>> Get(std::string_view name) override {
    auto c = db_->GetCollection(name);
    if (!c.ok()) return c.status();
    if ((*c)->name() != name) return Status::NotFound("collection '" + std::string(name) + "' does not exist");
    return std::shared_ptr<Feed>(std::make_shared<LocalFeed>(*c));
  }
  Result<std::shared_ptr<Feed>> Create(std::string_view name, const CollectionConfig& config) override {
    QUIVER_RETURN_IF_ERROR(db_->CreateCollection(name, config));
    return Get(name);
  }
  Status Drop(std::string_view name) override { return db_->DeleteCollection(name); }
  std::optional<boost::json::value> Meta(std::string_view key) const override { return db_->SyncMeta(key); }
  Status SetMeta(const MetaChanges& changes) override { return db_->SetSyncMeta(changes); }
  db::HybridClock& clock() override { return db_->clock(); }
  uint64_t replica_id() const override { return db_->replica_id(); }

 private:
  db::DatabaseCore* db_;
};

}  // namespace

std::unique_ptr<FeedStore> NewLocalFeedStore(db::DatabaseCore* db) { return std::make_unique<LocalFeedStore>(db); }

}  // namespace quiver::sync
