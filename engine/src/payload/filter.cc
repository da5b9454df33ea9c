// Filter evaluation (Matches). The parser lives in filter_parser.cc.
#include "payload/filter.h"

#include <algorithm>
#include <limits>

#include "payload/datetime.h"
#include "payload/text_tokens.h"

namespace quiver::payload {
namespace {

namespace json = boost::json;

std::string_view View(const json::string& s) { return std::string_view(s.data(), s.size()); }

// The integer a payload value holds, as Qdrant's serde_json as_i64: int64, or uint64 that fits. Floats never.
bool AsInt64(const json::value& v, int64_t* out) {
  if (const int64_t* i = v.if_int64()) {
    *out = *i;
    return true;
  }
  if (const uint64_t* u = v.if_uint64()) {
    if (*u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      *out = static_cast<int64_t>(*u);
      return true;
    }
  }
  return false;
}

bool AsDouble(const json::value& v, double* out) {
  if (const double* d = v.if_double()) {
    *out = *d;
    return true;
  }
  if (const int64_t* i = v.if_int64()) {
    *out = static_cast<double>(*i);
    return true;
  }
  if (const uint64_t* u = v.if_uint64()) {
    *out = static_cast<double>(*u);
    return true;
  }
  return false;
}

bool ListContainsString(const ValueList& list, std::string_view s) {
  return std::binary_search(list.strings.begin(), list.strings.end(), s, std::less<>());
}

bool ListContainsInt(const ValueList& list, int64_t n) {
  return std::binary_search(list.ints.begin(), list.ints.end(), n);
}

bool TextMatches(const MatchText& m, std::string_view text) {
  switch (m.mode) {
    case MatchText::Mode::kAll:
      for (const std::string& q : m.tokens) {
        TokenCursor cursor(text);
        std::string_view token;
        bool found = false;
        while (cursor.Next(&token)) {
          if (TokenEquals(token, q)) {
            found = true;
            break;
          }
        }
        if (!found) return false;
      }
      return true;
    case MatchText::Mode::kAny: {
      TokenCursor cursor(text);
      std::string_view token;
      while (cursor.Next(&token)) {
        for (const std::string& q : m.tokens) {
          if (TokenEquals(token, q)) return true;
        }
      }
      return false;
    }
    case MatchText::Mode::kPhrase: {
      if (m.tokens.empty()) return true;
      TokenCursor start(text);
      std::string_view token;
      while (true) {
        TokenCursor probe = start;
        if (!start.Next(&token)) return false;
        bool all = true;
        for (const std::string& q : m.tokens) {
          if (!probe.Next(&token) || !TokenEquals(token, q)) {
            all = false;
            break;
          }
        }
        if (all) return true;
      }
    }
  }
  return false;
}

// Whether one (non-array, or array-inside-array) value satisfies the predicate. Qdrant's
// ValueChecker::check_match.
struct CheckOne {
  const json::value& v;

  bool operator()(const MatchValue& m) const {
    if (const std::string* s = std::get_if<std::string>(&m.value)) {
      const json::string* str = v.if_string();
      return str != nullptr && View(*str) == *s;
    }
    if (const int64_t* n = std::get_if<int64_t>(&m.value)) {
      int64_t x;
      return AsInt64(v, &x) && x == *n;
    }
    const bool* b = v.if_bool();
    return b != nullptr && *b == std::get<bool>(m.value);
  }
  bool operator()(const MatchAny& m) const {
    if (!m.list.integers) {
      const json::string* str = v.if_string();
      return str != nullptr && ListContainsString(m.list, View(*str));
    }
    int64_t x;
    return AsInt64(v, &x) && ListContainsInt(m.list, x);
  }
  bool operator()(const MatchExcept& m) const {
    switch (v.kind()) {
      case json::kind::null:
        return false;
      case json::kind::string:
        return m.list.integers || !ListContainsString(m.list, View(*v.if_string()));
      case json::kind::int64:
      case json::kind::uint64:
      case json::kind::double_: {
        if (!m.list.integers) return true;
        int64_t x;
        return !AsInt64(v, &x) || !ListContainsInt(m.list, x);
      }
      default:  // bool, object, array inside an array
        return true;
    }
  }
  bool operator()(const MatchText& m) const {
    const json::string* str = v.if_string();
    return str != nullptr && TextMatches(m, View(*str));
  }
  bool operator()(const NumberRange& r) const {
    double x;
    return AsDouble(v, &x) && r.Contains(x);
  }
  bool operator()(const DatetimeRange& r) const {
    const json::string* str = v.if_string();
    if (str == nullptr) return false;
    std::optional<int64_t> t = ParseDatetime(View(*str));
    return t && r.Contains(*t);
  }
  bool operator()(const GeoRadius& g) const {
    std::optional<GeoPoint> p = GeoPointFromJson(v);
    return p && Contains(g, *p);
  }
  bool operator()(const GeoBoundingBox& g) const {
    std::optional<GeoPoint> p = GeoPointFromJson(v);
    return p && Contains(g, *p);
  }
  bool operator()(const GeoPolygon& g) const {
    std::optional<GeoPoint> p = GeoPointFromJson(v);
    return p && Contains(g, *p);
  }
  // Handled before the per-value walk.
  bool operator()(const ValuesCount&) const { return false; }
  bool operator()(const FieldIsEmpty&) const { return false; }
  bool operator()(const FieldIsNull&) const { return false; }
};

uint64_t CountOf(const json::value& v) {
  if (v.is_null()) return 0;
  if (const json::array* arr = v.if_array()) return arr->size();
  return 1;
}

bool EvalField(const FieldCondition& c, const json::object& payload) {
  if (const ValuesCount* vc = std::get_if<ValuesCount>(&c.predicate)) {
    uint64_t count = 0;
    ForEachRawValue(payload, c.key, [&](const json::value& v) {
      count += CountOf(v);
      return false;
    });
    return vc->Contains(count);
  }
  if (const FieldIsEmpty* fe = std::get_if<FieldIsEmpty>(&c.predicate)) {
    bool any = false;
    const bool found = ForEachRawValue(payload, c.key, [&](const json::value& v) {
      any = true;
      bool empty_value;
      if (v.is_null()) {
        empty_value = true;
      } else if (const json::array* arr = v.if_array()) {
        empty_value = arr->empty();
      } else {
        empty_value = false;
      }
      return empty_value == fe->empty;
    });
    return any ? found : fe->empty;
  }
  if (const FieldIsNull* fn = std::get_if<FieldIsNull>(&c.predicate)) {
    bool any = false;
    const bool found = ForEachRawValue(payload, c.key, [&](const json::value& v) {
      any = true;
      bool null_value;
      if (v.is_null()) {
        null_value = true;
      } else if (const json::array* arr = v.if_array()) {
        null_value = std::any_of(arr->begin(), arr->end(), [](const json::value& e) { return e.is_null(); });
      } else {
        null_value = false;
      }
      return null_value == fn->null;
    });
    return any ? found : !fn->null;
  }
  return ForEachValue(payload, c.key,
                      [&](const json::value& v) { return std::visit(CheckOne{v}, c.predicate); });
}

bool EvalFilter(const Filter& f, const PointId* id, const json::object& payload);

struct EvalVisitor {
  const PointId* id;  // null inside nested (has_id is rejected there by the parser)
  const json::object& payload;

  bool operator()(const FieldCondition& c) const { return EvalField(c, payload); }
  bool operator()(const IsEmptyCondition& c) const {
    bool all_empty = true;
    ForEachRawValue(payload, c.key, [&](const json::value& v) {
      const json::array* arr = v.if_array();
      all_empty = v.is_null() || (arr != nullptr && arr->empty());
      return !all_empty;
    });
    return all_empty;
  }
  bool operator()(const IsNullCondition& c) const {
    return ForEachRawValue(payload, c.key, [](const json::value& v) { return v.is_null(); });
  }
  bool operator()(const HasIdCondition& c) const {
    return id != nullptr && std::binary_search(c.ids.begin(), c.ids.end(), *id);
  }
  bool operator()(const NestedCondition& c) const {
    return ForEachRawValue(payload, c.key, [&](const json::value& v) {
      const json::object* element = v.if_object();
      return element != nullptr && (c.filter == nullptr || EvalFilter(*c.filter, nullptr, *element));
    });
  }
  // A null sub-filter (only a hand-built tree has one) is an empty filter.
  bool operator()(const FilterCondition& c) const {
    return c.filter == nullptr || EvalFilter(*c.filter, id, payload);
  }
};

bool EvalCondition(const Condition& c, const PointId* id, const json::object& payload) {
  return std::visit(EvalVisitor{id, payload}, c);
}

bool EvalFilter(const Filter& f, const PointId* id, const json::object& payload) {
  for (const Condition& c : f.must) {
    if (!EvalCondition(c, id, payload)) return false;
  }
  for (const Condition& c : f.must_not) {
    if (EvalCondition(c, id, payload)) return false;
  }
  if (f.should) {
    bool any = false;
    for (const Condition& c : *f.should) {
      if (EvalCondition(c, id, payload)) {
        any = true;
        break;
      }
    }
    if (!any) return false;
  }
  if (f.min_should) {
    size_t need = f.min_should->min_count;
    size_t left = f.min_should->conditions.size();
    for (const Condition& c : f.min_should->conditions) {
      if (need == 0) break;
      if (left < need) return false;
      if (EvalCondition(c, id, payload)) --need;
      --left;
    }
    if (need > 0) return false;
  }
  return true;
}

}  // namespace

bool Matches(const Filter& filter, const PointId& id, const boost::json::object& payload) {
  return EvalFilter(filter, &id, payload);
}

}  // namespace quiver::payload
