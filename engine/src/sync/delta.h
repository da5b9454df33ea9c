// PointDelta: what crosses the wire for one point (SYNC.md 2.1, 2.3): a subset of its registers, each with its
// stamp. Receiving one means merging it.
//
// The engine's registers (db/point_state.h) map onto the wire as follows. The engine keeps existence and vectors
// in one register (written together by upsert and delete, so they always carry the same stamp): on the wire it
// is `del` when the point is deleted and `vec` (stamp and vectors) when it is alive, so a delta holds at most one
// of them. `reset` is payload_reset and `fields` are the key registers (a value, or a tombstone for a deleted
// key). docs/sync.md shows that the visible results are SYNC.md's.
//
// Thread safety: value types and pure functions.
#ifndef QUIVER_SYNC_DELTA_H_
#define QUIVER_SYNC_DELTA_H_

#include <boost/json/value.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "db/hlc.h"
#include "db/op.h"
#include "db/point_state.h"
#include "db/segment.h"
#include "quiver/point_id.h"

namespace quiver::sync {

using db::Stamp;

// The point's vectors register: every dense and sparse vector the point holds, written together.
struct VecRegister {
  Stamp ts;
  std::vector<std::pair<std::string, std::vector<float>>> dense;  // by name, sorted; stored form
  // By name, sorted; stored form (strictly increasing indices, finite values: quiver::SparseVector).
  std::vector<std::pair<std::string, SparseVector>> sparse;
};

struct FieldRegister {
  std::string key;
  Stamp ts;
  std::optional<boost::json::value> value;  // none: the key was deleted (a field tombstone)
};

struct PointDelta {
  PointId id;
  std::optional<Stamp> del;
  std::optional<VecRegister> vec;
  std::optional<Stamp> reset;
  std::vector<FieldRegister> fields;  // sorted by key, unique

  bool empty() const { return !del && !vec && !reset && fields.empty(); }
  // Every stamp the delta carries, for checks.
  std::vector<Stamp> Stamps() const;
  // The largest stamp's HLC value (0 for an empty delta).
  uint64_t MaxHlc() const;
  // A rough size of the delta's wire form in bytes, for page and batch limits.
  size_t EstimateBytes() const;
};

// Which registers of a state go into a delta: include(seq, stamp) per register (the deleted/vectors register, the
// payload reset and each key). `always_del` adds a deleted point's `del` whatever include says (pulls).
struct RegisterFilter {
  std::function<bool(uint64_t seq, const Stamp& stamp)> include;
  bool always_del = false;
};

// The delta of a stored point (registers with zero stamps are never included). `spaces` are the collection's,
// in the segment's order; vectors are read from `segment` in stored form, sparse ones by the segment's sparse
// spaces.
PointDelta DeltaFromState(const db::PointState& st, const db::Segment& segment,
                          const std::vector<db::VectorSpace>& spaces, const RegisterFilter& filter);
// Every register of the state.
PointDelta FullDelta(const db::PointState& st, const db::Segment& segment, const std::vector<db::VectorSpace>& spaces);

// Ops that merge the delta's registers into a state (upserts in stored form, dense and sparse vectors in one
// op). Merging them into a point never written gives exactly the delta's registers when the delta is a whole
// state (FullDelta). InvalidArgument for a delta holding both `del` and `vec`.
Result<std::vector<db::Op>> DeltaToOps(const PointDelta& delta);

// The point's term of the anti-entropy digest (SYNC.md 2.7): xxh64 over its id and its register stamps (docs/sync.md
// gives the bytes). A deleted point's registers below `horizon_hlc` are left out (they can never matter again and
// may have been purged on one side only); the term is 0 for a point left with no register.
uint64_t DigestTerm(const db::PointState& st, uint64_t horizon_hlc);

}  // namespace quiver::sync

#endif  // QUIVER_SYNC_DELTA_H_
