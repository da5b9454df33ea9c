// JsonPath: a parsed payload key path ("city", "a.b", "a[].b", "a[0]", `a."b.c"`), Qdrant's JsonPath syntax,
// and the one traversal every filter condition and payload index uses to reach the values a path names.
//
// Syntax: a first key, then any of `.key`, `[]` (every element of an array) and `[n]` (element n). A key is
// either raw (ASCII letters, digits, `_`, `-`, and any byte >= 0x80) or quoted (`"..."`, any bytes but `"`
// and `\`). Paths never start with `[`.
//
// Traversal follows Qdrant (lib/segment/src/json_path, `value_get`): a key step only enters objects and an
// index or
// `[]` step only enters arrays; a key step on an array reaches nothing (write `a[].b`, not `a.b`, to look
// inside an array of objects). ForEachRawValue reports the values the path reaches as they are; ForEachValue
// additionally expands a reached array one level, which is how a condition on an array matches if any element
// matches (an array inside that array is not expanded further).
//
// Thread safety: a value type; traversal reads only.
#ifndef QUIVER_PAYLOAD_JSON_PATH_H_
#define QUIVER_PAYLOAD_JSON_PATH_H_

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "quiver/status.h"

namespace quiver::payload {

class JsonPath {
 public:
  struct Item {
    enum class Kind : uint8_t { kKey, kIndex, kWildcard };
    Kind kind = Kind::kKey;
    std::string key;   // kKey
    size_t index = 0;  // kIndex

    friend bool operator==(const Item& a, const Item& b) {
      return a.kind == b.kind && a.key == b.key && a.index == b.index;
    }
  };

  // An empty placeholder that reaches nothing; assign a parsed path before use.
  JsonPath() = default;

  // Parses `text`. InvalidArgument "'<text>' is not a valid key path: <reason>" when malformed.
  static Result<JsonPath> Parse(std::string_view text);

  // Items in order; items()[0] is always a key (for a parsed path).
  const std::vector<Item>& items() const { return items_; }
  bool ends_with_wildcard() const { return !items_.empty() && items_.back().kind == Item::Kind::kWildcard; }

  // The canonical text: keys quoted only when they need it, so equal paths have equal text.
  const std::string& text() const { return text_; }

  // `this` + `[]` (unless it already ends with `[]`): the path of the elements of the array `this` names.
  JsonPath ArrayElements() const;
  // `this` followed by `relative`'s items (used to name, from the root, a path inside nested elements).
  JsonPath Concat(const JsonPath& relative) const;

  friend bool operator==(const JsonPath& a, const JsonPath& b) { return a.items_ == b.items_; }

 private:
  void RebuildText();

  std::vector<Item> items_;
  std::string text_;
};

namespace internal {

// Visits the values reached from `value` by items [i, end). `fn(const boost::json::value&)` returns true to
// stop; the function returns true when stopped.
template <typename Fn>
bool VisitPath(const boost::json::value& value, const std::vector<JsonPath::Item>& items, size_t i, Fn& fn) {
  if (i == items.size()) return fn(value);
  const JsonPath::Item& item = items[i];
  switch (item.kind) {
    case JsonPath::Item::Kind::kKey:
      if (const boost::json::object* obj = value.if_object()) {
        if (const boost::json::value* child = obj->if_contains(item.key))
          return VisitPath(*child, items, i + 1, fn);
      }
      return false;
    case JsonPath::Item::Kind::kIndex:
      if (const boost::json::array* arr = value.if_array()) {
        if (item.index < arr->size()) return VisitPath((*arr)[item.index], items, i + 1, fn);
      }
      return false;
    case JsonPath::Item::Kind::kWildcard:
      if (const boost::json::array* arr = value.if_array()) {
        for (const boost::json::value& element : *arr) {
          if (VisitPath(element, items, i + 1, fn)) return true;
        }
      }
      return false;
  }
  return false;
}

}  // namespace internal

// Calls fn(const boost::json::value&) for each value `path` reaches in `root`, unexpanded; stops when fn
// returns true and then returns true. No allocation.
template <typename Fn>
bool ForEachRawValue(const boost::json::object& root, const JsonPath& path, Fn&& fn) {
  const std::vector<JsonPath::Item>& items = path.items();
  if (items.empty()) return false;
  const boost::json::value* first = root.if_contains(items[0].key);
  if (first == nullptr) return false;
  if (items.size() == 1) return fn(*first);  // the common one-key path, without the recursive walk
  return internal::VisitPath(*first, items, 1, fn);
}

// Like ForEachRawValue, but a reached array is replaced by its elements (one level).
template <typename Fn>
bool ForEachValue(const boost::json::object& root, const JsonPath& path, Fn&& fn) {
  return ForEachRawValue(root, path, [&fn](const boost::json::value& v) {
    if (const boost::json::array* arr = v.if_array()) {
      for (const boost::json::value& element : *arr) {
        if (fn(element)) return true;
      }
      return false;
    }
    return fn(v);
  });
}

}  // namespace quiver::payload

#endif  // QUIVER_PAYLOAD_JSON_PATH_H_
