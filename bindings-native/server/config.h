// quiverd's configuration: every setting has a config-file key, an environment variable and a command-line
// flag made from one name ("max_body_mb" <-> QUIVERD_MAX_BODY_MB <-> --max-body-mb). Later sources override
// earlier ones: defaults, then the config file (JSON, docs/server.md), then the environment, then the flags.
// Tenants are configured in the file only.
//
// Thread safety: a Config is a plain value, read-only once the server runs.
#ifndef QUIVER_SERVER_CONFIG_H_
#define QUIVER_SERVER_CONFIG_H_

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "quiver/status.h"

namespace quiver::server {

// Limits for one tenant (an API key or a JWT subject); 0 means unlimited.
struct TenantLimits {
  uint64_t max_collections = 0;
  uint64_t max_points = 0;         // over all the tenant's collections
  double requests_per_second = 0;  // token bucket refill rate
  double burst = 0;                // bucket size (default: one second of requests, at least 1)
};

struct TenantConfig {
  std::string name;
  std::string api_key;      // a key of its own: the tenant sees and manages only its own collections
  std::string jwt_subject;  // or: JWTs whose "sub" claim equals this count against these limits
  bool read_only = false;   // with api_key: reads only
  TenantLimits limits;
};

struct Config {
  std::string config_file;
  std::string data;  // the database folder (required)
  std::string host = "127.0.0.1";
  uint16_t port = 6333;
  bool allow_insecure = false;  // listen beyond loopback without an API key
  std::string api_key;
  std::string read_only_api_key;
  bool jwt_rbac = false;  // accept JWTs signed with api_key
  std::string tls_cert;   // PEM files; both set: HTTPS only
  std::string tls_key;
  std::vector<std::string> cors_origins;  // "*" allows any origin
  size_t threads = 0;          // threads serving connections and running requests; 0: one per hardware thread
  size_t offload_workers = 0;  // > 0: requests run on a separate pool of this many threads instead
  size_t max_connections = 1024;
  double max_body_mb = 32;      // a request body (413 beyond)
  double max_upload_mb = 4096;  // a snapshot upload
  size_t max_json_depth = 64;   // nesting of a JSON body (the request layer allows at most 96)
  size_t max_header_kb = 16;
  uint64_t header_timeout_ms = 10000;  // from a request's first byte to the end of its headers
  uint64_t body_timeout_ms = 60000;    // to read the body
  uint64_t idle_timeout_ms = 60000;    // a keep-alive connection with no request
  uint64_t shutdown_delay_ms = 0;      // on SIGTERM: /readyz answers 503 this long before the listener closes
  uint64_t drain_timeout_ms = 30000;   // then in-flight requests get this long to finish
  bool log_requests = true;            // one JSON line per request on standard output
  std::string durability = "sync";     // "sync" (a write is durable when answered), "batched", "none"
  uint64_t sync_retention_days = 30;   // sync: tombstone retention and the stale-write horizon
  uint64_t sync_gc_interval_s = 3600;  // sync: how often tombstones past the retention are purged
  TenantLimits jwt_default_limits;     // for JWT subjects no tenant names
  std::vector<TenantConfig> tenants;

  bool tls() const { return !tls_cert.empty() || !tls_key.empty(); }
};

// Reads flags (argv), the environment and the config file. InvalidArgument names the bad setting and its
// source. `help` is set (and nothing else checked) for --help.
Result<Config> LoadConfig(int argc, char** argv, bool* help);
// The flags, environment variables and file keys, for --help.
std::string ConfigUsage();

}  // namespace quiver::server

#endif  // QUIVER_SERVER_CONFIG_H_
