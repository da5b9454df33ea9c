#include "sync/wire.h"

#include <algorithm>
#include <boost/json.hpp>
#include <cmath>

#include "payload/json_util.h"
#include "text/unicode.h"

namespace quiver::sync {
namespace json = boost::json;

namespace {

// Messages nest at most this deep (a payload value inside a point inside a message).
constexpr size_t kMaxMessageDepth = payload::kMaxPayloadDepth + 8;
constexpr size_t kMaxDimension = 65536;

json::value U64(uint64_t v) { return json::value(v); }

Status Bad(const std::string& where, const std::string& why) { return Status::InvalidArgument(where + ": " + why); }

// An object being decoded, with the path of its place in the message for errors.
class Obj {
 public:
  static Result<Obj> Of(const json::value& v, std::string where) {
    if (!v.is_object()) return Bad(where, "expected an object, got " + payload::JsonKindName(v));
    return Obj(&v.get_object(), std::move(where));
  }
  const std::string& where() const { return where_; }
  std::string Path(std::string_view key) const { return where_ + "." + std::string(key); }
  const json::value* Find(std::string_view key) const {
    auto it = o_->find(key);
    return it == o_->end() ? nullptr : &it->value();
  }
  const json::object& object() const { return *o_; }

  Result<uint64_t> U64(std::string_view key) const {
    const json::value* v = Find(key);
    if (!v) return Bad(Path(key), "missing");
    return AsU64(*v, Path(key));
  }
  Result<uint64_t> U64Or(std::string_view key, uint64_t fallback) const {
    const json::value* v = Find(key);
    return v ? AsU64(*v, Path(key)) : Result<uint64_t>(fallback);
  }
  Result<std::string> Str(std::string_view key) const {
    const json::value* v = Find(key);
    if (!v) return Bad(Path(key), "missing");
    if (!v->is_string()) return Bad(Path(key), "expected a string, got " + payload::JsonKindName(*v));
    return std::string(v->get_string());
  }
  Result<std::string> StrOr(std::string_view key, std::string fallback) const {
    const json::value* v = Find(key);
    if (!v || v->is_null()) return fallback;
    return Str(key);
  }
  Result<uint64_t> Hex(std::string_view key) const {
    QUIVER_ASSIGN_OR_RETURN(std::string s, Str(key));
    auto v = ParseHex16(s);
    if (!v) return Bad(Path(key), "expected 16 lower-case hex digits");
    return *v;
  }
  Result<uint64_t> HexOr(std::string_view key, uint64_t fallback) const {
    const json::value* v = Find(key);
    if (!v || v->is_null()) return fallback;
    return Hex(key);
  }
  Result<Stamp> StampField(std::string_view key) const {
    const json::value* v = Find(key);
    if (!v) return Bad(Path(key), "missing");
    return AsStamp(*v, Path(key));
  }
  Result<std::optional<Stamp>> OptStamp(std::string_view key) const {
    const json::value* v = Find(key);
    if (!v || v->is_null()) return std::optional<Stamp>();
    QUIVER_ASSIGN_OR_RETURN(Stamp s, AsStamp(*v, Path(key)));
    return std::optional<Stamp>(s);
  }
  Result<bool> BoolOr(std::string_view key, bool fallback) const {
    const json::value* v = Find(key);
    if (!v) return fallback;
    if (!v->is_bool()) return Bad(Path(key), "expected true or false, got " + payload::JsonKindName(*v));
    return v->get_bool();
  }
  Result<const json::array*> Array(std::string_view key) const {
    const json::value* v = Find(key);
    if (!v) return Bad(Path(key), "missing");
    if (!v->is_array()) return Bad(Path(key), "expected an array, got " + payload::JsonKindName(*v));
    return &v->get_array();
  }
  Result<std::string> Id128Field(std::string_view key) const {
    QUIVER_ASSIGN_OR_RETURN(std::string s, Str(key));
    if (!ParseId128(s)) return Bad(Path(key), "expected 32 lower-case hex digits");
    return s;
  }

  static Result<uint64_t> AsU64(const json::value& v, const std::string& where) {
    if (auto p = v.if_uint64()) return *p;
    if (auto p = v.if_int64(); p && *p >= 0) return static_cast<uint64_t>(*p);
    return Bad(where, "expected an unsigned integer, got " + payload::JsonKindName(v));
  }
  static Result<Stamp> AsStamp(const json::value& v, const std::string& where) {
    if (!v.is_string()) return Bad(where, "expected a stamp of 32 hex digits, got " + payload::JsonKindName(v));
    auto s = ParseStamp(v.get_string());
    if (!s) return Bad(where, "expected a stamp of 32 lower-case hex digits");
    if (s->zero()) return Bad(where, "a stamp cannot be zero");
    return *s;
  }

 private:
  Obj(const json::object* o, std::string where) : o_(o), where_(std::move(where)) {}
  const json::object* o_;
  std::string where_;
};

Result<json::value> ParseBody(std::string_view body, const std::string& what) {
  auto v = payload::ParseJsonText(body, what, kMaxMessageDepth);
  if (!v.ok()) return Status::InvalidArgument(std::string(v.status().message()));
  return std::move(*v);
}

void PutClock(json::object& o, const ServerClock& c) {
  o["server_time_ms"] = U64(c.server_time_ms);
  o["server_hlc"] = Hex16(c.server_hlc);
}

Result<ServerClock> GetClock(const Obj& o) {
  ServerClock c;
  QUIVER_ASSIGN_OR_RETURN(c.server_time_ms, o.U64("server_time_ms"));
  QUIVER_ASSIGN_OR_RETURN(c.server_hlc, o.Hex("server_hlc"));
  return c;
}

json::value IdToJson(const PointId& id) {
  return id.is_uuid() ? json::value(id.ToString()) : json::value(id.number());
}

Result<PointId> IdFromJson(const json::value& v, const std::string& where) {
  if (v.is_string()) {
    auto id = PointId::ParseUuid(v.get_string());
    if (!id.ok()) return Bad(where, "expected an unsigned integer or a UUID");
    return *id;
  }
  QUIVER_ASSIGN_OR_RETURN(uint64_t n, Obj::AsU64(v, where));
  return PointId::Number(n);
}

json::object IdentityToJson(const CollectionIdentity& c) {
  json::object o;
  o["uid"] = c.uid;
  o["name"] = c.name;
  o["config_hash"] = c.config_hash;
  o["deleted"] = c.deleted ? json::value(StampText(*c.deleted)) : json::value(nullptr);
  return o;
}

Result<CollectionIdentity> IdentityFromJson(const json::value& v, const std::string& where) {
  QUIVER_ASSIGN_OR_RETURN(Obj o, Obj::Of(v, where));
  CollectionIdentity c;
  QUIVER_ASSIGN_OR_RETURN(c.uid, o.Id128Field("uid"));
  QUIVER_ASSIGN_OR_RETURN(c.name, o.Str("name"));
  QUIVER_ASSIGN_OR_RETURN(c.config_hash, o.Str("config_hash"));
  QUIVER_ASSIGN_OR_RETURN(c.deleted, o.OptStamp("deleted"));
  return c;
}

Status CheckFinite(const std::vector<float>& v, const std::string& where) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i])) return Bad(where, "value " + std::to_string(i) + " is not finite");
  }
  return Status::OK();
}

Result<std::vector<float>> FloatsFromJson(const json::value& v, const std::string& where) {
  if (!v.is_string()) return Bad(where, "expected base64 of float32 values, got " + payload::JsonKindName(v));
  auto floats = Base64ToFloats(v.get_string());
  if (!floats) return Bad(where, "expected base64 of little-endian float32 values");
  if (floats->empty() || floats->size() > kMaxDimension) return Bad(where, "vector size out of range 1..65536");
  QUIVER_RETURN_IF_ERROR(CheckFinite(*floats, where));
  return std::move(*floats);
}

}  // namespace

// --- Points ---

json::value PointToJson(const PointDelta& d) {
  json::object o;
  o["id"] = IdToJson(d.id);
  if (d.del) o["del"] = StampText(*d.del);
  if (d.vec) {
    json::object vec;
    vec["ts"] = StampText(d.vec->ts);
    json::object dense;
    for (const auto& [name, values] : d.vec->dense) dense[name] = FloatsToBase64(values);
    vec["dense"] = std::move(dense);
    if (!d.vec->sparse.empty()) {
      json::object sparse;
      for (const auto& [name, sv] : d.vec->sparse) {
        sparse[name] = json::object{{"i", U32sToBase64(sv.indices)}, {"v", FloatsToBase64(sv.values)}};
      }
      vec["sparse"] = std::move(sparse);
    }
    o["vec"] = std::move(vec);
  }
  if (d.reset) o["reset"] = StampText(*d.reset);
  if (!d.fields.empty()) {
    json::object fields;
    for (const FieldRegister& f : d.fields) {
      json::object reg;
      reg["ts"] = StampText(f.ts);
      if (f.value) {
        reg["v"] = *f.value;
      } else {
        reg["del"] = true;
      }
      fields[f.key] = std::move(reg);
    }
    o["fields"] = std::move(fields);
  }
  return o;
}

Result<PointDelta> PointFromJson(const json::value& v, const std::string& where) {
  QUIVER_ASSIGN_OR_RETURN(Obj o, Obj::Of(v, where));
  PointDelta d;
  const json::value* id = o.Find("id");
  if (!id) return Bad(o.Path("id"), "missing");
  QUIVER_ASSIGN_OR_RETURN(d.id, IdFromJson(*id, o.Path("id")));
  QUIVER_ASSIGN_OR_RETURN(d.del, o.OptStamp("del"));
  QUIVER_ASSIGN_OR_RETURN(d.reset, o.OptStamp("reset"));
  if (const json::value* vec = o.Find("vec"); vec && !vec->is_null()) {
    QUIVER_ASSIGN_OR_RETURN(Obj vo, Obj::Of(*vec, o.Path("vec")));
    VecRegister reg;
    QUIVER_ASSIGN_OR_RETURN(reg.ts, vo.StampField("ts"));
    if (const json::value* dense = vo.Find("dense"); dense && !dense->is_null()) {
      QUIVER_ASSIGN_OR_RETURN(Obj dobj, Obj::Of(*dense, vo.Path("dense")));
      for (const auto& kv : dobj.object()) {
        QUIVER_ASSIGN_OR_RETURN(auto floats, FloatsFromJson(kv.value(), dobj.Path(kv.key())));
        reg.dense.emplace_back(std::string(kv.key()), std::move(floats));
      }
    }
    if (const json::value* sparse = vo.Find("sparse"); sparse && !sparse->is_null()) {
      QUIVER_ASSIGN_OR_RETURN(Obj sobj, Obj::Of(*sparse, vo.Path("sparse")));
      for (const auto& kv : sobj.object()) {
        QUIVER_ASSIGN_OR_RETURN(Obj one, Obj::Of(kv.value(), sobj.Path(kv.key())));
        QUIVER_ASSIGN_OR_RETURN(std::string is, one.Str("i"));
        QUIVER_ASSIGN_OR_RETURN(std::string vs, one.Str("v"));
        auto indices = Base64ToU32s(is);
        auto values = Base64ToFloats(vs);
        if (!indices) return Bad(one.Path("i"), "expected base64 of little-endian uint32 values");
        if (!values) return Bad(one.Path("v"), "expected base64 of little-endian float32 values");
        if (indices->size() != values->size()) return Bad(one.where(), "indices and values differ in length");
        QUIVER_RETURN_IF_ERROR(CheckFinite(*values, one.Path("v")));
        reg.sparse.emplace_back(std::string(kv.key()), SparseVector{std::move(*indices), std::move(*values)});
      }
    }
    auto by_name = [](const auto& a, const auto& b) { return a.first < b.first; };
    std::sort(reg.dense.begin(), reg.dense.end(), by_name);
    std::sort(reg.sparse.begin(), reg.sparse.end(), by_name);
    d.vec = std::move(reg);
  }
  if (d.del && d.vec) return Bad(where, "holds both del and vec");
  if (const json::value* fields = o.Find("fields"); fields && !fields->is_null()) {
    QUIVER_ASSIGN_OR_RETURN(Obj fo, Obj::Of(*fields, o.Path("fields")));
    for (const auto& kv : fo.object()) {
      const std::string path = fo.Path(kv.key());
      if (kv.key().empty()) return Bad(path, "an empty key");
      QUIVER_ASSIGN_OR_RETURN(Obj reg, Obj::Of(kv.value(), path));
      FieldRegister f;
      f.key = std::string(kv.key());
      QUIVER_ASSIGN_OR_RETURN(f.ts, reg.StampField("ts"));
      QUIVER_ASSIGN_OR_RETURN(bool deleted, reg.BoolOr("del", false));
      const json::value* value = reg.Find("v");
      if (deleted == (value != nullptr)) return Bad(path, "expected exactly one of \"v\" and \"del\": true");
      if (value) {
        json::object probe;
        probe[f.key] = *value;
        QUIVER_RETURN_IF_ERROR(payload::ValidatePayload(probe, fo.where()));
        f.value = *value;
      }
      d.fields.push_back(std::move(f));
    }
    std::sort(d.fields.begin(), d.fields.end(), [](const FieldRegister& a, const FieldRegister& b) { return a.key < b.key; });
  }
  return d;
}

// --- Messages ---

std::string Encode(const RegisterReplicaRequest& m) {
  return json::serialize(json::object{{"replica", Hex16(m.replica)}, {"client", m.client}});
}

Result<RegisterReplicaRequest> DecodeRegisterReplicaRequest(std::string_view body) {
  QUIVER_ASSIGN_OR_RETURN(json::value v, ParseBody(body, "replica"));
  QUIVER_ASSIGN_OR_RETURN(Obj o, Obj::Of(v, "replica"));
  RegisterReplicaRequest m;
  QUIVER_ASSIGN_OR_RETURN(m.replica, o.Hex("replica"));
  if (m.replica == 0) return Bad(o.Path("replica"), "a replica id cannot be zero");
  QUIVER_ASSIGN_OR_RETURN(m.client, o.StrOr("client", ""));
  return m;
}

std::string Encode(const RegisterReplicaResponse& m) {
  json::object o;
  o["replica"] = Hex16(m.replica);
  PutClock(o, m.clock);
  return json::serialize(o);
}

Result<RegisterReplicaResponse> DecodeRegisterReplicaResponse(std::string_view body) {
  QUIVER_ASSIGN_OR_RETURN(json::value v, ParseBody(body, "replica response"));
  QUIVER_ASSIGN_OR_RETURN(Obj o, Obj::Of(v, "replica response"));
  RegisterReplicaResponse m;
  QUIVER_ASSIGN_OR_RETURN(m.replica, o.Hex("replica"));
  QUIVER_ASSIGN_OR_RETURN(m.clock, GetClock(o));
  return m;
}

std::string Encode(const PutCollectionRequest& m) {
  return json::serialize(json::object{{"uid", m.uid}, {"config", m.config}});
}

Result<PutCollectionRequest> DecodePutCollectionRequest(std::string_view body) {
  QUIVER_ASSIGN_OR_RETURN(json::value v, ParseBody(body, "collection"));
  QUIVER_ASSIGN_OR_RETURN(Obj o, Obj::Of(v, "collection"));
  PutCollectionRequest m;
  QUIVER_ASSIGN_OR_RETURN(m.uid, o.Id128Field("uid"));
  const json::value* config = o.Find("config");
  if (!config) return Bad(o.Path("config"), "missing");
  m.config = *config;
  return m;
}

std::string Encode(const PutCollectionResponse& m) {
  json::object o;
  o["collection"] = IdentityToJson(m.collection);
  o["created"] = m.created;
  PutClock(o, m.clock);
  return json::serialize(o);
}

Result<PutCollectionResponse> DecodePutCollectionResponse(std::string_view body) {
  QUIVER_ASSIGN_OR_RETURN(json::value v, ParseBody(body, "collection response"));
  QUIVER_ASSIGN_OR_RETURN(Obj o, Obj::Of(v, "collection response"));
  PutCollectionResponse m;
  const json::value* c = o.Find("collection");
  if (!c) return Bad(o.Path("collection"), "missing");
  QUIVER_ASSIGN_OR_RETURN(m.collection, IdentityFromJson(*c, o.Path("collection")));
  QUIVER_ASSIGN_OR_RETURN(m.created, o.BoolOr("created", false));
  QUIVER_ASSIGN_OR_RETURN(m.clock, GetClock(o));
  return m;
}

std::string Encode(const PushRequest& m) {
  json::object o;
  o["replica"] = Hex16(m.replica);
  o["batch"] = json::object{{"from_local_seq", U64(m.from_local_seq)}, {"to_local_seq", U64(m.to_local_seq)}};
  o["hlc"] = Hex16(m.hlc);
  json::array points;
  for (const PointDelta& d : m.points) points.push_back(PointToJson(d));
  o["points"] = std::move(points);
  return json::serialize(o);
}

Result<PushRequest> DecodePushRequest(std::string_view body) {
  QUIVER_ASSIGN_OR_RETURN(json::value v, ParseBody(body, "push"));
  QUIVER_ASSIGN_OR_RETURN(Obj o, Obj::Of(v, "push"));
  PushRequest m;
  QUIVER_ASSIGN_OR_RETURN(m.replica, o.Hex("replica"));
  const json::value* batch = o.Find("batch");
  if (!batch) return Bad(o.Path("batch"), "missing");
  QUIVER_ASSIGN_OR_RETURN(Obj b, Obj::Of(*batch, o.Path("batch")));
  QUIVER_ASSIGN_OR_RETURN(m.from_local_seq, b.U64("from_local_seq"));
  QUIVER_ASSIGN_OR_RETURN(m.to_local_seq, b.U64("to_local_seq"));
  if (m.from_local_seq > m.to_local_seq) return Bad(b.where(), "from_local_seq is above to_local_seq");
  QUIVER_ASSIGN_OR_RETURN(m.hlc, o.Hex("hlc"));
  QUIVER_ASSIGN_OR_RETURN(const json::array* points, o.Array("points"));
  m.points.reserve(points->size());
  for (size_t i = 0; i < points->size(); ++i) {
    QUIVER_ASSIGN_OR_RETURN(PointDelta d, PointFromJson((*points)[i], o.Path("points") + "[" + std::to_string(i) + "]"));
    m.points.push_back(std::move(d));
  }
  return m;
}

std::string Encode(const PushResponse& m) {
  json::object o;
  o["acked_local_seq"] = U64(m.acked_local_seq);
  json::array rejected;
  for (const Rejection& r : m.rejected) {
    json::object ro;
    ro["id"] = IdToJson(r.id);
    ro["reason"] = r.reason;
    ro["server"] = r.server ? PointToJson(*r.server) : json::value(nullptr);
    if (!r.message.empty()) ro["message"] = r.message;
    rejected.push_back(std::move(ro));
  }
  o["rejected"] = std::move(rejected);
  if (m.horizon_hlc) o["horizon_hlc"] = Hex16(m.horizon_hlc);
  PutClock(o, m.clock);
  return json::serialize(o);
}

Result<PushResponse> DecodePushResponse(std::string_view body) {
  QUIVER_ASSIGN_OR_RETURN(json::value v, ParseBody(body, "push response"));
  QUIVER_ASSIGN_OR_RETURN(Obj o, Obj::Of(v, "push response"));
  PushResponse m;
  QUIVER_ASSIGN_OR_RETURN(m.acked_local_seq, o.U64("acked_local_seq"));
  QUIVER_ASSIGN_OR_RETURN(m.horizon_hlc, o.HexOr("horizon_hlc", 0));
  QUIVER_ASSIGN_OR_RETURN(const json::array* rejected, o.Array("rejected"));
  for (size_t i = 0; i < rejected->size(); ++i) {
    const std::string where = o.Path("rejected") + "[" + std::to_string(i) + "]";
    QUIVER_ASSIGN_OR_RETURN(Obj ro, Obj::Of((*rejected)[i], where));
    Rejection r;
    const json::value* id = ro.Find("id");
    if (!id) return Bad(ro.Path("id"), "missing");
    QUIVER_ASSIGN_OR_RETURN(r.id, IdFromJson(*id, ro.Path("id")));
    QUIVER_ASSIGN_OR_RETURN(r.reason, ro.Str("reason"));
    QUIVER_ASSIGN_OR_RETURN(r.message, ro.StrOr("message", ""));
    if (const json::value* server = ro.Find("server"); server && !server->is_null()) {
      QUIVER_ASSIGN_OR_RETURN(PointDelta d, PointFromJson(*server, ro.Path("server")));
      if (d.id != r.id) return Bad(ro.Path("server"), "describes another point");
      r.server = std::move(d);
    }
    m.rejected.push_back(std::move(r));
  }
  QUIVER_ASSIGN_OR_RETURN(m.clock, GetClock(o));
  return m;
}

std::string Encode(const PullResponse& m) {
  json::object o;
  o["epoch"] = m.epoch;
  o["cursor"] = m.cursor;
  o["has_more"] = m.has_more;
  o["horizon_hlc"] = Hex16(m.horizon_hlc);
  o["acked_local_seq"] = U64(m.acked_local_seq);
  o["collection"] = IdentityToJson(m.collection);
  json::array points;
  for (const PointDelta& d : m.points) points.push_back(PointToJson(d));
  o["points"] = std::move(points);
  PutClock(o, m.clock);
  return json::serialize(o);
}

Result<PullResponse> DecodePullResponse(std::string_view body) {
  QUIVER_ASSIGN_OR_RETURN(json::value v, ParseBody(body, "pull response"));
  QUIVER_ASSIGN_OR_RETURN(Obj o, Obj::Of(v, "pull response"));
  PullResponse m;
  QUIVER_ASSIGN_OR_RETURN(m.epoch, o.Id128Field("epoch"));
  QUIVER_ASSIGN_OR_RETURN(m.cursor, o.Str("cursor"));
  auto cursor = ParseCursor(m.cursor);
  if (!cursor) return Bad(o.Path("cursor"), "not a cursor");
  if (Id128Text(cursor->epoch) != m.epoch) return Bad(o.Path("cursor"), "belongs to another epoch");
  QUIVER_ASSIGN_OR_RETURN(m.has_more, o.BoolOr("has_more", false));
  QUIVER_ASSIGN_OR_RETURN(m.horizon_hlc, o.Hex("horizon_hlc"));
  QUIVER_ASSIGN_OR_RETURN(m.acked_local_seq, o.U64Or("acked_local_seq", 0));
  const json::value* c = o.Find("collection");
  if (!c) return Bad(o.Path("collection"), "missing");
  QUIVER_ASSIGN_OR_RETURN(m.collection, IdentityFromJson(*c, o.Path("collection")));
  QUIVER_ASSIGN_OR_RETURN(const json::array* points, o.Array("points"));
  m.points.reserve(points->size());
  for (size_t i = 0; i < points->size(); ++i) {
    QUIVER_ASSIGN_OR_RETURN(PointDelta d, PointFromJson((*points)[i], o.Path("points") + "[" + std::to_string(i) + "]"));
    m.points.push_back(std::move(d));
  }
  QUIVER_ASSIGN_OR_RETURN(m.clock, GetClock(o));
  return m;
}

std::string Encode(const SnapshotManifest& m) {
  json::object o;
  o["format"] = m.format;
  o["epoch"] = m.epoch;
  o["snapshot_seq"] = Hex16(m.snapshot_seq);
  o["horizon_hlc"] = Hex16(m.horizon_hlc);
  o["config"] = m.config;
  o["config_hash"] = m.config_hash;
  o["uid"] = m.uid;
  json::array segments;
  for (const SegmentRef& s : m.segments) {
    segments.push_back(json::object{
        {"sha256", s.sha256}, {"bytes", U64(s.bytes)}, {"points", U64(s.points)}, {"url", s.url}});
  }
  o["segments"] = std::move(segments);
  PutClock(o, m.clock);
  return json::serialize(o);
}

Result<SnapshotManifest> DecodeSnapshotManifest(std::string_view body) {
  QUIVER_ASSIGN_OR_RETURN(json::value v, ParseBody(body, "snapshot"));
  QUIVER_ASSIGN_OR_RETURN(Obj o, Obj::Of(v, "snapshot"));
  SnapshotManifest m;
  QUIVER_ASSIGN_OR_RETURN(uint64_t format, o.U64("format"));
  if (format != 1) return Bad(o.Path("format"), "unsupported snapshot format " + std::to_string(format));
  QUIVER_ASSIGN_OR_RETURN(m.epoch, o.Id128Field("epoch"));
  QUIVER_ASSIGN_OR_RETURN(m.snapshot_seq, o.Hex("snapshot_seq"));
  QUIVER_ASSIGN_OR_RETURN(m.horizon_hlc, o.Hex("horizon_hlc"));
  const json::value* config = o.Find("config");
  if (!config) return Bad(o.Path("config"), "missing");
  m.config = *config;
  QUIVER_ASSIGN_OR_RETURN(m.config_hash, o.Str("config_hash"));
  QUIVER_ASSIGN_OR_RETURN(m.uid, o.Id128Field("uid"));
  QUIVER_ASSIGN_OR_RETURN(const json::array* segments, o.Array("segments"));
  for (size_t i = 0; i < segments->size(); ++i) {
    QUIVER_ASSIGN_OR_RETURN(Obj so, Obj::Of((*segments)[i], o.Path("segments") + "[" + std::to_string(i) + "]"));
    SegmentRef s;
    QUIVER_ASSIGN_OR_RETURN(s.sha256, so.Str("sha256"));
    if (s.sha256.size() != 64 ||
        !std::all_of(s.sha256.begin(), s.sha256.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); })) {
      return Bad(so.Path("sha256"), "expected 64 lower-case hex digits");
    }
    QUIVER_ASSIGN_OR_RETURN(s.bytes, so.U64("bytes"));
    QUIVER_ASSIGN_OR_RETURN(s.points, so.U64("points"));
    QUIVER_ASSIGN_OR_RETURN(s.url, so.Str("url"));
    m.segments.push_back(std::move(s));
  }
  QUIVER_ASSIGN_OR_RETURN(m.clock, GetClock(o));
  return m;
}

std::string Encode(const DigestResponse& m) {
  json::object o;
  o["epoch"] = m.epoch;
  o["cursor"] = m.cursor;
  o["horizon_hlc"] = Hex16(m.horizon_hlc);
  o["digest"] = Hex16(m.digest);
  o["points"] = U64(m.points);
  PutClock(o, m.clock);
  return json::serialize(o);
}

Result<DigestResponse> DecodeDigestResponse(std::string_view body) {
  QUIVER_ASSIGN_OR_RETURN(json::value v, ParseBody(body, "digest"));
  QUIVER_ASSIGN_OR_RETURN(Obj o, Obj::Of(v, "digest"));
  DigestResponse m;
  QUIVER_ASSIGN_OR_RETURN(m.epoch, o.Id128Field("epoch"));
  QUIVER_ASSIGN_OR_RETURN(m.cursor, o.Str("cursor"));
  if (!ParseCursor(m.cursor)) return Bad(o.Path("cursor"), "not a cursor");
  QUIVER_ASSIGN_OR_RETURN(m.horizon_hlc, o.Hex("horizon_hlc"));
  QUIVER_ASSIGN_OR_RETURN(m.digest, o.Hex("digest"));
  QUIVER_ASSIGN_OR_RETURN(m.points, o.U64("points"));
  QUIVER_ASSIGN_OR_RETURN(m.clock, GetClock(o));
  return m;
}

std::string Encode(const ErrorBody& m) {
  json::object o;
  o["error"] = m.error;
  if (!m.reason.empty()) o["reason"] = m.reason;
  // Messages may quote a request's bytes (a path, a header); JSON text must be UTF-8.
  if (!m.message.empty()) o["message"] = text::ValidUtf8(m.message);
  if (!m.snapshot.empty()) o["snapshot"] = m.snapshot;
  if (m.deleted) o["deleted"] = StampText(*m.deleted);
  if (m.min_protocol) o["min_protocol"] = m.min_protocol;
  PutClock(o, m.clock);
  return json::serialize(o);
}

Result<ErrorBody> DecodeErrorBody(std::string_view body) {
  QUIVER_ASSIGN_OR_RETURN(json::value v, ParseBody(body, "error"));
  QUIVER_ASSIGN_OR_RETURN(Obj o, Obj::Of(v, "error"));
  ErrorBody m;
  QUIVER_ASSIGN_OR_RETURN(m.error, o.Str("error"));
  QUIVER_ASSIGN_OR_RETURN(m.reason, o.StrOr("reason", ""));
  QUIVER_ASSIGN_OR_RETURN(m.message, o.StrOr("message", ""));
  QUIVER_ASSIGN_OR_RETURN(m.snapshot, o.StrOr("snapshot", ""));
  QUIVER_ASSIGN_OR_RETURN(m.deleted, o.OptStamp("deleted"));
  QUIVER_ASSIGN_OR_RETURN(uint64_t min_protocol, o.U64Or("min_protocol", 0));
  m.min_protocol = static_cast<uint32_t>(std::min<uint64_t>(min_protocol, UINT32_MAX));
  QUIVER_ASSIGN_OR_RETURN(m.clock.server_time_ms, o.U64Or("server_time_ms", 0));
  QUIVER_ASSIGN_OR_RETURN(m.clock.server_hlc, o.HexOr("server_hlc", 0));
  return m;
}

Result<PullRequest> DecodePullQuery(const std::vector<std::pair<std::string, std::string>>& query) {
  PullRequest r;
  auto number = [](const std::string& name, const std::string& text, uint64_t max) -> Result<uint64_t> {
    if (text.empty() || text.size() > 19 || !std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return Bad("pull." + name, "expected a decimal number");
    }
    const uint64_t v = std::stoull(text);
    if (v > max) return Bad("pull." + name, "at most " + std::to_string(max));
    return v;
  };
  for (const auto& [key, value] : query) {
    if (key == "cursor") {
      if (!value.empty() && !ParseCursor(value)) return Bad("pull.cursor", "not a cursor");
      r.cursor = value;
    } else if (key == "since") {
      if (!value.empty() && !ParseCursor(value)) return Bad("pull.since", "not a cursor");
      r.since = value;
    } else if (key == "limit") {
      QUIVER_ASSIGN_OR_RETURN(r.limit, number(key, value, 100000));
      if (r.limit == 0) return Bad("pull.limit", "at least 1");
    } else if (key == "max_bytes") {
      QUIVER_ASSIGN_OR_RETURN(r.max_bytes, number(key, value, uint64_t{1} << 30));
      if (r.max_bytes == 0) return Bad("pull.max_bytes", "at least 1");
    } else if (key == "wait_ms") {
      QUIVER_ASSIGN_OR_RETURN(r.wait_ms, number(key, value, 600000));
    }
  }
  if (!r.since.empty()) {
    if (r.cursor.empty()) return Bad("pull.since", "given without a cursor");
    const Cursor c = *ParseCursor(r.cursor), s = *ParseCursor(r.since);
    if (!(c.epoch == s.epoch) || s.seq > c.seq) return Bad("pull.since", "must be of the cursor's epoch and not after it");
  }
  return r;
}

std::vector<std::pair<std::string, std::string>> EncodePullQuery(const PullRequest& r) {
  std::vector<std::pair<std::string, std::string>> q;
  if (!r.cursor.empty()) q.emplace_back("cursor", r.cursor);
  if (!r.since.empty() && r.since != r.cursor) q.emplace_back("since", r.since);
  q.emplace_back("limit", std::to_string(r.limit));
  q.emplace_back("max_bytes", std::to_string(r.max_bytes));
  if (r.wait_ms) q.emplace_back("wait_ms", std::to_string(r.wait_ms));
  return q;
}

}  // namespace quiver::sync
