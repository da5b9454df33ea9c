// ParseFilter / ParseFilterText: Qdrant's filter JSON to a Filter, with errors that name the bad part by
// path.
#include <algorithm>
#include <boost/json/parse_options.hpp>
#include <boost/json/stream_parser.hpp>
#include <cfloat>
#include <cmath>
#include <cstdio>
#include <limits>

#include "payload/datetime.h"
#include "payload/filter.h"
#include "payload/json_util.h"
#include "payload/text_tokens.h"

namespace quiver::payload {
namespace {

namespace json = boost::json;

constexpr std::string_view kFieldPredicates =
    "match, range, geo_radius, geo_bounding_box, geo_polygon, values_count, is_empty or is_null";
constexpr std::string_view kMatchKinds = "value, any, except, text, text_any or phrase";

std::string_view View(json::string_view s) { return std::string_view(s.data(), s.size()); }

Status Err(const std::string& path, std::string_view message) {
  return Status::InvalidArgument(path + ": " + std::string(message));
}

std::string FormatNumber(double x) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.15g", x);
  return buf;
}

std::string Shorten(std::string_view text) {
  constexpr size_t kMax = 64;
  return text.size() <= kMax ? std::string(text) : std::string(text.substr(0, kMax)) + "...";
}

// A finite number of any JSON number kind.
bool NumberOf(const json::value& v, double* out) {
  if (const double* d = v.if_double()) {
    *out = *d;
    return std::isfinite(*d);
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

bool NonNegativeInteger(const json::value& v, uint64_t* out) {
  if (const int64_t* i = v.if_int64()) {
    if (*i < 0) return false;
    *out = static_cast<uint64_t>(*i);
    return true;
  }
  if (const uint64_t* u = v.if_uint64()) {
    *out = *u;
    return true;
  }
  return false;
}

class Parser {
 public:
  Status ParseFilter(const json::value& v, const std::string& path, int depth, bool in_nested, Filter* out);

 private:
  Status ParseConditions(const json::value& v, const std::string& path, int depth, bool in_nested,
                         std::vector<Condition>* out);
  Status ParseCondition(const json::value& v, const std::string& path, int depth, bool in_nested,
                        Condition* out);
  Status ParseMinShould(const json::value& v, const std::string& path, int depth, bool in_nested,
                        MinShould* out);
  Status ParseKey(const json::value& v, const std::string& path, JsonPath* out);
  Status ParseKeyObject(const json::value& v, const std::string& path, JsonPath* out);
  Status ParseHasId(const json::value& v, const std::string& path, HasIdCondition* out);
  Status ParseNested(const json::value& v, const std::string& path, int depth, NestedCondition* out);
  Status ParseField(const json::object& o, const std::string& path, FieldCondition* out);
  Status ParseMatch(const json::value& v, const std::string& path, FieldPredicate* out);
  Status ParseValueList(const json::value& v, const std::string& path, ValueList* out);
  Status ParseRange(const json::value& v, const std::string& path, FieldPredicate* out);
  Status ParseValuesCount(const json::value& v, const std::string& path, ValuesCount* out);
  Status ParseGeoPoint(const json::value& v, const std::string& path, GeoPoint* out);
  Status ParseRing(const json::value& v, const std::string& path, std::vector<GeoPoint>* out);
  Status ParseGeoRadius(const json::value& v, const std::string& path, GeoRadius* out);
  Status ParseGeoBox(const json::value& v, const std::string& path, GeoBoundingBox* out);
  Status ParseGeoPolygon(const json::value& v, const std::string& path, GeoPolygon* out);
};

// Checks that `o` has only the keys in `allowed`; names the first other one.
Status OnlyKeys(const json::object& o, const std::string& path,
                std::initializer_list<std::string_view> allowed, std::string_view expected) {
  for (const auto& kv : o) {
    const std::string_view key = View(kv.key());
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      return Err(path, "unknown field '" + Shorten(key) + "' (expected " + std::string(expected) + ")");
    }
  }
  return Status::OK();
}

const json::value* Present(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && !v->is_null() ? v : nullptr;
}

Status Parser::ParseFilter(const json::value& v, const std::string& path, int depth, bool in_nested,
                           Filter* out) {
  if (depth > kMaxFilterDepth) {
    return Err(path, "filter nested deeper than " + std::to_string(kMaxFilterDepth) + " levels");
  }
  const json::object* o = v.if_object();
  if (o == nullptr) return Err(path, "expected a filter object, got " + JsonKindName(v));
  QUIVER_RETURN_IF_ERROR(OnlyKeys(*o, path, {"must", "should", "must_not", "min_should"},
                                  "must, should, must_not or min_should"));
  if (const json::value* m = Present(*o, "must")) {
    QUIVER_RETURN_IF_ERROR(ParseConditions(*m, path + ".must", depth, in_nested, &out->must));
  }
  if (const json::value* s = Present(*o, "should")) {
    out->should.emplace();
    QUIVER_RETURN_IF_ERROR(ParseConditions(*s, path + ".should", depth, in_nested, &*out->should));
  }
  if (const json::value* n = Present(*o, "must_not")) {
    QUIVER_RETURN_IF_ERROR(ParseConditions(*n, path + ".must_not", depth, in_nested, &out->must_not));
  }
  if (const json::value* ms = Present(*o, "min_should")) {
    out->min_should.emplace();
    QUIVER_RETURN_IF_ERROR(ParseMinShould(*ms, path + ".min_should", depth, in_nested, &*out->min_should));
  }
  return Status::OK();
}

Status Parser::ParseConditions(const json::value& v, const std::string& path, int depth, bool in_nested,
                               std::vector<Condition>* out) {
  if (v.is_object()) {
    // One condition instead of a list, as Qdrant allows.
    Condition c;
    QUIVER_RETURN_IF_ERROR(ParseCondition(v, path, depth, in_nested, &c));
    out->push_back(std::move(c));
    return Status::OK();
  }
  const json::array* arr = v.if_array();
  if (arr == nullptr)
    return Err(path, "expected a condition or a list of conditions, got " + JsonKindName(v));
  out->reserve(arr->size());
  for (size_t i = 0; i < arr->size(); ++i) {
    Condition c;
    QUIVER_RETURN_IF_ERROR(
        ParseCondition((*arr)[i], path + "[" + std::to_string(i) + "]", depth, in_nested, &c));
    out->push_back(std::move(c));
  }
  return Status::OK();
}

Status Parser::ParseMinShould(const json::value& v, const std::string& path, int depth, bool in_nested,
                              MinShould* out) {
  const json::object* o = v.if_object();
  if (o == nullptr) {
    return Err(path, "expected an object with conditions and min_count, got " + JsonKindName(v));
  }
  QUIVER_RETURN_IF_ERROR(OnlyKeys(*o, path, {"conditions", "min_count"}, "conditions and min_count"));
  const json::value* conditions = Present(*o, "conditions");
  if (conditions == nullptr) return Err(path, "missing 'conditions'");
  const json::value* min_count = Present(*o, "min_count");
  if (min_count == nullptr) return Err(path, "missing 'min_count'");
  if (!conditions->is_array()) {
    return Err(path + ".conditions", "expected a list of conditions, got " + JsonKindName(*conditions));
  }
  QUIVER_RETURN_IF_ERROR(
      ParseConditions(*conditions, path + ".conditions", depth, in_nested, &out->conditions));
  uint64_t n;
  if (!NonNegativeInteger(*min_count, &n)) return Err(path + ".min_count", "expected a non-negative integer");
  out->min_count = static_cast<size_t>(std::min<uint64_t>(n, SIZE_MAX));
  return Status::OK();
}

Status Parser::ParseKey(const json::value& v, const std::string& path, JsonPath* out) {
  const json::string* s = v.if_string();
  if (s == nullptr) return Err(path, "expected a key path string, got " + JsonKindName(v));
  Result<JsonPath> parsed = JsonPath::Parse(View(*s));
  if (!parsed.ok()) return Err(path, parsed.status().message());
  *out = std::move(parsed).value();
  return Status::OK();
}

Status Parser::ParseKeyObject(const json::value& v, const std::string& path, JsonPath* out) {
  const json::object* o = v.if_object();
  if (o == nullptr) {
    return Err(path, "expected an object like {\"key\": \"...\"}, got " + JsonKindName(v));
  }
  QUIVER_RETURN_IF_ERROR(OnlyKeys(*o, path, {"key"}, "key"));
  const json::value* key = o->if_contains("key");
  if (key == nullptr) return Err(path, "missing 'key'");
  return ParseKey(*key, path + ".key", out);
}

Status Parser::ParseCondition(const json::value& v, const std::string& path, int depth, bool in_nested,
                              Condition* out) {
  const json::object* o = v.if_object();
  if (o == nullptr) return Err(path, "expected a condition object, got " + JsonKindName(v));
  if (o->contains("key")) {
    FieldCondition fc;
    QUIVER_RETURN_IF_ERROR(ParseField(*o, path, &fc));
    *out = std::move(fc);
    return Status::OK();
  }
  static constexpr std::string_view kSpecial[] = {"is_empty", "is_null", "has_id", "has_vector", "nested"};
  for (std::string_view special : kSpecial) {
    if (!o->contains(special)) continue;
    for (const auto& kv : *o) {
      if (View(kv.key()) != special) {
        return Err(path, "unexpected field '" + Shorten(View(kv.key())) + "' in a " + std::string(special) +
                             " condition");
      }
    }
    const json::value& body = *o->if_contains(special);
    const std::string body_path = path + "." + std::string(special);
    if (special == "is_empty") {
      IsEmptyCondition c;
      QUIVER_RETURN_IF_ERROR(ParseKeyObject(body, body_path, &c.key));
      *out = std::move(c);
    } else if (special == "is_null") {
      IsNullCondition c;
      QUIVER_RETURN_IF_ERROR(ParseKeyObject(body, body_path, &c.key));
      *out = std::move(c);
    } else if (special == "has_id") {
      if (in_nested) {
        return Err(path, "has_id is not supported inside nested (put it next to the nested condition)");
      }
      HasIdCondition c;
      QUIVER_RETURN_IF_ERROR(ParseHasId(body, body_path, &c));
      *out = std::move(c);
    } else if (special == "has_vector") {
      return Err(path, "has_vector is not supported");
    } else {
      NestedCondition c;
      QUIVER_RETURN_IF_ERROR(ParseNested(body, body_path, depth, &c));
      *out = std::move(c);
    }
    return Status::OK();
  }
  // Otherwise the object must be a filter.
  bool has_filter_key = false;
  for (const auto& kv : *o) {
    const std::string_view key = View(kv.key());
    if (key == "must" || key == "should" || key == "must_not" || key == "min_should") has_filter_key = true;
  }
  if (!has_filter_key && !o->empty()) {
    // A field predicate without its key is a field condition missing "key", not an unknown condition.
    for (const auto& kv : *o) {
      const std::string_view key = View(kv.key());
      if (key == "match" || key == "range" || key == "geo_radius" || key == "geo_bounding_box" ||
          key == "geo_polygon" || key == "values_count") {
        return Err(path, "the condition has \"" + std::string(key) + "\" but no \"key\"");
      }
    }
    return Err(path, "unknown condition '" + Shorten(View(o->begin()->key())) + "'");
  }
  auto filter = std::make_shared<Filter>();
  QUIVER_RETURN_IF_ERROR(ParseFilter(v, path, depth + 1, in_nested, filter.get()));
  *out = FilterCondition{std::move(filter)};
  return Status::OK();
}

Status Parser::ParseHasId(const json::value& v, const std::string& path, HasIdCondition* out) {
  const json::array* arr = v.if_array();
  if (arr == nullptr) return Err(path, "expected a list of point ids, got " + JsonKindName(v));
  out->ids.reserve(arr->size());
  for (size_t i = 0; i < arr->size(); ++i) {
    const json::value& e = (*arr)[i];
    const std::string item_path = path + "[" + std::to_string(i) + "]";
    uint64_t n;
    if (NonNegativeInteger(e, &n)) {
      out->ids.push_back(PointId::Number(n));
    } else if (const json::string* s = e.if_string()) {
      Result<PointId> id = PointId::ParseUuid(View(*s));
      if (!id.ok()) {
        return Err(item_path, "'" + Shorten(View(*s)) +
                                  "' is not a valid point id (expected an unsigned integer or a UUID)");
      }
      out->ids.push_back(*id);
    } else {
      return Err(item_path, "expected an unsigned integer or a UUID string, got " + JsonKindName(e));
    }
  }
  std::sort(out->ids.begin(), out->ids.end());
  out->ids.erase(std::unique(out->ids.begin(), out->ids.end()), out->ids.end());
  return Status::OK();
}

Status Parser::ParseNested(const json::value& v, const std::string& path, int depth, NestedCondition* out) {
  const json::object* o = v.if_object();
  if (o == nullptr) return Err(path, "expected an object with key and filter, got " + JsonKindName(v));
  QUIVER_RETURN_IF_ERROR(OnlyKeys(*o, path, {"key", "filter"}, "key and filter"));
  const json::value* key = o->if_contains("key");
  if (key == nullptr) return Err(path, "missing 'key'");
  const json::value* filter = o->if_contains("filter");
  if (filter == nullptr) return Err(path, "missing 'filter'");
  JsonPath k;
  QUIVER_RETURN_IF_ERROR(ParseKey(*key, path + ".key", &k));
  out->key = k.ArrayElements();
  auto inner = std::make_shared<Filter>();
  QUIVER_RETURN_IF_ERROR(ParseFilter(*filter, path + ".filter", depth + 1, /*in_nested=*/true, inner.get()));
  out->filter = std::move(inner);
  return Status::OK();
}

Status Parser::ParseField(const json::object& o, const std::string& path, FieldCondition* out) {
  static constexpr std::string_view kPredicates[] = {
      "match",       "range",        "geo_radius", "geo_bounding_box",
      "geo_polygon", "values_count", "is_empty",   "is_null"};
  for (const auto& kv : o) {
    const std::string_view key = View(kv.key());
    if (key != "key" &&
        std::find(std::begin(kPredicates), std::end(kPredicates), key) == std::end(kPredicates)) {
      return Err(path, "unknown field '" + Shorten(key) + "' in a field condition (expected key and one of " +
                           std::string(kFieldPredicates) + ")");
    }
  }
  QUIVER_RETURN_IF_ERROR(ParseKey(*o.if_contains("key"), path + ".key", &out->key));
  std::string_view chosen;
  for (std::string_view p : kPredicates) {
    if (Present(o, p) == nullptr) continue;
    if (!chosen.empty()) {
      return Err(path, "a field condition takes only one of " + std::string(kFieldPredicates) + " (got '" +
                           std::string(chosen) + "' and '" + std::string(p) + "')");
    }
    chosen = p;
  }
  if (chosen.empty()) return Err(path, "a field condition needs one of " + std::string(kFieldPredicates));
  const json::value& body = *Present(o, chosen);
  const std::string body_path = path + "." + std::string(chosen);
  if (chosen == "match") return ParseMatch(body, body_path, &out->predicate);
  if (chosen == "range") return ParseRange(body, body_path, &out->predicate);
  if (chosen == "geo_radius") {
    GeoRadius g;
    QUIVER_RETURN_IF_ERROR(ParseGeoRadius(body, body_path, &g));
    out->predicate = g;
    return Status::OK();
  }
  if (chosen == "geo_bounding_box") {
    GeoBoundingBox g;
    QUIVER_RETURN_IF_ERROR(ParseGeoBox(body, body_path, &g));
    out->predicate = g;
    return Status::OK();
  }
  if (chosen == "geo_polygon") {
    GeoPolygon g;
    QUIVER_RETURN_IF_ERROR(ParseGeoPolygon(body, body_path, &g));
    out->predicate = std::move(g);
    return Status::OK();
  }
  if (chosen == "values_count") {
    ValuesCount vc;
    QUIVER_RETURN_IF_ERROR(ParseValuesCount(body, body_path, &vc));
    out->predicate = vc;
    return Status::OK();
  }
  const bool* flag = body.if_bool();
  if (flag == nullptr) return Err(body_path, "expected a boolean, got " + JsonKindName(body));
  if (chosen == "is_empty") {
    out->predicate = FieldIsEmpty{*flag};
  } else {
    out->predicate = FieldIsNull{*flag};
  }
  return Status::OK();
}

Status Parser::ParseMatch(const json::value& v, const std::string& path, FieldPredicate* out) {
  const json::object* o = v.if_object();
  if (o == nullptr) return Err(path, "expected an object, got " + JsonKindName(v));
  QUIVER_RETURN_IF_ERROR(
      OnlyKeys(*o, path, {"value", "any", "except", "text", "text_any", "phrase"}, kMatchKinds));
  if (o->size() != 1) {
    if (o->empty()) return Err(path, "expected one of " + std::string(kMatchKinds));
    auto it = o->begin();
    const std::string first(View(it->key()));
    ++it;
    return Err(path, "expected only one of " + std::string(kMatchKinds) + " (got '" + first + "' and '" +
                         std::string(View(it->key())) + "')");
  }
  const std::string_view kind = View(o->begin()->key());
  const json::value& body = o->begin()->value();
  const std::string body_path = path + "." + std::string(kind);
  if (kind == "value") {
    MatchValue m;
    if (const json::string* s = body.if_string()) {
      m.value = std::string(View(*s));
    } else if (const bool* b = body.if_bool()) {
      m.value = *b;
    } else if (const int64_t* i = body.if_int64()) {
      m.value = *i;
    } else if (const uint64_t* u = body.if_uint64()) {
      return Err(body_path, "integer " + std::to_string(*u) + " is out of the 64-bit signed range");
    } else {
      return Err(body_path, "expected a string, an integer or a boolean, got " + JsonKindName(body));
    }
    *out = std::move(m);
    return Status::OK();
  }
  if (kind == "any" || kind == "except") {
    ValueList list;
    QUIVER_RETURN_IF_ERROR(ParseValueList(body, body_path, &list));
    if (kind == "any") {
      *out = MatchAny{std::move(list)};
    } else {
      *out = MatchExcept{std::move(list)};
    }
    return Status::OK();
  }
  const json::string* s = body.if_string();
  if (s == nullptr) return Err(body_path, "expected a string, got " + JsonKindName(body));
  MatchText m;
  m.mode = kind == "text"       ? MatchText::Mode::kAll
           : kind == "text_any" ? MatchText::Mode::kAny
                                : MatchText::Mode::kPhrase;
  m.text = std::string(View(*s));
  m.tokens = Tokenize(m.text);
  if (m.mode != MatchText::Mode::kPhrase) {
    std::sort(m.tokens.begin(), m.tokens.end());
    m.tokens.erase(std::unique(m.tokens.begin(), m.tokens.end()), m.tokens.end());
  }
  *out = std::move(m);
  return Status::OK();
}

Status Parser::ParseValueList(const json::value& v, const std::string& path, ValueList* out) {
  const json::array* arr = v.if_array();
  if (arr == nullptr) {
    return Err(path, "expected a list of strings or a list of integers, got " + JsonKindName(v));
  }
  for (size_t i = 0; i < arr->size(); ++i) {
    const json::value& e = (*arr)[i];
    const std::string item_path = path + "[" + std::to_string(i) + "]";
    if (i == 0) {
      if (e.is_string()) {
        out->integers = false;
      } else if (e.is_int64() || e.is_uint64()) {
        out->integers = true;
      } else {
        return Err(item_path, "expected a string or an integer, got " + JsonKindName(e));
      }
    }
    if (!out->integers) {
      const json::string* s = e.if_string();
      if (s == nullptr)
        return Err(item_path, "expected a string like the first element, got " + JsonKindName(e));
      out->strings.emplace_back(View(*s));
    } else if (const int64_t* n = e.if_int64()) {
      out->ints.push_back(*n);
    } else if (const uint64_t* u = e.if_uint64()) {
      return Err(item_path, "integer " + std::to_string(*u) + " is out of the 64-bit signed range");
    } else {
      return Err(item_path, "expected an integer like the first element, got " + JsonKindName(e));
    }
  }
  std::sort(out->strings.begin(), out->strings.end());
  out->strings.erase(std::unique(out->strings.begin(), out->strings.end()), out->strings.end());
  std::sort(out->ints.begin(), out->ints.end());
  out->ints.erase(std::unique(out->ints.begin(), out->ints.end()), out->ints.end());
  return Status::OK();
}

Status Parser::ParseRange(const json::value& v, const std::string& path, FieldPredicate* out) {
  const json::object* o = v.if_object();
  if (o == nullptr) return Err(path, "expected an object with gt, gte, lt or lte, got " + JsonKindName(v));
  QUIVER_RETURN_IF_ERROR(OnlyKeys(*o, path, {"gt", "gte", "lt", "lte"}, "gt, gte, lt or lte"));
  static constexpr std::string_view kBounds[] = {"gt", "gte", "lt", "lte"};
  bool datetime = false;
  for (std::string_view b : kBounds) {
    const json::value* bound = Present(*o, b);
    if (bound != nullptr && bound->is_string()) datetime = true;
  }
  if (datetime) {
    DatetimeRange r;
    std::optional<int64_t>* slots[] = {&r.gt, &r.gte, &r.lt, &r.lte};
    for (size_t i = 0; i < 4; ++i) {
      const json::value* bound = Present(*o, kBounds[i]);
      if (bound == nullptr) continue;
      const std::string bound_path = path + "." + std::string(kBounds[i]);
      const json::string* s = bound->if_string();
      if (s == nullptr) {
        return Err(bound_path,
                   "expected a datetime string like the other bounds, got " + JsonKindName(*bound));
      }
      std::optional<int64_t> t = ParseDatetime(View(*s));
      if (!t) {
        return Err(bound_path,
                   "'" + Shorten(View(*s)) +
                       "' is not a valid datetime (expected RFC 3339, e.g. 2023-02-08T10:49:00Z)");
      }
      *slots[i] = *t;
    }
    *out = r;
    return Status::OK();
  }
  NumberRange r;
  std::optional<double>* slots[] = {&r.gt, &r.gte, &r.lt, &r.lte};
  for (size_t i = 0; i < 4; ++i) {
    const json::value* bound = Present(*o, kBounds[i]);
    if (bound == nullptr) continue;
    double x;
    if (!NumberOf(*bound, &x)) {
      return Err(
          path + "." + std::string(kBounds[i]),
          bound->is_double() ? "expected a finite number" : "expected a number, got " + JsonKindName(*bound));
    }
    *slots[i] = x;
  }
  *out = r;
  return Status::OK();
}

Status Parser::ParseValuesCount(const json::value& v, const std::string& path, ValuesCount* out) {
  const json::object* o = v.if_object();
  if (o == nullptr) return Err(path, "expected an object with gt, gte, lt or lte, got " + JsonKindName(v));
  QUIVER_RETURN_IF_ERROR(OnlyKeys(*o, path, {"gt", "gte", "lt", "lte"}, "gt, gte, lt or lte"));
  static constexpr std::string_view kBounds[] = {"gt", "gte", "lt", "lte"};
  std::optional<uint64_t>* slots[] = {&out->gt, &out->gte, &out->lt, &out->lte};
  for (size_t i = 0; i < 4; ++i) {
    const json::value* bound = Present(*o, kBounds[i]);
    if (bound == nullptr) continue;
    uint64_t n;
    if (!NonNegativeInteger(*bound, &n)) {
      return Err(path + "." + std::string(kBounds[i]),
                 "expected a non-negative integer, got " + JsonKindName(*bound));
    }
    *slots[i] = n;
  }
  return Status::OK();
}

Status Parser::ParseGeoPoint(const json::value& v, const std::string& path, GeoPoint* out) {
  const json::object* o = v.if_object();
  if (o == nullptr) return Err(path, "expected an object with lon and lat, got " + JsonKindName(v));
  QUIVER_RETURN_IF_ERROR(OnlyKeys(*o, path, {"lon", "lat"}, "lon and lat"));
  for (std::string_view c : {"lon", "lat"}) {
    const json::value* x = o->if_contains(c);
    if (x == nullptr) return Err(path, "missing '" + std::string(c) + "'");
    double d;
    if (!NumberOf(*x, &d))
      return Err(path + "." + std::string(c), "expected a number, got " + JsonKindName(*x));
    (c == "lon" ? out->lon : out->lat) = d;
  }
  if (out->lon < -180 || out->lon > 180) {
    return Err(path + ".lon", "longitude " + FormatNumber(out->lon) + " is out of range [-180, 180]");
  }
  if (out->lat < -90 || out->lat > 90) {
    return Err(path + ".lat", "latitude " + FormatNumber(out->lat) + " is out of range [-90, 90]");
  }
  return Status::OK();
}

Status Parser::ParseGeoRadius(const json::value& v, const std::string& path, GeoRadius* out) {
  const json::object* o = v.if_object();
  if (o == nullptr) return Err(path, "expected an object with center and radius, got " + JsonKindName(v));
  QUIVER_RETURN_IF_ERROR(OnlyKeys(*o, path, {"center", "radius"}, "center and radius"));
  const json::value* center = o->if_contains("center");
  if (center == nullptr) return Err(path, "missing 'center'");
  const json::value* radius = o->if_contains("radius");
  if (radius == nullptr) return Err(path, "missing 'radius'");
  QUIVER_RETURN_IF_ERROR(ParseGeoPoint(*center, path + ".center", &out->center));
  if (!NumberOf(*radius, &out->radius) || out->radius < 0) {
    return Err(path + ".radius", "expected a non-negative number of meters");
  }
  return Status::OK();
}

Status Parser::ParseGeoBox(const json::value& v, const std::string& path, GeoBoundingBox* out) {
  const json::object* o = v.if_object();
  if (o == nullptr)
    return Err(path, "expected an object with top_left and bottom_right, got " + JsonKindName(v));
  QUIVER_RETURN_IF_ERROR(OnlyKeys(*o, path, {"top_left", "bottom_right"}, "top_left and bottom_right"));
  const json::value* tl = o->if_contains("top_left");
  if (tl == nullptr) return Err(path, "missing 'top_left'");
  const json::value* br = o->if_contains("bottom_right");
  if (br == nullptr) return Err(path, "missing 'bottom_right'");
  QUIVER_RETURN_IF_ERROR(ParseGeoPoint(*tl, path + ".top_left", &out->top_left));
  return ParseGeoPoint(*br, path + ".bottom_right", &out->bottom_right);
}

Status Parser::ParseRing(const json::value& v, const std::string& path, std::vector<GeoPoint>* out) {
  const json::object* o = v.if_object();
  if (o == nullptr) return Err(path, "expected an object with points, got " + JsonKindName(v));
  QUIVER_RETURN_IF_ERROR(OnlyKeys(*o, path, {"points"}, "points"));
  const json::value* points = o->if_contains("points");
  if (points == nullptr) return Err(path, "missing 'points'");
  const json::array* arr = points->if_array();
  if (arr == nullptr) return Err(path + ".points", "expected a list of points, got " + JsonKindName(*points));
  if (arr->size() < 4) {
    return Err(path + ".points",
               "a polygon ring needs at least 4 points, got " + std::to_string(arr->size()));
  }
  for (size_t i = 0; i < arr->size(); ++i) {
    GeoPoint p;
    QUIVER_RETURN_IF_ERROR(ParseGeoPoint((*arr)[i], path + ".points[" + std::to_string(i) + "]", &p));
    out->push_back(p);
  }
  const GeoPoint& first = out->front();
  const GeoPoint& last = out->back();
  if (std::fabs(first.lon - last.lon) > DBL_EPSILON || std::fabs(first.lat - last.lat) > DBL_EPSILON) {
    return Err(path + ".points", "the first and the last point of a polygon ring must be the same");
  }
  return Status::OK();
}

Status Parser::ParseGeoPolygon(const json::value& v, const std::string& path, GeoPolygon* out) {
  const json::object* o = v.if_object();
  if (o == nullptr)
    return Err(path, "expected an object with exterior and interiors, got " + JsonKindName(v));
  QUIVER_RETURN_IF_ERROR(OnlyKeys(*o, path, {"exterior", "interiors"}, "exterior and interiors"));
  const json::value* exterior = o->if_contains("exterior");
  if (exterior == nullptr) return Err(path, "missing 'exterior'");
  QUIVER_RETURN_IF_ERROR(ParseRing(*exterior, path + ".exterior", &out->exterior));
  if (const json::value* interiors = Present(*o, "interiors")) {
    const json::array* arr = interiors->if_array();
    if (arr == nullptr)
      return Err(path + ".interiors", "expected a list of rings, got " + JsonKindName(*interiors));
    for (size_t i = 0; i < arr->size(); ++i) {
      std::vector<GeoPoint> ring;
      QUIVER_RETURN_IF_ERROR(ParseRing((*arr)[i], path + ".interiors[" + std::to_string(i) + "]", &ring));
      out->interiors.push_back(std::move(ring));
    }
  }
  return Status::OK();
}

}  // namespace

Result<Filter> ParseFilter(const boost::json::value& json, std::string_view path) {
  Filter filter;
  Parser parser;
  QUIVER_RETURN_IF_ERROR(parser.ParseFilter(json, std::string(path), 1, /*in_nested=*/false, &filter));
  return filter;
}

Result<Filter> ParseFilterText(std::string_view json_text, std::string_view path) {
  // A filter at the depth limit nests about four JSON levels per filter level (filter, list, condition,
  // nested).
  QUIVER_ASSIGN_OR_RETURN(boost::json::value value, ParseJsonText(json_text, path, 4 * kMaxFilterDepth + 64));
  return ParseFilter(value, path);
}

}  // namespace quiver::payload
