// The geo index: points bucketed by cell for radius, bounding-box and polygon conditions.
#include "payload/field_index_parts.h"
#include "payload/geo.h"

namespace quiver::payload::field_index_parts {
namespace {

namespace json = boost::json;

class GeoIndex final : public FieldIndex {
 public:
  static constexpr double kCellDegrees = 0.1;
  static constexpr int64_t kRows = 1800;
  static constexpr int64_t kColumns = 3600;

  FieldIndexType type() const override { return FieldIndexType::kGeo; }
  bool Add(uint32_t slot, const json::value& v) override {
    std::optional<GeoPoint> p = GeoPointFromJson(v);
    if (!p) return false;
    cells_.Insert(CellOf(*p), slot);
    return true;
  }
  bool Remove(uint32_t slot, const json::value& v) override {
    std::optional<GeoPoint> p = GeoPointFromJson(v);
    if (!p) return false;
    cells_.Erase(CellOf(*p), slot);
    return true;
  }
  std::optional<FieldBound> Lookup(const FieldPredicate& p) const override { return LookupByWalk(*this, p); }
  std::optional<FieldCount> Count(const FieldPredicate& p, size_t points) const override {
    return CountByWalk(*this, p, points);
  }
  size_t entries() const override { return cells_.size(); }
  size_t MemoryUsage() const override { return cells_.MemoryUsage(); }
  void Encode(std::span<const uint32_t> remap, std::string* out) const override {
    EncodeOrdered(cells_, remap, out);
  }
  Status Decode(ByteReader* in, uint32_t slot_count) override {
    return DecodeOrdered(
        in, slot_count, [](uint32_t cell) { return cell < kRows * kColumns; }, &cells_);
  }

  // The points in the grid cells covering the shape: one run per covered row (one run in all for rectangles
  // as wide as the world).
  template <typename Visit>
  std::optional<Shape> Walk(const FieldPredicate& p, Visit& visit) const {
    std::vector<GeoRect> rects;
    if (const GeoRadius* g = std::get_if<GeoRadius>(&p)) {
      rects = CoveringRects(*g);
    } else if (const GeoBoundingBox* g = std::get_if<GeoBoundingBox>(&p)) {
      rects = CoveringRects(*g);
    } else if (const GeoPolygon* g = std::get_if<GeoPolygon>(&p)) {
      rects = CoveringRects(*g);
    } else {
      return std::nullopt;
    }
    for (const GeoRect& r : rects) {
      // One cell of margin on every side absorbs rounding at cell edges.
      const int64_t row_lo = std::max<int64_t>(0, Row(r.lat_min) - 1);
      const int64_t row_hi = std::min<int64_t>(kRows - 1, Row(r.lat_max) + 1);
      const int64_t col_lo = std::max<int64_t>(0, Column(r.lon_min) - 1);
      const int64_t col_hi = std::min<int64_t>(kColumns - 1, Column(r.lon_max) + 1);
      const bool full_rows = col_lo == 0 && col_hi == kColumns - 1;
      for (int64_t row = row_lo; row <= row_hi; ++row) {
        const uint32_t lo = static_cast<uint32_t>(row * kColumns + col_lo);
        const uint32_t hi = static_cast<uint32_t>((full_rows ? row_hi : row) * kColumns + col_hi);
        visit(cells_,
              RunOf(
                  cells_, [lo](uint32_t c) { return c >= lo; }, [hi](uint32_t c) { return c <= hi; }),
              false);
        if (full_rows) break;
      }
    }
    return Shape{false, 0.5};
  }

 private:
  static int64_t Row(double lat) {
    return std::clamp<int64_t>(static_cast<int64_t>(std::floor((lat + 90.0) / kCellDegrees)), 0, kRows - 1);
  }
  static int64_t Column(double lon) {
    return std::clamp<int64_t>(static_cast<int64_t>(std::floor((lon + 180.0) / kCellDegrees)), 0,
                               kColumns - 1);
  }
  static uint32_t CellOf(const GeoPoint& p) {
    return static_cast<uint32_t>(Row(p.lat) * kColumns + Column(p.lon));
  }

  OrderedPostings<uint32_t> cells_;
};

}  // namespace

std::unique_ptr<FieldIndex> MakeGeoIndex() { return std::make_unique<GeoIndex>(); }

}  // namespace quiver::payload::field_index_parts
