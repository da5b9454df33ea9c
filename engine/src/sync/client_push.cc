// The push (SYNC.md 2.5, 2.6): batches from the outbox, the ack, rejections and clock repair.
#include "sync/client_round.h"

namespace quiver::sync {

SyncClient::Round::Drain SyncClient::Round::PushDrain() {
  Drain d;
  d.cursor = MetaU64(core(), kPushCursor);
  d.scan = std::max(d.cursor, MetaU64(core(), kPushScan));
  return d;
}

void SyncClient::Round::Push() {
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

void SyncClient::Round::OnPushed(const Batch& batch, const PushResponse& m, uint64_t rtt) {
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

std::optional<PointDelta> SyncClient::Round::RegistersAbove(const PointId& id, uint64_t seq) {
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

Status SyncClient::Round::AddOps(const PointDelta& d, db::FeedWrite* w) {
  QUIVER_ASSIGN_OR_RETURN(std::vector<db::Op> ops, DeltaToOps(d));
  for (db::Op& op : ops) w->ops.push_back(std::move(op));
  return Status::OK();
}

Status SyncClient::Round::Resolve(const Rejection& r, const PointDelta* sent, uint64_t to, uint64_t horizon,
    db::FeedWrite* w, Reports* reports) {
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

Status SyncClient::Round::RepairClock(const std::map<PointId, const PointDelta*>& refused, uint64_t to,
    uint64_t server_hlc, db::FeedWrite* w, Reports* reports, std::set<PointId>* repaired, uint64_t* floor) {
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

}  // namespace quiver::sync
