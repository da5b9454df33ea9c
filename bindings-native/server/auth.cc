#include "auth.h"

#include <boost/json.hpp>

#include "crypto.h"

namespace quiver::server {
namespace {

namespace json = boost::json;

// Qdrant's leeway for clock skew when checking `exp`.
constexpr int64_t kExpiryLeewaySeconds = 30;

AuthFailure Unauthorized(std::string message) { return {401, "Unauthorized: " + std::move(message)}; }
AuthFailure Forbidden(std::string message) { return {403, "Forbidden: " + std::move(message)}; }

std::optional<json::object> DecodeSegment(std::string_view segment) {
  auto bytes = Base64UrlDecode(segment);
  if (!bytes) return std::nullopt;
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 16;
  json::value v = json::parse(*bytes, ec, {}, options);
  if (ec || !v.is_object()) return std::nullopt;
  return std::move(v.get_object());
}

// Reads `access`: absent means full access, as in Qdrant.
std::optional<std::string> ReadAccess(const json::object& claims, Principal* p) {
  const json::value* access = claims.if_contains("access");
  p->global = Level::kManage;
  if (access == nullptr) return std::nullopt;
  if (const json::string* s = access->if_string()) {
    if (*s == "m") return std::nullopt;
    if (*s == "r") {
      p->global = Level::kRead;
      return std::nullopt;
    }
    return "access: expected \"r\", \"m\" or a list of collection access";
  }
  const json::array* list = access->if_array();
  if (list == nullptr) return "access: expected \"r\", \"m\" or a list of collection access";
  p->global = Level::kNone;
  for (const json::value& item : *list) {
    const json::object* o = item.if_object();
    const json::value* c = o ? o->if_contains("collection") : nullptr;
    const json::value* a = o ? o->if_contains("access") : nullptr;
    if (c == nullptr || !c->is_string() || a == nullptr || !a->is_string()) {
      return "access: each item needs \"collection\" and \"access\"";
    }
    if (const json::value* payload = o->if_contains("payload"); payload && !payload->is_null()) {
      return "access: payload constraints are not supported (Qdrant deprecated them)";
    }
    const std::string_view mode = a->get_string();
    if (mode != "r" && mode != "rw") return "access: collection access is \"r\" or \"rw\"";
    p->collections[std::string(c->get_string())] = mode == "rw" ? Level::kWrite : Level::kRead;
  }
  return std::nullopt;
}

std::optional<std::string> ReadValueExists(const json::object& claims, Principal* p) {
  const json::value* v = claims.if_contains("value_exists");
  if (v == nullptr || v->is_null()) return std::nullopt;
  const json::object* o = v->if_object();
  const json::value* c = o ? o->if_contains("collection") : nullptr;
  const json::value* m = o ? o->if_contains("matches") : nullptr;
  if (c == nullptr || !c->is_string() || m == nullptr || !m->is_array()) {
    return "value_exists: expected {collection, matches}";
  }
  json::array must;
  for (const json::value& pair : m->get_array()) {
    const json::object* po = pair.if_object();
    const json::value* key = po ? po->if_contains("key") : nullptr;
    const json::value* value = po ? po->if_contains("value") : nullptr;
    if (key == nullptr || !key->is_string() || value == nullptr)
      return "value_exists.matches: expected {key, value}";
    must.push_back(json::object{{"key", *key}, {"match", json::object{{"value", *value}}}});
  }
  p->value_exists = ValueExists{std::string(c->get_string()), json::serialize(json::object{{"must", must}})};
  return std::nullopt;
}

}  // namespace

std::string_view Principal::KindName() const {
  switch (kind) {
    case Kind::kOpen:
      return "open";
    case Kind::kApiKey:
      return "api_key";
    case Kind::kReadOnlyKey:
      return "read_only_key";
    case Kind::kTenantKey:
      return "tenant_key";
    case Kind::kJwt:
      return "jwt";
  }
  return "unknown";
}

Authenticator::Authenticator(const Config& config)
    : jwt_(config.jwt_rbac), api_key_(config.api_key), read_only_key_(config.read_only_api_key) {
  for (const TenantConfig& t : config.tenants) {
    if (!t.api_key.empty()) tenant_keys_.push_back({t.api_key, t.name, t.read_only});
    if (!t.jwt_subject.empty()) jwt_subjects_[t.jwt_subject] = t.name;
  }
  enabled_ = !api_key_.empty() || !read_only_key_.empty() || !tenant_keys_.empty();
}

std::optional<AuthFailure> Authenticator::Authenticate(std::string_view api_key_header,
                                                       std::string_view authorization, int64_t now_seconds,
                                                       Principal* out) const {
  *out = Principal{};
  if (!enabled_) return std::nullopt;
  std::string_view key = api_key_header;
  if (key.empty() && authorization.substr(0, 7) == "Bearer ") key = authorization.substr(7);
  if (key.empty()) return Unauthorized("Must provide an API key or an Authorization bearer token");

  // Every configured key is compared, so the time taken does not tell which one matched.
  bool rw = !api_key_.empty() && ConstantTimeEqual(api_key_, key);
  bool ro = !read_only_key_.empty() && ConstantTimeEqual(read_only_key_, key);
  const TenantKey* tenant = nullptr;
  for (const TenantKey& t : tenant_keys_) {
    if (ConstantTimeEqual(t.key, key)) tenant = &t;
  }
  if (rw) {
    out->kind = Principal::Kind::kApiKey;
    return std::nullopt;
  }
  if (ro) {
    out->kind = Principal::Kind::kReadOnlyKey;
    out->global = Level::kRead;
    return std::nullopt;
  }
  if (tenant != nullptr) {
    out->kind = Principal::Kind::kTenantKey;
    out->tenant = tenant->tenant;
    out->global = Level::kNone;
    out->own_collections_only = true;
    out->tenant_level = tenant->read_only ? Level::kRead : Level::kManage;
    return std::nullopt;
  }
  if (jwt_) {
    if (auto failure = DecodeJwt(key, now_seconds, out)) return failure;
    if (out->kind == Principal::Kind::kJwt) return std::nullopt;
  }
  return Unauthorized("Invalid API key or JWT");
}

std::optional<AuthFailure> Authenticator::DecodeJwt(std::string_view token, int64_t now_seconds,
                                                    Principal* out) const {
  // Anything that is not a well-formed HS256 JWT with an `exp` is "not a JWT": the caller answers 401.
  const size_t dot1 = token.find('.');
  const size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return std::nullopt;
  auto header = DecodeSegment(token.substr(0, dot1));
  auto claims = DecodeSegment(token.substr(dot1 + 1, dot2 - dot1 - 1));
  auto signature = Base64UrlDecode(token.substr(dot2 + 1));
  if (!header || !claims || !signature) return std::nullopt;
  const json::value* alg = header->if_contains("alg");
  if (alg == nullptr || !alg->is_string() || alg->get_string() != "HS256") return std::nullopt;

  const std::string expected = HmacSha256(api_key_, token.substr(0, dot2));
  if (!ConstantTimeEqual(expected, *signature)) return Forbidden("InvalidSignature");
  const json::value* exp = claims->if_contains("exp");
  if (exp == nullptr || !exp->is_number()) return std::nullopt;
  boost::system::error_code ec;
  const double exp_seconds = exp->to_number<double>(ec);
  if (ec) return std::nullopt;
  if (exp_seconds + kExpiryLeewaySeconds < static_cast<double>(now_seconds))
    return Forbidden("ExpiredSignature");

  Principal p;
  p.kind = Principal::Kind::kJwt;
  if (auto bad = ReadAccess(*claims, &p)) return Unauthorized(*bad);
  if (auto bad = ReadValueExists(*claims, &p)) return Unauthorized(*bad);
  if (const json::value* sub = claims->if_contains("sub"); sub && sub->is_string()) {
    p.subject = std::string(sub->get_string());
    if (auto it = jwt_subjects_.find(p.subject); it != jwt_subjects_.end()) p.tenant = it->second;
  }
  *out = std::move(p);
  return std::nullopt;
}

}  // namespace quiver::server
