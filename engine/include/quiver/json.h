// Qdrant's JSON request and response bodies, for the faces that speak JSON: the JS package, the C API's JSON
// functions, the CLI and the REST server. Parsing validates and names the bad part by path
// ("search.limit: expected a positive integer"); printing produces Qdrant's shapes.
//
// Point ids are integers or UUID strings. A vector is an array of numbers ("vector": [...]) or, for named vectors,
// an object of arrays ("vector": {"image": [...]}); a search names its vector with {"name": ..., "vector": [...]}.
//
// Thread safety: the functions are pure.
#ifndef QUIVER_JSON_H_
#define QUIVER_JSON_H_

#include <string>
#include <string_view>
#include <vector>

#include "quiver/status.h"
#include "quiver/types.h"

namespace quiver::json {

// {"vectors": {"size": 4, "distance": "Cosine"}, "hnsw_config": {...}} (or named vectors).
Result<CollectionConfig> ParseCollectionConfig(std::string_view body);
std::string CollectionConfigToJson(const CollectionConfig& config);

// {"points": [{"id": 1, "vector": [...], "payload": {...}}, ...]} or
// {"batch": {"ids": [...], "vectors": [[...], ...] | {"name": [[...], ...]}, "payloads": [{...}, ...]}}.
Result<std::vector<PointInput>> ParseUpsert(std::string_view body);

// {"vector": [...] | {"name": "...", "vector": [...]}, "filter": {...}, "limit": 10, "offset": 0,
//  "with_payload": bool | [keys] | {"include": [...]} | {"exclude": [...]}, "with_vector": bool | [names],
//  "score_threshold": 0.5, "params": {"hnsw_ef": 128, "exact": false}}
Result<SearchRequest> ParseSearch(std::string_view body);
// {"searches": [search, ...]}
Result<std::vector<SearchRequest>> ParseSearchBatch(std::string_view body);
// {"positive": [id | vector, ...], "negative": [...], "using": "name", "filter", "limit", "offset", "with_payload",
//  "with_vector", "score_threshold", "params", "strategy": "average_vector"}
Result<RecommendRequest> ParseRecommend(std::string_view body);
// {"filter", "limit", "offset": id, "with_payload", "with_vector"}
Result<ScrollRequest> ParseScroll(std::string_view body);
// {"filter": {...}, "exact": true}: the filter as JSON text ("" for none).
Result<std::string> ParseCount(std::string_view body);

struct GetRequest {
  std::vector<PointId> ids;
  PayloadSelector with_payload = PayloadSelector::All();
  VectorSelector with_vector;
};
// {"ids": [...], "with_payload", "with_vector"}
Result<GetRequest> ParseGet(std::string_view body);
// {"points": [ids]} or {"filter": {...}}
Result<PointsSelector> ParsePointsSelector(std::string_view body);

struct PayloadRequest {
  PointsSelector points;
  std::string payload;              // set / overwrite: JSON object text
  std::vector<std::string> keys;    // delete keys
};
// {"payload": {...}, "points": [...] | "filter": {...}}
Result<PayloadRequest> ParseSetPayload(std::string_view body);
// {"keys": [...], "points": [...] | "filter": {...}}
Result<PayloadRequest> ParseDeletePayloadKeys(std::string_view body);

struct PayloadIndexRequest {
  std::string field;
  std::string type;
};
// {"field_name": "city", "field_schema": "keyword" | {"type": "keyword", ...}}
Result<PayloadIndexRequest> ParseCreatePayloadIndex(std::string_view body);

std::string PointIdToJson(const PointId& id);
// [{"id": 1, "version": 0, "score": 0.9, "payload": {...}, "vector": [...]}, ...]
std::string ScoredPointsToJson(const std::vector<ScoredPoint>& points);
// [{"id": 1, "payload": {...}, "vector": [...]}, ...]
std::string RecordsToJson(const std::vector<Record>& records);
// {"points": [...], "next_page_offset": id | null}
std::string ScrollResultToJson(const ScrollResult& result);
// {"status": "green", "points_count": ..., "indexed_vectors_count": ..., "segments_count": ...,
//  "config": {"params": {"vectors": ...}, "hnsw_config": ...}, "payload_schema": {"city": {"data_type": ..., "points": ...}}}
std::string CollectionInfoToJson(const CollectionInfo& info);
std::string CollectionStatsToJson(const CollectionStats& stats);

}  // namespace quiver::json

#endif  // QUIVER_JSON_H_
