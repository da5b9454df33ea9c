#include "metrics.h"

#include <unistd.h>

#include <cstdio>
#include <fstream>

#include "quiver/database.h"
#include "tenants.h"
#include "version.h"

namespace quiver::server {
namespace {

std::string Number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.9g", v);
  return buf;
}

void Head(std::string* out, const char* name, const char* type, const char* help) {
  *out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

// Resident and virtual bytes from /proc/self/statm (0 where it cannot be read).
std::pair<uint64_t, uint64_t> ProcessMemory() {
  std::ifstream in("/proc/self/statm");
  uint64_t pages = 0, resident = 0;
  in >> pages >> resident;
  const uint64_t page = static_cast<uint64_t>(::sysconf(_SC_PAGESIZE));
  return {resident * page, pages * page};
}

}  // namespace

std::string PrometheusLabel(std::string_view value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') out.push_back('\\');
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out.push_back(c);
  }
  return out;
}

void Metrics::Observe(std::string_view method, std::string_view endpoint, unsigned status, double seconds) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = series_.find(std::make_tuple(method, endpoint, status));
  if (it == series_.end()) {
    it = series_.emplace(std::make_tuple(std::string(method), std::string(endpoint), status), Series{}).first;
  }
  Series& s = it->second;
  ++s.count;
  s.sum += seconds;
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) ++s.buckets[i];
  }
}

std::string Metrics::Render(Database& db, const Tenants& tenants) const {
  std::string out;
  Head(&out, "app_info", "gauge", "information about the server");
  out += std::string("app_info{name=\"quiverd\",version=\"") + kQdrantApiVersion + "\",quiver_version=\"" +
         kQuiverVersion + "\"} 1\n";

  // Collections and points.
  const std::vector<std::string> names = db.ListCollections();
  uint64_t vectors = 0;
  std::string per_collection;
  for (const std::string& name : names) {
    auto c = db.GetCollection(name);
    if (!c.ok()) continue;
    const CollectionInfo info = (*c)->Info();
    vectors += static_cast<uint64_t>(info.points_count) * info.config.vectors.size();
    per_collection += "quiver_collection_points{collection=\"" + PrometheusLabel(name) + "\"} " +
                      std::to_string(info.points_count) + "\n";
  }
  Head(&out, "collections_total", "gauge", "number of collections");
  out += "collections_total " + std::to_string(names.size()) + "\n";
  Head(&out, "collections_vector_total", "gauge", "total number of vectors in all collections");
  out += "collections_vector_total " + std::to_string(vectors) + "\n";
  Head(&out, "quiver_collection_points", "gauge", "live points per collection");
  out += per_collection;

  // Requests.
  {
    std::lock_guard<std::mutex> lock(mu_);
    Head(&out, "rest_responses_total", "counter", "total number of responses");
    for (const auto& [key, s] : series_) {
      const auto& [method, endpoint, status] = key;
      out += "rest_responses_total{method=\"" + method + "\",endpoint=\"" + PrometheusLabel(endpoint) +
             "\",status=\"" + std::to_string(status) + "\"} " + std::to_string(s.count) + "\n";
    }
    Head(&out, "rest_responses_fail_total", "counter",
         "total number of failed responses (status 400 and above)");
    for (const auto& [key, s] : series_) {
      const auto& [method, endpoint, status] = key;
      if (status < 400) continue;
      out += "rest_responses_fail_total{method=\"" + method + "\",endpoint=\"" + PrometheusLabel(endpoint) +
             "\",status=\"" + std::to_string(status) + "\"} " + std::to_string(s.count) + "\n";
    }
    Head(&out, "rest_responses_duration_seconds", "histogram", "response latency");
    for (const auto& [key, s] : series_) {
      const auto& [method, endpoint, status] = key;
      const std::string labels = "method=\"" + method + "\",endpoint=\"" + PrometheusLabel(endpoint) +
                                 "\",status=\"" + std::to_string(status) + "\"";
      for (size_t i = 0; i < kBuckets.size(); ++i) {
        out += "rest_responses_duration_seconds_bucket{" + labels + ",le=\"" + Number(kBuckets[i]) + "\"} " +
               std::to_string(s.buckets[i]) + "\n";
      }
      out += "rest_responses_duration_seconds_bucket{" + labels + ",le=\"+Inf\"} " + std::to_string(s.count) +
             "\n";
      out += "rest_responses_duration_seconds_sum{" + labels + "} " + Number(s.sum) + "\n";
      out += "rest_responses_duration_seconds_count{" + labels + "} " + std::to_string(s.count) + "\n";
    }
  }
  Head(&out, "quiver_requests_in_flight", "gauge", "requests being processed");
  out += "quiver_requests_in_flight " + std::to_string(requests_in_flight.load()) + "\n";
  Head(&out, "quiver_connections_active", "gauge", "open client connections");
  out += "quiver_connections_active " + std::to_string(connections_active.load()) + "\n";
  Head(&out, "quiver_connections_total", "counter", "connections accepted");
  out += "quiver_connections_total " + std::to_string(connections_total.load()) + "\n";
  Head(&out, "quiver_connections_refused_total", "counter",
       "connections refused with 503 at max_connections");
  out += "quiver_connections_refused_total " + std::to_string(connections_refused.load()) + "\n";

  tenants.AppendMetrics(&out);

  const auto [resident, virtual_bytes] = ProcessMemory();
  Head(&out, "memory_resident_bytes", "gauge", "resident memory of the process");
  out += "memory_resident_bytes " + std::to_string(resident) + "\n";
  Head(&out, "process_resident_memory_bytes", "gauge", "resident memory size in bytes");
  out += "process_resident_memory_bytes " + std::to_string(resident) + "\n";
  Head(&out, "process_virtual_memory_bytes", "gauge", "virtual memory size in bytes");
  out += "process_virtual_memory_bytes " + std::to_string(virtual_bytes) + "\n";
  return out;
}

}  // namespace quiver::server
