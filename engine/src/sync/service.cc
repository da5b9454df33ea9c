#include "sync/service.h"

#include <algorithm>
#include <boost/json.hpp>
#include <random>
#include <set>

#include "db/config_json.h"
#include "sync/local_feed.h"

namespace quiver::sync {
namespace json = boost::json;

namespace {

// Metadata keys (docs/sync.md, "Server metadata").
constexpr std::string_view kUid = "sync.uid";
constexpr std::string_view kEpoch = "sync.epoch";
constexpr std::string_view kHorizon = "sync.horizon";
// Set when an epoch came from a bump: replicas with no state in it are not judged (they had state in the old one).
constexpr std::string_view kEpochBumped = "sync.epoch_bumped";
std::string ReplicaKey(uint64_t replica) { return "sync.r." + Hex16(replica); }
std::string BindingKey(uint64_t replica) { return "sync.replica." + Hex16(replica); }
std::string GoneKey(std::string_view uid) { return "sync.gone." + std::string(uid); }

// A replica's state in one feed.
struct ReplicaState {
  uint64_t acked = 0;
  std::string epoch;  // the epoch `acked` was recorded in
  uint64_t seen = 0;
  uint64_t pull = 0;
  uint64_t rej_from = 0;  // the batch the rejections belong to: (rej_from, rej_to] in the replica's local seqs
  uint64_t rej_to = 0;
  uint64_t rej_horizon = 0;  // the horizon that batch was checked against
  json::array rej;      // [[id, reason], ...]

  static ReplicaState From(const std::optional<json::value>& v) {
    ReplicaState r;
    const json::object* o = v ? v->if_object() : nullptr;
    if (!o) return r;
    auto u64 = [&](std::string_view k) -> uint64_t {
      auto it = o->find(k);
      if (it == o->end()) return 0;
      if (auto p = it->value().if_uint64()) return *p;
      if (auto p = it->value().if_int64(); p && *p >= 0) return static_cast<uint64_t>(*p);
      return 0;
    };
    r.acked = u64("acked");
    r.seen = u64("seen");
    r.pull = u64("pull");
    r.rej_from = u64("rej_from");
    r.rej_to = u64("rej_to");
    r.rej_horizon = u64("rej_horizon");
    if (auto it = o->find("epoch"); it != o->end() && it->value().is_string()) r.epoch = std::string(it->value().get_string());
    if (auto it = o->find("rej"); it != o->end() && it->value().is_array()) r.rej = it->value().get_array();
    return r;
  }
  json::value ToJson() const {
    json::object o{{"acked", acked}, {"epoch", epoch},   {"seen", seen},
                   {"pull", pull},   {"rej_to", rej_to}, {"rej", rej}};
    if (rej_horizon) o["rej_horizon"] = rej_horizon;
    if (rej_from) o["rej_from"] = rej_from;
    return o;
  }
};

std::string MetaString(const std::optional<json::value>& v) {
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

thread_local int service_depth = 0;

}  // namespace

struct SyncService::Open {
  std::string uid;
  std::string name;
  std::shared_ptr<Feed> feed;
  std::string config_hash;
  std::mutex mu;  // serialises commits: pushes, epoch bumps, horizon moves
  std::string Epoch() const { return MetaString(feed->Meta(kEpoch)); }
};

SyncService::SyncService(FeedStore* store, SyncServiceOptions options) : store_(store), options_(std::move(options)) {
  if (!options_.random) {
    auto rd = std::make_shared<std::random_device>();
    options_.random = [rd] { return (uint64_t{(*rd)()} << 32) ^ (*rd)(); };
  }
}

SyncService::~SyncService() {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [uid, open] : feeds_) open->feed->SetListener({});
}

Id128 SyncService::NewId() {
  Id128 id;
  while (id.zero()) id = Id128{options_.random(), options_.random()};
  return id;
}

ServerClock SyncService::Clock() {
  ServerClock c;
  c.server_time_ms = store_->clock().PhysicalMs();
  c.server_hlc = std::max(store_->clock().last(), db::MakeHlc(c.server_time_ms, 0));
  return c;
}

std::optional<SyncResponse> SyncService::Authorize(const SyncRequest& request, std::string_view collection,
                                                   SyncAccess access) {
  if (!request.authorize) return std::nullopt;
  Status s = request.authorize(collection, access);
  if (s.ok()) return std::nullopt;
  return Error(403, "forbidden", "access", std::string(s.message()));
}

SyncResponse SyncService::Error(int status, std::string error, std::string reason, std::string message) {
  ErrorBody e;
  e.error = std::move(error);
  e.reason = std::move(reason);
  e.message = std::move(message);
  e.clock = Clock();
  if (status == 426) e.min_protocol = kProtocolVersion;
  return SyncResponse{status, "application/json", Encode(e)};
}

// --- Feeds ---

Result<std::shared_ptr<SyncService::Open>> SyncService::Touch(const std::string& name, const std::string& adopt_uid) {
  QUIVER_ASSIGN_OR_RETURN(std::shared_ptr<Feed> feed, store_->Get(name));
  std::string uid = MetaString(feed->Meta(kUid));
  if (uid.empty()) {
    // First use of a collection as a feed: give it an identity (the client's uid when it brings one).
    uid = adopt_uid.empty() ? Id128Text(NewId()) : adopt_uid;
    MetaChanges meta = {{std::string(kUid), json::value(uid)}, {std::string(kEpoch), json::value(Id128Text(NewId()))}};
    QUIVER_RETURN_IF_ERROR(feed->Commit({}, meta).status());
  }
  std::lock_guard<std::mutex> lock(mu_);
  auto& slot = feeds_[uid];
  if (!slot || slot->feed->identity() != feed->identity()) {
    // New to the service, or the collection under this uid was opened anew (a handle to a dropped one is stale).
    slot = std::make_shared<Open>();
    slot->uid = uid;
    slot->name = name;
    slot->feed = feed;
    slot->config_hash = local::ConfigHash(feed->config());
    feed->SetListener([this, uid](uint64_t) { OnCommit(uid); });
  }
  return slot;
}

Result<std::shared_ptr<SyncService::Open>> SyncService::FindByUid(std::string_view uid) {
  std::string name;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = feeds_.find(std::string(uid));
    if (it != feeds_.end()) name = it->second->name;
  }
  if (!name.empty()) {
    auto feed = store_->Get(name);
    if (feed.ok() && MetaString((*feed)->Meta(kUid)) == uid) return Touch(name, "");
  }
  for (const std::string& n : store_->Names()) {
    auto feed = store_->Get(n);
    if (feed.ok() && MetaString((*feed)->Meta(kUid)) == uid) return Touch(n, "");
  }
  return Status::NotFound("no collection with uid " + std::string(uid));
}

std::optional<SyncResponse> SyncService::Gone(std::string_view uid) {
  auto gone = store_->Meta(GoneKey(uid));
  if (!gone || !gone->is_object()) return std::nullopt;
  ErrorBody e;
  e.error = "collection_gone";
  e.message = "collection " + std::string(uid) + " was deleted";
  if (auto it = gone->get_object().find("deleted"); it != gone->get_object().end() && it->value().is_string()) {
    e.deleted = ParseStamp(it->value().get_string());
  }
  e.clock = Clock();
  return SyncResponse{409, "application/json", Encode(e)};
}

CollectionIdentity SyncService::Identity(Open& feed) {
  return CollectionIdentity{feed.uid, feed.name, feed.config_hash, std::nullopt};
}

uint64_t SyncService::HorizonLocked(Open& feed) {
  const uint64_t now = store_->clock().PhysicalMs();
  const uint64_t by_time = now > options_.retention_ms ? db::MakeHlc(now - options_.retention_ms, 0) : 0;
  const uint64_t stored = ParseHex16(MetaString(feed.feed->Meta(kHorizon))).value_or(0);
  return std::max(by_time, stored);
}

Status SyncService::BumpEpochLocked(Open& feed) {
  MetaChanges meta = {{std::string(kEpoch), json::value(Id128Text(NewId()))}, {std::string(kEpochBumped), json::value(true)}};
  return feed.feed->Commit({}, meta).status();
}

std::optional<SyncResponse> SyncService::CheckRegression(const Context& ctx, Open& feed,
                                                         const std::optional<Cursor>& cursor) {
  std::lock_guard<std::mutex> lock(feed.mu);
  const std::string epoch = feed.Epoch();
  const FeedHead head = feed.feed->Head();
  bool lost = cursor && Id128Text(cursor->epoch) == epoch && cursor->seq > head.last_seq;
  if (ctx.replica != 0 && ctx.push_cursor != 0) {
    // A replica whose pushes were acknowledged in this epoch never holds an ack the feed has not recorded.
    auto state = feed.feed->Meta(ReplicaKey(ctx.replica));
    const ReplicaState rs = ReplicaState::From(state);
    if (!state) {
      auto bumped = feed.feed->Meta(kEpochBumped);
      lost |= !(bumped && bumped->is_bool() && bumped->get_bool());
    } else {
      lost |= rs.epoch == epoch && ctx.push_cursor > rs.acked;
    }
  }
  if (!lost) return std::nullopt;
  // The client has seen more than the server holds: the server lost data (restored without the runbook's epoch
  // step). A new epoch makes every client resync and push again what it wrote.
  Status s = BumpEpochLocked(feed);
  if (!s.ok()) return Error(500, "internal", "", s.ToString());
  ErrorBody e;
  e.error = "resync_required";
  e.reason = "epoch_changed";
  e.message = "the server's feed lost continuity";
  e.snapshot = "/v1/collections/" + feed.uid + "/snapshot";
  e.clock = Clock();
  return SyncResponse{410, "application/json", Encode(e)};
}

void SyncService::OnCommit(const std::string& uid) {
  std::vector<Waiter> ready;
  {
    std::lock_guard<std::mutex> lock(wait_mu_);
    auto it = std::stable_partition(waiters_.begin(), waiters_.end(), [&](const Waiter& w) { return w.uid != uid; });
    std::move(it, waiters_.end(), std::back_inserter(ready));
    waiters_.erase(it, waiters_.end());
  }
  for (Waiter& w : ready) {
    if (service_depth > 0) {
      // Inside a handler of this service (a push's commit): answer after it returns, on the same thread.
      std::lock_guard<std::mutex> lock(wait_mu_);
      w.deadline_ms = 0;
      waiters_.push_back(std::move(w));
      continue;
    }
    w.done(Handle(w.request));
  }
}

size_t SyncService::ExpireWaits() {
  const uint64_t now = store_->clock().PhysicalMs();
  std::vector<Waiter> due;
  {
    std::lock_guard<std::mutex> lock(wait_mu_);
    auto it = std::stable_partition(waiters_.begin(), waiters_.end(), [&](const Waiter& w) { return w.deadline_ms > now; });
    std::move(it, waiters_.end(), std::back_inserter(due));
    waiters_.erase(it, waiters_.end());
  }
  for (Waiter& w : due) w.done(Handle(w.request));
  return due.size();
}

size_t SyncService::AnswerAllWaits() {
  std::vector<Waiter> due;
  {
    std::lock_guard<std::mutex> lock(wait_mu_);
    due = std::move(waiters_);
    waiters_.clear();
  }
  for (Waiter& w : due) w.done(Handle(w.request));
  return due.size();
}

size_t SyncService::parked() const {
  std::lock_guard<std::mutex> lock(wait_mu_);
  return waiters_.size();
}

// --- Requests ---

SyncResponse SyncService::Handle(const SyncRequest& request) {
  bool park = false;
  std::string uid;
  ++service_depth;
  SyncResponse r = Route(request, &park, &uid);
  --service_depth;
  if (service_depth == 0) ExpireWaits();  // answers waiters a commit of this request made ready
  return r;
}

void SyncService::HandleAsync(const SyncRequest& request, std::function<void(SyncResponse)> done) {
  bool park = false;
  std::string uid;
  ++service_depth;
  SyncResponse r = Route(request, &park, &uid);
  --service_depth;
  if (park) {
    uint64_t wait = 0;
    for (const auto& [k, v] : request.query) {
      if (k == "wait_ms") wait = std::min<uint64_t>(std::strtoull(v.c_str(), nullptr, 10), options_.max_wait_ms);
    }
    SyncRequest again = request;
    std::erase_if(again.query, [](const auto& kv) { return kv.first == "wait_ms"; });
    std::lock_guard<std::mutex> lock(wait_mu_);
    waiters_.push_back(Waiter{std::move(again), std::move(done), store_->clock().PhysicalMs() + wait, uid});
    return;
  }
  if (service_depth == 0) ExpireWaits();
  done(std::move(r));
}

SyncResponse SyncService::Route(const SyncRequest& request, bool* park, std::string* park_uid) {
  if (request.protocol != std::to_string(kProtocolVersion)) {
    return Error(426, "protocol", "", "X-Protocol " + request.protocol + " is not supported; this server speaks 1");
  }
  Context ctx;
  if (options_.authenticate) {
    auto who = options_.authenticate(request);
    if (!who.ok()) return Error(401, "unauthorized", "", std::string(who.status().message()));
    ctx.principal = *who;
  } else if (!request.principal.empty()) {
    ctx.principal = request.principal;
  } else if (!request.token.empty()) {
    ctx.principal = request.token;
  } else {
    return Error(401, "unauthorized", "", "a bearer token is required");
  }
  if (!request.replica.empty()) {
    auto r = ParseHex16(request.replica);
    if (!r || *r == 0) return Error(400, "invalid", "", "X-Replica: expected 16 lower-case hex digits");
    ctx.replica = *r;
  }
  if (!request.push_cursor.empty()) {
    const std::string& pc = request.push_cursor;
    if (pc.size() > 20 || !std::all_of(pc.begin(), pc.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return Error(400, "invalid", "", "X-Push-Cursor: expected a decimal number");
    }
    ctx.push_cursor = std::strtoull(pc.c_str(), nullptr, 10);
  }
  const std::string& path = request.path;
  const std::string& method = request.method;
  if (path == "/v1/replicas") {
    if (method != "POST") return Error(405, "method", "", method + " " + path);
    return RegisterReplica(ctx, request);
  }
  static constexpr std::string_view kBlobs = "/v1/blobs/";
  if (path.rfind(kBlobs, 0) == 0) {
    if (method != "GET") return Error(405, "method", "", method + " " + path);
    return Blob(request, std::string_view(path).substr(kBlobs.size()));
  }
  static constexpr std::string_view kByName = "/v1/collections/by-name/";
  if (path.rfind(kByName, 0) == 0) {
    if (method != "PUT") return Error(405, "method", "", method + " " + path);
    if (ctx.replica == 0) return Error(400, "invalid", "", "X-Replica is required");
    return PutCollection(ctx, std::string_view(path).substr(kByName.size()), request);
  }
  static constexpr std::string_view kCollections = "/v1/collections/";
  if (path.rfind(kCollections, 0) != 0) return Error(404, "not_found", "", "no such endpoint: " + path);
  std::string_view rest = std::string_view(path).substr(kCollections.size());
  const size_t slash = rest.find('/');
  const std::string uid(rest.substr(0, slash));
  const std::string action(slash == std::string_view::npos ? "" : rest.substr(slash + 1));
  if (!ParseId128(uid)) return Error(404, "not_found", "", "not a collection uid: " + uid);
  if (ctx.replica == 0) return Error(400, "invalid", "", "X-Replica is required");
  // The replica must be registered to this principal.
  auto binding = store_->Meta(BindingKey(ctx.replica));
  const std::string owner = binding && binding->is_object() && binding->get_object().contains("principal") &&
                                    binding->get_object().at("principal").is_string()
                                ? std::string(binding->get_object().at("principal").get_string())
                                : std::string();
  if (owner.empty()) return Error(403, "forbidden", "replica_unknown", "replica " + request.replica + " is not registered");
  if (owner != ctx.principal) {
    return Error(403, "forbidden", "replica_principal", "replica " + request.replica + " belongs to another principal");
  }
  if (action == "push" && method == "POST") {
    auto feed = FindByUid(uid);
    if (!feed.ok()) {
      if (Gone(uid)) {
        // Every point of a push to a deleted collection is rejected; the batch is acknowledged.
        auto push = DecodePushRequest(request.body);
        if (!push.ok()) return Error(400, "invalid", "", std::string(push.status().message()));
        PushResponse out;
        out.acked_local_seq = push->to_local_seq;
        for (const PointDelta& p : push->points) out.rejected.push_back(Rejection{p.id, "collection_gone", std::nullopt, ""});
        out.clock = Clock();
        return SyncResponse{200, "application/json", Encode(out)};
      }
      return Error(404, "not_found", "", std::string(feed.status().message()));
    }
    if (auto denied = Authorize(request, (*feed)->name, SyncAccess::kWrite)) return *denied;
    return Push(ctx, **feed, request);
  }
  if (method == "GET" && (action == "pull" || action == "snapshot" || action == "digest")) {
    if (auto gone = Gone(uid)) return *gone;
    auto feed = FindByUid(uid);
    if (!feed.ok()) return Error(404, "not_found", "", std::string(feed.status().message()));
    if (auto denied = Authorize(request, (*feed)->name, SyncAccess::kRead)) return *denied;
    if (action == "pull") {
      *park_uid = uid;
      return Pull(ctx, **feed, request, park);
    }
    if (action == "snapshot") {
      std::optional<Cursor> cursor;
      for (const auto& [k, v] : request.query) {
        if (k == "cursor") cursor = ParseCursor(v);
      }
      if (auto lost = CheckRegression(ctx, **feed, cursor)) return *lost;
      return Snapshot(ctx, **feed);
    }
    return Digest(ctx, **feed);
  }
  if (action.empty() && method == "DELETE") {
    if (auto gone = Gone(uid)) return *gone;
    auto feed = FindByUid(uid);
    if (!feed.ok()) return Error(404, "not_found", "", std::string(feed.status().message()));
    if (auto denied = Authorize(request, (*feed)->name, SyncAccess::kManage)) return *denied;
    return DeleteCollection(ctx, **feed);
  }
  return Error(404, "not_found", "", "no such endpoint: " + method + " " + path);
}

SyncResponse SyncService::RegisterReplica(const Context& ctx, const SyncRequest& request) {
  auto m = DecodeRegisterReplicaRequest(request.body);
  if (!m.ok()) return Error(400, "invalid", "", std::string(m.status().message()));
  if (ctx.replica != 0 && ctx.replica != m->replica) return Error(400, "invalid", "", "X-Replica differs from the body's replica");
  auto binding = store_->Meta(BindingKey(m->replica));
  if (binding && binding->is_object()) {
    auto it = binding->get_object().find("principal");
    if (it != binding->get_object().end() && it->value().is_string() && it->value().get_string() != ctx.principal) {
      return Error(409, "replica_taken", "", "replica " + Hex16(m->replica) + " belongs to another principal");
    }
  } else {
    json::object b{{"principal", ctx.principal}, {"client", m->client}, {"registered_ms", store_->clock().PhysicalMs()}};
    Status s = store_->SetMeta({{BindingKey(m->replica), json::value(std::move(b))}});
    if (!s.ok()) return Error(500, "internal", "", s.ToString());
  }
  RegisterReplicaResponse out;
  out.replica = m->replica;
  out.clock = Clock();
  return SyncResponse{200, "application/json", Encode(out)};
}

SyncResponse SyncService::PutCollection(const Context& ctx, std::string_view name, const SyncRequest& request) {
  auto m = DecodePutCollectionRequest(request.body);
  if (!m.ok()) return Error(400, "invalid", "", std::string(m.status().message()));
  // An old incarnation's uid never lands in a new collection (SYNC.md 2.11).
  if (store_->Meta(GoneKey(m->uid))) return *Gone(m->uid);
  auto config = db::ConfigFromJson(m->config, "config");
  if (!config.ok()) return Error(400, "invalid", "", std::string(config.status().message()));
  const std::string hash = local::ConfigHash(*config);
  bool created = false;
  auto existing = store_->Get(name);
  if (auto denied = Authorize(request, name, existing.ok() ? SyncAccess::kRead : SyncAccess::kCreate)) {
    return *denied;
  }
  if (!existing.ok()) {
    if (!existing.status().IsNotFound()) return Error(500, "internal", "", existing.status().ToString());
    auto made = store_->Create(name, *config);
    if (!made.ok() && made.status().code() != StatusCode::kAlreadyExists) {
      return Error(made.status().IsInvalidArgument() ? 400 : 500, "invalid", "", std::string(made.status().message()));
    }
    created = made.ok();
  }
  auto open = Touch(std::string(name), m->uid);
  if (!open.ok()) return Error(500, "internal", "", open.status().ToString());
  if ((*open)->config_hash != hash) {
    return Error(409, "name_conflict", "", "collection '" + std::string(name) + "' exists with another configuration");
  }
  PutCollectionResponse out;
  out.collection = Identity(**open);
  out.created = created && (*open)->uid == m->uid;
  out.clock = Clock();
  return SyncResponse{200, "application/json", Encode(out)};
}

SyncResponse SyncService::Push(const Context& ctx, Open& feed, const SyncRequest& request) {
  if (request.body.size() > options_.max_push_bytes) {
    return Error(413, "too_large", "", "push of " + std::to_string(request.body.size()) + " bytes exceeds " +
                                           std::to_string(options_.max_push_bytes));
  }
  auto m = DecodePushRequest(request.body);
  if (!m.ok()) return Error(400, "invalid", "", std::string(m.status().message()));
  if (m->replica != ctx.replica) return Error(400, "invalid", "", "push.replica differs from X-Replica");
  std::optional<Cursor> cursor;
  for (const auto& [k, v] : request.query) {
    if (k == "cursor") cursor = ParseCursor(v);
  }
  if (auto lost = CheckRegression(ctx, feed, cursor)) return *lost;

  std::lock_guard<std::mutex> lock(feed.mu);
  const std::string epoch = feed.Epoch();
  ReplicaState rs = ReplicaState::From(feed.feed->Meta(ReplicaKey(ctx.replica)));
  if (rs.epoch != epoch) rs = ReplicaState{};
  PushResponse out;
  auto server_state = [&](const PointId& id) { return feed.feed->Get(id); };
  auto add_rejection = [&](const PointId& id, const std::string& reason, std::string message) {
    out.rejected.push_back(Rejection{id, reason, std::nullopt, std::move(message)});
  };
  if (m->to_local_seq <= rs.acked && rs.acked != 0) {
    // Seen before (a retry after a lost response): the ack at once, with the rejections of that batch. A client
    // that crashed before settling the answer may cut the same local seqs into other batches, so the rejections
    // go to every batch within the recorded one, each for the points it carries.
    out.acked_local_seq = rs.acked;
    const bool within = m->from_local_seq >= rs.rej_from && m->to_local_seq <= rs.rej_to;
    // The horizon the batch was checked against, so the client judges its stale registers as the first time.
    out.horizon_hlc = within && rs.rej_horizon ? rs.rej_horizon : HorizonLocked(feed);
    if (within) {
      std::set<PointId> carried;
      for (const PointDelta& p : m->points) carried.insert(p.id);
      for (const json::value& r : rs.rej) {
        const json::array* pair = r.if_array();
        if (!pair || pair->size() != 2 || !(*pair)[1].is_string()) continue;
        std::optional<PointId> id;
        if (auto n = (*pair)[0].if_uint64()) id = PointId::Number(*n);
        if (auto n = (*pair)[0].if_int64(); n && *n >= 0) id = PointId::Number(static_cast<uint64_t>(*n));
        if ((*pair)[0].is_string()) {
          auto u = PointId::ParseUuid((*pair)[0].get_string());
          if (u.ok()) id = *u;
        }
        if (id && carried.count(*id)) add_rejection(*id, std::string((*pair)[1].get_string()), "");
      }
    }
  } else {
    const uint64_t now = store_->clock().PhysicalMs();
    const uint64_t limit = now + options_.max_drift_ms;
    if (db::HlcMillis(m->hlc) <= limit) store_->clock().Observe(m->hlc);
    const uint64_t horizon = HorizonLocked(feed);
    out.horizon_hlc = horizon;
    std::vector<PointDelta> accepted;
    json::array rej;
    for (PointDelta& p : m->points) {
      std::string reason, message;
      const std::vector<Stamp> stamps = p.Stamps();
      for (const Stamp& s : stamps) {
        if (s.replica != ctx.replica && reason.empty()) {
          reason = "forbidden";
          message = "a register stamped by replica " + Hex16(s.replica);
        }
      }
      if (reason.empty()) {
        Status v = feed.feed->Validate(p);
        if (!v.ok()) {
          reason = "invalid";
          message = std::string(v.message());
        }
      }
      for (const Stamp& s : stamps) {
        if (reason.empty() && db::HlcMillis(s.hlc) > limit) {
          reason = "clock_skew";
          message = "stamped " + std::to_string(db::HlcMillis(s.hlc) - now) + " ms ahead of the server";
        }
      }
      for (const Stamp& s : stamps) {
        if (reason.empty() && s.hlc < horizon) {
          reason = "stale_op";
          message = "stamped before the tombstone horizon";
        }
      }
      if (reason.empty()) {
        accepted.push_back(std::move(p));
      } else {
        add_rejection(p.id, reason, message);
        rej.push_back(json::array{p.id.is_uuid() ? json::value(p.id.ToString()) : json::value(p.id.number()), reason});
      }
    }
    rs.acked = std::max(rs.acked, m->to_local_seq);
    rs.epoch = epoch;
    rs.seen = now;
    rs.rej_from = m->from_local_seq;
    rs.rej_to = m->to_local_seq;
    rs.rej_horizon = horizon;
    rs.rej = std::move(rej);
    {
      std::lock_guard<std::mutex> plock(mu_);
      auto it = pulls_.find({feed.uid, ctx.replica});
      if (it != pulls_.end()) rs.pull = it->second.first;
    }
    MetaChanges meta = {{ReplicaKey(ctx.replica), rs.ToJson()}};
    auto committed = feed.feed->Commit(accepted, meta);
    if (!committed.ok()) {
      const int status = committed.status().IsInvalidArgument() ? 400 : 500;
      return Error(status, status == 400 ? "invalid" : "internal", "", committed.status().ToString());
    }
    out.acked_local_seq = rs.acked;
  }
  for (Rejection& r : out.rejected) {
    if (r.reason != "collection_gone") r.server = server_state(r.id);
  }
  out.clock = Clock();
  return SyncResponse{200, "application/json", Encode(out)};
}

SyncResponse SyncService::Pull(const Context& ctx, Open& feed, const SyncRequest& request, bool* park) {
  auto q = DecodePullQuery(request.query);
  if (!q.ok()) return Error(400, "invalid", "", std::string(q.status().message()));
  const std::string snapshot = "/v1/collections/" + feed.uid + "/snapshot";
  auto resync = [&](const std::string& reason, const std::string& message) {
    ErrorBody e;
    e.error = "resync_required";
    e.reason = reason;
    e.message = message;
    e.snapshot = snapshot;
    e.clock = Clock();
    return SyncResponse{410, "application/json", Encode(e)};
  };
  if (q->cursor.empty()) return resync("no_cursor", "start from the snapshot");
  const Cursor cursor = *ParseCursor(q->cursor);
  const Cursor since = q->since.empty() ? cursor : *ParseCursor(q->since);
  if (auto lost = CheckRegression(ctx, feed, cursor)) return *lost;
  const std::string epoch = feed.Epoch();
  if (Id128Text(cursor.epoch) != epoch) return resync("epoch_changed", "the feed has a new epoch");
  FeedHead head = feed.feed->Head();
  if (since.seq < head.min_valid_cursor) {
    return resync("cursor_too_old", "the cursor is older than the tombstone retention");
  }
  PageLimits limits;
  limits.limit = q->limit;
  limits.max_bytes = std::min<size_t>(q->max_bytes, options_.max_pull_bytes);
  limits.max_scan = std::max<size_t>(1000, 20 * q->limit);
  FeedPage page = feed.feed->Read(cursor.seq, since.seq, ctx.replica, limits);
  if (page.stalled) {
    // Changes that moved points are not durable: after a storage error they never will be until the next
    // write recovers the collection from its files; otherwise the next pull goes on.
    if (Status health = feed.feed->Health(); !health.ok()) {
      return Error(503, "unavailable", "storage",
                   "the collection is read-only after a storage error: " + std::string(health.message()));
    }
  }
  if (park && q->wait_ms > 0 && page.points.empty() && page.reached_end && page.next_seq == cursor.seq) {
    *park = true;
    return SyncResponse{};
  }
  uint64_t horizon, acked = 0;
  {
    std::lock_guard<std::mutex> lock(feed.mu);
    horizon = HorizonLocked(feed);
    const ReplicaState rs = ReplicaState::From(feed.feed->Meta(ReplicaKey(ctx.replica)));
    if (rs.epoch == epoch) acked = rs.acked;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    pulls_[{feed.uid, ctx.replica}] = {page.next_seq, store_->clock().PhysicalMs()};
  }
  PullResponse out;
  out.epoch = epoch;
  out.cursor = CursorText(Cursor{cursor.epoch, page.next_seq});
  out.has_more = !page.reached_end;
  out.horizon_hlc = horizon;
  out.acked_local_seq = acked;
  out.collection = Identity(feed);
  out.points = std::move(page.points);
  out.clock = Clock();
  return SyncResponse{200, "application/json", Encode(out)};
}

SyncResponse SyncService::Snapshot(const Context& ctx, Open& feed) {
  (void)ctx;
  FeedSnapshot snap = feed.feed->Snapshot();
  SnapshotManifest m;
  {
    std::lock_guard<std::mutex> lock(feed.mu);
    m.epoch = feed.Epoch();
    m.horizon_hlc = HorizonLocked(feed);
  }
  m.snapshot_seq = snap.head.last_seq;
  m.config = db::ConfigToJson(feed.feed->config());
  m.config_hash = feed.config_hash;
  m.uid = feed.uid;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Blobs stay served while recent manifests name them.
    std::map<std::string, BlobEntry> keep;
    for (const FeedImage& img : snap.images) {
      keep[img.sha256] = BlobEntry{img.bytes, feed.name};
      m.segments.push_back(SegmentRef{img.sha256, img.bytes->size(), img.points, "/v1/blobs/" + img.sha256});
    }
    for (auto& [sha, entry] : blobs_) {
      if (keep.size() >= snap.images.size() + 64) break;
      keep.emplace(sha, entry);
    }
    blobs_ = std::move(keep);
  }
  m.clock = Clock();
  return SyncResponse{200, "application/json", Encode(m)};
}

SyncResponse SyncService::Digest(const Context& ctx, Open& feed) {
  (void)ctx;
  DigestResponse out;
  {
    std::lock_guard<std::mutex> lock(feed.mu);
    out.epoch = feed.Epoch();
    out.horizon_hlc = HorizonLocked(feed);
  }
  FeedHead head;
  auto [sum, points] = feed.feed->Digest(out.horizon_hlc, &head);
  out.digest = sum;
  out.points = points;
  out.cursor = CursorText(Cursor{*ParseId128(out.epoch), head.last_seq});
  out.clock = Clock();
  return SyncResponse{200, "application/json", Encode(out)};
}

SyncResponse SyncService::DeleteCollection(const Context& ctx, Open& feed) {
  (void)ctx;
  const Stamp deleted{store_->clock().Now(), store_->replica_id()};
  json::object tomb{{"name", feed.name}, {"deleted", StampText(deleted)}, {"at_ms", store_->clock().PhysicalMs()}};
  Status s = store_->SetMeta({{GoneKey(feed.uid), json::value(std::move(tomb))}});
  if (s.ok()) s = store_->Drop(feed.name);
  if (!s.ok()) return Error(500, "internal", "", s.ToString());
  const std::string uid = feed.uid;
  {
    std::lock_guard<std::mutex> lock(mu_);
    feeds_.erase(uid);
  }
  return *Gone(uid);
}

SyncResponse SyncService::Blob(const SyncRequest& request, std::string_view sha256) {
  BlobEntry entry;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = blobs_.find(std::string(sha256));
    if (it == blobs_.end()) return Error(404, "not_found", "", "no blob " + std::string(sha256));
    entry = it->second;
  }
  if (auto denied = Authorize(request, entry.collection, SyncAccess::kRead)) return *denied;
  if (!request.share_blobs) return SyncResponse{200, "application/octet-stream", *entry.bytes};
  SyncResponse r(200, "application/octet-stream", "");
  r.shared_body = std::move(entry.bytes);
  return r;
}

// --- Administration ---

Status SyncService::CollectGarbage() {
  for (const std::string& name : store_->Names()) {
    auto feed = store_->Get(name);
    if (!feed.ok() || MetaString((*feed)->Meta(kUid)).empty()) continue;
    QUIVER_ASSIGN_OR_RETURN(std::shared_ptr<Open> open, Touch(name, ""));
    uint64_t horizon;
    {
      std::lock_guard<std::mutex> lock(open->mu);
      horizon = HorizonLocked(*open);
      // Recorded first: pushes validated from now on see at least this horizon.
      QUIVER_RETURN_IF_ERROR(open->feed->Commit({}, {{std::string(kHorizon), json::value(Hex16(horizon))}}).status());
    }
    QUIVER_RETURN_IF_ERROR(open->feed->CollectGarbage(horizon));
  }
  return Status::OK();
}

Status SyncService::ResetEpoch(std::string_view name) {
  QUIVER_ASSIGN_OR_RETURN(std::shared_ptr<Open> open, Touch(std::string(name), ""));
  std::lock_guard<std::mutex> lock(open->mu);
  return BumpEpochLocked(*open);
}

}  // namespace quiver::sync
