#include "tenants.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "metrics.h"

namespace quiver::server {
namespace {

namespace json = boost::json;

Status WriteFileSynced(const std::string& path, std::string_view data) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError("cannot write " + tmp);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n <= 0) {
      ::close(fd);
      return Status::IOError("cannot write " + tmp);
    }
    done += static_cast<size_t>(n);
  }
  const bool synced = ::fsync(fd) == 0;
  ::close(fd);
  if (!synced || std::rename(tmp.c_str(), path.c_str()) != 0)
    return Status::IOError("cannot replace " + path);
  return Status::OK();
}

}  // namespace

Tenants::Tenants(const Config& config)
    : path_(config.data + "/quiverd-owners.json"), jwt_default_(config.jwt_default_limits) {
  for (const TenantConfig& t : config.tenants) limits_[t.name] = t.limits;
}

Status Tenants::Load() {
  std::ifstream in(path_, std::ios::binary);
  if (!in) return Status::OK();
  std::stringstream buffer;
  buffer << in.rdbuf();
  boost::system::error_code ec;
  json::value v = json::parse(buffer.str(), ec);
  const json::object* o = ec ? nullptr : v.if_object();
  const json::object* owners = o ? o->if_contains("owners") ? o->at("owners").if_object() : nullptr : nullptr;
  if (owners == nullptr) return Status::Corruption(path_ + ": expected {\"owners\": {collection: tenant}}");
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& kv : *owners) {
    if (!kv.value().is_string())
      return Status::Corruption(path_ + ": owner of " + std::string(kv.key()) + " is not a string");
    owners_[std::string(kv.key())] = std::string(kv.value().get_string());
  }
  return Status::OK();
}

TenantLimits Tenants::LimitsOf(std::string_view tenant) const {
  if (tenant.empty()) return {};
  if (auto it = limits_.find(tenant); it != limits_.end()) return it->second;
  if (tenant.substr(0, 4) == "jwt:") return jwt_default_;
  return {};
}

std::optional<double> Tenants::TakeToken(std::string_view tenant, Clock::time_point now) {
  const TenantLimits limits = LimitsOf(tenant);
  if (limits.requests_per_second <= 0) return std::nullopt;
  const double capacity = limits.burst > 0 ? limits.burst : std::max(1.0, limits.requests_per_second);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = buckets_.find(tenant);
  if (it == buckets_.end()) it = buckets_.emplace(std::string(tenant), Bucket{}).first;
  Bucket& b = it->second;
  if (!b.started) {
    b.tokens = capacity;
    b.last = now;
    b.started = true;
  }
  const double elapsed = std::chrono::duration<double>(now - b.last).count();
  b.tokens = std::min(capacity, b.tokens + elapsed * limits.requests_per_second);
  b.last = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
    return std::nullopt;
  }
  return (1 - b.tokens) / limits.requests_per_second;
}

std::optional<std::string> Tenants::OwnerOf(std::string_view collection) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = owners_.find(collection);
  if (it == owners_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Tenants::OwnedBy(std::string_view tenant) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [collection, owner] : owners_) {
    if (owner == tenant) out.push_back(collection);
  }
  return out;
}

Status Tenants::SetOwner(std::string_view collection, std::string_view tenant) {
  std::lock_guard<std::mutex> lock(mu_);
  owners_[std::string(collection)] = std::string(tenant);
  return SaveLocked();
}

Status Tenants::Forget(std::string_view collection) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = owners_.find(collection);
  if (it == owners_.end()) return Status::OK();
  owners_.erase(it);
  return SaveLocked();
}

Status Tenants::SaveLocked() const {
  json::object owners;
  for (const auto& [collection, tenant] : owners_) owners[collection] = tenant;
  return WriteFileSynced(path_, json::serialize(json::object{{"owners", owners}}) + "\n");
}

void Tenants::Count(std::string_view tenant, Counter counter) {
  if (tenant.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counters_.find(tenant);
  if (it == counters_.end()) it = counters_.emplace(std::string(tenant), std::array<uint64_t, 4>{}).first;
  ++it->second[static_cast<size_t>(counter)];
}

void Tenants::AppendMetrics(std::string* out) const {
  static constexpr const char* kNames[] = {"quiver_tenant_requests_total", "quiver_tenant_rate_limited_total",
                                           "quiver_tenant_collection_quota_refused_total",
                                           "quiver_tenant_point_quota_refused_total"};
  static constexpr const char* kHelp[] = {"requests by tenant",
                                          "requests refused with 429 by the tenant's rate limit",
                                          "collection creations refused by the tenant's max_collections",
                                          "writes refused by the tenant's max_points"};
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t c = 0; c < 4; ++c) {
    *out += std::string("# HELP ") + kNames[c] + " " + kHelp[c] + "\n# TYPE " + kNames[c] + " counter\n";
    for (const auto& [tenant, counts] : counters_) {
      *out += std::string(kNames[c]) + "{tenant=\"" + PrometheusLabel(tenant) + "\"} " +
              std::to_string(counts[c]) + "\n";
    }
  }
}

}  // namespace quiver::server
