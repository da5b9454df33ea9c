#include "sync/client.h"

#include "sync/client_round.h"

namespace quiver::sync {

// ---- The round: requests, registration and identity, anti-entropy, deleted collections ----

void SyncClient::Round::Post(std::function<void()> step) {
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

void SyncClient::Round::Finish(Status s) {
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

SyncRequest SyncClient::Round::NewRequest(std::string method, std::string path) {
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

void SyncClient::Round::Send(SyncRequest request, std::function<void(SyncResponse&, uint64_t rtt_ms)> on) {
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

Status SyncClient::Round::Unexpected(const SyncResponse& r, const std::string& what) {
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

void SyncClient::Round::ObserveServer(const ServerClock& sc, uint64_t rtt_ms) {
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

void SyncClient::Round::StartCollection() {
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

void SyncClient::Round::NextCollection() {
  ++index;
  col.reset();
  StartCollection();
}

void SyncClient::Round::Register(std::function<void()> then) {
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

void SyncClient::Round::Identify() {
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

void SyncClient::Round::AfterIdentify() {
  if (MetaStr(core(), kEpoch).empty() || !core().FeedMeta(kCursor) || !MetaStr(core(), kResync).empty()) {
    return Resync();
  }
  Push();
}

std::string SyncClient::Round::UidPath(const std::string& action) {
  return "/v1/collections/" + MetaStr(core(), kUid) + (action.empty() ? "" : "/" + action);
}

void SyncClient::Round::AfterCatchUp() {
  if (wait_ms > 0) return Pull(true);
  NextCollection();
}

bool SyncClient::Round::OutboxEmpty() {
  const uint64_t from = MetaU64(core(), kPushCursor);
  const uint64_t me = self();
  bool dirty = false;
  core().ScanFeed(std::max(from, c->clean_to_[name]), [&](uint64_t, const db::PointState& st, const db::Segment&) {
    dirty = InOutbox(st, from, me);
    return !dirty;
  });
  return !dirty;
}

void SyncClient::Round::CheckDigest() {
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

void SyncClient::Round::DropGone() {
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

