// AccessPolicy: what a Principal may do with a route's collection (Need), which collections it may list, and
// the tenant quotas on collections and points. Qdrant's rules for keys and JWTs; tenant keys reach only the
// collections their tenant owns (Tenants keeps ownership).
//
// Thread safety: all methods may be called from any thread (Database and Tenants are synchronised).
#ifndef QUIVER_SERVER_ACCESS_H_
#define QUIVER_SERVER_ACCESS_H_

#include <string>
#include <string_view>

#include "auth.h"
#include "quiver/api.h"
#include "quiver/database.h"
#include "router.h"
#include "tenants.h"

namespace quiver::server {

class AccessPolicy {
 public:
  AccessPolicy(Database& db, Tenants& tenants) : db_(db), tenants_(tenants) {}

  // OK, or a status whose message starts "Forbidden: " (answered 403).
  Status Check(const Principal& p, Need need, std::string_view collection) const;
  // Whether lists show `collection` to `p`.
  bool CanRead(const Principal& p, std::string_view collection) const;

  // OK, or ResourceExhausted naming the limit ("max_collections", "max_points"; answered 403) when the
  // request would take `tenant` past its quota. `body` is the request's JSON body (counted for upserts).
  Status CheckQuota(std::string_view tenant, const Route& route, std::string_view collection,
                    std::string_view body);

 private:
  // The collection an alias names, or `name` itself.
  std::string Resolve(std::string_view name) const;

  Database& db_;
  Tenants& tenants_;
};

}  // namespace quiver::server

#endif  // QUIVER_SERVER_ACCESS_H_
