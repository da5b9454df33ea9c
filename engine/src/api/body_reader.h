// The parts that many Qdrant bodies share (point selectors, with_payload / with_vector, search params, filters,
// points with vectors and payloads), read from a parsed body. Errors name the part by path.
//
// Thread safety: pure functions.
#ifndef QUIVER_API_BODY_READER_H_
#define QUIVER_API_BODY_READER_H_

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "api/request.h"
#include "api/vector_reader.h"
#include "payload/json_read.h"

namespace quiver::api {

// "filter": {...} (missing or null: none).
Result<std::optional<payload::Filter>> ReadFilter(const boost::json::object& o, std::string_view path);
// {"points": [ids]} or {"filter": {...}} members of `o`.
Result<Selector> ReadSelector(const boost::json::object& o, std::string_view path);
Result<PayloadSelector> ReadWithPayload(const boost::json::object& o, PayloadSelector fallback,
                                        std::string_view path);
Result<VectorSelector> ReadWithVector(const boost::json::object& o, std::string_view path);
// "params": {"hnsw_ef", "exact", "quantization", "indexed_only"}.
Status ReadSearchParams(const boost::json::object& o, std::optional<size_t>* ef, bool* exact,
                        QuantizationSearchParams* quantization, std::string_view path);
Result<std::optional<float>> ReadScoreThreshold(const boost::json::object& o, std::string_view path);
// "limit" (required or defaulted; 1..kMaxLimit) and "offset" (0..kMaxLimit).
inline constexpr uint64_t kMaxLimit = 1'000'000;
Result<size_t> ReadLimit(const boost::json::object& o, std::optional<size_t> fallback, std::string_view path);
Result<size_t> ReadOffset(const boost::json::object& o, std::string_view path);
// A point's vectors: [numbers] for the unnamed vector, or {"name": vector, ...} where each vector is [numbers],
// a sparse vector {"indices", "values"} or a document {"text", "model": "qdrant/bm25", "options"} (embedded as a
// BM25 document by `reader`); each list sorted by name.
Status ReadPointVectors(const boost::json::value& v, std::string_view path, VectorReader* reader,
                        std::vector<std::pair<std::string, std::vector<float>>>* dense,
                        std::vector<std::pair<std::string, SparseVector>>* sparse);
// A payload object (null: empty), moved out of the parsed body.
Result<boost::json::object> TakePayload(boost::json::value& v, std::string_view path);
// {"points": [...]} or {"batch": {...}} of an upsert, with the points moved out of `o`.
Status ReadUpsertPoints(boost::json::object& o, std::string_view path, std::vector<PointWrite>* out);

}  // namespace quiver::api

#endif  // QUIVER_API_BODY_READER_H_
