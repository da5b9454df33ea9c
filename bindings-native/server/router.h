// The route table: an HTTP method and path mapped to what serves it (an operation of the request layer, a
// snapshot operation or a service endpoint), the path's parameters, the endpoint's template (for metrics) and
// the access it needs. Also the query parameters Qdrant defines (wait, ordering, timeout, consistency, ...),
// checked here so a bad value is a clear 400.
//
// Thread safety: the table is immutable; functions are reentrant.
#ifndef QUIVER_SERVER_ROUTER_H_
#define QUIVER_SERVER_ROUTER_H_

#include <map>
#include <string>
#include <string_view>

#include "quiver/api.h"
#include "quiver/status.h"

namespace quiver::server {

enum class RouteKind : uint8_t {
  kApi,  // Route::operation through api::Call
  kRoot,
  kHealthz,
  kLivez,
  kReadyz,
  kMetrics,
  kCreateSnapshot,
  kListSnapshots,
  kGetSnapshot,
  kDeleteSnapshot,
  kUploadSnapshot,
  kRecoverSnapshot,
  kSync,  // the sync protocol under /sync (sync_endpoint.h): access is checked per collection there
};

// The access a route needs (checked against the caller's Principal).
enum class Need : uint8_t {
  kNothing,           // public: /, /healthz, /livez, /readyz
  kList,              // lists: answered with what the caller may read
  kRead,              // read the named collection
  kWrite,             // change the named collection's points, indexes or snapshots
  kManageCollection,  // update or delete the named collection
  kCreate,            // create the named collection (or replace it from a snapshot)
  kManage,            // global manage access (aliases)
};

struct Route {
  const char* method;
  const char* pattern;  // "/collections/{name}/points/search": also the metrics endpoint label
  RouteKind kind;
  api::Operation operation;  // for kApi
  const char* name;          // Qdrant's operationId ("search_points", "create_snapshot")
  Need need;
};

struct RouteMatch {
  const Route* route = nullptr;
  std::string collection;
  std::string point;
  std::string field;
  std::string snapshot;
};

// NotFound for an unknown path; FailedPrecondition (answered 405) for a known path with another method.
Result<RouteMatch> MatchRoute(std::string_view method, std::string_view path);

// Query parameters, percent-decoded. Qdrant's (wait, ordering, timeout, consistency, priority, checksum) are
// checked; others are ignored, as Qdrant does.
struct Query {
  std::map<std::string, std::string, std::less<>> values;
  const std::string* Find(std::string_view key) const {
    auto it = values.find(key);
    return it == values.end() ? nullptr : &it->second;
  }
};
Result<Query> ParseQuery(std::string_view query);

// %XX and (in queries) '+' decoding; InvalidArgument for a malformed escape.
Result<std::string> PercentDecode(std::string_view text, bool plus_is_space);

}  // namespace quiver::server

#endif  // QUIVER_SERVER_ROUTER_H_
