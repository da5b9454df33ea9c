#include "sync/client.h"

#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <map>
#include <random>
#include <set>

#include "base/hashes.h"
#include "db/collection_core.h"
#include "db/config_json.h"
#include "db/database_core.h"
#include "sync/local_feed.h"

namespace quiver::sync {
namespace json = boost::json;

namespace {

// Client metadata keys, in each synced collection (docs/sync.md, "Client metadata").
constexpr const char* kUid = "sync.uid";
constexpr const char* kIdentified = "sync.identified";
constexpr const char* kEpoch = "sync.epoch";
constexpr const char* kCursor = "sync.cursor";
constexpr const char* kSince = "sync.since";
constexpr const char* kPushCursor = "sync.push_cursor";
constexpr const char* kPushScan = "sync.push_scan";
constexpr const char* kHorizon = "sync.horizon";
constexpr const char* kResync = "sync.resync";
constexpr const char* kOffset = "sync.offset_ms";
constexpr const char* kClock = "sync.clock";
constexpr const char* kConflictPrefix = "sync.conflict.";
constexpr const char* kAckedHlc = "sync.acked_hlc";

uint64_t MetaU64(const db::CollectionCore& core, std::string_view key) {
  auto v = core.FeedMeta(key);
  if (!v) return 0;
  if (auto p = v->if_uint64()) return *p;
  if (auto p = v->if_int64(); p && *p >= 0) return static_cast<uint64_t>(*p);
  return 0;
}

int64_t MetaI64(const db::CollectionCore& core, std::string_view key) {
  auto v = core.FeedMeta(key);
  if (!v) return 0;
  if (auto p = v->if_int64()) return *p;
  if (auto p = v->if_uint64()) return static_cast<int64_t>(*p);
  return 0;
}

std::string MetaStr(const db::CollectionCore& core, std::string_view key) {
  auto v = core.FeedMeta(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

Status CommitMeta(db::CollectionCore& core, MetaChanges meta) {
  db::FeedWrite w;
  w.meta = std::move(meta);
  return core.CommitFeedWrite(std::move(w)).status();
}

// Whether a point holds a register this replica (`me`) wrote above the push cursor `from`: it is in the outbox.
bool InOutbox(const db::PointState& st, uint64_t from, uint64_t me) {
  if (st.life_seq > from && st.alive.replica == me && !st.alive.zero()) return true;
  if (st.reset_seq > from && st.payload_reset.replica == me && !st.payload_reset.zero()) return true;
  for (const db::KeyStamp& ks : st.key_stamps) {
    if (ks.seq > from && ks.stamp.replica == me) return true;
  }
  return false;
}

// Which register a field, for matching registers of two deltas.
enum class Reg { kLife, kReset };

}  // namespace

// One sync round: a small state machine whose steps run one after another from a queue, so a transport that
// answers inside Send does not nest the steps.
struct SyncClient::Round : std::enable_shared_from_this<SyncClient::Round> {
  SyncClient* c;
  RoundKind kind = RoundKind::kFull;
  uint64_t wait_ms = 0;
  bool check_digest = true;
  bool waiting = false;  // in a long-poll (CancelWait)
  std::function<void(Status)> done;
  std::shared_ptr<bool> alive;
  size_t index = 0;
  std::shared_ptr<Collection> col;
  std::string name;
  size_t push_limit = 0;
  int resync_attempts = 0;
  bool token_refreshed = false;
  bool reregistered = false;
  std::deque<std::function<void()>> queue;
  bool draining = false;
  bool finished = false;

  db::CollectionCore& core() { return col->core(); }
  db::HybridClock& clock() { return c->db_->clock(); }
  uint64_t self() const { return c->db_->replica_id(); }
  uint64_t Monotonic() const { return c->options_.monotonic_ms(); }

  void Post(std::function<void()> step) {
    queue.push_back(std::move(step));
    if (draining) return;
    draining = true;
    while (!queue.empty()) {
      auto next = std::move(queue.front());
      queue.pop_front();
      next();
    }
    draining = false;
  }

  void Finish(Status s) {
    if (finished) return;
    finished = true;
    queue.clear();
    auto self_ref = shared_from_this();
    SyncClient* client = c;
    ++client->stats_.rounds;
    if (s.ok()) {
      client->failures_ = 0;
      client->retry_delay_ms_ = 0;
    } else {
      ++client->stats_.failed_rounds;
      ++client->failures_;
      const uint64_t shift = std::min<uint64_t>(client->failures_ - 1, 20);
      const uint64_t base = std::min(client->options_.backoff_max_ms, client->options_.backoff_initial_ms << shift);
      // Jitter: [0.5, 1) of the step.
      client->retry_delay_ms_ = base / 2 + (base > 1 ? client->options_.random() % (base - base / 2) : 0);
    }
    client->round_.reset();
    auto cb = std::move(done);
    if (cb) cb(s);
  }

  // --- Requests ---

  SyncRequest NewRequest(std::string method, std::string path) {
    SyncRequest r;
    r.method = std::move(method);
    r.path = std::move(path);
    r.replica = Hex16(self());
    r.token = c->token_;
    if (col) {
      r.push_cursor = std::to_string(MetaU64(core(), kPushCursor));
      r.collection = name;
    }
    return r;
  }

  // Sends and hands the response to `on` (on the round's queue). Transport failures end the round; 401 asks for a
  // fresh token and retries once; 403 for an unknown replica registers again and retries once.
  // `on` may take the response by non-const reference and move its body out (snapshot blobs).
  void Send(SyncRequest request, std::function<void(SyncResponse&, uint64_t rtt_ms)> on) {
    ++c->stats_.requests;
    const uint64_t sent = Monotonic();
    std::weak_ptr<Round> weak = shared_from_this();
    std::shared_ptr<bool> token = alive;
    SyncRequest copy = request;
    c->transport_->Send(std::move(request), [weak, token, on = std::move(on), copy = std::move(copy), sent](
                                                Result<SyncResponse> r) mutable {
      if (!*token) return;
      auto round = weak.lock();
      if (!round || round->finished) return;
      round->Post([round, r = std::move(r), on = std::move(on), copy = std::move(copy), sent]() mutable {
        if (round->finished) return;
        if (!r.ok()) return round->Finish(r.status().WithContext(copy.method + " " + copy.path));
        const uint64_t rtt = round->Monotonic() - sent;
        if (r->status == 401 && !round->token_refreshed && round->c->options_.get_token) {
          round->token_refreshed = true;
          auto t = round->c->options_.get_token(true);
          if (!t.ok()) return round->Finish(t.status());
          round->c->token_ = *t;
          copy.token = *t;
          return round->Send(std::move(copy), std::move(on));
        }
        if (r->status == 403 && !round->reregistered && r->body.find("replica_unknown") != std::string::npos) {
          round->reregistered = true;
          round->c->registered_ = false;
          return round->Register([round, copy = std::move(copy), on = std::move(on)]() mutable {
            round->Send(std::move(copy), std::move(on));
          });
        }
        on(*r, rtt);
      });
    });
  }

  Status Unexpected(const SyncResponse& r, const std::string& what) {
    auto e = DecodeErrorBody(r.body);
    std::string detail = e.ok() ? e->error + (e->reason.empty() ? "" : "/" + e->reason) + ": " + e->message : r.body.substr(0, 200);
    const std::string msg = what + ": HTTP " + std::to_string(r.status) + " " + detail;
    switch (r.status) {
      case 404:
        return Status::NotFound(msg);
      case 401:
      case 403:
      case 409:
      case 426:
        return Status::FailedPrecondition(msg);
      default:
        return Status::IOError(msg);
    }
  }

  // Takes the server's clock into account: the HLC receive and the offset estimate (SYNC.md 2.12).
  void ObserveServer(const ServerClock& sc, uint64_t rtt_ms) {
    if (sc.server_hlc) clock().Observe(sc.server_hlc);
    if (!sc.server_time_ms) return;
    db::HybridClock& ck = clock();
    const int64_t offset = ck.offset_ms();
    const int64_t local_wall = static_cast<int64_t>(ck.PhysicalMs()) - offset;
    const int64_t sample = static_cast<int64_t>(sc.server_time_ms + rtt_ms / 2) - local_wall;
    int64_t next = sample;
    if (std::llabs(sample - offset) <= 1000) next = offset + (sample - offset) / 4;
    constexpr int64_t kClamp = int64_t{365} * 24 * 3600 * 1000;
    next = std::clamp(next, -kClamp, kClamp);
    ck.SetOffsetMs(next);
  }

  // --- Steps ---

  void Start() { Post([self = shared_from_this()] { self->StartCollection(); }); }

  void StartCollection() {
    if (index >= c->options_.collections.size()) return Finish(Status::OK());
    name = c->options_.collections[index];
    auto got = c->db_->GetCollection(name);
    if (!got.ok()) return Finish(got.status().WithContext("sync"));
    col = *got;
    push_limit = c->options_.max_push_bytes;
    resync_attempts = 0;
    // The clock persisted with the last sync commit, and the last offset estimate.
    if (auto v = ParseHex16(MetaStr(core(), kClock))) clock().Observe(*v);
    if (clock().offset_ms() == 0) {
      if (int64_t off = MetaI64(core(), kOffset)) clock().SetOffsetMs(off);
    }
    if (!c->registered_) return Register([self = shared_from_this()] { self->Identify(); });
    Identify();
  }

  void NextCollection() {
    ++index;
    col.reset();
    StartCollection();
  }

  void Register(std::function<void()> then) {
    RegisterReplicaRequest m;
    m.replica = self();
    m.client = c->options_.client;
    SyncRequest r = NewRequest("POST", "/v1/replicas");
    r.body = Encode(m);
    Send(std::move(r), [self = shared_from_this(), then = std::move(then)](const SyncResponse& resp, uint64_t rtt) {
      if (resp.status != 200) return self->Finish(self->Unexpected(resp, "register replica"));
      auto m = DecodeRegisterReplicaResponse(resp.body);
      if (!m.ok()) return self->Finish(m.status());
      self->ObserveServer(m->clock, rtt);
      self->c->registered_ = true;
      then();
    });
  }

  void Identify() {
    std::string uid = MetaStr(core(), kUid);
    if (uid.empty()) {
      uid = Id128Text(Id128{c->options_.random() | 1, c->options_.random()});
      Status s = CommitMeta(core(), {{kUid, json::value(uid)}, {kIdentified, json::value(false)}});
      if (!s.ok()) return Finish(s);
    }
    auto identified = core().FeedMeta(kIdentified);
    if (identified && identified->is_bool() && identified->get_bool()) return AfterIdentify();
    PutCollectionRequest m;
    m.uid = uid;
    m.config = db::ConfigToJson(core().config());
    SyncRequest r = NewRequest("PUT", "/v1/collections/by-name/" + name);
    r.body = Encode(m);
    Send(std::move(r), [self = shared_from_this(), uid](const SyncResponse& resp, uint64_t rtt) {
      if (resp.status == 409) {
        auto e = DecodeErrorBody(resp.body);
        if (e.ok() && e->error == "collection_gone") return self->DropGone();
      }
      if (resp.status != 200) return self->Finish(self->Unexpected(resp, "collection " + self->name));
      auto m = DecodePutCollectionResponse(resp.body);
      if (!m.ok()) return self->Finish(m.status());
      self->ObserveServer(m->clock, rtt);
      MetaChanges meta = {{kIdentified, json::value(true)}};
      if (m->collection.uid != uid) {
        // The server knows this name under another uid with the same configuration: adopt it (re-key). The
        // local points are keyed by point id, so they merge; all of them are pushed after the snapshot.
        meta.emplace_back(kUid, json::value(m->collection.uid));
        for (const char* k : {kEpoch, kCursor, kSince, kPushCursor, kPushScan, kHorizon, kResync}) {
          meta.emplace_back(k, std::nullopt);
        }
      }
      Status s = CommitMeta(self->core(), std::move(meta));
      if (!s.ok()) return self->Finish(s);
      self->AfterIdentify();
    });
  }

  void AfterIdentify() {
    if (MetaStr(core(), kEpoch).empty() || !core().FeedMeta(kCursor) || !MetaStr(core(), kResync).empty()) {
      return Resync();
    }
    Push();
  }

  std::string UidPath(const std::string& action) {
    return "/v1/collections/" + MetaStr(core(), kUid) + (action.empty() ? "" : "/" + action);
  }

  // --- Resync by snapshot (SYNC.md 2.10) ---

  void Resync() {
    if (++resync_attempts > 3) return Finish(Status::IOError("sync: snapshot resync did not complete"));
    SyncRequest request = NewRequest("GET", UidPath("snapshot"));
    // The cursor held so far, so a server that lost data notices (regression detection) even now.
    if (auto epoch = ParseId128(MetaStr(core(), kEpoch)); epoch && core().FeedMeta(kCursor)) {
      request.query.emplace_back("cursor", CursorText(Cursor{*epoch, MetaU64(core(), kCursor)}));
    }
    Send(std::move(request), [self = shared_from_this()](const SyncResponse& resp, uint64_t rtt) {
      if (resp.status == 410) return self->NeedResync(resp);
      if (resp.status == 409) return self->DropGone();
      if (resp.status == 404) return self->Forgotten();
      if (resp.status != 200) return self->Finish(self->Unexpected(resp, "snapshot"));
      auto m = DecodeSnapshotManifest(resp.body);
      if (!m.ok()) return self->Finish(m.status());
      self->ObserveServer(m->clock, rtt);
      auto config = db::ConfigFromJson(m->config, "snapshot.config");
      if (!config.ok()) return self->Finish(config.status());
      if (local::ConfigHash(*config) != local::ConfigHash(self->core().config())) {
        return self->Finish(Status::FailedPrecondition("sync: collection " + self->name +
                                                       " has another configuration on the server"));
      }
      auto manifest = std::make_shared<SnapshotManifest>(std::move(*m));
      auto images = std::make_shared<std::vector<std::shared_ptr<const std::string>>>();
      self->FetchBlobs(manifest, images);
    });
  }

  // Downloads the manifest's segments one after another, each checked against the manifest's size and SHA-256
  // (the transport's hash when it computed one while receiving, else the body's). A blob that fails the check is
  // fetched once more; a second failure ends the round with Corruption and nothing installed.
  void FetchBlobs(std::shared_ptr<SnapshotManifest> m, std::shared_ptr<std::vector<std::shared_ptr<const std::string>>> images,
                  int attempt = 0) {
    if (images->size() == m->segments.size()) return Install(*m, *images);
    const SegmentRef& ref = m->segments[images->size()];
    Send(NewRequest("GET", "/v1/blobs/" + ref.sha256),
         [self = shared_from_this(), m, images, attempt](SyncResponse& resp, uint64_t) {
           if (resp.status == 404) return self->Resync();  // the snapshot moved on meanwhile: start again
           if (resp.status != 200) return self->Finish(self->Unexpected(resp, "blob"));
           const size_t index = images->size();
           const SegmentRef& ref = m->segments[index];
           const std::string sha = resp.body.size() != ref.bytes ? std::string()
                                   : !resp.sha256.empty()        ? std::move(resp.sha256)
                                                                 : Sha256Hex(resp.body);
           if (resp.body.size() != ref.bytes || sha != ref.sha256) {
             if (attempt == 0) return self->FetchBlobs(m, images, 1);  // damaged in transit: once more
             return self->Finish(Status::Corruption(
                 "sync: snapshot segment " + std::to_string(index + 1) + " of " + std::to_string(m->segments.size()) +
                 " of collection " + self->name + " arrived as " + std::to_string(resp.body.size()) + " bytes" +
                 (sha.empty() ? std::string() : " with SHA-256 " + sha) + ", the manifest says " +
                 std::to_string(ref.bytes) + " bytes with SHA-256 " + ref.sha256 +
                 " (fetched twice); nothing was installed"));
           }
           images->push_back(std::make_shared<const std::string>(std::move(resp.body)));
           self->FetchBlobs(m, images);
         });
  }

  void Install(const SnapshotManifest& m, const std::vector<std::shared_ptr<const std::string>>& images) {
    const std::string reason = MetaStr(core(), kResync);
    const bool had_cursor = !MetaStr(core(), kEpoch).empty() && core().FeedMeta(kCursor).has_value();
    // What survives the flip: every register this replica wrote when the server may have lost some (no cursor
    // yet, a new epoch, a digest that disagreed: a server restored without the epoch step whose seqs were
    // reused before anyone noticed), else only those not yet acknowledged.
    const bool all_self = !had_cursor || reason == "epoch_changed" || reason == "digest_mismatch" ||
                          m.epoch != MetaStr(core(), kEpoch);
    const uint64_t push_cursor = all_self ? 0 : MetaU64(core(), kPushCursor);
    const uint64_t me = self();
    const std::vector<db::VectorSpace>& spaces = core().spaces();
    RegisterFilter filter;
    filter.include = [&](uint64_t seq, const Stamp& s) { return s.replica == me && (all_self || seq > push_cursor); };
    db::CollectionCore::CarryFn carry = [&](const db::PointState& st, const db::Segment& seg) {
      PointDelta d = DeltaFromState(st, seg, spaces, filter);
      if (d.empty()) return std::vector<db::Op>();
      auto ops = DeltaToOps(d);
      return ops.ok() ? std::move(*ops) : std::vector<db::Op>();
    };
    db::FeedWrite pending;
    pending.meta = {{kEpoch, json::value(m.epoch)},
                    {kCursor, json::value(m.snapshot_seq)},
                    {kSince, json::value(m.snapshot_seq)},
                    {kHorizon, json::value(Hex16(m.horizon_hlc))},
                    {kResync, std::nullopt},
                    {kPushCursor, json::value(push_cursor)},
                    {kPushScan, std::nullopt},
                    {kClock, json::value(Hex16(clock().last()))},
                    {kOffset, json::value(clock().offset_ms())}};
    // Every image's SHA-256 matched the manifest: its section checksums need no second pass.
    Status s = core().InstallFeedGeneration(images, carry, std::move(pending), SectionChecks::kSkipSectionCrcs);
    if (!s.ok()) return Finish(s.WithContext("sync: installing the snapshot of " + name));
    ++c->stats_.resyncs;
    c->clean_to_[name] = 0;
    core().SetFeedGcBounds(m.horizon_hlc, push_cursor);
    if (c->options_.on_applied) c->options_.on_applied(name, {}, true);
    Push();
  }

  // --- Push (SYNC.md 2.5, 2.6) ---

  struct Batch {
    PushRequest request;
    uint64_t push_cursor = 0;
    bool end = false;  // the batch reaches the end of the feed: the drain completes with its ack
  };

  // Where the drain of the outbox stands. Every register of this replica at or below `cursor`
  // (sync.push_cursor) is acknowledged; the points at feed seqs in (cursor, scan] (sync.push_scan) have had
  // every register above `cursor` acknowledged. A point appears in the feed once, at its latest seq, so a
  // register written early can sit on a point the drain has not reached yet: the cursor moves only when a
  // drain completes.
  struct Drain {
    uint64_t cursor = 0;
    uint64_t scan = 0;
  };
  Drain PushDrain() {
    Drain d;
    d.cursor = MetaU64(core(), kPushCursor);
    d.scan = std::max(d.cursor, MetaU64(core(), kPushScan));
    return d;
  }

  void Push() {
    if (kind == RoundKind::kPull) return Pull();
    // Local writes must be durable before the server learns of them: the server never sends a replica its own
    // registers back.
    Status flushed = core().Flush();
    if (!flushed.ok()) return Finish(flushed);
    auto batch = std::make_shared<Batch>();
    const Drain drain = PushDrain();
    batch->push_cursor = drain.cursor;
    const uint64_t start = std::max(drain.scan, c->clean_to_[name]);
    const uint64_t me = self();
    const uint64_t from = drain.cursor;
    RegisterFilter filter;
    filter.include = [&](uint64_t seq, const Stamp& s) { return seq > from && s.replica == me; };
    const std::vector<db::VectorSpace>& spaces = core().spaces();
    size_t bytes = 0;
    bool end = true;
    uint64_t to = from;
    const db::FeedInfo info = core().ScanFeed(start, [&](uint64_t seq, const db::PointState& st, const db::Segment& seg) {
      PointDelta d = DeltaFromState(st, seg, spaces, filter);
      if (!d.empty()) {
        const size_t size = d.EstimateBytes();
        if (!batch->request.points.empty() && bytes + size > push_limit) {
          end = false;
          return false;
        }
        bytes += size;
        batch->request.points.push_back(std::move(d));
      }
      to = seq;
      return true;
    });
    if (end) to = std::max(to, info.last_seq);
    // Complete only when the scan could go on to the head (a write of another thread not yet durable may have
    // moved a point past where the scan had to stop).
    end = end && info.last_seq >= info.durable_seq;
    if (batch->request.points.empty()) {
      c->clean_to_[name] = std::max(c->clean_to_[name], to);
      if (end && drain.scan > drain.cursor) {
        // The drain completed with its last batch: nothing of this replica's at or below the scan position is
        // unacknowledged. (Not `to`: the server acknowledged only up to the scan position.)
        Status s = CommitMeta(core(), {{kPushCursor, json::value(drain.scan)}, {kPushScan, std::nullopt}});
        if (!s.ok()) return Finish(s);
        core().SetFeedGcBounds(ParseHex16(MetaStr(core(), kHorizon)).value_or(0), drain.scan);
      }
      if (kind == RoundKind::kPush) return NextCollection();
      return Pull();
    }
    batch->end = end;
    batch->request.replica = me;
    batch->request.from_local_seq = std::max(from, drain.scan);
    batch->request.to_local_seq = to;
    batch->request.hlc = clock().last();
    SyncRequest r = NewRequest("POST", UidPath("push"));
    r.body = Encode(batch->request);
    // The pull cursor too: a server that lost data notices before it hands out the lost seqs again.
    if (auto epoch = ParseId128(MetaStr(core(), kEpoch)); epoch && core().FeedMeta(kCursor)) {
      r.query.emplace_back("cursor", CursorText(Cursor{*epoch, MetaU64(core(), kCursor)}));
    }
    Send(std::move(r), [self = shared_from_this(), batch](const SyncResponse& resp, uint64_t rtt) {
      if (resp.status == 413) {
        if (batch->request.points.size() <= 1) return self->Finish(self->Unexpected(resp, "push of one point"));
        self->push_limit = std::max<size_t>(1, self->push_limit / 2);
        return self->Push();
      }
      if (resp.status == 410) return self->NeedResync(resp);
      if (resp.status == 409) return self->DropGone();
      if (resp.status == 404) return self->Forgotten();
      if (resp.status != 200) return self->Finish(self->Unexpected(resp, "push"));
      auto m = DecodePushResponse(resp.body);
      if (!m.ok()) return self->Finish(m.status());
      self->OnPushed(*batch, *m, rtt);
    });
  }

  using Reports = std::vector<std::tuple<std::string, PointDelta, PointDelta>>;  // (collection, withdrawn, written)

  // The ack, the resolution of every rejected point and the repair of registers stamped in the future commit as
  // one: a crash leaves either the batch unacknowledged (pushed again) or all of it settled.
  void OnPushed(const Batch& batch, const PushResponse& m, uint64_t rtt) {
    ObserveServer(m.clock, rtt);
    const uint64_t to = batch.request.to_local_seq;
    db::FeedWrite w;
    Reports reports;
    std::set<PointId> repaired;
    std::map<PointId, const PointDelta*> refused;
    for (const Rejection& r : m.rejected) {
      if (r.reason != "clock_skew") continue;
      refused[r.id] = nullptr;
      for (const PointDelta& p : batch.request.points) {
        if (p.id == r.id) refused[r.id] = &p;
      }
    }
    uint64_t floor = 0;
    if (!refused.empty()) {
      Status s = RepairClock(refused, to, m.clock.server_hlc, &w, &reports, &repaired, &floor);
      if (!s.ok()) return Finish(s);
    }
    // The largest stamp the server accepted from this replica (a clock repair never goes below it).
    uint64_t accepted = ParseHex16(MetaStr(core(), kAckedHlc)).value_or(0);
    for (const PointDelta& p : batch.request.points) {
      bool rejected = false;
      for (const Rejection& r : m.rejected) rejected |= r.id == p.id;
      if (!rejected) accepted = std::max(accepted, p.MaxHlc());
    }
    w.meta.emplace_back(kAckedHlc, json::value(Hex16(accepted)));
    for (const Rejection& r : m.rejected) {
      ++c->stats_.rejected_points;
      if (r.reason == "clock_skew" || repaired.count(r.id)) continue;
      const PointDelta* sent = nullptr;
      for (const PointDelta& p : batch.request.points) {
        if (p.id == r.id) sent = &p;
      }
      if (!sent) continue;  // not a point of this batch: nothing of ours to settle
      Status s = Resolve(r, sent, to, m.horizon_hlc, &w, &reports);
      if (!s.ok()) return Finish(s);
    }
    const uint64_t acked = batch.end ? to : batch.push_cursor;
    w.meta.emplace_back(kPushCursor, json::value(acked));
    if (batch.end) {
      w.meta.emplace_back(kPushScan, std::nullopt);
    } else {
      w.meta.emplace_back(kPushScan, json::value(to));
    }
    w.meta.emplace_back(kClock, json::value(Hex16(clock().last())));
    w.meta.emplace_back(kOffset, json::value(clock().offset_ms()));
    auto committed = core().CommitFeedWrite(std::move(w));
    if (!committed.ok()) return Finish(committed.status());
    if (c->options_.on_rewrite) {
      for (const auto& [n, withdrawn, written] : reports) c->options_.on_rewrite(n, withdrawn, written);
    }
    if (floor && c->options_.on_clock_rewind) c->options_.on_clock_rewind(floor);
    c->stats_.pushed_points += batch.request.points.size() - m.rejected.size();
    core().SetFeedGcBounds(ParseHex16(MetaStr(core(), kHorizon)).value_or(0), acked);
    Push();
  }

  // The registers of the point's current state whose seq is above `seq`.
  std::optional<PointDelta> RegistersAbove(const PointId& id, uint64_t seq) {
    std::optional<PointDelta> out;
    const std::vector<db::VectorSpace>& spaces = core().spaces();
    RegisterFilter filter;
    filter.include = [&](uint64_t s, const Stamp&) { return s > seq; };
    core().VisitPoint(id, [&](const db::PointState& st, const db::Segment& seg) {
      PointDelta d = DeltaFromState(st, seg, spaces, filter);
      if (!d.empty()) out = std::move(d);
    });
    return out;
  }

  static Status AddOps(const PointDelta& d, db::FeedWrite* w) {
    QUIVER_ASSIGN_OR_RETURN(std::vector<db::Op> ops, DeltaToOps(d));
    for (db::Op& op : ops) w->ops.push_back(std::move(op));
    return Status::OK();
  }

  // A rejected point: recorded, shown to the app, and resolved (keep_server or reapply_local) into `w`.
  Status Resolve(const Rejection& r, const PointDelta* sent, uint64_t to, uint64_t horizon, db::FeedWrite* w,
                 Reports* reports) {
    Conflict conflict;
    conflict.collection = name;
    conflict.id = r.id;
    conflict.reason = r.reason;
    if (sent) conflict.local = *sent;
    conflict.server = r.server;
    Resolution how = c->options_.on_conflict ? c->options_.on_conflict(conflict) : Resolution::kKeepServer;
    if (r.reason != "stale_op") how = Resolution::kKeepServer;  // writing it again would be refused again
    // The point becomes the server's, plus what was written locally after the batch, plus (reapply_local) the
    // rejected registers with fresh stamps where nothing newer replaced them.
    w->reset_points.push_back(r.id);
    if (r.server) QUIVER_RETURN_IF_ERROR(AddOps(*r.server, w));
    std::optional<PointDelta> newer = RegistersAbove(r.id, to);
    if (newer) QUIVER_RETURN_IF_ERROR(AddOps(*newer, w));
    PointDelta written;
    written.id = r.id;
    if (how == Resolution::kReapplyLocal && sent) {
      const bool life_newer = newer && (newer->del || newer->vec);
      const bool reset_newer = newer && newer->reset;
      std::map<Stamp, Stamp> fresh;
      for (const Stamp& st : sent->Stamps()) fresh[st] = Stamp{};
      for (auto& [old, now] : fresh) now = Stamp{clock().Now(), self()};
      if (sent->del && !life_newer) written.del = fresh[*sent->del];
      if (sent->vec && !life_newer) {
        written.vec = *sent->vec;
        written.vec->ts = fresh[sent->vec->ts];
      }
      if (sent->reset && !reset_newer) written.reset = fresh[*sent->reset];
      for (const FieldRegister& f : sent->fields) {
        bool superseded = false;
        if (newer) {
          for (const FieldRegister& nf : newer->fields) superseded |= nf.key == f.key;
        }
        if (superseded) continue;
        FieldRegister g = f;
        g.ts = fresh[f.ts];
        written.fields.push_back(std::move(g));
      }
      if (!written.empty()) QUIVER_RETURN_IF_ERROR(AddOps(written, w));
    }
    if (sent) {
      // Withdrawn: what was sent and the server does not hold.
      PointDelta withdrawn;
      withdrawn.id = r.id;
      const PointDelta* sv = r.server ? &*r.server : nullptr;
      std::optional<Stamp> server_life;
      if (sv && sv->del) server_life = sv->del;
      if (sv && sv->vec) server_life = sv->vec->ts;
      auto held = [](const Stamp& a, const std::optional<Stamp>& b) { return b && a == *b; };
      // A register below the horizon asking for absence (a delete, a payload reset, a deleted key) of a point
      // the server holds no life for (nothing, or keys only) has its effect: it may even have been accepted
      // once and purged since (a re-push after a new epoch), and whatever reaches the server later is stamped
      // above it.
      auto absent = [&](const Stamp& s) { return r.reason == "stale_op" && s.hlc < horizon && !server_life; };
      if (sent->del && !absent(*sent->del) && !held(*sent->del, server_life)) withdrawn.del = sent->del;
      if (sent->vec && !held(sent->vec->ts, server_life)) withdrawn.vec = sent->vec;
      if (sent->reset && !absent(*sent->reset) && !(sv && held(*sent->reset, sv->reset))) {
        withdrawn.reset = sent->reset;
      }
      for (const FieldRegister& f : sent->fields) {
        bool keep = !f.value && absent(f.ts);
        if (sv) {
          for (const FieldRegister& g : sv->fields) keep |= g.key == f.key && g.ts == f.ts;
        }
        if (!keep) withdrawn.fields.push_back(f);
      }
      reports->emplace_back(name, std::move(withdrawn), std::move(written));
    }
    json::object record{{"reason", r.reason},
                        {"local", sent ? PointToJson(*sent) : json::value(nullptr)},
                        {"server", r.server ? PointToJson(*r.server) : json::value(nullptr)},
                        {"resolution", how == Resolution::kKeepServer ? "keep_server" : "reapply_local"}};
    w->meta.emplace_back(kConflictPrefix + r.id.ToString(), json::value(std::move(record)));
    return Status::OK();
  }

  // clock_skew (SYNC.md 2.12): this replica stamped registers beyond the server's drift bound. The offset was
  // corrected from the response; now the clock comes back to the corrected time, and the registers the server
  // refused (`refused`: the sent registers of the points rejected for clock_skew) plus every register not pushed
  // yet that is stamped beyond the bound are stamped again, in every synced collection, so later writes are not
  // stuck behind them. Registers the server accepted are never stamped again. The current collection's rewrite
  // goes into `w` (committed with the push ack), the others' are committed here.
  Status RepairClock(const std::map<PointId, const PointDelta*>& refused, uint64_t to, uint64_t server_hlc,
                     db::FeedWrite* w, Reports* reports, std::set<PointId>* repaired, uint64_t* floor) {
    ++c->stats_.clock_repairs;
    db::HybridClock& ck = clock();
    const uint64_t now = ck.PhysicalMs();
    const uint64_t threshold = db::MakeHlc(now + c->options_.max_drift_ms / 2, 0);
    const uint64_t me = self();
    // A register: "" for the deleted/vectors register, "\x01" for the payload reset, else "k" + key.
    using Key = std::pair<std::string, Stamp>;
    auto sent_keys = [](const PointDelta& d) {
      std::set<Key> out;
      if (d.del) out.emplace("", *d.del);
      if (d.vec) out.emplace("", d.vec->ts);
      if (d.reset) out.emplace("\x01", *d.reset);
      for (const FieldRegister& f : d.fields) out.emplace("k" + f.key, f.ts);
      return out;
    };
    struct Rewrite {
      PointDelta state;      // the whole state
      std::set<Key> chosen;  // its registers to stamp again
    };
    struct Future {
      std::shared_ptr<Collection> col;
      std::vector<Rewrite> points;
    };
    std::vector<Future> future;
    uint64_t keep = db::MakeHlc(now, 0);
    for (const std::string& n : c->options_.collections) {
      auto got = c->db_->GetCollection(n);
      if (!got.ok()) continue;
      Future f;
      f.col = *got;
      const bool current = n == name;
      const uint64_t pushed = current ? to : MetaU64(f.col->core(), kPushCursor);
      const std::vector<db::VectorSpace>& spaces = f.col->core().spaces();
      f.col->core().VisitPoints([&](const db::PointState& st, const db::Segment& seg) {
        std::set<Key> refused_here;
        if (current) {
          auto it = refused.find(st.id);
          if (it != refused.end() && it->second) refused_here = sent_keys(*it->second);
        }
        Rewrite rw;
        auto consider = [&](const std::string& key, const Stamp& stamp, uint64_t seq) {
          if (stamp.zero()) return;
          const bool choose = refused_here.count({key, stamp}) > 0 ||
                              (stamp.replica == me && seq > pushed && stamp.hlc > threshold);
          if (choose) {
            rw.chosen.emplace(key, stamp);
          } else {
            keep = std::max(keep, stamp.hlc);
          }
        };
        consider("", st.alive, st.life_seq);
        consider("\x01", st.payload_reset, st.reset_seq);
        for (const db::KeyStamp& ks : st.key_stamps) consider("k" + ks.key, ks.stamp, ks.seq);
        if (rw.chosen.empty()) return;
        rw.state = FullDelta(st, seg, spaces);
        f.points.push_back(std::move(rw));
      });
      if (!f.points.empty()) future.push_back(std::move(f));
    }
    // Never below a stamp the server accepted from this replica: its own registers are not sent back to it, so
    // a lower stamp on the same register would never be corrected.
    uint64_t accepted = 0;
    for (const std::string& n : c->options_.collections) {
      auto got = c->db_->GetCollection(n);
      if (got.ok()) accepted = std::max(accepted, ParseHex16(MetaStr((*got)->core(), kAckedHlc)).value_or(0));
    }
    // Nor below the server's clock: it is above every register the server holds, and a register stamped again
    // below one of them (a pulled register the future one had beaten here, and dropped) would lose on the
    // server while winning here, and the cursor is already past it.
    *floor = std::max({keep, accepted, server_hlc});
    ck.Rewind(*floor);
    for (Future& f : future) {
      const bool current = f.col->name() == name;
      db::FeedWrite own;
      db::FeedWrite* out = current ? w : &own;
      Reports own_reports;
      for (Rewrite& rw : f.points) {
        PointDelta& d = rw.state;
        // New stamps in the old ones' order, one per old stamp (the registers of one op stay one op).
        std::map<Stamp, Stamp> fresh;
        for (const Key& k : rw.chosen) fresh[k.second] = Stamp{};
        for (auto& [old, now_stamp] : fresh) now_stamp = Stamp{ck.Now(), me};
        PointDelta withdrawn, written;
        withdrawn.id = written.id = d.id;
        auto chosen = [&](const std::string& key, const Stamp& s) { return rw.chosen.count({key, s}) > 0; };
        if (d.del && chosen("", *d.del)) {
          withdrawn.del = *d.del;
          written.del = d.del = fresh[*d.del];
        }
        if (d.vec && chosen("", d.vec->ts)) {
          withdrawn.vec = d.vec;
          d.vec->ts = fresh[d.vec->ts];
          written.vec = d.vec;
        }
        if (d.reset && chosen("\x01", *d.reset)) {
          withdrawn.reset = *d.reset;
          written.reset = d.reset = fresh[*d.reset];
        }
        for (FieldRegister& fr : d.fields) {
          if (!chosen("k" + fr.key, fr.ts)) continue;
          withdrawn.fields.push_back(fr);
          fr.ts = fresh[fr.ts];
          written.fields.push_back(fr);
        }
        (current ? *reports : own_reports).emplace_back(f.col->name(), std::move(withdrawn), std::move(written));
        out->reset_points.push_back(d.id);
        if (current) repaired->insert(d.id);
        QUIVER_RETURN_IF_ERROR(AddOps(d, out));
      }
      if (!current) {
        own.meta = {{kOffset, json::value(ck.offset_ms())}, {kClock, json::value(Hex16(ck.last()))}};
        QUIVER_RETURN_IF_ERROR(f.col->core().CommitFeedWrite(std::move(own)).status());
        if (c->options_.on_rewrite) {
          for (const auto& [n, withdrawn, written] : own_reports) c->options_.on_rewrite(n, withdrawn, written);
        }
      }
    }
    return Status::OK();
  }

  // The server does not know the collection's uid (restored from a backup older than the collection): settle
  // the identity again (the server adopts the uid or names its own), then resync as after a new epoch, pushing
  // every register this replica wrote.
  void Forgotten() {
    if (++resync_attempts > 3) return Finish(Status::NotFound("sync: the server does not know collection " + name));
    Status s = CommitMeta(core(), {{kIdentified, json::value(false)},
                                   {kResync, json::value("epoch_changed")},
                                   {kPushCursor, json::value(0)},
                                   {kPushScan, std::nullopt}});
    if (!s.ok()) return Finish(s);
    Identify();
  }

  void NeedResync(const SyncResponse& resp) {
    auto e = DecodeErrorBody(resp.body);
    const std::string reason = e.ok() && !e->reason.empty() ? e->reason : "cursor_too_old";
    MetaChanges meta = {{kResync, json::value(reason)}};
    // A new epoch: nothing this replica pushed is known to be held; every register it wrote is in the outbox
    // again (and it no longer claims acknowledgements the server may have lost).
    if (reason == "epoch_changed") {
      meta.emplace_back(kPushCursor, json::value(0));
      meta.emplace_back(kPushScan, std::nullopt);
    }
    Status s = CommitMeta(core(), std::move(meta));
    if (!s.ok()) return Finish(s);
    Resync();
  }

  // --- Pull ---

  void Pull(bool long_poll = false) {
    PullRequest q;
    const Id128 epoch = *ParseId128(MetaStr(core(), kEpoch));
    const uint64_t cursor = MetaU64(core(), kCursor);
    q.cursor = CursorText(Cursor{epoch, cursor});
    q.since = CursorText(Cursor{epoch, std::min(cursor, MetaU64(core(), kSince))});
    q.limit = c->options_.pull_limit;
    q.max_bytes = c->options_.pull_max_bytes;
    q.wait_ms = long_poll ? wait_ms : 0;
    SyncRequest r = NewRequest("GET", UidPath("pull"));
    r.query = EncodePullQuery(q);
    waiting = long_poll;
    Send(std::move(r), [self = shared_from_this(), long_poll](const SyncResponse& resp, uint64_t rtt) {
      self->waiting = false;
      if (resp.status == 410) return self->NeedResync(resp);
      if (resp.status == 409) return self->DropGone();
      if (resp.status == 404) return self->Forgotten();
      if (resp.status != 200) return self->Finish(self->Unexpected(resp, "pull"));
      auto m = DecodePullResponse(resp.body);
      if (!m.ok()) return self->Finish(m.status());
      self->OnPulled(*m, rtt, long_poll);
    });
  }

  void OnPulled(const PullResponse& m, uint64_t rtt, bool long_poll) {
    ObserveServer(m.clock, rtt);
    if (m.epoch != MetaStr(core(), kEpoch)) return Finish(Status::IOError("sync: pull answered for another epoch"));
    db::FeedWrite w;
    for (const PointDelta& p : m.points) {
      auto ops = DeltaToOps(p);
      if (!ops.ok()) return Finish(ops.status().WithContext("sync: pulled point"));
      for (db::Op& op : *ops) w.ops.push_back(std::move(op));
    }
    const uint64_t seq = ParseCursor(m.cursor)->seq;
    // A catch-up ends when the server has nothing more: only then has this replica every register up to the
    // cursor, and the next one starts from there.
    w.meta = {{kCursor, json::value(seq)},
              {kSince, json::value(m.has_more ? std::min(seq, MetaU64(core(), kSince)) : seq)},
              {kHorizon, json::value(Hex16(m.horizon_hlc))},
              {kClock, json::value(Hex16(clock().last()))},
              {kOffset, json::value(clock().offset_ms())}};
    auto r = core().CommitFeedWrite(std::move(w));
    if (!r.ok()) return Finish(r.status().WithContext("sync: applying a pulled page"));
    c->stats_.pulled_points += m.points.size();
    core().SetFeedGcBounds(m.horizon_hlc, MetaU64(core(), kPushCursor));
    if (c->options_.on_applied && !m.points.empty()) {
      std::vector<PointId> ids;
      ids.reserve(m.points.size());
      for (const PointDelta& p : m.points) ids.push_back(p.id);
      c->options_.on_applied(name, ids, false);
    }
    if (m.has_more) return Pull();
    if (long_poll) return NextCollection();
    if (check_digest) return CheckDigest();
    AfterCatchUp();
  }

  void AfterCatchUp() {
    if (wait_ms > 0) return Pull(true);
    NextCollection();
  }

  // --- Anti-entropy (SYNC.md 2.7) ---

  bool OutboxEmpty() {
    const uint64_t from = MetaU64(core(), kPushCursor);
    const uint64_t me = self();
    bool dirty = false;
    core().ScanFeed(std::max(from, c->clean_to_[name]), [&](uint64_t, const db::PointState& st, const db::Segment&) {
      dirty = InOutbox(st, from, me);
      return !dirty;
    });
    return !dirty;
  }

  void CheckDigest() {
    // A pull round leaves the outbox alone, and the digest means something only once it is empty.
    if (!OutboxEmpty()) return kind == RoundKind::kPull ? AfterCatchUp() : Push();
    Send(NewRequest("GET", UidPath("digest")), [self = shared_from_this()](const SyncResponse& resp, uint64_t rtt) {
      if (resp.status == 409) return self->DropGone();
      if (resp.status == 404) return self->Forgotten();
      if (resp.status != 200) return self->Finish(self->Unexpected(resp, "digest"));
      auto m = DecodeDigestResponse(resp.body);
      if (!m.ok()) return self->Finish(m.status());
      self->ObserveServer(m->clock, rtt);
      db::CollectionCore& core = self->core();
      const std::string ours = CursorText(Cursor{*ParseId128(MetaStr(core, kEpoch)), MetaU64(core, kCursor)});
      if (m->cursor == ours && self->OutboxEmpty()) {
        uint64_t sum = 0;
        core.VisitPoints([&](const db::PointState& st, const db::Segment&) { sum += DigestTerm(st, m->horizon_hlc); });
        if (sum != m->digest) {
          ++self->c->stats_.digest_mismatches;
          Status s = CommitMeta(core, {{kResync, json::value("digest_mismatch")}});
          if (!s.ok()) return self->Finish(s);
          return self->Resync();
        }
      }
      self->AfterCatchUp();
    });
  }

  // --- A deleted collection (SYNC.md 2.11) ---

  void DropGone() {
    // Pending local writes cannot land anywhere: they go to the conflict handler, then the data goes.
    const uint64_t from = MetaU64(core(), kPushCursor);
    const uint64_t me = self();
    const std::vector<db::VectorSpace>& spaces = core().spaces();
    RegisterFilter filter;
    filter.include = [&](uint64_t seq, const Stamp& s) { return seq > from && s.replica == me; };
    std::vector<PointDelta> pending;
    core().ScanFeed(from, [&](uint64_t, const db::PointState& st, const db::Segment& seg) {
      PointDelta d = DeltaFromState(st, seg, spaces, filter);
      if (!d.empty()) pending.push_back(std::move(d));
      return true;
    });
    for (const PointDelta& d : pending) {
      Conflict conflict{name, d.id, "collection_gone", d, std::nullopt};
      if (c->options_.on_conflict) (void)c->options_.on_conflict(conflict);
    }
    db::FeedWrite w;
    for (const char* k :
         {kUid, kIdentified, kEpoch, kCursor, kSince, kPushCursor, kPushScan, kHorizon, kResync}) {
      w.meta.emplace_back(k, std::nullopt);
    }
    Status s = core().InstallFeedGeneration({}, {}, std::move(w));
    if (!s.ok()) return Finish(s);
    c->clean_to_[name] = 0;
    NextCollection();
  }
};

SyncClient::SyncClient(db::DatabaseCore* db, Transport* transport, SyncClientOptions options)
    : db_(db), transport_(transport), options_(std::move(options)), alive_(std::make_shared<bool>(true)) {
  if (!options_.random) {
    auto rd = std::make_shared<std::random_device>();
    options_.random = [rd] { return (uint64_t{(*rd)()} << 32) ^ (*rd)(); };
  }
  if (!options_.monotonic_ms) {
    options_.monotonic_ms = [] {
      return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::steady_clock::now().time_since_epoch())
                                       .count());
    };
  }
  if (options_.get_token) {
    auto t = options_.get_token(false);
    if (t.ok()) token_ = *t;
  }
}

SyncClient::~SyncClient() { Close(); }

void SyncClient::Close() {
  closed_ = true;
  *alive_ = false;
  round_.reset();
}

bool SyncClient::busy() const { return round_ != nullptr; }

bool SyncClient::CancelWait() {
  if (!round_ || !round_->waiting) return false;
  auto round = round_;  // Finish releases round_
  round->Finish(Status::OK());
  return true;
}

Result<uint64_t> SyncClient::PendingPoints(std::string_view collection) const {
  QUIVER_ASSIGN_OR_RETURN(auto col, db_->GetCollection(collection));
  db::CollectionCore& core = col->core();
  const uint64_t from = MetaU64(core, kPushCursor);
  const uint64_t me = db_->replica_id();
  uint64_t n = 0;
  core.ScanFeed(from, [&](uint64_t, const db::PointState& st, const db::Segment&) {
    if (InOutbox(st, from, me)) ++n;
    return true;
  });
  return n;
}
uint64_t SyncClient::RetryDelayMs() const { return retry_delay_ms_; }

void SyncClient::Sync(std::function<void(Status)> done) {
  Run(RoundKind::kFull, options_.wait_ms, true, std::move(done));
}

void SyncClient::Run(RoundKind kind, uint64_t wait_ms, bool check_digest, std::function<void(Status)> done) {
  if (closed_) return done(Status::FailedPrecondition("the sync client is closed"));
  if (round_) return done(Status::FailedPrecondition("a sync round is already running"));
  auto round = std::make_shared<Round>();
  round->c = this;
  round->kind = kind;
  round->wait_ms = wait_ms;
  round->check_digest = check_digest && options_.check_digest;
  round->done = std::move(done);
  round->alive = alive_;
  round_ = round;
  round->Start();
}

std::vector<Conflict> SyncClient::Conflicts(std::string_view collection) const {
  std::vector<Conflict> out;
  auto got = db_->GetCollection(collection);
  if (!got.ok()) return out;
  for (const auto& kv : (*got)->core().FeedMetaWithPrefix(kConflictPrefix)) {
    const json::object* o = kv.value().if_object();
    if (!o) continue;
    Conflict c;
    c.collection = std::string(collection);
    auto id = PointId::Parse(std::string_view(kv.key()).substr(std::string_view(kConflictPrefix).size()));
    if (!id.ok()) continue;
    c.id = *id;
    if (auto it = o->find("reason"); it != o->end() && it->value().is_string()) c.reason = std::string(it->value().get_string());
    if (auto it = o->find("local"); it != o->end() && !it->value().is_null()) {
      auto d = PointFromJson(it->value(), "conflict.local");
      if (d.ok()) c.local = std::move(*d);
    }
    if (auto it = o->find("server"); it != o->end() && !it->value().is_null()) {
      auto d = PointFromJson(it->value(), "conflict.server");
      if (d.ok()) c.server = std::move(*d);
    }
    out.push_back(std::move(c));
  }
  return out;
}

Status SyncClient::ClearConflicts(std::string_view collection) {
  QUIVER_ASSIGN_OR_RETURN(auto col, db_->GetCollection(collection));
  MetaChanges meta;
  for (const auto& kv : col->core().FeedMetaWithPrefix(kConflictPrefix)) meta.emplace_back(std::string(kv.key()), std::nullopt);
  if (meta.empty()) return Status::OK();
  return CommitMeta(col->core(), std::move(meta));
}

}  // namespace quiver::sync
