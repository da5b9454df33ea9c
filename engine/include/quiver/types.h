// The data model's value types: collection configuration, points, selectors, requests and results. Names and
// meanings follow Qdrant's API so users know them. Payloads and filters cross this API as JSON text (an object for
// a payload, Qdrant's filter language for a filter); vectors as float arrays.
//
// Thread safety: plain values.
#ifndef QUIVER_TYPES_H_
#define QUIVER_TYPES_H_

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "quiver/point_id.h"
#include "quiver/status.h"

namespace quiver {

enum class Distance : uint8_t { kCosine = 0, kEuclid = 1, kDot = 2, kManhattan = 3 };

// "Cosine", "Euclid", "Dot", "Manhattan" (Qdrant's spellings).
std::string_view DistanceName(Distance d);
Result<Distance> ParseDistance(std::string_view name);

struct HnswConfig {
  uint32_t m = 16;                       // links per node (level 0 keeps 2 * m), 2..128
  uint32_t ef_construct = 100;           // beam width while building, >= 4
  // Below this many kilobytes of vectors a search scans exactly instead of walking the graph; a filtered search
  // scans exactly when its estimated matches fall below it. Qdrant's meaning and default.
  uint32_t full_scan_threshold_kb = 10000;
};

enum class IndexKind : uint8_t { kHnsw = 0, kFlat = 1 };

// Scalar quantization of a vector space, Qdrant's "quantization_config": {"scalar": {"type": "int8", ...}}: the
// graph indexes keep int8 codes of their vectors beside the floats (a quarter of their memory), searches walk the
// codes and rescore what they find with the floats. Stored collections quantize each indexed segment when it is
// built or opened; in memory the graph is quantized once it holds 1,024 vectors and again each time it doubles,
// and by Collection::Optimize.
struct ScalarQuantization {
  double quantile = 1.0;    // the central fraction of values the codes cover, 0.5..1 (1: minimum to maximum)
  bool always_ram = true;   // accepted for Qdrant compatibility: codes always live in memory
};

// Per search (Qdrant's "params": {"quantization": {...}}): walk the floats instead (`ignore`), or walk the codes
// with a beam of at least limit * oversampling and re-measure what was found with the floats (`rescore`).
struct QuantizationSearchParams {
  bool ignore = false;
  bool rescore = true;
  double oversampling = 1.0;   // >= 1
};

struct VectorParams {
  uint32_t size = 0;                     // dimensions, 1..65536
  Distance distance = Distance::kCosine;
  IndexKind index = IndexKind::kHnsw;
  std::optional<HnswConfig> hnsw;        // overrides the collection's hnsw config for this vector
  std::optional<ScalarQuantization> quantization;   // overrides the collection's quantization for this vector
};

// The name of the unnamed (default) vector.
inline constexpr std::string_view kDefaultVector = "";

// A sparse vector, Qdrant's {"indices": [...], "values": [...]}: the value of each listed dimension, all others
// zero. Stored and returned with indices strictly increasing (writes sort them; duplicates are refused).
struct SparseVector {
  std::vector<uint32_t> indices;
  std::vector<float> values;   // one per index, finite
  bool operator==(const SparseVector&) const = default;
};

// Qdrant's "modifier" of a sparse vector: with kIdf a query's weight for an index is multiplied at search time
// by its inverse document frequency over the collection's live points:
// idf = ln((N - n + 0.5) / (n + 0.5) + 1), N the points with this sparse vector, n those with the index.
enum class SparseModifier : uint8_t { kNone = 0, kIdf = 1 };

// One named sparse vector (Qdrant's SparseVectorParams): searched by dot product over shared indices with an
// inverted index per segment.
struct SparseVectorParams {
  // Below this many points admitted by a filter's payload indexes, a filtered search scores those points'
  // vectors directly instead of walking the postings (Qdrant's "index.full_scan_threshold", in points).
  std::optional<uint32_t> full_scan_threshold;
  std::optional<bool> on_disk;   // accepted for Qdrant compatibility, kept and shown; vectors live in memory
  SparseModifier modifier = SparseModifier::kNone;
};

struct CollectionConfig {
  // Vector name -> parameters. A single unnamed vector uses the key kDefaultVector ("").
  std::map<std::string, VectorParams> vectors;
  HnswConfig hnsw;
  std::optional<ScalarQuantization> quantization;   // none: vectors are searched as floats only
  // Sparse vector name -> parameters (names are not empty and differ from the dense vectors' names).
  std::map<std::string, SparseVectorParams> sparse_vectors;
};

// Qdrant's update-collection body, the parts that change anything for one node: the graph and quantization
// settings of the collection or of one vector. Fields left empty keep their value. Graph settings apply to
// indexes built from then on (Optimize rebuilds them all); quantization applies at once.
struct HnswUpdate {
  std::optional<uint32_t> m;
  std::optional<uint32_t> ef_construct;
  std::optional<uint32_t> full_scan_threshold_kb;
};
struct QuantizationUpdate {
  std::optional<ScalarQuantization> scalar;   // empty: quantization turned off ("Disabled")
};
struct VectorUpdate {
  std::optional<HnswUpdate> hnsw;
  std::optional<QuantizationUpdate> quantization;
};
struct CollectionUpdate {
  std::map<std::string, VectorUpdate> vectors;   // by vector name ("" for the unnamed vector)
  std::optional<HnswUpdate> hnsw;
  std::optional<QuantizationUpdate> quantization;
};

// A point to write. Vectors by name ("" for the unnamed vector), sparse vectors by name (indices in any order,
// without duplicates); payload as JSON object text, empty for {}.
struct PointInput {
  PointId id;
  std::map<std::string, std::vector<float>> vectors;
  std::string payload;
  std::map<std::string, SparseVector> sparse_vectors;
};

// Which payload to return: none, all, only some key paths, or all but some.
struct PayloadSelector {
  enum class Mode : uint8_t { kNone, kAll, kInclude, kExclude };
  Mode mode = Mode::kNone;
  std::vector<std::string> keys;
  static PayloadSelector None() { return {}; }
  static PayloadSelector All() { return {Mode::kAll, {}}; }
  static PayloadSelector Include(std::vector<std::string> k) { return {Mode::kInclude, std::move(k)}; }
  static PayloadSelector Exclude(std::vector<std::string> k) { return {Mode::kExclude, std::move(k)}; }
};

// Which vectors to return: none, all, or the named ones.
struct VectorSelector {
  bool all = false;
  std::vector<std::string> names;
  static VectorSelector None() { return {}; }
  static VectorSelector All() { return {true, {}}; }
  static VectorSelector Only(std::vector<std::string> n) { return {false, std::move(n)}; }
};

// Points chosen by id, or by a filter (JSON). Exactly one of the two is used: ids when filter is empty.
struct PointsSelector {
  std::vector<PointId> ids;
  std::string filter;
  static PointsSelector Ids(std::vector<PointId> i) { return {std::move(i), {}}; }
  static PointsSelector Filter(std::string f) { return {{}, std::move(f)}; }
};

// A point as returned by get and scroll.
struct Record {
  PointId id;
  std::optional<std::string> payload;                          // JSON object text, when selected
  std::map<std::string, std::vector<float>> vectors;           // selected vectors (cosine ones normalised)
  std::map<std::string, SparseVector> sparse_vectors;          // selected sparse vectors
};

struct ScoredPoint {
  PointId id;
  // Cosine, Dot: similarity (higher is closer); Euclid, Manhattan: distance (lower is closer); sparse: the dot
  // product over shared indices (higher is closer).
  float score = 0;
  std::optional<std::string> payload;
  std::map<std::string, std::vector<float>> vectors;
  std::map<std::string, SparseVector> sparse_vectors;
};

struct SearchRequest {
  std::vector<float> vector;
  std::string vector_name;               // "" for the unnamed vector ("using" in Qdrant)
  std::string filter;                    // JSON; empty for none
  size_t limit = 10;
  size_t offset = 0;
  std::optional<float> score_threshold;
  PayloadSelector with_payload;
  VectorSelector with_vector;
  std::optional<size_t> hnsw_ef;         // beam width; default max(limit + offset, ef_construct)
  bool exact = false;                    // scan exactly (floats) instead of walking the graph
  QuantizationSearchParams quantization;
  // Set: a sparse search of the sparse vector `vector_name` (Qdrant's NamedSparseVector); `vector`, hnsw_ef,
  // exact and quantization are then unused.
  std::optional<SparseVector> sparse_vector;
};

struct RecommendRequest {
  std::vector<PointId> positive;
  std::vector<PointId> negative;
  std::vector<std::vector<float>> positive_vectors;
  std::vector<std::vector<float>> negative_vectors;
  std::string vector_name;
  std::string filter;
  size_t limit = 10;
  size_t offset = 0;
  std::optional<float> score_threshold;
  PayloadSelector with_payload;
  VectorSelector with_vector;
  std::optional<size_t> hnsw_ef;
  bool exact = false;
  QuantizationSearchParams quantization;
};

struct ScrollRequest {
  std::string filter;
  size_t limit = 10;
  std::optional<PointId> offset;         // the first id to return (inclusive)
  PayloadSelector with_payload = PayloadSelector::All();
  VectorSelector with_vector;
};

struct ScrollResult {
  std::vector<Record> points;
  std::optional<PointId> next_page_offset;   // pass as offset to continue; empty at the end
};

struct PayloadIndexInfo {
  std::string field;
  std::string type;          // "keyword", "integer", "float", "bool", "uuid", "datetime", "geo", "text"
  size_t points = 0;         // points with a value in the index
};

struct CollectionInfo {
  std::string name;
  CollectionConfig config;
  size_t points_count = 0;            // live points
  size_t indexed_vectors_count = 0;   // vectors in graph indexes
  size_t segments_count = 0;
  std::vector<PayloadIndexInfo> payload_schema;
};

struct CollectionStats {
  size_t points = 0;             // live points
  size_t tombstones = 0;         // deleted points kept for replication
  size_t segments = 0;           // sealed segments plus the write segment
  size_t indexed_vectors = 0;    // vectors in graph indexes
  size_t unindexed_vectors = 0;  // vectors searched by exact scan until the optimizer indexes them
  uint64_t disk_bytes = 0;       // the collection's files
  uint64_t memory_bytes = 0;     // approximate
  std::string simd;              // the distance kernels in use ("avx512f", "wasm-simd128", ...)
};

// One change to aliases; UpdateAliases applies a list atomically.
struct AliasAction {
  enum class Kind : uint8_t { kCreate, kDelete, kRename };
  Kind kind = Kind::kCreate;
  std::string alias;        // create, delete: the alias; rename: the old alias
  std::string collection;   // create: the target collection
  std::string new_alias;    // rename: the new name
};

}  // namespace quiver

#endif  // QUIVER_TYPES_H_
