#include "payload/json_util.h"

#include <algorithm>
#include <boost/json/parse_options.hpp>
#include <boost/json/serialize.hpp>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <optional>

#include "payload/json_parse.h"
#include "payload/json_path.h"

namespace quiver::payload {
namespace {

namespace json = boost::json;

std::string_view View(json::string_view s) { return std::string_view(s.data(), s.size()); }

void Canonical(const json::value& v, std::string* out) {
  if (const json::object* o = v.if_object()) {
    std::vector<const json::key_value_pair*> members;
    members.reserve(o->size());
    for (const json::key_value_pair& kv : *o) members.push_back(&kv);
    std::sort(members.begin(), members.end(),
              [](const json::key_value_pair* a, const json::key_value_pair* b) {
                return View(a->key()) < View(b->key());
              });
    out->push_back('{');
    for (size_t i = 0; i < members.size(); ++i) {
      if (i > 0) out->push_back(',');
      *out += json::serialize(members[i]->key());
      out->push_back(':');
      Canonical(members[i]->value(), out);
    }
    out->push_back('}');
  } else if (const json::array* a = v.if_array()) {
    out->push_back('[');
    for (size_t i = 0; i < a->size(); ++i) {
      if (i > 0) out->push_back(',');
      Canonical((*a)[i], out);
    }
    out->push_back(']');
  } else {
    *out += json::serialize(v);
  }
}

// The shortest "%.{p}g" text that reads back as the same double; whole numbers keep a ".0" so they stay
// doubles.
void AppendDouble(double d, std::string* out) {
  char buf[40];
  for (int precision = 1; precision <= 17; ++precision) {
    std::snprintf(buf, sizeof buf, "%.*g", precision, d);
    if (std::strtod(buf, nullptr) == d) break;
  }
  std::string_view text(buf);
  out->append(text);
  if (text.find_first_of(".eEn") == std::string_view::npos) out->append(".0");
}

void Readable(const json::value& v, std::string* out) {
  switch (v.kind()) {
    case json::kind::object: {
      out->push_back('{');
      bool first = true;
      for (const json::key_value_pair& kv : v.get_object()) {
        if (!first) out->push_back(',');
        first = false;
        *out += json::serialize(kv.key());
        out->push_back(':');
        Readable(kv.value(), out);
      }
      out->push_back('}');
      break;
    }
    case json::kind::array: {
      out->push_back('[');
      bool first = true;
      for (const json::value& e : v.get_array()) {
        if (!first) out->push_back(',');
        first = false;
        Readable(e, out);
      }
      out->push_back(']');
      break;
    }
    case json::kind::double_:
      if (std::isfinite(v.get_double())) {
        AppendDouble(v.get_double(), out);
      } else {
        out->append("null");  // never stored (payloads reject non-finite numbers), but never invalid JSON
      }
      break;
    default:
      *out += json::serialize(v);
  }
}

// Finds a non-finite double ("1e400" parses as infinity); on success appends the steps of its path, innermost
// first, to *path.
bool FindNonFinite(const json::value& v, std::vector<std::string>* path) {
  if (const double* d = v.if_double()) return !std::isfinite(*d);
  if (const json::object* o = v.if_object()) {
    for (const json::key_value_pair& kv : *o) {
      if (FindNonFinite(kv.value(), path)) {
        std::string step = ".";
        step.append(View(kv.key()));
        path->push_back(std::move(step));
        return true;
      }
    }
  } else if (const json::array* a = v.if_array()) {
    for (size_t i = 0; i < a->size(); ++i) {
      if (FindNonFinite((*a)[i], path)) {
        std::string step = "[";
        step += std::to_string(i);
        step += ']';
        path->push_back(std::move(step));
        return true;
      }
    }
  }
  return false;
}

bool RemoveAt(json::value& v, const std::vector<JsonPath::Item>& items, size_t i) {
  const JsonPath::Item& item = items[i];
  const bool last = i + 1 == items.size();
  switch (item.kind) {
    case JsonPath::Item::Kind::kKey: {
      json::object* o = v.if_object();
      if (o == nullptr) return false;
      if (last) return o->erase(item.key) > 0;
      json::value* child = o->if_contains(item.key);
      return child != nullptr && RemoveAt(*child, items, i + 1);
    }
    case JsonPath::Item::Kind::kIndex: {
      json::array* a = v.if_array();
      if (a == nullptr || last || item.index >= a->size()) return false;
      return RemoveAt((*a)[item.index], items, i + 1);
    }
    case JsonPath::Item::Kind::kWildcard: {
      json::array* a = v.if_array();
      if (a == nullptr) return false;
      if (last) {
        const bool had = !a->empty();
        a->clear();
        return had;
      }
      bool removed = false;
      for (json::value& e : *a) removed = RemoveAt(e, items, i + 1) || removed;
      return removed;
    }
  }
  return false;
}

// One step of the path of a value being selected: an object key or an array position.
struct Step {
  bool is_key;
  std::string_view key;
  size_t index;
};

bool ItemMatches(const JsonPath::Item& pattern, const Step& step) {
  switch (pattern.kind) {
    case JsonPath::Item::Kind::kKey:
      return step.is_key && pattern.key == step.key;
    case JsonPath::Item::Kind::kIndex:
      return !step.is_key && pattern.index == step.index;
    case JsonPath::Item::Kind::kWildcard:
      return !step.is_key;
  }
  return false;
}

class Selector {
 public:
  Selector(const std::vector<std::string>& paths, bool include) : include_(include) {
    for (const std::string& p : paths) {
      Result<JsonPath> parsed = JsonPath::Parse(p);
      if (parsed.ok()) patterns_.push_back(std::move(parsed).value());
    }
  }

  json::object Apply(const json::object& payload) {
    json::object out;
    for (const json::key_value_pair& kv : payload) {
      steps_.push_back(Step{true, View(kv.key()), 0});
      std::optional<json::value> kept = Select(kv.value());
      steps_.pop_back();
      if (kept) out.emplace(kv.key(), std::move(*kept));
    }
    return out;
  }

 private:
  // Does the pattern agree with the current path on their common length; and is it no longer than the path?
  void Compare(const JsonPath& pattern, bool* agrees, bool* covers) const {
    const std::vector<JsonPath::Item>& items = pattern.items();
    const size_t common = std::min(items.size(), steps_.size());
    *agrees = true;
    for (size_t i = 0; i < common; ++i) {
      if (!ItemMatches(items[i], steps_[i])) {
        *agrees = false;
        break;
      }
    }
    *covers = *agrees && items.size() <= steps_.size();
  }

  std::optional<json::value> Select(const json::value& v) {
    bool any_covers = false, any_extends = false;
    for (const JsonPath& pattern : patterns_) {
      bool agrees, covers;
      Compare(pattern, &agrees, &covers);
      any_covers = any_covers || covers;
      any_extends = any_extends || (agrees && !covers);
    }
    if (any_covers) return include_ ? std::optional<json::value>(v) : std::nullopt;
    if (!any_extends) return include_ ? std::nullopt : std::optional<json::value>(v);
    if (const json::object* o = v.if_object()) {
      json::object out;
      for (const json::key_value_pair& kv : *o) {
        steps_.push_back(Step{true, View(kv.key()), 0});
        std::optional<json::value> kept = Select(kv.value());
        steps_.pop_back();
        if (kept) out.emplace(kv.key(), std::move(*kept));
      }
      return json::value(std::move(out));
    }
    if (const json::array* a = v.if_array()) {
      json::array out;
      for (size_t i = 0; i < a->size(); ++i) {
        steps_.push_back(Step{false, {}, i});
        std::optional<json::value> kept = Select((*a)[i]);
        steps_.pop_back();
        if (kept) out.push_back(std::move(*kept));
      }
      return json::value(std::move(out));
    }
    return v;  // a scalar where a listed path goes deeper: kept, as Qdrant does
  }

  bool include_;
  std::vector<JsonPath> patterns_;
  std::vector<Step> steps_;
};

}  // namespace

std::string JsonKindName(const boost::json::value& v) {
  switch (v.kind()) {
    case json::kind::null:
      return "null";
    case json::kind::bool_:
      return "a boolean";
    case json::kind::int64:
    case json::kind::uint64:
    case json::kind::double_:
      return "a number";
    case json::kind::string:
      return "a string";
    case json::kind::array:
      return "an array";
    case json::kind::object:
      return "an object";
  }
  return "a value";
}

Result<boost::json::value> ParseJsonText(std::string_view text, std::string_view what, size_t max_depth,
                                         KeptNumbers* kept) {
  boost::system::error_code ec;
  size_t offset = 0;
  json::value v = ParseJson(text, ec, max_depth, &offset, kept);
  if (ec) {
    std::string message = ec.message();
    if (ec == json::error::too_deep) message = "nested deeper than " + std::to_string(max_depth) + " levels";
    return Status::InvalidArgument(std::string(what) + ": malformed JSON (" + message + ") at offset " +
                                   std::to_string(offset));
  }
  return v;
}

std::string ReadableJson(const boost::json::value& v) {
  std::string out;
  Readable(v, &out);
  return out;
}

std::string CanonicalJson(const boost::json::value& v) {
  std::string out;
  Canonical(v, &out);
  return out;
}

bool HasNonFinite(const json::value& v) {
  std::vector<std::string> steps;
  return FindNonFinite(v, &steps);
}

Result<boost::json::object> ParsePayloadText(std::string_view text, std::string_view what) {
  QUIVER_ASSIGN_OR_RETURN(json::value value, ParseJsonText(text, what, kMaxPayloadDepth));
  json::object* o = value.if_object();
  if (o == nullptr) {
    return Status::InvalidArgument(std::string(what) + ": expected a JSON object, got " +
                                   JsonKindName(value));
  }
  std::vector<std::string> steps;
  if (FindNonFinite(value, &steps)) {
    std::string where(what);
    for (auto it = steps.rbegin(); it != steps.rend(); ++it) where += *it;
    return Status::InvalidArgument(where + ": number is out of range (it does not fit a double)");
  }
  return std::move(*o);
}

namespace {

size_t Depth(const json::value& v, size_t limit) {
  if (limit == 0) return 1;
  size_t deepest = 0;
  if (const json::object* o = v.if_object()) {
    for (const json::key_value_pair& kv : *o) deepest = std::max(deepest, Depth(kv.value(), limit - 1));
    return deepest + 1;
  }
  if (const json::array* a = v.if_array()) {
    for (const json::value& e : *a) deepest = std::max(deepest, Depth(e, limit - 1));
    return deepest + 1;
  }
  return 0;
}

}  // namespace

Status ValidatePayload(const boost::json::object& payload, std::string_view what) {
  size_t deepest = 0;
  for (const json::key_value_pair& kv : payload) deepest = std::max(deepest, Depth(kv.value(), kMaxPayloadDepth));
  if (deepest + 1 > kMaxPayloadDepth) {
    return Status::InvalidArgument(std::string(what) + ": nested deeper than " + std::to_string(kMaxPayloadDepth) +
                                   " levels");
  }
  std::vector<std::string> steps;
  for (const json::key_value_pair& kv : payload) {
    if (!FindNonFinite(kv.value(), &steps)) continue;
    std::string where(what);
    where += ".";
    where.append(kv.key().data(), kv.key().size());
    for (auto it = steps.rbegin(); it != steps.rend(); ++it) where += *it;
    return Status::InvalidArgument(where + ": number is out of range (it does not fit a double)");
  }
  return Status::OK();
}

Status ValidateKeyPath(std::string_view path) { return JsonPath::Parse(path).status(); }

Result<bool> DeletePath(boost::json::object* payload, std::string_view path) {
  QUIVER_ASSIGN_OR_RETURN(JsonPath parsed, JsonPath::Parse(path));
  const std::vector<JsonPath::Item>& items = parsed.items();
  if (items.size() == 1) return payload->erase(items[0].key) > 0;
  json::value* first = payload->if_contains(items[0].key);
  return first != nullptr && RemoveAt(*first, items, 1);
}

boost::json::object IncludePaths(const boost::json::object& payload, const std::vector<std::string>& paths) {
  return Selector(paths, /*include=*/true).Apply(payload);
}

boost::json::object ExcludePaths(const boost::json::object& payload, const std::vector<std::string>& paths) {
  return Selector(paths, /*include=*/false).Apply(payload);
}

}  // namespace quiver::payload
