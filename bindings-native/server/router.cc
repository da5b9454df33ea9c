#include "router.h"

#include <array>
#include <charconv>
#include <vector>

namespace quiver::server {
namespace {

using api::Operation;
using K = RouteKind;
using N = Need;

constexpr Operation kNoOp = Operation::kListCollections;

const Route kRoutes[] = {
    {"GET", "/", K::kRoot, kNoOp, "root", N::kNothing},
    {"GET", "/healthz", K::kHealthz, kNoOp, "healthz", N::kNothing},
    {"GET", "/livez", K::kLivez, kNoOp, "livez", N::kNothing},
    {"GET", "/readyz", K::kReadyz, kNoOp, "readyz", N::kNothing},
    {"GET", "/metrics", K::kMetrics, kNoOp, "metrics", N::kList},
    {"GET", "/collections", K::kApi, Operation::kListCollections, "get_collections", N::kList},
    {"POST", "/collections/aliases", K::kApi, Operation::kUpdateAliases, "update_aliases", N::kManage},
    {"GET", "/aliases", K::kApi, Operation::kListAliases, "get_collections_aliases", N::kList},
    {"GET", "/collections/{name}", K::kApi, Operation::kGetCollection, "get_collection", N::kRead},
    {"PUT", "/collections/{name}", K::kApi, Operation::kCreateCollection, "create_collection", N::kCreate},
    {"PATCH", "/collections/{name}", K::kApi, Operation::kUpdateCollection, "update_collection",
     N::kManageCollection},
    {"DELETE", "/collections/{name}", K::kApi, Operation::kDeleteCollection, "delete_collection",
     N::kManageCollection},
    {"GET", "/collections/{name}/exists", K::kApi, Operation::kCollectionExists, "collection_exists",
     N::kRead},
    {"GET", "/collections/{name}/aliases", K::kApi, Operation::kListCollectionAliases,
     "get_collection_aliases", N::kRead},
    {"PUT", "/collections/{name}/index", K::kApi, Operation::kCreateFieldIndex, "create_field_index",
     N::kWrite},
    {"DELETE", "/collections/{name}/index/{field_name}", K::kApi, Operation::kDeleteFieldIndex,
     "delete_field_index", N::kWrite},
    {"PUT", "/collections/{name}/points", K::kApi, Operation::kUpsertPoints, "upsert_points", N::kWrite},
    {"POST", "/collections/{name}/points", K::kApi, Operation::kGetPoints, "get_points", N::kRead},
    {"GET", "/collections/{name}/points/{id}", K::kApi, Operation::kGetPoint, "get_point", N::kRead},
    {"POST", "/collections/{name}/points/delete", K::kApi, Operation::kDeletePoints, "delete_points",
     N::kWrite},
    {"POST", "/collections/{name}/points/payload", K::kApi, Operation::kSetPayload, "set_payload", N::kWrite},
    {"PUT", "/collections/{name}/points/payload", K::kApi, Operation::kOverwritePayload, "overwrite_payload",
     N::kWrite},
    {"POST", "/collections/{name}/points/payload/delete", K::kApi, Operation::kDeletePayload,
     "delete_payload", N::kWrite},
    {"POST", "/collections/{name}/points/payload/clear", K::kApi, Operation::kClearPayload, "clear_payload",
     N::kWrite},
    {"POST", "/collections/{name}/points/batch", K::kApi, Operation::kBatchUpdate, "batch_update", N::kWrite},
    {"POST", "/collections/{name}/points/scroll", K::kApi, Operation::kScrollPoints, "scroll_points",
     N::kRead},
    {"POST", "/collections/{name}/points/count", K::kApi, Operation::kCountPoints, "count_points", N::kRead},
    {"POST", "/collections/{name}/points/search", K::kApi, Operation::kSearchPoints, "search_points",
     N::kRead},
    {"POST", "/collections/{name}/points/search/batch", K::kApi, Operation::kSearchBatch,
     "search_batch_points", N::kRead},
    {"POST", "/collections/{name}/points/recommend", K::kApi, Operation::kRecommendPoints, "recommend_points",
     N::kRead},
    {"POST", "/collections/{name}/points/recommend/batch", K::kApi, Operation::kRecommendBatch,
     "recommend_batch_points", N::kRead},
    {"POST", "/collections/{name}/points/query", K::kApi, Operation::kQueryPoints, "query_points", N::kRead},
    {"POST", "/collections/{name}/points/query/batch", K::kApi, Operation::kQueryBatch, "query_batch_points",
     N::kRead},
    {"POST", "/collections/{name}/points/query/groups", K::kApi, Operation::kQueryGroups,
     "query_points_groups", N::kRead},
    {"POST", "/collections/{name}/snapshots", K::kCreateSnapshot, kNoOp, "create_snapshot", N::kWrite},
    {"GET", "/collections/{name}/snapshots", K::kListSnapshots, kNoOp, "list_snapshots", N::kRead},
    {"POST", "/collections/{name}/snapshots/upload", K::kUploadSnapshot, kNoOp,
     "recover_from_uploaded_snapshot", N::kCreate},
    {"PUT", "/collections/{name}/snapshots/recover", K::kRecoverSnapshot, kNoOp, "recover_from_snapshot",
     N::kCreate},
    {"GET", "/collections/{name}/snapshots/{snapshot_name}", K::kGetSnapshot, kNoOp, "get_snapshot",
     N::kRead},
    {"DELETE", "/collections/{name}/snapshots/{snapshot_name}", K::kDeleteSnapshot, kNoOp, "delete_snapshot",
     N::kWrite},
    // The sync protocol (docs/sync.md). Any authenticated caller; the collection's access is checked by the
    // sync endpoint once it knows which collection a uid names. by-name comes first: a collection may be
    // named "push".
    {"POST", "/sync/v1/replicas", K::kSync, kNoOp, "sync_register_replica", N::kList},
    {"PUT", "/sync/v1/collections/by-name/{sync_name}", K::kSync, kNoOp, "sync_identify_collection",
     N::kList},
    {"POST", "/sync/v1/collections/{uid}/push", K::kSync, kNoOp, "sync_push", N::kList},
    {"GET", "/sync/v1/collections/{uid}/pull", K::kSync, kNoOp, "sync_pull", N::kList},
    {"GET", "/sync/v1/collections/{uid}/snapshot", K::kSync, kNoOp, "sync_snapshot", N::kList},
    {"GET", "/sync/v1/collections/{uid}/digest", K::kSync, kNoOp, "sync_digest", N::kList},
    {"DELETE", "/sync/v1/collections/{uid}", K::kSync, kNoOp, "sync_delete_collection", N::kList},
    {"GET", "/sync/v1/blobs/{sha256}", K::kSync, kNoOp, "sync_blob", N::kList},
};

std::vector<std::string_view> Split(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 1;
  if (path == "/") return parts;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

// Each route's pattern split once, in kRoutes' order, so matching a request splits only its own path.
const std::vector<std::vector<std::string_view>>& SplitPatterns() {
  static const std::vector<std::vector<std::string_view>> patterns = [] {
    std::vector<std::vector<std::string_view>> out;
    for (const Route& route : kRoutes) out.push_back(Split(route.pattern));
    return out;
  }();
  return patterns;
}

// Fills `match` when `want` (the route's split pattern) fits `parts`.
bool Fits(const std::vector<std::string_view>& want, const std::vector<std::string_view>& parts,
          RouteMatch* match, Status* bad) {
  if (want.size() != parts.size()) return false;
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i].front() != '{') {
      if (want[i] != parts[i]) return false;
    }
  }
  for (size_t i = 0; i < want.size(); ++i) {
    if (want[i].front() != '{') continue;
    auto decoded = PercentDecode(parts[i], false);
    if (!decoded.ok()) {
      *bad = decoded.status();
      return true;
    }
    if (decoded->empty()) return false;
    if (want[i] == "{name}") match->collection = *decoded;
    if (want[i] == "{id}") match->point = *decoded;
    if (want[i] == "{field_name}") match->field = *decoded;
    if (want[i] == "{snapshot_name}") match->snapshot = *decoded;
  }
  return true;
}

int Hex(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

Result<std::string> PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%') {
      const int hi = i + 2 < text.size() ? Hex(text[i + 1]) : -1;
      const int lo = i + 2 < text.size() ? Hex(text[i + 2]) : -1;
      if (hi < 0 || lo < 0)
        return Status::InvalidArgument("malformed percent escape in '" + std::string(text) + "'");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (plus_is_space && text[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

Result<RouteMatch> MatchRoute(std::string_view method, std::string_view path) {
  if (path.empty() || path.front() != '/') return Status::NotFound("Unknown path " + std::string(path));
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  const std::vector<std::string_view> parts = Split(path);
  const auto& patterns = SplitPatterns();
  bool other_method = false;
  for (size_t i = 0; i < std::size(kRoutes); ++i) {
    const Route& route = kRoutes[i];
    RouteMatch match;
    Status bad;
    if (!Fits(patterns[i], parts, &match, &bad)) continue;
    if (!bad.ok()) return bad;
    if (method != route.method) {
      other_method = true;
      continue;
    }
    match.route = &route;
    return match;
  }
  if (other_method) {
    return Status::FailedPrecondition("Method " + std::string(method) + " is not allowed on " +
                                      std::string(path));
  }
  return Status::NotFound("Unknown path " + std::string(path));
}

Result<Query> ParseQuery(std::string_view query) {
  Query q;
  size_t start = 0;
  while (start < query.size()) {
    size_t end = query.find('&', start);
    if (end == std::string_view::npos) end = query.size();
    std::string_view pair = query.substr(start, end - start);
    start = end + 1;
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    QUIVER_ASSIGN_OR_RETURN(std::string key, PercentDecode(pair.substr(0, eq), true));
    std::string value;
    if (eq != std::string_view::npos) {
      QUIVER_ASSIGN_OR_RETURN(value, PercentDecode(pair.substr(eq + 1), true));
    }
    q.values[key] = value;
  }
  auto bad = [](std::string_view key, const std::string& value, std::string_view expected) {
    return Status::InvalidArgument("Query deserialize error: " + std::string(key) + "='" + value +
                                   "' is not " + std::string(expected));
  };
  if (const std::string* v = q.Find("wait"); v && *v != "true" && *v != "false")
    return bad("wait", *v, "true or false");
  if (const std::string* v = q.Find("ordering"); v && *v != "weak" && *v != "medium" && *v != "strong") {
    return bad("ordering", *v, "weak, medium or strong");
  }
  auto positive = [](const std::string& v) {
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    return ec == std::errc() && end == v.data() + v.size() && n >= 1;
  };
  if (const std::string* v = q.Find("timeout"); v && !positive(*v))
    return bad("timeout", *v, "a positive integer");
  if (const std::string* v = q.Find("consistency");
      v && !positive(*v) && *v != "majority" && *v != "quorum" && *v != "all") {
    return bad("consistency", *v, "a positive integer, majority, quorum or all");
  }
  if (const std::string* v = q.Find("priority");
      v && *v != "no_sync" && *v != "snapshot" && *v != "replica") {
    return bad("priority", *v, "no_sync, snapshot or replica");
  }
  return q;
}

}  // namespace quiver::server
