// Geo shapes of the filter language (radius, bounding box, polygon) and the point tests they make, following
// Qdrant: distances are haversine on a sphere of the mean Earth radius (6371008.8 m) and a point matches a
// radius when its distance is strictly less than it; a bounding box excludes its edges and crosses the
// antimeridian when top_left.lon > bottom_right.lon; a polygon works in the plane of (lon, lat), excludes its
// boundary and the inside of its holes.
//
// A payload geo value is an object with numeric "lon" and "lat" (other keys ignored). Values outside
// lon [-180, 180] or lat [-90, 90] are not geo points: they match no geo condition and no geo index holds
// them.
//
// Thread safety: value types and pure functions.
#ifndef QUIVER_PAYLOAD_GEO_H_
#define QUIVER_PAYLOAD_GEO_H_

#include <boost/json/value.hpp>
#include <optional>
#include <vector>

namespace quiver::payload {

inline constexpr double kEarthRadiusMeters = 6371008.8;

struct GeoPoint {
  double lon = 0;
  double lat = 0;
};

struct GeoRadius {
  GeoPoint center;
  double radius = 0;  // meters
};

struct GeoBoundingBox {
  GeoPoint top_left;
  GeoPoint bottom_right;
};

struct GeoPolygon {
  std::vector<GeoPoint> exterior;                // closed ring: first == last, >= 4 points
  std::vector<std::vector<GeoPoint>> interiors;  // holes, each a closed ring
};

// A latitude/longitude rectangle with inclusive edges, lon_min <= lon_max (no wrap-around).
struct GeoRect {
  double lat_min, lat_max, lon_min, lon_max;
};

inline bool ValidGeoPoint(double lon, double lat) {
  return lon >= -180.0 && lon <= 180.0 && lat >= -90.0 && lat <= 90.0;
}

// The geo point a payload value holds, or nullopt. No allocation.
std::optional<GeoPoint> GeoPointFromJson(const boost::json::value& value);

double HaversineMeters(const GeoPoint& a, const GeoPoint& b);

bool Contains(const GeoRadius& shape, const GeoPoint& p);
bool Contains(const GeoBoundingBox& shape, const GeoPoint& p);
bool Contains(const GeoPolygon& shape, const GeoPoint& p);

// Rectangles (one, or two when crossing the antimeridian) that together cover every point the shape contains.
std::vector<GeoRect> CoveringRects(const GeoRadius& shape);
std::vector<GeoRect> CoveringRects(const GeoBoundingBox& shape);
std::vector<GeoRect> CoveringRects(const GeoPolygon& shape);

}  // namespace quiver::payload

#endif  // QUIVER_PAYLOAD_GEO_H_
