#include "payload/json_read.h"

#include <boost/json/serialize.hpp>
#include <cmath>

#include "payload/json_util.h"

namespace quiver::payload {

namespace json = boost::json;

Status BadField(std::string_view path, std::string_view why) {
  std::string m(path);
  m += ": ";
  m += why;
  return Status::InvalidArgument(m);
}

Result<json::value> ParseBody(std::string_view text, std::string_view path, KeptNumbers* kept) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return json::value(json::object());
  QUIVER_ASSIGN_OR_RETURN(json::value v, ParseJsonText(text, path, kMaxBodyDepth, kept));
  if (!v.is_object()) return BadField(path, "expected a JSON object, got " + JsonKindName(v));
  return v;
}

Status CheckKeys(const json::object& o, std::initializer_list<std::string_view> allowed, std::string_view path) {
  for (const auto& kv : o) {
    bool ok = false;
    for (std::string_view a : allowed) ok |= kv.key() == a;
    if (!ok) return BadField(path, "unknown field '" + std::string(kv.key()) + "'");
  }
  return Status::OK();
}

const json::value* Find(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return nullptr;
  return &it->value();
}

const json::object* AsObject(const json::value& v) { return v.if_object(); }

Result<const json::object*> ReadObject(const json::value& v, std::string_view path) {
  if (const json::object* o = v.if_object()) return o;
  return BadField(path, "expected an object, got " + JsonKindName(v));
}

Result<const json::array*> ReadArray(const json::value& v, std::string_view path) {
  if (const json::array* a = v.if_array()) return a;
  return BadField(path, "expected an array, got " + JsonKindName(v));
}

Result<bool> ReadBool(const json::value& v, std::string_view path) {
  if (const bool* b = v.if_bool()) return *b;
  return BadField(path, "expected true or false, got " + JsonKindName(v));
}

Result<uint64_t> ReadUint(const json::value& v, std::string_view path, uint64_t min, uint64_t max) {
  bool ok = false;
  uint64_t n = 0;
  if (auto p = v.if_uint64()) {
    n = *p;
    ok = true;
  } else if (auto q = v.if_int64()) {
    ok = *q >= 0;
    n = static_cast<uint64_t>(*q);
  } else if (auto d = v.if_double()) {
    ok = *d >= 0 && *d < 18446744073709551616.0 && std::floor(*d) == *d;
    if (ok) n = static_cast<uint64_t>(*d);
  }
  if (!ok || n < min || n > max) {
    return BadField(path, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max));
  }
  return n;
}

Result<double> ReadNumber(const json::value& v, std::string_view path) {
  double d = 0;
  if (auto p = v.if_double()) {
    d = *p;
  } else if (auto q = v.if_int64()) {
    d = static_cast<double>(*q);
  } else if (auto r = v.if_uint64()) {
    d = static_cast<double>(*r);
  } else {
    return BadField(path, "expected a number, got " + JsonKindName(v));
  }
  if (!std::isfinite(d)) return BadField(path, "expected a finite number");
  return d;
}

Result<std::string> ReadString(const json::value& v, std::string_view path) {
  if (const json::string* s = v.if_string()) return std::string(*s);
  return BadField(path, "expected a string, got " + JsonKindName(v));
}

Result<std::vector<std::string>> ReadStrings(const json::value& v, std::string_view path) {
  const json::array* a = v.if_array();
  if (!a) return BadField(path, "expected an array of strings, got " + JsonKindName(v));
  std::vector<std::string> out;
  out.reserve(a->size());
  for (size_t i = 0; i < a->size(); ++i) {
    QUIVER_ASSIGN_OR_RETURN(std::string s, ReadString((*a)[i], Element(path, i)));
    out.push_back(std::move(s));
  }
  return out;
}

Result<PointId> ReadPointId(const json::value& v, std::string_view path) {
  if (auto u = v.if_uint64()) return PointId::Number(*u);
  if (auto i = v.if_int64(); i && *i >= 0) return PointId::Number(static_cast<uint64_t>(*i));
  if (const json::string* s = v.if_string()) {
    auto id = PointId::ParseUuid(std::string_view(*s));
    if (!id.ok()) return BadField(path, id.status().message());
    return id;
  }
  return BadField(path, "expected a point id (an unsigned integer or a UUID string), got " +
                            (v.is_number() ? std::string("the number ") + json::serialize(v) : JsonKindName(v)));
}

Result<std::vector<PointId>> ReadPointIds(const json::value& v, std::string_view path) {
  const json::array* a = v.if_array();
  if (!a) return BadField(path, "expected an array of point ids, got " + JsonKindName(v));
  std::vector<PointId> out;
  out.reserve(a->size());
  for (size_t i = 0; i < a->size(); ++i) {
    QUIVER_ASSIGN_OR_RETURN(PointId id, ReadPointId((*a)[i], Element(path, i)));
    out.push_back(id);
  }
  return out;
}

Result<std::vector<float>> ReadVector(const json::value& v, std::string_view path, const KeptNumbers* kept) {
  if (const std::vector<double>* numbers = kept != nullptr ? kept->Find(v) : nullptr) {
    std::vector<float> out(numbers->size());
    for (size_t i = 0; i < numbers->size(); ++i) {
      const float f = static_cast<float>((*numbers)[i]);
      if (!std::isfinite(f)) return BadField(Element(path, i), "the number does not fit a finite float");
      out[i] = f;
    }
    return out;
  }
  const json::array* a = v.if_array();
  if (!a) return BadField(path, "expected an array of numbers, got " + JsonKindName(v));
  std::vector<float> out(a->size());
  for (size_t i = 0; i < a->size(); ++i) {
    const json::value& x = (*a)[i];
    double d;
    if (auto p = x.if_double()) {
      d = *p;
    } else if (auto q = x.if_int64()) {
      d = static_cast<double>(*q);
    } else if (auto r = x.if_uint64()) {
      d = static_cast<double>(*r);
    } else {
      return BadField(Element(path, i), "expected a number, got " + JsonKindName(x));
    }
    const float f = static_cast<float>(d);
    if (!std::isfinite(f)) return BadField(Element(path, i), "the number does not fit a finite float");
    out[i] = f;
  }
  return out;
}

}  // namespace quiver::payload
