// Op: one change to one point, the unit of the apply path, the WAL and sync (DESIGN.md "Versions"). Every op
// is a set of register writes at its stamp:
//   upsert            deleted := false, vectors := v (dense and sparse), payload_reset, and each payload key := value
//   delete            deleted := true, vectors := none, payload_reset
//   set_payload       each given key := value
//   overwrite_payload payload_reset, and each given key := value
//   delete_payload_keys each given key := absent
//   clear_payload     payload_reset
// Applying ops takes, register by register, the write with the larger stamp, so replicas that apply the same
// ops in any order, with duplicates, end in the same state.
#ifndef QUIVER_DB_OP_H_
#define QUIVER_DB_OP_H_

#include <boost/json/object.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "db/hlc.h"
#include "quiver/point_id.h"
#include "quiver/types.h"

namespace quiver::db {

enum class OpKind : uint8_t {
  kUpsert = 1,
  kDelete = 2,
  kSetPayload = 3,
  kOverwritePayload = 4,
  kDeletePayloadKeys = 5,
  kClearPayload = 6,
};

std::string_view OpKindName(OpKind kind);

struct Op {
  OpKind kind = OpKind::kUpsert;
  PointId id;
  Stamp stamp;
  // kUpsert: the point's vectors by name, sorted by name; stored form is decided by the collection. Dense and
  // sparse vectors are one register (the point's vectors), written together.
  std::vector<std::pair<std::string, std::vector<float>>> vectors;
  // kUpsert: the point's sparse vectors by name, sorted by name, each with strictly increasing indices.
  std::vector<std::pair<std::string, SparseVector>> sparse;
  // kUpsert, kSetPayload, kOverwritePayload.
  boost::json::object payload;
  // kDeletePayloadKeys: top-level keys.
  std::vector<std::string> keys;
  // kUpsert: the vectors are already in the collection's stored form (as an index holds them: normalised for
  // Cosine), so they are stored bit for bit, not normalised again. Set by the change feed for replicated ops
  // (a sync record of the log, collection_feed.cc); never written by the op batch codec.
  bool stored_form = false;
};

}  // namespace quiver::db

#endif  // QUIVER_DB_OP_H_
