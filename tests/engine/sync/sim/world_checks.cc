// The simulation's property checks (SYNC.md 2.15): a replica's cursor against its data, what each node shows,
// convergence and the final checks against the oracle (world_internal.h).
#include "engine/sync/sim/world_internal.h"

namespace quiver::sim::internal {

std::string World::CheckCursorBehindData(Replica& r) {
  db::CollectionCore* sc = ServerCollection();
  auto rc = r.db->GetCollection(kCollection);
  if (!sc || !rc.ok()) return "";
  db::CollectionCore& core = (*rc)->core();
  auto epoch = core.FeedMeta("sync.epoch");
  auto cursor_v = core.FeedMeta("sync.since");  // every register up to the catch-up's start has arrived
  if (!epoch || !cursor_v || !epoch->is_string() || epoch->get_string() != ServerEpoch()) return "";
  if (restored_epochs_.count(std::string(epoch->get_string()))) return "";
  const uint64_t cursor = cursor_v->is_uint64() ? cursor_v->get_uint64() : uint64_t(cursor_v->get_int64());
  const uint64_t horizon = ServerHorizon();
  // Build a scratch collection holding the replica's state, then merge the server's registers at or below the
  // cursor: nothing may change.
  DatabaseOptions o;
  o.replica_id = 0xABC;
  auto scratch = db::DatabaseCore::Open(o);
  if (!scratch.ok() || !(*scratch)->CreateCollection("x", core.config()).ok()) return "scratch";
  db::CollectionCore& x = (*(*scratch)->GetCollection("x"))->core();
  db::FeedWrite mine;
  const auto& spaces = core.spaces();
  core.VisitPoints([&](const db::PointState& st, const db::Segment& seg) {
    auto ops = sync::DeltaToOps(sync::FullDelta(st, seg, spaces));
    if (ops.ok()) for (db::Op& op : *ops) mine.ops.push_back(std::move(op));
  });
  if (!x.CommitFeedWrite(std::move(mine)).ok()) return "scratch write";
  db::FeedWrite theirs;
  sync::RegisterFilter f;
  f.include = [&](uint64_t seq, const Stamp& s) { return seq <= cursor && s.hlc >= 0; };
  sc->VisitPoints([&](const db::PointState& st, const db::Segment& seg) {
    PointDelta d = sync::DeltaFromState(st, seg, sc->spaces(), f);
    if (st.deleted) {
      // Registers of a deleted point below the horizon may have been purged on the replica.
      if (d.del && d.del->hlc < horizon) d.del.reset();
      if (d.reset && d.reset->hlc < horizon) d.reset.reset();
      std::erase_if(d.fields, [&](const sync::FieldRegister& fr) { return fr.ts.hlc < horizon; });
    }
    auto ops = sync::DeltaToOps(d);
    if (ops.ok()) for (db::Op& op : *ops) theirs.ops.push_back(std::move(op));
    if (std::getenv("QUIVER_SYNC_TRACE") && !d.empty()) {
      std::string mine_text = "<none>";
      core.VisitPoint(st.id, [&](const db::PointState& ms, const db::Segment& mseg) {
        mine_text = Canonical(sync::FullDelta(ms, mseg, spaces), 0);
      });
      fprintf(stderr, "P4 server<=cursor %s\n   replica %s\n", Canonical(d, 0).c_str(), mine_text.c_str());
    }
  });
  auto changed = x.CommitFeedWrite(std::move(theirs));
  if (!changed.ok()) return "scratch write";
  if (changed->changed_points != 0) {
    return "P4: replica " + std::to_string(r.index) + " restarted with cursor " + std::to_string(cursor) +
           " but misses " + std::to_string(changed->changed_points) + " server changes at or below it";
  }
  return "";
}

std::map<PointId, std::string> World::Fingerprint(db::CollectionCore& core, uint64_t horizon) {
  std::map<PointId, std::string> out;
  const auto& spaces = core.spaces();
  core.VisitPoints([&](const db::PointState& st, const db::Segment& seg) {
    std::string c = Canonical(sync::FullDelta(st, seg, spaces), horizon);
    if (!c.empty()) out[st.id] = std::move(c);
  });
  return out;
}

std::string World::Visible(db::CollectionCore& core) {
  std::string out;
  ScrollRequest sr;
  sr.limit = 100000;
  sr.with_payload = PayloadSelector::All();
  sr.with_vector = VectorSelector::All();
  auto scroll = core.Scroll(sr);
  if (!scroll.ok()) return "scroll failed: " + scroll.status().ToString();
  for (const Record& rec : scroll->points) {
    out += rec.id.ToString() + " ";
    auto parsed = payload::ParsePayloadText(rec.payload.value_or("{}"));
    out += parsed.ok() ? payload::CanonicalJson(json::value(*parsed)) : "?";
    for (const auto& [name, v] : rec.vectors) out += " " + sync::FloatsToBase64(v);
    for (const auto& [name, v] : rec.sparse_vectors) {
      out += " " + name + "~" + sync::U32sToBase64(v.indices) + ":" + sync::FloatsToBase64(v.values);
    }
    out += "\n";
  }
  for (int q = 0; q < 3; ++q) {
    SearchRequest req;
    req.vector.assign(profile_.dim, float(q * 40 - 40));
    req.limit = 5;
    req.exact = true;
    auto hits = core.Search(req);
    if (!hits.ok()) return "search failed: " + hits.status().ToString();
    out += "q" + std::to_string(q) + ":";
    for (const ScoredPoint& h : *hits) out += " " + h.id.ToString() + "@" + std::to_string(h.score);
    out += "\n";
  }
  return out;
}

std::string World::Converge() {
  drop_ = 0;
  dup_ = 0;
  serve_only_ = -1;
  // A node whose storage failed is stuck read-only until it restarts: restart it (a crash) before healing.
  for (auto& r : replicas_) {
    r->online = true;
    r->clock->frozen = false;
    const bool failed = r->fault->failed();
    r->fault->Disarm();
    if (failed) {
      if (std::string f = CrashReplica(*r); !f.empty()) return f;
    }
  }
  const bool server_failed = server_.fault->failed();
  server_.fault->Disarm();
  if (!server_.up || server_failed) {
    if (std::string f = CrashServer(); !f.empty()) return f;
  }
  std::map<int, std::string> last;
  for (int pass = 0; pass < 40; ++pass) {
    ++report_.converge_passes;
    bool changed = false;
    for (auto& r : replicas_) {
      if (std::string f = RunRound(r->index, 5); !f.empty()) return f;
      if (!r->last_status.ok()) {
        changed = true;
        continue;
      }
    }
    // Stable when a whole pass changed no state anywhere.
    std::map<int, std::string> now;
    for (auto& r : replicas_) now[r->index] = (*r->db->GetCollection(kCollection))->core().StateDigest();
    db::CollectionCore* sc = ServerCollection();
    now[-1] = sc ? sc->StateDigest() : "";
    if (!changed && now == last && pass >= 1) return "";
    last = std::move(now);
  }
  std::string why;
  for (auto& r : replicas_) {
    if (!r->last_status.ok()) why += " replica " + std::to_string(r->index) + ": " + r->last_status.ToString();
  }
  return "P9: no quiescence after 40 passes of full sync rounds" + why;
}

std::string World::FinalChecks() {
  db::CollectionCore* sc = ServerCollection();
  if (!sc) return "P2: the server has no collection after convergence";
  const uint64_t horizon = ServerHorizon();
  const auto server = Fingerprint(*sc, horizon);
  if (report_.restores > 0) {
    // A restore loses what the server accepted after the backup; replicas push it again, except what has fallen
    // below the horizon meanwhile (refused as stale, SYNC.md 2.10): such writes may be missing.
    const auto held = ServerRegisters();
    oracle_.WithdrawIf([&](const PointId& id, const std::string& reg, const Stamp& s) {
      return s.hlc < horizon && !held.count({id, reg, s});
    });
  }
  if (const char* w = std::getenv("QUIVER_SYNC_WATCH")) {
    fprintf(stderr, "ORACLE %s: %s (horizon %s)\n", w, oracle_.Dump(PointId::Number(std::atoi(w))).c_str(), sync::Hex16(horizon).c_str());
  }
  // P2: the server equals the oracle.
  std::map<PointId, std::string> expected;
  for (const auto& [id, d] : oracle_.States()) {
    std::string c = Canonical(d, horizon);
    if (!c.empty()) expected[id] = std::move(c);
  }
  auto diff = [](const std::map<PointId, std::string>& a, const std::map<PointId, std::string>& b,
                 const std::string& an, const std::string& bn) -> std::string {
    for (const auto& [id, text] : a) {
      auto it = b.find(id);
      if (it == b.end()) return "point " + id.ToString() + ": " + an + " has " + text + ", " + bn + " has nothing";
      if (it->second != text) return "point " + id.ToString() + ":\n    " + an + ": " + text + "\n    " + bn + ": " + it->second;
    }
    for (const auto& [id, text] : b) {
      if (!a.count(id)) return "point " + id.ToString() + ": " + bn + " has " + text + ", " + an + " has nothing";
    }
    return "";
  };
  if (std::string d = diff(expected, server, "oracle", "server"); !d.empty()) return "P2 (server vs oracle): " + d;
  const std::string server_visible = Visible(*sc);
  for (auto& r : replicas_) {
    db::CollectionCore& rc = (*r->db->GetCollection(kCollection))->core();
    const std::string name = "replica " + std::to_string(r->index);
    if (std::string d = diff(server, Fingerprint(rc, horizon), "server", name); !d.empty()) return "P2: " + d;
    if (Visible(rc) != server_visible) return "P2: " + name + " shows other results than the server";
  }
  // P6: no stamp on the server beyond its clock's drift bound.
  const uint64_t bound = db::MakeHlc(now_ + kMaxDriftMs, 0xFFFF);
  std::string skewed;
  sc->VisitPoints([&](const db::PointState& st, const db::Segment&) {
    uint64_t m = std::max(st.alive.hlc, st.payload_reset.hlc);
    for (const db::KeyStamp& ks : st.key_stamps) m = std::max(m, ks.stamp.hlc);
    if (m > bound && skewed.empty()) skewed = st.id.ToString();
  });
  if (!skewed.empty()) return "P6: point " + skewed + " on the server is stamped beyond the drift bound";
  return "";
}

}  // namespace quiver::sim::internal
