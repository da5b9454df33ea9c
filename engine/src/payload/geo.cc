#include "payload/geo.h"

#include <algorithm>
#include <boost/json/object.hpp>
#include <cmath>

namespace quiver::payload {
namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kDegToRad = kPi / 180.0;
constexpr double kRadToDeg = 180.0 / kPi;

std::optional<double> NumberOf(const boost::json::value* v) {
  if (v == nullptr) return std::nullopt;
  if (const double* d = v->if_double()) return *d;
  if (const int64_t* i = v->if_int64()) return static_cast<double>(*i);
  if (const uint64_t* u = v->if_uint64()) return static_cast<double>(*u);
  return std::nullopt;
}

// True when p lies on the segment a-b (exactly, in the plane).
bool OnSegment(const GeoPoint& a, const GeoPoint& b, const GeoPoint& p) {
  const double cross = (b.lon - a.lon) * (p.lat - a.lat) - (b.lat - a.lat) * (p.lon - a.lon);
  if (cross != 0.0) return false;
  return p.lon >= std::min(a.lon, b.lon) && p.lon <= std::max(a.lon, b.lon) &&
         p.lat >= std::min(a.lat, b.lat) && p.lat <= std::max(a.lat, b.lat);
}

enum class RingPosition { kOutside, kBoundary, kInside };

RingPosition Locate(const std::vector<GeoPoint>& ring, const GeoPoint& p) {
  bool inside = false;
  for (size_t i = 0, j = ring.size() - 1; i < ring.size(); j = i++) {
    const GeoPoint& a = ring[j];
    const GeoPoint& b = ring[i];
    if (OnSegment(a, b, p)) return RingPosition::kBoundary;
    if ((b.lat > p.lat) != (a.lat > p.lat)) {
      const double x = (a.lon - b.lon) * (p.lat - b.lat) / (a.lat - b.lat) + b.lon;
      if (p.lon < x) inside = !inside;
    }
  }
  return inside ? RingPosition::kInside : RingPosition::kOutside;
}

GeoRect BoundsOf(const std::vector<GeoPoint>& ring) {
  GeoRect r{90, -90, 180, -180};
  for (const GeoPoint& p : ring) {
    r.lat_min = std::min(r.lat_min, p.lat);
    r.lat_max = std::max(r.lat_max, p.lat);
    r.lon_min = std::min(r.lon_min, p.lon);
    r.lon_max = std::max(r.lon_max, p.lon);
  }
  return r;
}

}  // namespace

std::optional<GeoPoint> GeoPointFromJson(const boost::json::value& value) {
  const boost::json::object* obj = value.if_object();
  if (obj == nullptr) return std::nullopt;
  std::optional<double> lon = NumberOf(obj->if_contains("lon"));
  std::optional<double> lat = NumberOf(obj->if_contains("lat"));
  if (!lon || !lat || !ValidGeoPoint(*lon, *lat)) return std::nullopt;
  return GeoPoint{*lon, *lat};
}

double HaversineMeters(const GeoPoint& a, const GeoPoint& b) {
  const double theta1 = a.lat * kDegToRad;
  const double theta2 = b.lat * kDegToRad;
  const double delta_theta = (b.lat - a.lat) * kDegToRad;
  const double delta_lambda = (b.lon - a.lon) * kDegToRad;
  const double s1 = std::sin(delta_theta / 2.0);
  const double s2 = std::sin(delta_lambda / 2.0);
  const double h = s1 * s1 + std::cos(theta1) * std::cos(theta2) * s2 * s2;
  return kEarthRadiusMeters * 2.0 * std::asin(std::sqrt(std::min(1.0, h)));
}

bool Contains(const GeoRadius& shape, const GeoPoint& p) {
  return HaversineMeters(shape.center, p) < shape.radius;
}

bool Contains(const GeoBoundingBox& shape, const GeoPoint& p) {
  const bool lon_ok = shape.top_left.lon > shape.bottom_right.lon
                          ? (p.lon > shape.top_left.lon || p.lon < shape.bottom_right.lon)
                          : (shape.top_left.lon < p.lon && p.lon < shape.bottom_right.lon);
  return lon_ok && shape.bottom_right.lat < p.lat && p.lat < shape.top_left.lat;
}

bool Contains(const GeoPolygon& shape, const GeoPoint& p) {
  if (Locate(shape.exterior, p) != RingPosition::kInside) return false;
  for (const std::vector<GeoPoint>& hole : shape.interiors) {
    if (Locate(hole, p) != RingPosition::kOutside) return false;
  }
  return true;
}

std::vector<GeoRect> CoveringRects(const GeoRadius& shape) {
  // Bounding coordinates of a spherical cap (J. Matuschek), widened by a small margin against rounding.
  const double angular = shape.radius / kEarthRadiusMeters;
  const double margin = 1e-9;
  if (angular >= kPi) return {GeoRect{-90, 90, -180, 180}};
  const double lat = shape.center.lat * kDegToRad;
  const double lat_min = lat - angular;
  const double lat_max = lat + angular;
  if (lat_min <= -kPi / 2 || lat_max >= kPi / 2) {
    // The cap holds a pole: every longitude.
    return {GeoRect{std::max(-90.0, lat_min * kRadToDeg - margin),
                    std::min(90.0, lat_max * kRadToDeg + margin), -180, 180}};
  }
  const double delta_lon = std::asin(std::min(1.0, std::sin(angular) / std::cos(lat))) * kRadToDeg + margin;
  const double lo = shape.center.lon - delta_lon;
  const double hi = shape.center.lon + delta_lon;
  const double la = lat_min * kRadToDeg - margin;
  const double lb = lat_max * kRadToDeg + margin;
  if (delta_lon >= 180) return {GeoRect{la, lb, -180, 180}};
  std::vector<GeoRect> out;
  if (lo < -180) {
    out.push_back(GeoRect{la, lb, -180, hi});
    out.push_back(GeoRect{la, lb, lo + 360, 180});
  } else if (hi > 180) {
    out.push_back(GeoRect{la, lb, lo, 180});
    out.push_back(GeoRect{la, lb, -180, hi - 360});
  } else {
    out.push_back(GeoRect{la, lb, lo, hi});
  }
  return out;
}

std::vector<GeoRect> CoveringRects(const GeoBoundingBox& shape) {
  const double la = shape.bottom_right.lat;
  const double lb = shape.top_left.lat;
  if (la > lb) return {};
  if (shape.top_left.lon > shape.bottom_right.lon) {
    return {GeoRect{la, lb, shape.top_left.lon, 180}, GeoRect{la, lb, -180, shape.bottom_right.lon}};
  }
  return {GeoRect{la, lb, shape.top_left.lon, shape.bottom_right.lon}};
}

std::vector<GeoRect> CoveringRects(const GeoPolygon& shape) { return {BoundsOf(shape.exterior)}; }

}  // namespace quiver::payload
