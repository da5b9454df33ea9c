// Reading request and configuration bodies: the one set of JSON helpers every parser of a Qdrant body uses
// (the request layer, collection configs, manifests). Each error is InvalidArgument "<path>: <what is wrong>",
// where the path names the part of the body ("search.params.hnsw_ef", "upsert.points[3].id").
//
// Thread safety: pure functions.
#ifndef QUIVER_PAYLOAD_JSON_READ_H_
#define QUIVER_PAYLOAD_JSON_READ_H_

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "payload/json_parse.h"
#include "quiver/point_id.h"
#include "quiver/status.h"

namespace quiver::payload {

// Request bodies nested deeper than this are refused (payloads inside them are held to kMaxPayloadDepth).
inline constexpr size_t kMaxBodyDepth = 96;

Status BadField(std::string_view path, std::string_view why);
inline std::string Member(std::string_view path, std::string_view key) {
  return std::string(path) + "." + std::string(key);
}
inline std::string Element(std::string_view path, size_t i) {
  return std::string(path) + "[" + std::to_string(i) + "]";
}

// Parses a body: strict JSON, at most kMaxBodyDepth deep, an object (empty text reads as {}). With `kept`, the
// member it names may be left as a placeholder for ReadVector (json_parse.h).
Result<boost::json::value> ParseBody(std::string_view text, std::string_view path, KeptNumbers* kept = nullptr);
// Refuses a member not in `allowed`, naming it.
Status CheckKeys(const boost::json::object& o, std::initializer_list<std::string_view> allowed,
                 std::string_view path);
// The member's value, or null when it is missing or JSON null.
const boost::json::value* Find(const boost::json::object& o, std::string_view key);
const boost::json::object* AsObject(const boost::json::value& v);

Result<const boost::json::object*> ReadObject(const boost::json::value& v, std::string_view path);
Result<const boost::json::array*> ReadArray(const boost::json::value& v, std::string_view path);
Result<bool> ReadBool(const boost::json::value& v, std::string_view path);
// An integer in [min, max] (a double with an integral value is accepted, as JSON has one number type).
Result<uint64_t> ReadUint(const boost::json::value& v, std::string_view path, uint64_t min, uint64_t max);
// A finite number.
Result<double> ReadNumber(const boost::json::value& v, std::string_view path);
Result<std::string> ReadString(const boost::json::value& v, std::string_view path);
Result<std::vector<std::string>> ReadStrings(const boost::json::value& v, std::string_view path);

// A point id: an unsigned integer, or a string holding a UUID (any form PointId::Parse accepts).
Result<PointId> ReadPointId(const boost::json::value& v, std::string_view path);
Result<std::vector<PointId>> ReadPointIds(const boost::json::value& v, std::string_view path);
// A dense vector: an array of numbers that fit finite floats, or a placeholder of `kept`.
Result<std::vector<float>> ReadVector(const boost::json::value& v, std::string_view path,
                                      const KeptNumbers* kept = nullptr);

}  // namespace quiver::payload

#endif  // QUIVER_PAYLOAD_JSON_READ_H_
