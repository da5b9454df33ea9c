// The simulation's oracle (SYNC.md 2.15): every register write ever made anywhere, kept per point and register,
// so the converged state can be computed independently of the sync code: for each register the write with the
// largest stamp, then the engine's rules (a key register older than the payload reset is dead).
//
// Writes come from the applications' ops (the collections' op listeners) and from the sync clients' own rewrites
// (on_rewrite: a rejected register withdrawn, a re-stamped one written; on_clock_rewind: registers a replica
// stamped in the future and replaced before pushing were never accepted anywhere).
#ifndef QUIVER_TESTS_SYNC_SIM_ORACLE_H_
#define QUIVER_TESTS_SYNC_SIM_ORACLE_H_

#include <boost/json.hpp>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "db/op.h"
#include "payload/json_util.h"
#include "sync/codec.h"
#include "sync/delta.h"

namespace quiver::sim {

using db::Stamp;
using sync::PointDelta;

struct LifeWrite {
  bool deleted = false;
  std::vector<std::pair<std::string, std::vector<float>>> vectors;
  std::vector<std::pair<std::string, SparseVector>> sparse;
};

struct PointWrites {
  std::map<Stamp, LifeWrite> life;
  std::set<Stamp> reset;
  std::map<std::string, std::map<Stamp, std::optional<boost::json::value>>> keys;
};

class Oracle {
 public:
  void AddOp(const db::Op& op) {
    PointWrites& p = points_[op.id];
    const Stamp& t = op.stamp;
    switch (op.kind) {
      case db::OpKind::kUpsert: {
        LifeWrite lw;
        lw.vectors = op.vectors;
        lw.sparse = op.sparse;
        auto by_name = [](const auto& a, const auto& b) { return a.first < b.first; };
        std::sort(lw.vectors.begin(), lw.vectors.end(), by_name);
        std::sort(lw.sparse.begin(), lw.sparse.end(), by_name);
        p.life[t] = std::move(lw);
        p.reset.insert(t);
        for (const auto& kv : op.payload) p.keys[std::string(kv.key())][t] = kv.value();
        break;
      }
      case db::OpKind::kDelete:
        p.life[t] = LifeWrite{true, {}, {}};
        p.reset.insert(t);
        break;
      case db::OpKind::kSetPayload:
        for (const auto& kv : op.payload) p.keys[std::string(kv.key())][t] = kv.value();
        break;
      case db::OpKind::kOverwritePayload:
        p.reset.insert(t);
        for (const auto& kv : op.payload) p.keys[std::string(kv.key())][t] = kv.value();
        break;
      case db::OpKind::kDeletePayloadKeys:
        for (const std::string& k : op.keys) p.keys[k][t] = std::nullopt;
        break;
      case db::OpKind::kClearPayload:
        p.reset.insert(t);
        break;
    }
  }

  // Registers written by a sync client's rewrite, with the engine's meaning of the ops it applies (a `vec` or
  // `del` write also resets the payload).
  void Add(const PointDelta& d) {
    PointWrites& p = points_[d.id];
    if (d.del) {
      p.life[*d.del] = LifeWrite{true, {}, {}};
      p.reset.insert(*d.del);
    }
    if (d.vec) {
      p.life[d.vec->ts] = LifeWrite{false, d.vec->dense, d.vec->sparse};
      p.reset.insert(d.vec->ts);
    }
    if (d.reset) p.reset.insert(*d.reset);
    for (const sync::FieldRegister& f : d.fields) p.keys[f.key][f.ts] = f.value;
  }

  void Withdraw(const PointDelta& d) {
    auto it = points_.find(d.id);
    if (it == points_.end()) return;
    PointWrites& p = it->second;
    if (d.del) p.life.erase(*d.del);
    if (d.vec) p.life.erase(d.vec->ts);
    if (d.reset) p.reset.erase(*d.reset);
    for (const sync::FieldRegister& f : d.fields) {
      auto k = p.keys.find(f.key);
      if (k != p.keys.end()) k->second.erase(f.ts);
    }
  }

  // Withdraws every write of `replica` stamped above `floor` for which `held` is false.
  template <typename Held>
  void WithdrawAbove(uint64_t replica, uint64_t floor, Held held) {
    WithdrawIf([&](const PointId& id, const std::string& reg, const Stamp& s) {
      return s.replica == replica && s.hlc > floor && !held(id, reg, s);
    });
  }

  // Withdraws every write for which drop(id, register, stamp) is true; registers are "" (deleted/vectors),
  // "\x01" (payload reset) and "k" + key.
  template <typename Drop>
  void WithdrawIf(Drop drop) {
    // Plain references, not structured bindings, in the lambdas: Emscripten's clang 14 cannot capture those.
    for (auto& entry : points_) {
      const auto& id = entry.first;
      auto& p = entry.second;
      std::erase_if(p.life, [&](const auto& kv) { return drop(id, std::string(), kv.first); });
      std::erase_if(p.reset, [&](const Stamp& s) { return drop(id, std::string("\x01"), s); });
      for (auto& key_writes : p.keys) {
        const std::string& key = key_writes.first;
        std::erase_if(key_writes.second, [&](const auto& kv) { return drop(id, "k" + key, kv.first); });
      }
    }
  }

  // The converged state of every point, as deltas holding every live register.
  std::map<PointId, PointDelta> States() const {
    std::map<PointId, PointDelta> out;
    for (const auto& [id, p] : points_) {
      PointDelta d;
      d.id = id;
      if (!p.life.empty()) {
        const auto& [ts, lw] = *p.life.rbegin();
        if (lw.deleted) {
          d.del = ts;
        } else {
          sync::VecRegister v;
          v.ts = ts;
          v.dense = lw.vectors;
          v.sparse = lw.sparse;
          d.vec = std::move(v);
        }
      }
      Stamp reset;
      if (!p.reset.empty()) {
        reset = *p.reset.rbegin();
        d.reset = reset;
      }
      for (const auto& [key, writes] : p.keys) {
        if (writes.empty()) continue;
        const auto& [ts, value] = *writes.rbegin();
        if (ts < reset) continue;
        d.fields.push_back(sync::FieldRegister{key, ts, value});
      }
      if (!d.empty()) out.emplace(id, std::move(d));
    }
    return out;
  }

  // The point's life and reset writes, for tracing (QUIVER_SYNC_WATCH).
  std::string Dump(const PointId& id) const {
    std::string out;
    auto it = points_.find(id);
    if (it == points_.end()) return "<none>";
    for (const auto& [ts, lw] : it->second.life) out += (lw.deleted ? " del " : " vec ") + sync::StampText(ts);
    for (const auto& ts : it->second.reset) out += " reset " + sync::StampText(ts);
    return out;
  }
 private:
  std::map<PointId, PointWrites> points_;
};

// The canonical text of a point's registers, for comparing replicas with each other and with the oracle. A deleted
// point's registers below `horizon` are left out (they can never matter again and may have been purged on one
// side only); "" when nothing is left.
inline std::string Canonical(const PointDelta& d, uint64_t horizon) {
  const bool deleted = !d.vec;
  const uint64_t floor = deleted ? horizon : 0;
  std::string out;
  auto stamp = [](const Stamp& s) { return sync::StampText(s); };
  if (d.del && d.del->hlc >= floor) out += "|del " + stamp(*d.del);
  if (d.vec) {
    out += "|vec " + stamp(d.vec->ts);
    for (const auto& [name, v] : d.vec->dense) out += " " + name + "=" + sync::FloatsToBase64(v);
    for (const auto& [name, v] : d.vec->sparse) {
      out += " " + name + "~" + sync::U32sToBase64(v.indices) + ":" + sync::FloatsToBase64(v.values);
    }
  }
  if (d.reset && d.reset->hlc >= floor) out += "|reset " + stamp(*d.reset);
  for (const sync::FieldRegister& f : d.fields) {
    if (f.ts.hlc < floor) continue;
    out += "|" + f.key + " " + stamp(f.ts) + " " +
           (f.value ? payload::CanonicalJson(*f.value) : std::string("<deleted>"));
  }
  if (out.empty()) return out;
  return d.id.ToString() + out;
}

}  // namespace quiver::sim

#endif  // QUIVER_TESTS_SYNC_SIM_ORACLE_H_
