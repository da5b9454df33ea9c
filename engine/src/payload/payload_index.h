// PayloadIndex: all payload field indexes of one segment, and what they tell about a filter: a superset of
// the matching points (Candidates) and bounds on how many match (Estimate).
//
// Points are identified by dense uint32 "slots" chosen by the caller. A field index covers one key path and
// one type; it holds the slots of points with at least one value of that type at the path (arrays at the path
// count element by element, as in filters); values of other types are simply not indexed. An index never
// changes a filter's result, only its speed: Candidates is always a superset of the points Matches() accepts,
// so callers still check Matches() on each candidate.
//
// Index types: keyword (strings: match value/any), integer (integers: match value/any, range), float
// (numbers: range), bool (match value), uuid (UUID strings: match value/any), datetime (datetime strings:
// datetime range), geo ({lon, lat} objects on a 0.1 degree grid: geo_radius, geo_bounding_box, geo_polygon),
// text (word tokens: match text, text_any, phrase). A condition an index cannot bound exactly with
// Matches()'s semantics (except, is_empty, values_count, a match on a type the index does not hold, ...) gets
// no bound.
//
// Thread safety: const methods may run concurrently; mutations need exclusive access.
#ifndef QUIVER_PAYLOAD_PAYLOAD_INDEX_H_
#define QUIVER_PAYLOAD_PAYLOAD_INDEX_H_

#include <boost/json/object.hpp>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "quiver/function_ref.h"
#include "quiver/status.h"

namespace quiver::payload {

class Filter;
class FieldIndex;

enum class FieldIndexType { kKeyword, kInteger, kFloat, kBool, kUuid, kDatetime, kGeo, kText };

// "keyword", "integer", "float", "bool", "uuid", "datetime", "geo", "text"; InvalidArgument for anything
// else.
Result<FieldIndexType> ParseFieldIndexType(std::string_view name);
std::string_view FieldIndexTypeName(FieldIndexType type);

// In a remap passed to Encode: the slot is not written.
inline constexpr uint32_t kDroppedSlot = UINT32_MAX;

struct CardinalityEstimate {
  size_t min = 0;
  size_t expected = 0;
  size_t max = 0;
  // True when indexes bound the filter, so Candidates(filter) returns a list (of at most `max_candidates`
  // slots, whatever `total` was); false for the default wide estimate.
  bool bounded = false;
  size_t max_candidates = 0;  // 0 when not bounded
};

class PayloadIndex {
 public:
  // Calls its argument once for every existing point: visit(slot, payload).
  using PointVisitor = FunctionRef<void(uint32_t, const boost::json::object&)>;

  PayloadIndex();
  ~PayloadIndex();
  PayloadIndex(PayloadIndex&&) noexcept;
  PayloadIndex& operator=(PayloadIndex&&) noexcept;
  PayloadIndex(const PayloadIndex&) = delete;
  PayloadIndex& operator=(const PayloadIndex&) = delete;

  // Creates an index on a field path ("city", "a.b", "tags[]" ...). InvalidArgument for a bad path;
  // AlreadyExists if the field is indexed with another type (same type: OK, no-op). The caller then calls
  // Insert for every existing point (or uses the overload below).
  Status CreateField(std::string_view path, FieldIndexType type);
  // Same, and fills the new index: `for_each_point(visit)` must call visit(slot, payload) for every existing
  // point. Nothing is visited when the field already had an index of this type.
  Status CreateField(std::string_view path, FieldIndexType type,
                     FunctionRef<void(PointVisitor)> for_each_point);
  // NotFound if not indexed; InvalidArgument for a bad path.
  Status DropField(std::string_view path);
  // Indexed fields by canonical path, in path order.
  std::vector<std::pair<std::string, FieldIndexType>> Fields() const;
  bool empty() const { return fields_.empty(); }

  // Indexes every indexed field's values of the point. The slot must not be inserted already.
  void Insert(uint32_t slot, const boost::json::object& payload);
  // Exactly undoes Insert with the same payload.
  void Erase(uint32_t slot, const boost::json::object& payload);

  // Estimate of how many of `total` live points match `filter` (min <= expected <= max <= total), using
  // indexes where conditions are indexed; unindexed parts give wide bounds. `min` is a true lower bound when
  // the index holds exactly the live points (erase points when they are deleted). Lists no slots: each
  // indexed condition costs O(log n) per value or range it names (see Count in field_index.h); the result
  // also says whether, and to how many slots, Candidates would bound the filter.
  CardinalityEstimate Estimate(const Filter& filter, size_t total) const;
  // True when indexes can bound the filter (Candidates(filter) returns a list). As cheap as Estimate.
  bool Bounded(const Filter& filter) const;
  // A sorted superset of the matching slots when indexes can bound the filter (e.g. a `must` condition on an
  // indexed field), std::nullopt when they cannot. `must` starts from its smallest bounded condition (by
  // Estimate's counts) and intersects the others whose bounds are at most kIntersectRatio times the list so
  // far (listing a much larger bound costs more than checking the few extra candidates); `should` and
  // `min_should` unite their conditions only when every one is bounded; `must_not` never bounds.
  std::optional<std::vector<uint32_t>> Candidates(const Filter& filter) const;
  // The same list as Candidates(filter) when Estimate(filter, ...) proves it has at most `limit` slots
  // (bounded && max_candidates <= limit); otherwise std::nullopt, found in Estimate's time without listing
  // any slot.
  std::optional<std::vector<uint32_t>> Candidates(const Filter& filter, size_t limit) const;

  static constexpr size_t kIntersectRatio = 8;

  // Drops the indexes of fields that are not in `fields` (by canonical path and type). InvalidArgument for a
  // bad path in `fields`.
  Status KeepOnly(const std::vector<std::pair<std::string, FieldIndexType>>& fields);

  // The stored form of every field index (docs/formats.md, "Payload index section"), each slot s written as
  // remap[s]; `remap` must be increasing over the slots it keeps, and slots mapped to kDroppedSlot are left
  // out (they must hold no indexed point, or the stored counts would be off).
  std::string Encode(std::span<const uint32_t> remap) const;
  // Loads Encode's bytes into this PayloadIndex, which must have no fields. Corruption naming `what` and the
  // offset for anything malformed (a bad path or type, fields out of order, a slot not below `slot_count`).
  Status Decode(std::span<const uint8_t> bytes, uint32_t slot_count, const std::string& what,
                size_t base_offset = 0);

  // Bytes of memory held by the indexes.
  size_t MemoryUsage() const;
  // Number of points with at least one value in the index of `path` (0 if not indexed), for collection info.
  size_t IndexedPoints(std::string_view path) const;

 private:
  struct Field;
  friend class Planner;

  const Field* FindField(const std::string& canonical_path) const;

  std::map<std::string, std::unique_ptr<Field>> fields_;  // by canonical path text
};

}  // namespace quiver::payload

#endif  // QUIVER_PAYLOAD_PAYLOAD_INDEX_H_
