// The results of Qdrant's Query API (/points/query, /points/query/batch, /points/query/groups) as the request
// layer (quiver/api.h) returns them: scored points, with the payload value each was ordered by when the query
// ordered by a payload field, and groups of scored points.
//
// Thread safety: plain values.
#ifndef QUIVER_QUERY_H_
#define QUIVER_QUERY_H_

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "quiver/types.h"

namespace quiver {

// A payload value a query ordered by (Qdrant's OrderValue): an integer (also a datetime, as microseconds since
// the Unix epoch) or a floating-point number.
struct OrderValue {
  std::variant<int64_t, double> value;

  // Integers compare exactly with integers; any other pair compares as doubles.
  friend int Compare(const OrderValue& a, const OrderValue& b) {
    if (const int64_t* x = std::get_if<int64_t>(&a.value)) {
      if (const int64_t* y = std::get_if<int64_t>(&b.value)) return *x < *y ? -1 : (*x > *y ? 1 : 0);
    }
    const double x = a.as_double(), y = b.as_double();
    return x < y ? -1 : (x > y ? 1 : 0);
  }
  double as_double() const {
    if (const int64_t* i = std::get_if<int64_t>(&value)) return static_cast<double>(*i);
    return std::get<double>(value);
  }
  friend bool operator==(const OrderValue& a, const OrderValue& b) { return a.value == b.value; }
};

// Qdrant's QueryResponse: points best first. `order_values` is empty, or, for a query ordered by a payload
// field, holds the value each point was ordered by (one per point).
struct QueryResponse {
  std::vector<ScoredPoint> points;
  std::vector<OrderValue> order_values;
};

// The value of the group_by field a group shares (Qdrant's GroupId): a string or an integer (non-negative
// integers are held as uint64_t, negative ones as int64_t).
using GroupId = std::variant<std::string, uint64_t, int64_t>;

struct PointGroup {
  GroupId id;
  QueryResponse hits;             // best first, at most group_size
  std::optional<Record> lookup;   // with_lookup: the point of the lookup collection whose id is the group id
};

// Qdrant's GroupsResult: groups ordered by their best hit.
struct GroupsResponse {
  std::vector<PointGroup> groups;
};

}  // namespace quiver

#endif  // QUIVER_QUERY_H_
