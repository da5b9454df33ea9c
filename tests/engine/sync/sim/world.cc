// The simulation's network, steps and run (world_internal.h).
#include "engine/sync/sim/world_internal.h"

namespace quiver::sim {
namespace internal {

Profile MakeProfile(Rng& rng) {
  Profile p;
  p.replicas = static_cast<int>(rng.Between(3, 8));
  p.steps = static_cast<int>(rng.Between(100, 260));
  p.ids = static_cast<int>(rng.Between(6, 28));
  p.keys = static_cast<int>(rng.Between(2, 5));
  p.drop = rng.Pick(std::vector<double>{0, 0.03, 0.15});
  p.dup = rng.Pick(std::vector<double>{0, 0.1, 0.3});
  p.max_delay = rng.Pick(std::vector<uint64_t>{20, 400, 3000});
  p.client_crash = rng.Pick(std::vector<double>{0, 0.01, 0.03});
  p.server_crash = rng.Pick(std::vector<double>{0, 0.004, 0.015});
  p.faults = rng.Chance(0.5);
  p.skew = rng.Chance(0.3);
  p.clock_events = rng.Chance(0.3);
  p.gc = rng.Chance(0.25);
  if (p.gc) p.retention = rng.Between(10, 40) * kMinute;
  p.restores = rng.Chance(0.2);
  p.epoch_resets = rng.Chance(0.2);
  p.tiny_pages = rng.Chance(0.25);
  p.tokens = rng.Chance(0.3);
  p.long_poll = rng.Chance(0.25);
  p.big_payloads = rng.Chance(0.1);
  return p;
}

void SimTransport::Send(sync::SyncRequest request, std::function<void(Result<sync::SyncResponse>)> done) {
  w_->SendRequest(replica_, std::move(request), std::move(done));
}

void World::SendRequest(int ri, sync::SyncRequest request, std::function<void(Result<sync::SyncResponse>)> done) {
  ++report_.messages;
  Replica& r = *replicas_[ri];
  auto call = std::make_shared<Call>();
  call->done = std::move(done);
  uint64_t wait = 0;
  for (const auto& [k, v] : request.query) {
    if (k == "wait_ms") wait = std::stoull(v);
  }
  Schedule(wait + 20 * kSecond, [call] {
    if (call->answered) return;
    call->answered = true;
    call->done(Status::IOError("timed out"));
  });
  if (!r.online || rng_.Chance(drop_)) {
    ++report_.dropped;
    return;
  }
  int copies = 1;
  if (rng_.Chance(dup_)) {
    copies += static_cast<int>(rng_.Between(1, 2));
    ++report_.duplicated;
  }
  auto shared = std::make_shared<sync::SyncRequest>(std::move(request));
  for (int i = 0; i < copies; ++i) {
    Schedule(Delay() + (i ? rng_.Below(5 * kSecond) : 0), [this, ri, shared, call] { Deliver(ri, *shared, call); });
  }
}
void World::Deliver(int ri, const sync::SyncRequest& request, std::shared_ptr<Call> call) {
  if (!server_.up) return;
  if (serve_only_ >= 0 && serve_only_ != ri) return;
  if (const char* trace = std::getenv("QUIVER_SYNC_TRACE")) {
    fprintf(stderr, "[%llu] r%d -> %s %s push_cursor=%s %s\n", (unsigned long long)now_, ri, request.method.c_str(),
            request.path.c_str(), request.push_cursor.c_str(), request.body.substr(0, std::atoi(trace)).c_str());
    for (const auto& [k, v] : request.query) fprintf(stderr, "    %s=%s\n", k.c_str(), v.c_str());
  }
  server_.service->HandleAsync(request, [this, ri, call, request](sync::SyncResponse resp) {
    if (resp.status == 200 && request.method == "POST" && request.path.ends_with("/push"))
      NoteAccepted(request, resp);
    if (const char* trace = std::getenv("QUIVER_SYNC_TRACE")) {
      fprintf(stderr, "[%llu] r%d <- %d %s\n", (unsigned long long)now_, ri, resp.status,
              resp.body.substr(0, std::atoi(trace)).c_str());
    }
    if (!replicas_[ri]->online || rng_.Chance(drop_)) {
      ++report_.dropped;
      return;
    }
    Schedule(Delay(), [call, resp = std::move(resp)] {
      if (call->answered) return;
      call->answered = true;
      call->done(resp);
    });
  });
}
void World::NoteAccepted(const sync::SyncRequest& request, const sync::SyncResponse& resp) {
  auto push = sync::DecodePushRequest(request.body);
  auto answer = sync::DecodePushResponse(resp.body);
  if (!push.ok() || !answer.ok()) return;
  std::set<PointId> rejected;
  for (const sync::Rejection& r : answer->rejected) rejected.insert(r.id);
  for (const PointDelta& d : push->points) {
    if (rejected.count(d.id)) continue;
    if (d.del) accepted_.emplace(d.id, "", *d.del);
    if (d.vec) accepted_.emplace(d.id, "", d.vec->ts);
    if (d.reset) accepted_.emplace(d.id, "\x01", *d.reset);
    for (const sync::FieldRegister& f : d.fields) accepted_.emplace(d.id, "k" + f.key, f.ts);
  }
}
void World::RunUntil(uint64_t t) {
  while (!events_.empty() && events_.begin()->first <= t) {
    auto it = events_.begin();
    now_ = std::max(now_, it->first);
    auto fn = std::move(it->second);
    events_.erase(it);
    fn();
    if (server_.up) server_.service->ExpireWaits();
    if (const char* w = std::getenv("QUIVER_SYNC_WATCH"); w && ServerCollection()) {
      std::string now_state = "<none>";
      ServerCollection()->VisitPoint(
          PointId::Number(std::atoi(w)), [&](const db::PointState& st, const db::Segment&) {
            now_state = (st.deleted ? "deleted " : "alive ") + sync::StampText(st.alive);
          });
      static std::string last_o;
      std::string o = oracle_.Dump(PointId::Number(std::atoi(w)));
      if (o != last_o) fprintf(stderr, "[%llu] WATCH oracle point %s: %s\n", (unsigned long long)now_, w, o.c_str());
      last_o = o;
      static std::string last;
      if (now_state != last)
        fprintf(stderr, "[%llu] WATCH server point %s: %s\n", (unsigned long long)now_, w,
                now_state.c_str());
      last = now_state;
      if (const char* wr = std::getenv("QUIVER_SYNC_WATCH_R")) {
        Replica& rr = *replicas_[std::atoi(wr)];
        std::string rs = "<none>";
        if (rr.db) {
          if (auto rc = rr.db->GetCollection(kCollection); rc.ok()) {
            (*rc)->core().VisitPoint(
                PointId::Number(std::atoi(w)), [&](const db::PointState& st, const db::Segment&) {
                  rs = (st.deleted ? "deleted " : "alive ") + sync::StampText(st.alive);
                });
            auto since = (*rc)->core().FeedMeta("sync.since");
            rs += " since " + (since ? boost::json::serialize(*since) : std::string("-"));
          }
        }
        static std::string last_r;
        if (rs != last_r)
          fprintf(stderr, "[%llu] WATCH r%s point %s: %s\n", (unsigned long long)now_, wr, w, rs.c_str());
        last_r = rs;
      }
    }
    CheckFaults();
  }
  now_ = std::max(now_, t);
  if (server_.up) server_.service->ExpireWaits();
}
boost::json::value World::RandomValue(Rng& rng) {
  switch (rng.Below(5)) {
    case 0:
      return json::value(static_cast<int64_t>(rng.Below(100)));
    case 1:
      return json::value("s" + std::to_string(rng.Below(50)));
    case 2:
      return json::value(rng.Chance(0.5));
    case 3:
      return json::array{static_cast<int64_t>(rng.Below(5)), "x"};
    default:
      if (profile_.big_payloads && rng.Chance(0.5)) return json::value(std::string(rng.Between(300, 3000), 'z'));
      return json::object{{"n", static_cast<int64_t>(rng.Below(9))}};
  }
}
std::string World::DoWrite(Replica& r) {
  Rng& rng = *r.rng;
  auto c = r.db->GetCollection(kCollection);
  if (!c.ok()) return "";
  Collection& col = **c;
  r.max_seen = MaxStamp(r);
  r.pending.clear();
  std::vector<PointId> ids;
  const int n = static_cast<int>(rng.Between(1, 3));
  for (int i = 0; i < n; ++i) ids.push_back(PointId::Number(rng.Below(profile_.ids)));
  Status s;
  const uint64_t kind = rng.Below(10);
  if (kind < 4) {
    std::vector<PointInput> points;
    for (const PointId& id : ids) {
      PointInput p;
      p.id = id;
      std::vector<float> v(profile_.dim);
      for (float& x : v) x = float(rng.Below(20000)) / 100.0f - 100.0f;
      p.vectors[""] = v;
      if (rng.Chance(0.5)) {
        // A sparse vector: part of the same vectors register.
        std::map<uint32_t, float> entries;  // unique indices, given in any order
        for (int k = 0; k < int(rng.Between(1, 4)); ++k) {
          entries[uint32_t(rng.Below(50))] = float(rng.Below(200)) / 10.0f - 10.0f;
        }
        SparseVector sv;
        for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
          sv.indices.push_back(it->first);
          sv.values.push_back(it->second);
        }
        p.sparse_vectors["s"] = std::move(sv);
      }
      json::object payload;
      for (int k = 0; k < int(rng.Below(3)); ++k) payload[Key(rng)] = RandomValue(rng);
      p.payload = json::serialize(payload);
      points.push_back(std::move(p));
    }
    s = col.Upsert(points);
  } else if (kind < 6) {
    s = col.Delete(PointsSelector::Ids(ids)).status();
  } else if (kind < 8) {
    json::object payload;
    payload[Key(rng)] = RandomValue(rng);
    if (rng.Chance(0.3)) payload[Key(rng)] = RandomValue(rng);
    s = col.SetPayload(PointsSelector::Ids(ids), json::serialize(payload)).status();
  } else if (kind == 8) {
    if (rng.Chance(0.5)) {
      s = col.DeletePayloadKeys(PointsSelector::Ids(ids), {Key(rng)}).status();
    } else {
      json::object payload;
      payload[Key(rng)] = RandomValue(rng);
      s = col.OverwritePayload(PointsSelector::Ids(ids), json::serialize(payload)).status();
    }
  } else {
    s = col.ClearPayload(PointsSelector::Ids(ids)).status();
  }
  std::vector<db::Op> ops = std::move(r.pending);
  r.pending.clear();
  if (std::getenv("QUIVER_SYNC_TRACE")) {
    fprintf(stderr, "[%llu] r%d write: %s\n", (unsigned long long)now_, r.index, s.ToString().c_str());
  }
  if (s.ok()) {
    for (const db::Op& op : ops) oracle_.AddOp(op);
    report_.ops += ops.size();
    return "";
  }
  if (!r.fault->failed()) return "";  // NotFound for a point that does not exist: nothing written
  // The storage failed mid-write: the replica crashes. An op counts if it survived (its stamp is in the state).
  std::string f = CrashReplica(r);
  if (!f.empty()) return f;
  auto rc = r.db->GetCollection(kCollection);
  for (const db::Op& op : ops) {
    bool survived = false;
    (*rc)->core().VisitPoint(op.id, [&](const db::PointState& st, const db::Segment&) {
      survived = st.alive == op.stamp || st.payload_reset == op.stamp;
      for (const db::KeyStamp& ks : st.key_stamps) survived |= ks.stamp == op.stamp;
    });
    if (survived) {
      oracle_.AddOp(op);
      ++report_.ops;
    }
  }
  return "";
}
void World::StartRound(Replica& r) {
  if (!r.client || r.running) return;
  r.running = true;
  Replica* rp = &r;
  sync::SyncClient* client = r.client.get();
  r.client->Sync([this, rp, client](Status s) {
    if (rp->client.get() != client) return;
    rp->running = false;
    rp->last_status = s;
    rp->next_round_at = now_ + client->RetryDelayMs();
  });
}
std::string World::FinishRound(int ri) {
  Replica& r = *replicas_[ri];
  uint64_t guard = 0;
  while (r.running && ++guard < 100000) {
    if (events_.empty()) {
      RunUntil(now_ + kSecond);
    } else {
      RunUntil(events_.begin()->first);
    }
    std::string f = HandlePendingCrashes();
    if (!f.empty()) return f;
    if (!failure_.empty()) return failure_;
  }
  if (r.running) return "P9: a round of replica " + std::to_string(ri) + " never ended";
  return "";
}
std::string World::RunRound(int ri, int retries) {
  Replica& r = *replicas_[ri];
  for (int attempt = 0; attempt <= retries; ++attempt) {
    std::string f = FinishRound(ri);
    if (!f.empty()) return f;
    StartRound(r);
    f = FinishRound(ri);
    if (!f.empty()) return f;
    if (r.last_status.ok()) return "";
    if (verbose_) fprintf(stderr, "  replica %d round failed: %s\n", ri, r.last_status.ToString().c_str());
    RunUntil(now_ + std::max<uint64_t>(r.client->RetryDelayMs(), 10));
  }
  return "";
}

std::string World::Step(int step) {
  (void)step;
  // Time moves on.
  uint64_t advance = rng_.Between(10, 2500);
  if (profile_.gc && rng_.Chance(0.05)) advance += profile_.retention / 4;
  RunUntil(now_ + advance);
  if (std::string f = HandlePendingCrashes(); !f.empty()) return f;
  if (!failure_.empty()) return failure_;
  for (auto& r : replicas_) {
    if (!r->online && now_ >= r->offline_until) r->online = true;
  }
  const uint64_t action = rng_.Below(100);
  Replica& r = *replicas_[rng_.Below(replicas_.size())];
  if (action < 38) {
    if (profile_.faults && rng_.Chance(profile_.client_crash * 3)) r.fault->FailAt(rng_.Between(1, 12), true);
    return DoWrite(r);
  }
  if (action < 70) {
    if (now_ >= r.next_round_at) {
      if (profile_.faults && rng_.Chance(profile_.client_crash * 3)) r.fault->FailAt(rng_.Between(1, 30), true);
      StartRound(r);
    }
    return "";
  }
  if (action < 74) {
    if (rng_.Chance(profile_.client_crash * 25)) return CrashReplica(r);
    return "";
  }
  if (action < 77) {
    if (rng_.Chance(profile_.server_crash * 25)) {
      if (profile_.faults && rng_.Chance(0.5)) {
        server_.fault->FailAt(rng_.Between(1, 10), true);
        return "";  // fails during a later request; handled as a crash then
      }
      return CrashServer();
    }
    return "";
  }
  if (action < 80) {
    // A partition: the replica is unreachable for a while (in GC runs, sometimes longer than the retention).
    if (rng_.Chance(0.5)) {
      r.online = false;
      uint64_t span = rng_.Between(5, 120) * kSecond;
      if (profile_.gc && rng_.Chance(0.3)) span = profile_.retention + rng_.Below(profile_.retention);
      r.offline_until = now_ + span;
    }
    return "";
  }
  if (action < 84) {
    if (profile_.clock_events) {
      switch (rng_.Below(4)) {
        case 0:
          r.clock->offset -= static_cast<int64_t>(rng_.Between(1, 30) * kMinute);  // jumps back
          break;
        case 1:
          r.clock->frozen_at = r.clock->Now(now_);
          r.clock->frozen = !r.clock->frozen;
          break;
        case 2:
          r.clock->drift = (double(rng_.Below(2001)) - 1000.0) / 100000.0;  // up to 1% fast or slow
          break;
        default:
          r.clock->offset += static_cast<int64_t>(rng_.Between(1, 10) * kMinute);
          break;
      }
    }
    return "";
  }
  if (action < 87) {
    if (profile_.gc && server_.up) {
      ++report_.gc_runs;
      Status s = server_.service->CollectGarbage();
      if (!s.ok() && !server_.fault->failed()) return "server GC: " + s.ToString();
      if (server_.fault->failed()) return CrashServer();
    }
    return "";
  }
  if (action < 90) {
    if (profile_.restores && server_.up) {
      if (server_.backup.empty() || rng_.Chance(0.5)) {
        TakeBackup();
      } else {
        return RestoreBackup();
      }
    }
    return "";
  }
  if (action < 92) {
    if (profile_.epoch_resets && server_.up && ServerCollection()) {
      ++report_.epoch_resets;
      Status s = server_.service->ResetEpoch(kCollection);
      if (!s.ok() && !server_.fault->failed()) return "reset epoch: " + s.ToString();
    }
    return "";
  }
  if (action < 94) {
    if (profile_.tokens) ++valid_gen_[r.index];  // the replica's token expires
    return "";
  }
  return "";
}

RunReport World::Run() {
  server_.mem = std::make_unique<MemoryStorage>();
  server_.fault = std::make_unique<FaultInjectionStorage>(server_.mem.get());
  drop_ = profile_.drop;
  dup_ = profile_.dup;
  if (Status s = OpenServer(); !s.ok()) {
    report_.failure = s.ToString();
    return report_;
  }
  valid_gen_.assign(profile_.replicas, 0);
  for (int i = 0; i < profile_.replicas; ++i) {
    auto r = std::make_unique<Replica>();
    r->index = i;
    r->id = 0x1000 + uint64_t(i) * 0x10001 + (seed_ & 0xFF) * 0x1000000;
    r->rng = std::make_unique<Rng>(rng_());
    r->mem = std::make_unique<MemoryStorage>();
    r->fault = std::make_unique<FaultInjectionStorage>(r->mem.get());
    r->transport = std::make_unique<SimTransport>(this, i);
    if (profile_.skew && rng_.Chance(0.5)) {
      r->clock->offset = static_cast<int64_t>(rng_.Between(1, 3) * kHour) * (rng_.Chance(0.5) ? 1 : -1);
    } else {
      r->clock->offset = static_cast<int64_t>(rng_.Below(4000)) - 2000;
    }
    replicas_.push_back(std::move(r));
  }
  for (auto& r : replicas_) {
    if (Status s = OpenReplica(*r); !s.ok()) {
      report_.failure = s.ToString();
      return report_;
    }
  }
  std::string f;
  for (int step = 0; step < profile_.steps && f.empty(); ++step) {
    f = Step(step);
    if (f.empty()) f = failure_;
  }
  if (f.empty()) f = Converge();
  if (f.empty()) f = failure_;
  if (f.empty()) f = FinalChecks();
  for (auto& r : replicas_) AddStats(*r);
  report_.failure = f;
  // Tear down in order: clients, then databases.
  for (auto& r : replicas_) r->client.reset();
  return report_;
}

}  // namespace internal

RunReport Run(uint64_t seed, bool verbose) {
  internal::World w(seed, verbose);
  return w.Run();
}

}  // namespace quiver::sim
