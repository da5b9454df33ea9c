// Ordering points by a payload value, as Qdrant's order_by query does: the values a point has at the key, and
// the one value it is ordered by.
//
// A point is ordered by one value: the smallest of its values at or after start_from for an ascending order, the
// largest at or before it for a descending one. A point with no such value (no value at the key, or none in the
// range) is left out. So a point holding several values appears once, at its first value in the walk (Qdrant
// once listed such a point once per value; its fix for issue 9192 settled on this rule). Ties are broken by point
// id, ascending for an ascending order and descending for a descending one (Qdrant's order of (value, id) pairs).
//
// Values: JSON numbers (an integer that fits int64 is an integer, any other number a double), or, for a
// datetime order, strings holding datetimes (payload/datetime.h), as microseconds. A datetime order is chosen
// when start_from is a datetime string or the key has a "datetime" payload index. Qdrant refuses order_by on a
// key without a range index (integer, float, datetime); Quiver reads the payloads and needs none.
//
// Thread safety: plain values and pure functions.
#ifndef QUIVER_DB_ORDER_BY_H_
#define QUIVER_DB_ORDER_BY_H_

#include <boost/json/object.hpp>
#include <optional>
#include <string>

#include "payload/json_path.h"
#include "quiver/point_id.h"
#include "quiver/query.h"

namespace quiver::db {

struct OrderBySpec {
  payload::JsonPath key;
  bool descending = false;
  std::optional<OrderValue> start_from;
  // Order datetime strings rather than numbers (set when start_from is a datetime; the collection also sets it
  // for a key with a datetime index).
  bool datetime = false;
};

// The value `payload` is ordered by under `spec`, or nullopt when the point has none (it is left out).
std::optional<OrderValue> EffectiveOrderValue(const OrderBySpec& spec, const boost::json::object& payload);

// True when (a, id_a) comes before (b, id_b) in the spec's direction.
inline bool OrderedBefore(const OrderBySpec& spec, const OrderValue& a, const PointId& id_a, const OrderValue& b,
                          const PointId& id_b) {
  const int c = Compare(a, b);
  if (c != 0) return spec.descending ? c > 0 : c < 0;
  return spec.descending ? id_b < id_a : id_a < id_b;
}

}  // namespace quiver::db

#endif  // QUIVER_DB_ORDER_BY_H_
