#include "sync/delta.h"

#include <algorithm>
#include <boost/json/serialize.hpp>
#include <map>

#include "base/coding.h"
#include "base/hashes.h"

namespace quiver::sync {

std::vector<Stamp> PointDelta::Stamps() const {
  std::vector<Stamp> out;
  if (del) out.push_back(*del);
  if (vec) out.push_back(vec->ts);
  if (reset) out.push_back(*reset);
  for (const FieldRegister& f : fields) out.push_back(f.ts);
  return out;
}

uint64_t PointDelta::MaxHlc() const {
  uint64_t m = 0;
  for (const Stamp& s : Stamps()) m = std::max(m, s.hlc);
  return m;
}

size_t PointDelta::EstimateBytes() const {
  size_t n = 64;
  if (del) n += 48;
  if (reset) n += 48;
  if (vec) {
    n += 64;
    for (const auto& [name, v] : vec->dense) n += name.size() + 8 + (v.size() * 4 + 2) / 3 * 4;
    for (const auto& [name, sv] : vec->sparse) n += name.size() + 24 + (sv.indices.size() * 8 + 4) / 3 * 4 * 2;
  }
  for (const FieldRegister& f : fields) {
    n += f.key.size() + 64;
    if (f.value) n += boost::json::serialize(*f.value).size();
  }
  return n;
}

PointDelta DeltaFromState(const db::PointState& st, const db::Segment& segment,
                          const std::vector<db::VectorSpace>& spaces, const RegisterFilter& filter) {
  PointDelta d;
  d.id = st.id;
  if (!st.alive.zero() && (filter.include(st.life_seq, st.alive) || (st.deleted && filter.always_del))) {
    if (st.deleted) {
      d.del = st.alive;
    } else {
      VecRegister v;
      v.ts = st.alive;
      for (size_t s = 0; s < spaces.size(); ++s) {
        const float* x = segment.StoredVector(st, s);
        if (x) v.dense.emplace_back(spaces[s].name, std::vector<float>(x, x + spaces[s].params.size));
      }
      const std::vector<db::SparseSpace>& sparse_spaces = segment.sparse_spaces();
      for (size_t s = 0; s < sparse_spaces.size(); ++s) {
        if (auto sv = segment.StoredSparse(st, s))
          v.sparse.emplace_back(sparse_spaces[s].name, sv->ToVector());
      }
      auto by_name = [](const auto& a, const auto& b) { return a.first < b.first; };
      std::sort(v.dense.begin(), v.dense.end(), by_name);
      std::sort(v.sparse.begin(), v.sparse.end(), by_name);
      d.vec = std::move(v);
    }
  }
  if (!st.payload_reset.zero() && filter.include(st.reset_seq, st.payload_reset)) d.reset = st.payload_reset;
  for (const db::KeyStamp& ks : st.key_stamps) {
    if (!filter.include(ks.seq, ks.stamp)) continue;
    FieldRegister f;
    f.key = ks.key;
    f.ts = ks.stamp;
    if (auto it = st.payload.find(ks.key); it != st.payload.end()) f.value = it->value();
    d.fields.push_back(std::move(f));
  }
  return d;
}

PointDelta FullDelta(const db::PointState& st, const db::Segment& segment,
                     const std::vector<db::VectorSpace>& spaces) {
  RegisterFilter all;
  all.include = [](uint64_t, const Stamp&) { return true; };
  return DeltaFromState(st, segment, spaces, all);
}

Result<std::vector<db::Op>> DeltaToOps(const PointDelta& delta) {
  std::vector<db::Op> ops;
  auto base = [&](db::OpKind kind, const Stamp& ts) {
    db::Op op;
    op.kind = kind;
    op.id = delta.id;
    op.stamp = ts;
    return op;
  };
  if (delta.del && delta.vec) {
    return Status::InvalidArgument("point " + delta.id.ToString() + ": both del and vec (one register)");
  }
  if (delta.del) ops.push_back(base(db::OpKind::kDelete, *delta.del));
  if (delta.vec) {
    db::Op op = base(db::OpKind::kUpsert, delta.vec->ts);
    op.vectors = delta.vec->dense;
    op.sparse = delta.vec->sparse;
    auto by_name = [](const auto& a, const auto& b) { return a.first < b.first; };
    std::sort(op.vectors.begin(), op.vectors.end(), by_name);
    std::sort(op.sparse.begin(), op.sparse.end(), by_name);
    op.stored_form = true;
    ops.push_back(std::move(op));
  }
  if (delta.reset) ops.push_back(base(db::OpKind::kClearPayload, *delta.reset));
  // Key registers: one set_payload and one delete_payload_keys per stamp.
  std::map<Stamp, std::pair<boost::json::object, std::vector<std::string>>> by_stamp;
  for (const FieldRegister& f : delta.fields) {
    auto& [set, del] = by_stamp[f.ts];
    if (f.value) {
      set[f.key] = *f.value;
    } else {
      del.push_back(f.key);
    }
  }
  for (auto& [ts, group] : by_stamp) {
    if (!group.first.empty()) {
      db::Op op = base(db::OpKind::kSetPayload, ts);
      op.payload = std::move(group.first);
      ops.push_back(std::move(op));
    }
    if (!group.second.empty()) {
      db::Op op = base(db::OpKind::kDeletePayloadKeys, ts);
      op.keys = std::move(group.second);
      ops.push_back(std::move(op));
    }
  }
  return ops;
}

uint64_t DigestTerm(const db::PointState& st, uint64_t horizon_hlc) {
  // A deleted point's registers below the horizon can never matter again (anything accepted later beats them)
  // and may have been purged on one side only: they are left out, and so is a point left with none.
  const uint64_t floor = st.deleted ? horizon_hlc : 0;
  auto counts = [&](const Stamp& s) { return !s.zero() && s.hlc >= floor; };
  bool any = counts(st.alive) || counts(st.payload_reset);
  for (const db::KeyStamp& ks : st.key_stamps) any |= counts(ks.stamp);
  if (!any) return 0;
  std::string b;
  if (st.id.is_uuid()) {
    PutFixed8(&b, 1);
    b.append(reinterpret_cast<const char*>(st.id.uuid().data()), 16);
  } else {
    PutFixed8(&b, 0);
    PutFixed64(&b, st.id.number());
  }
  PutFixed8(&b, st.deleted ? 1 : 0);
  const Stamp zero;
  const Stamp& alive = counts(st.alive) ? st.alive : zero;
  const Stamp& reset = counts(st.payload_reset) ? st.payload_reset : zero;
  PutFixed64(&b, alive.hlc);
  PutFixed64(&b, alive.replica);
  PutFixed64(&b, reset.hlc);
  PutFixed64(&b, reset.replica);
  for (const db::KeyStamp& ks : st.key_stamps) {
    if (!counts(ks.stamp)) continue;
    PutLengthPrefixed(&b, ks.key);
    PutFixed64(&b, ks.stamp.hlc);
    PutFixed64(&b, ks.stamp.replica);
    PutFixed8(&b, st.payload.contains(ks.key) ? 1 : 0);
  }
  return XxHash64(b);
}

}  // namespace quiver::sync
