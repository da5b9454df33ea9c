// Filter: Qdrant's filter language as a parsed, immutable tree, its parser, and its evaluation against one
// point.
//
// A Filter is must (all), should (at least one), must_not (none) and min_should (at least min_count of its
// conditions). A condition is a field condition (match, range, geo, values_count, is_empty/is_null flags on a
// key), is_empty {key}, is_null {key}, has_id, nested {key, filter} (the whole inner filter holds for one
// element of the array at key, paths relative to the element), or a Filter itself. docs/filters.md describes
// every rule, and where Quiver differs from Qdrant.
//
// Parsing does all the work that does not depend on the point (key paths split, datetimes converted, lists
// sorted, query text tokenized), so Matches() allocates nothing: it runs once per visited point during a
// filtered search.
//
// Thread safety: a Filter is immutable once parsed; copies share sub-filters. Matches may run concurrently.
#ifndef QUIVER_PAYLOAD_FILTER_H_
#define QUIVER_PAYLOAD_FILTER_H_

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "payload/geo.h"
#include "payload/json_path.h"
#include "quiver/point_id.h"
#include "quiver/status.h"

namespace quiver::payload {

// Filters deeper than this (a filter inside a condition inside a filter ...) are rejected.
inline constexpr int kMaxFilterDepth = 64;

class Filter;

// match {value}: a string, an integer (never matches a float payload value, even 1.0) or a boolean.
struct MatchValue {
  std::variant<std::string, int64_t, bool> value;
};

// match {any} / match {except}: a list of strings or a list of integers, sorted and deduplicated.
struct ValueList {
  bool integers = false;  // an empty list counts as a list of strings
  std::vector<std::string> strings;
  std::vector<int64_t> ints;
};
struct MatchAny {
  ValueList list;
};
struct MatchExcept {
  ValueList list;
};

// match {text}: every query token appears in the value; {text_any}: at least one does; {phrase}: the tokens
// appear consecutively in order. Tokens as in text_tokens.h.
struct MatchText {
  enum class Mode : uint8_t { kAll, kAny, kPhrase };
  Mode mode = Mode::kAll;
  std::string text;                 // as given
  std::vector<std::string> tokens;  // lower-cased; kAll/kAny: sorted unique, kPhrase: in order
};

// range with number bounds; every number payload value compares as a double.
struct NumberRange {
  std::optional<double> gt, gte, lt, lte;
  bool Contains(double x) const {
    return (!gt || x > *gt) && (!gte || x >= *gte) && (!lt || x < *lt) && (!lte || x <= *lte);
  }
};

// range with datetime string bounds (Qdrant's DatetimeRange), in microseconds since the epoch.
struct DatetimeRange {
  std::optional<int64_t> gt, gte, lt, lte;
  bool Contains(int64_t x) const {
    return (!gt || x > *gt) && (!gte || x >= *gte) && (!lt || x < *lt) && (!lte || x <= *lte);
  }
};

// values_count: bounds on the number of values at the key.
struct ValuesCount {
  std::optional<uint64_t> gt, gte, lt, lte;
  bool Contains(uint64_t n) const {
    return (!gt || n > *gt) && (!gte || n >= *gte) && (!lt || n < *lt) && (!lte || n <= *lte);
  }
};

// {"key": ..., "is_empty": bool} and {"key": ..., "is_null": bool}: Qdrant's field-condition forms, checked
// value by value (see docs/filters.md; they differ from the is_empty {key} / is_null {key} conditions on
// arrays).
struct FieldIsEmpty {
  bool empty = true;
};
struct FieldIsNull {
  bool null = true;
};

using FieldPredicate =
    std::variant<MatchValue, MatchAny, MatchExcept, MatchText, NumberRange, DatetimeRange, GeoRadius,
                 GeoBoundingBox, GeoPolygon, ValuesCount, FieldIsEmpty, FieldIsNull>;

struct FieldCondition {
  JsonPath key;
  FieldPredicate predicate;
};

// is_empty {key}: the key is missing, or every value at it is null or [].
struct IsEmptyCondition {
  JsonPath key;
};

// is_null {key}: some value at the key is null (an array holding null is not null).
struct IsNullCondition {
  JsonPath key;
};

// has_id: the point's id is one of these (sorted, unique).
struct HasIdCondition {
  std::vector<PointId> ids;
};

// nested {key, filter}: some object element of the array at `key` satisfies `filter`, evaluated with that
// element as the payload. `key` already ends with `[]`.
struct NestedCondition {
  JsonPath key;
  std::shared_ptr<const Filter> filter;
};

// A Filter used as a condition. (A null filter, which only a hand-built tree can hold, is an empty filter.)
struct FilterCondition {
  std::shared_ptr<const Filter> filter;
};

using Condition = std::variant<FieldCondition, IsEmptyCondition, IsNullCondition, HasIdCondition,
                               NestedCondition, FilterCondition>;

struct MinShould {
  std::vector<Condition> conditions;
  size_t min_count = 0;
};

class Filter {
 public:
  std::vector<Condition> must;
  // Absent: no constraint. Present and empty: matches nothing (as in Qdrant).
  std::optional<std::vector<Condition>> should;
  std::vector<Condition> must_not;
  std::optional<MinShould> min_should;

  // True when the filter has no clause at all (it matches every point).
  bool empty() const { return must.empty() && !should && must_not.empty() && !min_should; }
};

// Parses Qdrant's filter JSON. Errors are InvalidArgument naming the bad part by path, e.g.
// "filter.must[2].range.gte: expected a number", "filter.should[0]: unknown condition 'foo'".
Result<Filter> ParseFilter(const boost::json::value& json, std::string_view path = "filter");
// Same from JSON text; malformed JSON gives InvalidArgument "filter: malformed JSON (<boost message>) at
// offset N".
Result<Filter> ParseFilterText(std::string_view json_text, std::string_view path = "filter");

// True when the point (its id and payload object) satisfies the filter, with Qdrant's semantics. No
// allocation.
bool Matches(const Filter& filter, const PointId& id, const boost::json::object& payload);

}  // namespace quiver::payload

#endif  // QUIVER_PAYLOAD_FILTER_H_
