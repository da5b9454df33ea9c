// Authentication and access, as Qdrant defines them: a read-write API key and a read-only key (the `api-key`
// header, or `Authorization: Bearer <key>`), JWTs signed with the API key (HS256; `exp`; `access` global "r"
// or "m", or a list of {collection, access: "r" | "rw"}; `value_exists`), and, Quiver's addition, tenant keys
// from the config file: a tenant sees and manages only the collections it created. Keys are compared in
// constant time. A missing or unknown credential is 401; a bad JWT signature, an expired JWT or too little
// access 403.
//
// Thread safety: Authenticator is immutable after construction; Authenticate may be called from any thread.
#ifndef QUIVER_SERVER_AUTH_H_
#define QUIVER_SERVER_AUTH_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config.h"

namespace quiver::server {

enum class Level : uint8_t { kNone = 0, kRead = 1, kWrite = 2, kManage = 3 };

// A JWT's stateful check: the token is valid only while a point in `collection` matches every key/value pair.
struct ValueExists {
  std::string collection;
  std::string filter_json;  // {"must": [{"key": ..., "match": {"value": ...}}, ...]}
};

// Who is asking and what they may do.
struct Principal {
  enum class Kind : uint8_t { kOpen, kApiKey, kReadOnlyKey, kTenantKey, kJwt };
  Kind kind = Kind::kOpen;
  std::string tenant;             // the configured tenant whose limits apply ("" for none)
  std::string subject;            // a JWT's "sub"
  Level global = Level::kManage;  // over every collection (kNone when only `collections` apply)
  std::map<std::string, Level, std::less<>> collections;  // a JWT's per-collection access (kRead or kWrite)
  bool own_collections_only = false;  // a tenant key: only collections the tenant owns, at `tenant_level`
  Level tenant_level = Level::kNone;
  std::optional<ValueExists> value_exists;

  std::string_view KindName() const;
};

struct AuthFailure {
  unsigned http_status;  // 401 or 403
  std::string message;
};

class Authenticator {
 public:
  explicit Authenticator(const Config& config);

  // False when no key of any kind is configured: every request is then a kOpen principal with full access.
  bool enabled() const { return enabled_; }

  // From the request's `api-key` and `authorization` header values ("" when absent) and the time now.
  std::optional<AuthFailure> Authenticate(std::string_view api_key_header, std::string_view authorization,
                                          int64_t now_seconds, Principal* out) const;

 private:
  std::optional<AuthFailure> DecodeJwt(std::string_view token, int64_t now_seconds, Principal* out) const;

  struct TenantKey {
    std::string key;
    std::string tenant;
    bool read_only;
  };
  bool enabled_ = false;
  bool jwt_ = false;
  std::string api_key_;
  std::string read_only_key_;
  std::vector<TenantKey> tenant_keys_;
  std::map<std::string, std::string, std::less<>> jwt_subjects_;  // sub -> tenant name
};

}  // namespace quiver::server

#endif  // QUIVER_SERVER_AUTH_H_
