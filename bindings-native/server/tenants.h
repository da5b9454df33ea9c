// Tenants and their quotas: per tenant (a tenant API key, or a JWT subject) a token bucket limiting the
// request rate, and limits on how many collections and points the tenant holds. Which tenant created which
// collection is kept in DATA/quiverd-owners.json (written whole, synced, renamed into place), so ownership
// and quotas survive restarts. Counters of requests and refusals per tenant appear in /metrics.
//
// Thread safety: all methods may be called from any thread (one mutex).
#ifndef QUIVER_SERVER_TENANTS_H_
#define QUIVER_SERVER_TENANTS_H_

#include <array>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config.h"
#include "quiver/status.h"

namespace quiver::server {

class Tenants {
 public:
  using Clock = std::chrono::steady_clock;

  explicit Tenants(const Config& config);

  // Reads the owners file (absent: nobody owns anything yet).
  Status Load();

  // The limits of a tenant: its configured ones, else jwt_default_limits for `jwt_subject` tenants, else
  // none.
  TenantLimits LimitsOf(std::string_view tenant) const;

  // Takes one token from the tenant's bucket. nullopt when the request may go ahead, else the seconds until a
  // token is available (for Retry-After).
  std::optional<double> TakeToken(std::string_view tenant, Clock::time_point now);

  std::optional<std::string> OwnerOf(std::string_view collection) const;
  std::vector<std::string> OwnedBy(std::string_view tenant) const;
  Status SetOwner(std::string_view collection, std::string_view tenant);
  Status Forget(std::string_view collection);

  enum class Counter : uint8_t { kRequests, kRateLimited, kCollectionQuota, kPointQuota, kCount };
  void Count(std::string_view tenant, Counter counter);
  // Prometheus text of the counters.
  void AppendMetrics(std::string* out) const;

 private:
  struct Bucket {
    double tokens = 0;
    Clock::time_point last;
    bool started = false;
  };
  Status SaveLocked() const;

  std::string path_;
  std::map<std::string, TenantLimits, std::less<>> limits_;
  TenantLimits jwt_default_;
  mutable std::mutex mu_;
  std::map<std::string, Bucket, std::less<>> buckets_;      // guarded by mu_
  std::map<std::string, std::string, std::less<>> owners_;  // collection -> tenant, guarded by mu_
  std::map<std::string, std::array<uint64_t, static_cast<size_t>(Counter::kCount)>, std::less<>> counters_;
};

}  // namespace quiver::server

#endif  // QUIVER_SERVER_TENANTS_H_
