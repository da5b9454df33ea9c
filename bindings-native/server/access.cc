#include "access.h"

#include <boost/json.hpp>

namespace quiver::server {
namespace {

namespace json = boost::json;
using Op = api::Operation;

Status Denied(const std::string& message) {
  return Status(StatusCode::kFailedPrecondition, "Forbidden: " + message);
}

// How many points an upsert or batch update writes (0 when the body cannot be read: the request layer then
// answers with the precise error).
size_t PointsWritten(Op op, std::string_view body) {
  boost::system::error_code ec;
  json::parse_options options;
  options.max_depth = 96;
  json::value v = json::parse(body, ec, {}, options);
  if (ec) return 0;
  auto count = [](const json::object* o) -> size_t {
    if (o == nullptr) return 0;
    if (const json::value* points = o->if_contains("points"); points && points->is_array()) {
      return points->get_array().size();
    }
    if (const json::value* batch = o->if_contains("batch"); batch && batch->is_object()) {
      if (const json::value* ids = batch->get_object().if_contains("ids"); ids && ids->is_array()) {
        return ids->get_array().size();
      }
    }
    return 0;
  };
  if (op == Op::kUpsertPoints) return count(v.if_object());
  size_t n = 0;
  if (const json::object* o = v.if_object()) {
    if (const json::value* ops = o->if_contains("operations"); ops && ops->is_array()) {
      for (const json::value& item : ops->get_array()) {
        if (const json::object* io = item.if_object()) {
          if (const json::value* up = io->if_contains("upsert")) n += count(up->if_object());
        }
      }
    }
  }
  return n;
}

}  // namespace

std::string AccessPolicy::Resolve(std::string_view name) const {
  auto c = db_.GetCollection(name);
  return c.ok() ? (*c)->name() : std::string(name);
}

bool AccessPolicy::CanRead(const Principal& p, std::string_view collection) const {
  if (p.global >= Level::kRead) return true;
  if (p.own_collections_only) {
    auto owner = tenants_.OwnerOf(collection);
    return owner && *owner == p.tenant;
  }
  return p.collections.count(collection) > 0;
}

Status AccessPolicy::Check(const Principal& p, Need need, std::string_view given) const {
  if (need == Need::kNothing || need == Need::kList || p.global == Level::kManage) return Status::OK();
  const std::string resolved = Resolve(given);
  const std::string name(given);
  if (p.own_collections_only) {
    const auto owner = tenants_.OwnerOf(resolved);
    const bool owns = owner && *owner == p.tenant && db_.CollectionExists(resolved);
    const bool manage = p.tenant_level >= Level::kManage;
    switch (need) {
      case Need::kRead:
        if (owns) return Status::OK();
        return Denied("tenant '" + p.tenant + "' has no collection '" + name + "'");
      case Need::kWrite:
      case Need::kManageCollection:
        if (owns && manage) return Status::OK();
        return Denied(manage ? "tenant '" + p.tenant + "' has no collection '" + name + "'"
                             : "tenant '" + p.tenant + "' has read-only access");
      case Need::kCreate:
        if (!manage) return Denied("tenant '" + p.tenant + "' has read-only access");
        if (owns || !db_.CollectionExists(given)) return Status::OK();
        return Denied("collection '" + name + "' belongs to another tenant");
      default:
        return Denied("aliases are managed with the server's API key, not a tenant key");
    }
  }
  Level level = p.global;
  for (const std::string& n : {name, resolved}) {
    if (auto it = p.collections.find(n); it != p.collections.end()) level = std::max(level, it->second);
  }
  switch (need) {
    case Need::kRead:
      if (level >= Level::kRead) return Status::OK();
      return Denied("Access to collection '" + name + "' is required");
    case Need::kWrite:
      if (level >= Level::kWrite) return Status::OK();
      return Denied("Write access to collection '" + name + "' is required");
    default:
      return Denied("Global manage access is required");
  }
}

Status AccessPolicy::CheckQuota(std::string_view tenant, const Route& route, std::string_view collection,
                                std::string_view body) {
  if (tenant.empty()) return Status::OK();
  const TenantLimits limits = tenants_.LimitsOf(tenant);
  const std::string who(tenant);
  const bool restores = route.kind == RouteKind::kUploadSnapshot || route.kind == RouteKind::kRecoverSnapshot;
  const bool creates = (route.kind == RouteKind::kApi && route.operation == Op::kCreateCollection) ||
                       (restores && !db_.CollectionExists(collection));
  const bool upserts = route.kind == RouteKind::kApi &&
                       (route.operation == Op::kUpsertPoints || route.operation == Op::kBatchUpdate);
  if (creates && limits.max_collections > 0) {
    uint64_t owned = 0;
    for (const std::string& n : tenants_.OwnedBy(tenant)) owned += db_.CollectionExists(n) ? 1 : 0;
    if (owned >= limits.max_collections) {
      tenants_.Count(tenant, Tenants::Counter::kCollectionQuota);
      return Status::ResourceExhausted("Quota exceeded: tenant '" + who + "' may hold at most " +
                                       std::to_string(limits.max_collections) +
                                       " collections (max_collections)");
    }
  }
  if (upserts && limits.max_points > 0) {
    uint64_t held = 0;
    for (const std::string& n : tenants_.OwnedBy(tenant)) {
      if (auto c = db_.GetCollection(n); c.ok()) held += (*c)->Info().points_count;
    }
    const size_t adding = PointsWritten(route.operation, body);
    if (held + adding > limits.max_points) {
      tenants_.Count(tenant, Tenants::Counter::kPointQuota);
      return Status::ResourceExhausted("Quota exceeded: tenant '" + who + "' may hold at most " +
                                       std::to_string(limits.max_points) + " points (max_points); it holds " +
                                       std::to_string(held) + " and this request writes " +
                                       std::to_string(adding));
    }
  }
  return Status::OK();
}

}  // namespace quiver::server
