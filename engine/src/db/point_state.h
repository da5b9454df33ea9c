// PointState: the registers of one point (DESIGN.md "Versions") and its visible values.
//
//   deleted        (alive stamp, flag)   written by upsert (false) and delete (true)
//   vectors        (stamp, rows)         written by upsert (the dense and sparse vectors) and delete (none)
//   payload_reset  stamp                 written by upsert, delete, overwrite_payload, clear_payload
//   key registers  (stamp, value|absent) one per top-level payload key, written by upsert, set_payload,
//                                        overwrite_payload, delete_payload_keys
//
// A key is visible when its register holds a value and its stamp is not older than payload_reset. Registers
// older than payload_reset can never become visible again and are dropped. A point that was never upserted is
// deleted at the zero stamp, so a payload-only write never brings a point to life.
#ifndef QUIVER_DB_POINT_STATE_H_
#define QUIVER_DB_POINT_STATE_H_

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/chunked_vector.h"
#include "base/small_u32_list.h"
#include "db/hlc.h"
#include "quiver/point_id.h"

namespace quiver::db {

inline constexpr uint32_t kNoRow = UINT32_MAX;

struct KeyStamp {
  std::string key;
  Stamp stamp;
  uint64_t seq = 0;  // change feed: the collection seq of the register's last change (0: before the feed)
};

struct PointState {
  PointId id;
  Stamp alive;  // stamp of the deleted register
  bool deleted = true;
  Stamp vectors_stamp;
  Stamp payload_reset;
  std::vector<KeyStamp>
      key_stamps;               // sorted by key; keys written at or after payload_reset (present or absent)
  boost::json::object payload;  // the visible keys
  SmallU32List rows;          // per vector space: the row in that space's index, or kNoRow
  SmallU32List sparse_rows;   // per sparse vector space: the row in its sparse index, or kNoRow
  // Change feed (collection_feed.cc): the collection seq of the last change of the deleted/vectors register and
  // of payload_reset; key registers carry theirs. 0: not changed since the feed began (old files).
  uint64_t life_seq = 0;
  uint64_t reset_seq = 0;
  // The point's seq: its registers' largest.
  uint64_t seq() const {
    uint64_t s = life_seq > reset_seq ? life_seq : reset_seq;
    for (const KeyStamp& ks : key_stamps) s = ks.seq > s ? ks.seq : s;
    return s;
  }

  // Register merges on the payload; each returns true if the visible payload changed.
  bool ResetPayload(const Stamp& s);
  bool WriteKey(std::string_view key, const Stamp& s, const boost::json::value* value);
};

// A segment's points by slot: chunked, so a growing table never holds two copies of itself.
using PointStates = ChunkedVector<PointState>;

}  // namespace quiver::db

#endif  // QUIVER_DB_POINT_STATE_H_
