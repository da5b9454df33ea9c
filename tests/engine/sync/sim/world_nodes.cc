// The simulation's nodes: opening, crashing, backing up and restoring the server and the replicas
// (world_internal.h).
#include "engine/sync/sim/world_internal.h"

namespace quiver::sim::internal {

Status World::OpenServer() {
  DatabaseOptions o;
  o.replica_id = 0xFEED;
  o.wall_clock_ms = [this] { return now_; };
  o.durability = Durability::kSync;
  o.segment_points = 25;
  o.tombstone_retention_ms = profile_.retention;
  auto db = db::DatabaseCore::OpenStorage(o, server_.fault.get());
  if (!db.ok()) return db.status().WithContext("server open");
  server_.db = std::move(*db);
  server_.store = sync::NewLocalFeedStore(server_.db.get());
  sync::SyncServiceOptions so;
  so.retention_ms = profile_.retention;
  so.max_drift_ms = kMaxDriftMs;
  if (profile_.tiny_pages) so.max_push_bytes = 12000;  // above any one point the workload makes
  auto srng = std::make_shared<Rng>(rng_());
  so.random = [srng] { return (*srng)(); };
  so.authenticate = [this](const sync::SyncRequest& req) -> Result<std::string> {
    // Tokens are "r<index>:<generation>"; a replica's older generations expire.
    const size_t colon = req.token.find(':');
    if (req.token.size() < 3 || req.token[0] != 'r' || colon == std::string::npos) {
      return Status::InvalidArgument("bad token");
    }
    const int ri = std::stoi(req.token.substr(1, colon - 1));
    const uint64_t gen = std::stoull(req.token.substr(colon + 1));
    if (ri < 0 || ri >= int(replicas_.size()) || gen != valid_gen_[ri]) return Status::InvalidArgument("expired token");
    return "user" + std::to_string(ri % 2);
  };
  server_.service = std::make_unique<sync::SyncService>(server_.store.get(), so);
  server_.up = true;
  return Status::OK();
}

void World::StopServer() {
  server_.up = false;
  server_.fault->FailAt(1, true);  // a crash: nothing more reaches the storage
  server_.service.reset();
  server_.store.reset();
  server_.db.reset();
  server_.fault->Disarm();
}

std::string World::CrashServer() {
  ++report_.server_crashes;
  if (std::getenv("QUIVER_SYNC_TRACE")) fprintf(stderr, "[%llu] server crash\n", (unsigned long long)now_);
  StopServer();
  server_.mem->SimulateCrash(rng_() | 1);
  Status s = OpenServer();
  if (std::getenv("QUIVER_SYNC_TRACE") && ServerCollection()) {
    fprintf(stderr, "[%llu] server restarted at seq %llu\n", (unsigned long long)now_,
            (unsigned long long)ServerCollection()->feed_info().last_seq);
  }
  return s.ok() ? "" : "server reopen after a crash: " + s.ToString();
}

db::CollectionCore* World::ServerCollection() {
  if (!server_.up) return nullptr;
  auto c = server_.db->GetCollection(kCollection);
  return c.ok() ? &(*c)->core() : nullptr;
}

std::string World::ServerEpoch() {
  db::CollectionCore* c = ServerCollection();
  if (!c) return "";
  auto v = c->FeedMeta("sync.epoch");
  return v && v->is_string() ? std::string(v->get_string()) : "";
}

void World::TakeBackup() {
  if (std::getenv("QUIVER_SYNC_TRACE")) fprintf(stderr, "[%llu] server backup\n", (unsigned long long)now_);
  server_.backup.clear();
  auto names = server_.mem->List();
  for (const std::string& n : *names) {
    auto bytes = server_.mem->ReadFile(n);
    if (bytes.ok()) server_.backup[n] = *bytes;
  }
  db::CollectionCore* c = ServerCollection();
  server_.backup_seq = c ? c->feed_info().last_seq : 0;
}

std::set<std::tuple<PointId, std::string, Stamp>> World::ServerRegisters() {
  std::set<std::tuple<PointId, std::string, Stamp>> out;
  db::CollectionCore* c = ServerCollection();
  if (!c) return out;
  c->VisitPoints([&](const db::PointState& st, const db::Segment&) {
    if (!st.alive.zero()) out.emplace(st.id, "", st.alive);
    if (!st.payload_reset.zero()) out.emplace(st.id, "\x01", st.payload_reset);
    for (const db::KeyStamp& ks : st.key_stamps) out.emplace(st.id, "k" + ks.key, ks.stamp);
  });
  return out;
}

std::string World::RestoreBackup() {
  if (server_.backup.empty()) return "";
  ++report_.restores;
  if (std::getenv("QUIVER_SYNC_TRACE")) {
    fprintf(stderr, "[%llu] server restored from the backup at seq %llu\n", (unsigned long long)now_,
            (unsigned long long)server_.backup_seq);
  }
  const auto held_before = ServerRegisters();
  StopServer();
  server_.mem = std::make_unique<MemoryStorage>();
  for (const auto& [name, bytes] : server_.backup) {
    auto f = server_.mem->Create(name);
    if (!f.ok()) return "restore: " + f.status().ToString();
    (void)(*f)->Append(bytes);
    (void)(*f)->Sync();
    (void)(*f)->Close();
  }
  (void)server_.mem->SyncDir();
  server_.fault = std::make_unique<FaultInjectionStorage>(server_.mem.get());
  Status s = OpenServer();
  if (!s.ok()) return "server reopen after a restore: " + s.ToString();
  // What the restore lost no longer counts as merged: it comes back only if its author pushes it again.
  const auto held_after = ServerRegisters();
  for (const auto& reg : held_before) {
    if (!held_after.count(reg)) accepted_.erase(reg);
  }
  if (rng_.Chance(0.5) || !ServerCollection()) {
    // The runbook: a restored server gets a new epoch.
    if (ServerCollection()) {
      Status r = server_.service->ResetEpoch(kCollection);
      if (!r.ok()) return "reset epoch: " + r.ToString();
    }
    return "";
  }
  // Without the runbook: the most advanced replica talks to the server first; if it is ahead of the
  // restored state, the server must notice (regression detection) and move to a new epoch. Until it does,
  // the epoch's seqs may be handed out again for other changes, so cursors in it no longer say what a
  // replica holds (P4 skips it; the digest catches what slips through).
  restored_epochs_.insert(ServerEpoch());
  int best = -1;
  uint64_t best_cursor = 0;
  for (auto& r : replicas_) {
    auto c = r->db->GetCollection(kCollection);
    if (!c.ok()) continue;
    auto v = (*c)->core().FeedMeta("sync.cursor");
    const uint64_t cursor = v && v->is_uint64() ? v->get_uint64() : v && v->is_int64() ? uint64_t(v->get_int64()) : 0;
    if (best < 0 || cursor > best_cursor) {
      best = r->index;
      best_cursor = cursor;
    }
  }
  if (best < 0) return "";
  Replica& r = *replicas_[best];
  const std::string epoch_before = ServerEpoch();
  serve_only_ = best;
  const bool was_online = r.online;
  r.online = true;
  // A round still in flight may move the replica to another epoch (a snapshot it was fetching) or present
  // its cursor already: what counts is the state it is in when the probe round starts.
  if (std::string f = FinishRound(best); !f.empty()) return f;
  if (ServerEpoch() != epoch_before) {
    serve_only_ = -1;
    r.online = was_online;
    ++report_.regressions_detected;
    return "";
  }
  auto c = r.db->GetCollection(kCollection);
  if (!c.ok()) {
    serve_only_ = -1;
    r.online = was_online;
    return "";
  }
  auto cursor_meta = (*c)->core().FeedMeta("sync.cursor");
  best_cursor = cursor_meta && cursor_meta->is_uint64()  ? cursor_meta->get_uint64()
                : cursor_meta && cursor_meta->is_int64() ? uint64_t(cursor_meta->get_int64())
                                                         : 0;
  auto client_epoch = (*c)->core().FeedMeta("sync.epoch");
  const bool same_epoch = client_epoch && client_epoch->is_string() && client_epoch->get_string() == epoch_before;
  // Late copies of pushes made before the restore may have landed meanwhile and moved the feed on.
  const uint64_t head = ServerCollection() ? ServerCollection()->feed_info().last_seq : 0;
  const bool ahead = same_epoch && best_cursor > head;
  if (std::getenv("QUIVER_SYNC_TRACE")) {
    fprintf(stderr,
            "[%llu] restore without the runbook: probe replica %d (cursor %llu, restored feed %llu, now "
            "%llu)\n",
            (unsigned long long)now_, best, (unsigned long long)best_cursor,
            (unsigned long long)server_.backup_seq, (unsigned long long)head);
  }
  // The probe must reach the server (four dropped requests in a row would prove nothing).
  const double drop = drop_;
  drop_ = 0;
  const std::string f = RunRound(best, /*retries=*/3);
  drop_ = drop;
  serve_only_ = -1;
  r.online = was_online;
  if (!f.empty()) return f;
  if (ahead && ServerEpoch() == epoch_before) {
    // Late copies of requests sent before the restore may refill the feed up to the cursor during the probe
    // round, and then nothing tells the server it lost anything (the digest and P2 still judge the state).
    db::CollectionCore* c = ServerCollection();
    const uint64_t refilled = c ? c->feed_info().last_seq : 0;
    if (refilled < best_cursor) {
      return "regression not detected: replica " + std::to_string(best) + " at cursor " +
             std::to_string(best_cursor) + " against a restored feed at " + std::to_string(head);
    }
    return "";
  }
  if (ahead) ++report_.regressions_detected;
  return "";
}

Status World::OpenReplica(Replica& r) {
  DatabaseOptions o;
  o.replica_id = r.id;
  auto clock = r.clock;
  o.wall_clock_ms = [this, clock] { return clock->Now(now_); };
  o.durability = Durability::kSync;
  o.segment_points = 25;
  o.tombstone_retention_ms = profile_.retention;
  auto db = db::DatabaseCore::OpenStorage(o, r.fault.get());
  if (!db.ok()) return db.status().WithContext("replica open");
  r.db = std::move(*db);
  if (!r.db->CollectionExists(kCollection)) {
    CollectionConfig c;
    c.vectors[""] = VectorParams{profile_.dim, Distance::kEuclid, IndexKind::kHnsw, std::nullopt, std::nullopt};
    c.sparse_vectors["s"] = SparseVectorParams{};
    c.hnsw.m = 4;
    c.hnsw.ef_construct = 16;
    QUIVER_RETURN_IF_ERROR(r.db->CreateCollection(kCollection, c));
  }
  auto col = *r.db->GetCollection(kCollection);
  Replica* rp = &r;
  col->core().SetOpListener([this, rp](std::span<const db::Op> ops) {
    for (const db::Op& op : ops) {
      if (op.stamp.hlc <= rp->max_seen && failure_.empty()) {
        failure_ = "P5: replica " + std::to_string(rp->index) + " stamped " + op.stamp.ToString() +
                   " after seeing " + std::to_string(rp->max_seen >> 16) + "." + std::to_string(rp->max_seen & 0xFFFF);
      }
      rp->pending.push_back(op);
      if (std::getenv("QUIVER_SYNC_TRACE")) {
        fprintf(stderr, "[%llu] r%d op %s %s %s\n", (unsigned long long)now_, rp->index,
                std::string(db::OpKindName(op.kind)).c_str(), op.id.ToString().c_str(),
                sync::StampText(op.stamp).c_str());
      }
    }
    return Status::OK();
  });
  sync::SyncClientOptions so;
  so.collections = {kCollection};
  so.client = "sim";
  so.max_drift_ms = kMaxDriftMs;
  auto crng = std::make_shared<Rng>((*r.rng)());
  so.random = [crng] { return (*crng)(); };
  so.monotonic_ms = [this] { return now_; };
  const int ri = r.index;
  so.get_token = [this, ri](bool refresh) -> Result<std::string> {
    (void)refresh;
    return "r" + std::to_string(ri) + ":" + std::to_string(valid_gen_[ri]);
  };
  so.on_conflict = [crng](const sync::Conflict&) {
    return (*crng)() % 2 ? sync::Resolution::kKeepServer : sync::Resolution::kReapplyLocal;
  };
  so.on_rewrite = [this, rp](const std::string&, const PointDelta& withdrawn, const PointDelta& written) {
    if (std::getenv("QUIVER_SYNC_TRACE")) {
      fprintf(stderr, "[%llu] r%d rewrite: withdrawn %s written %s\n", (unsigned long long)now_, rp->index,
              Canonical(withdrawn, 0).c_str(), Canonical(written, 0).c_str());
    }
    // A register the server merged once stays in the oracle: it lost to a newer one there (so it changes no
    // outcome), or a restore brought back the state it belongs to (FinalChecks settles what the horizon
    // kept from coming back).
    PointDelta never = withdrawn;
    auto merged = [&](const std::string& reg, const Stamp& s) { return accepted_.count({withdrawn.id, reg, s}) > 0; };
    if (never.del && merged("", *never.del)) never.del.reset();
    if (never.vec && merged("", never.vec->ts)) never.vec.reset();
    if (never.reset && merged("\x01", *never.reset)) never.reset.reset();
    std::erase_if(never.fields, [&](const sync::FieldRegister& f) { return merged("k" + f.key, f.ts); });
    oracle_.Withdraw(never);
    oracle_.Add(written);
    // The replica's earlier writes of the same registers that it had replaced before pushing them were never
    // sent: withdrawing the later write must not bring them back. What the replica holds now (the server's
    // register, kept) stays.
    auto c = rp->db->GetCollection(kCollection);
    std::map<std::string, Stamp> limit;
    if (withdrawn.del) limit[""] = *withdrawn.del;
    if (withdrawn.vec) limit[""] = withdrawn.vec->ts;
    if (withdrawn.reset) limit["\x01"] = *withdrawn.reset;
    for (const sync::FieldRegister& f : withdrawn.fields) limit["k" + f.key] = f.ts;
    std::map<std::string, Stamp> held;
    (*c)->core().VisitPoint(withdrawn.id, [&](const db::PointState& st, const db::Segment&) {
      held[""] = st.alive;
      held["\x01"] = st.payload_reset;
      for (const db::KeyStamp& ks : st.key_stamps) held["k" + ks.key] = ks.stamp;
    });
    oracle_.WithdrawIf([&](const PointId& id, const std::string& reg, const Stamp& s) {
      if (id != withdrawn.id || s.replica != rp->id) return false;
      if (accepted_.count({id, reg, s})) return false;  // it did leave: the server merged it
      auto it = limit.find(reg);
      // A reset the replica wrote also hid its older key writes.
      auto reset = limit.find("\x01");
      const bool by_reset = reg[0] == 'k' && reset != limit.end() && s < reset->second;
      if (!by_reset && (it == limit.end() || s > it->second)) return false;
      auto h = held.find(reg);
      return h == held.end() || h->second != s;
    });
  };
  so.on_clock_rewind = [this, rp](uint64_t floor) {
    auto c = rp->db->GetCollection(kCollection);
    oracle_.WithdrawAbove(rp->id, floor, [&](const PointId& id, const std::string& reg, const Stamp& s) {
      bool held = false;
      (*c)->core().VisitPoint(id, [&](const db::PointState& st, const db::Segment&) {
        if (reg.empty()) held = st.alive == s;
        else if (reg == "\x01") held = st.payload_reset == s;
        else {
          for (const db::KeyStamp& ks : st.key_stamps) held |= "k" + ks.key == reg && ks.stamp == s;
        }
      });
      return held;
    });
  };
  if (profile_.tiny_pages) {
    so.pull_limit = r.rng->Between(1, 3);
    so.pull_max_bytes = r.rng->Between(150, 900);
    so.max_push_bytes = r.rng->Between(300, 30000);  // some above the server's limit: 413, halved
  }
  if (profile_.long_poll) so.wait_ms = 2000;
  // Debugging: without the digest's safety net a divergence shows as a P2 failure instead of a resync.
  if (std::getenv("QUIVER_SYNC_NO_DIGEST")) so.check_digest = false;
  r.client = std::make_unique<sync::SyncClient>(r.db.get(), r.transport.get(), so);
  r.max_seen = MaxStamp(r);
  return Status::OK();
}

uint64_t World::MaxStamp(Replica& r) {
  uint64_t m = 0;
  auto c = r.db->GetCollection(kCollection);
  if (!c.ok()) return 0;
  (*c)->core().VisitPoints([&](const db::PointState& st, const db::Segment&) {
    m = std::max({m, st.alive.hlc, st.payload_reset.hlc});
    for (const db::KeyStamp& ks : st.key_stamps) m = std::max(m, ks.stamp.hlc);
  });
  return m;
}

void World::AddStats(Replica& r) {
  if (!r.client) return;
  const sync::SyncStats& s = r.client->stats();
  report_.rounds += s.rounds;
  report_.resyncs += s.resyncs;
  report_.rejections += s.rejected_points;
  report_.clock_repairs += s.clock_repairs;
  report_.digest_mismatches += s.digest_mismatches;
}

std::string World::CrashReplica(Replica& r) {
  ++report_.client_crashes;
  if (std::getenv("QUIVER_SYNC_TRACE")) fprintf(stderr, "[%llu] r%d crash\n", (unsigned long long)now_, r.index);
  AddStats(r);
  r.fault->FailAt(1, true);
  r.client.reset();
  r.db.reset();
  r.running = false;
  r.mem->SimulateCrash(rng_() | 1);
  r.fault->Disarm();
  Status s = OpenReplica(r);
  if (!s.ok()) return "replica " + std::to_string(r.index) + " reopen: " + s.ToString();
  return CheckCursorBehindData(r);
}

uint64_t World::ServerHorizon() {
  db::CollectionCore* c = ServerCollection();
  const uint64_t by_time = now_ > profile_.retention ? db::MakeHlc(now_ - profile_.retention, 0) : 0;
  if (!c) return by_time;
  auto v = c->FeedMeta("sync.horizon");
  const uint64_t stored = v && v->is_string() ? sync::ParseHex16(v->get_string()).value_or(0) : 0;
  return std::max(by_time, stored);
}

void World::CheckFaults() {
  for (auto& r : replicas_) {
    if (r->fault && r->fault->failed() && !in_crash_) {
      in_crash_ = true;
      pending_crash_.push_back(r->index);
      in_crash_ = false;
    }
  }
}

std::string World::HandlePendingCrashes() {
  while (!pending_crash_.empty()) {
    const int ri = pending_crash_.back();
    pending_crash_.pop_back();
    if (!replicas_[ri]->fault->failed()) continue;
    std::string f = CrashReplica(*replicas_[ri]);
    if (!f.empty()) return f;
  }
  if (server_.fault->failed()) return CrashServer();
  return "";
}

}  // namespace quiver::sim::internal
