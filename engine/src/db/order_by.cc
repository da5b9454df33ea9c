#include "db/order_by.h"

#include <cmath>
#include <limits>

#include "payload/datetime.h"

namespace quiver::db {
namespace {

std::optional<OrderValue> ValueOf(const boost::json::value& v, bool datetime) {
  if (datetime) {
    const boost::json::string* s = v.if_string();
    if (s == nullptr) return std::nullopt;
    std::optional<int64_t> t = payload::ParseDatetime(std::string_view(s->data(), s->size()));
    if (!t) return std::nullopt;
    return OrderValue{*t};
  }
  if (const int64_t* i = v.if_int64()) return OrderValue{*i};
  if (const uint64_t* u = v.if_uint64()) {
    if (*u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return OrderValue{static_cast<int64_t>(*u)};
    return OrderValue{static_cast<double>(*u)};
  }
  if (const double* d = v.if_double()) {
    if (std::isfinite(*d)) return OrderValue{*d};
  }
  return std::nullopt;
}

}  // namespace

std::optional<OrderValue> EffectiveOrderValue(const OrderBySpec& spec, const boost::json::object& payload) {
  std::optional<OrderValue> best;
  payload::ForEachValue(payload, spec.key, [&](const boost::json::value& v) {
    std::optional<OrderValue> x = ValueOf(v, spec.datetime);
    if (!x) return false;
    if (spec.start_from) {
      const int c = Compare(*x, *spec.start_from);
      if (spec.descending ? c > 0 : c < 0) return false;
    }
    if (!best || (spec.descending ? Compare(*x, *best) > 0 : Compare(*x, *best) < 0)) best = *x;
    return false;
  });
  return best;
}

}  // namespace quiver::db
