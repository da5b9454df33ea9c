// Request metrics and their Prometheus text (GET /metrics). Names follow Qdrant's where it has one
// (rest_responses_total, rest_responses_fail_total, rest_responses_duration_seconds, collections_total,
// collections_vector_total, memory_resident_bytes, app_info); Quiver's own start with quiver_.
//
// Thread safety: all methods may be called from any thread.
#ifndef QUIVER_SERVER_METRICS_H_
#define QUIVER_SERVER_METRICS_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <tuple>

namespace quiver {
class Database;
}

namespace quiver::server {

class Tenants;

// A label value escaped for the Prometheus text format.
std::string PrometheusLabel(std::string_view value);

class Metrics {
 public:
  static constexpr std::array<double, 14> kBuckets = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                      0.1,    0.25,  0.5,    1,     2.5,  5,     10};

  // One answered request: the endpoint is the route's template ("/collections/{name}/points/search").
  void Observe(std::string_view method, std::string_view endpoint, unsigned status, double seconds);

  std::atomic<int64_t> connections_active{0};
  std::atomic<uint64_t> connections_total{0};
  std::atomic<uint64_t> connections_refused{0};
  std::atomic<int64_t> requests_in_flight{0};

  // The whole exposition: requests, connections, collections and points of `db`, tenants, process memory.
  std::string Render(Database& db, const Tenants& tenants) const;

 private:
  struct Series {
    uint64_t count = 0;
    double sum = 0;
    std::array<uint64_t, kBuckets.size()> buckets{};
  };
  mutable std::mutex mu_;
  // Looked up with string_views (std::less<>), so counting a request allocates only for a new series.
  std::map<std::tuple<std::string, std::string, unsigned>, Series, std::less<>> series_;  // guarded by mu_
};

}  // namespace quiver::server

#endif  // QUIVER_SERVER_METRICS_H_
