// Payload JSON helpers: parsing JSON text with positioned errors, canonical text for digests, and the
// key-path edits the API offers (delete a key path, with_payload include/exclude selectors), with Qdrant's
// semantics.
//
// Key paths use JsonPath's syntax (json_path.h). Boost.JSON is used only through its non-throwing API.
//
// Thread safety: pure functions.
#ifndef QUIVER_PAYLOAD_JSON_UTIL_H_
#define QUIVER_PAYLOAD_JSON_UTIL_H_

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "payload/json_parse.h"
#include "quiver/status.h"

namespace quiver::payload {

// Payload JSON nested deeper than this is rejected by ParsePayloadText.
inline constexpr size_t kMaxPayloadDepth = 64;

// "null", "a boolean", "a number", "a string", "an array" or "an object", for messages.
std::string JsonKindName(const boost::json::value& v);

// Parses one JSON value (strict JSON: valid UTF-8, no comments or trailing commas, nothing after the value).
// InvalidArgument "<what>: malformed JSON (<boost message>) at offset N" otherwise.
Result<boost::json::value> ParseJsonText(std::string_view text, std::string_view what, size_t max_depth,
                                         KeptNumbers* kept = nullptr);

// Deterministic JSON text (object keys sorted by bytes, no whitespace, numbers as Boost.JSON prints them) for
// digests. Values from ParsePayloadText are at most kMaxPayloadDepth deep; the recursion depth follows the
// value.
std::string CanonicalJson(const boost::json::value& v);

// JSON text for users: members in stored order, no whitespace, doubles in their shortest round-trip form with
// whole numbers keeping ".0" (1.5 and 2.0, where Boost.JSON prints 1.5E0 and 2E0); integers and strings as
// Boost.JSON prints them.
std::string ReadableJson(const boost::json::value& v);

// Parses a payload: must be a JSON object. InvalidArgument "payload: expected a JSON object, got <kind>", or
// malformed JSON, or nesting deeper than kMaxPayloadDepth, or a number that does not fit a double ("1e400").
Result<boost::json::object> ParsePayloadText(std::string_view text, std::string_view what = "payload");
// True when `v` holds a number that is not a finite double ("1e400" reads as infinity), which no payload may
// hold: the readers of stored payloads report it as corruption (it would print as JSON no reader accepts).
bool HasNonFinite(const boost::json::value& v);
// The checks ParsePayloadText makes, for a payload taken from an already parsed request body: at most
// kMaxPayloadDepth deep, every number a finite double. InvalidArgument names the place under `what`.
Status ValidatePayload(const boost::json::object& payload, std::string_view what);

// OK when `path` is a valid key path, else InvalidArgument naming it.
Status ValidateKeyPath(std::string_view path);

// Removes the value at a key path ("a", "a.b", "a[].b") from the payload; returns whether anything was
// removed. InvalidArgument for a malformed path. As in Qdrant, a path ending in `[n]` removes nothing (array
// positions shift, so such a delete would not be idempotent) and a path ending in `[]` empties the array.
Result<bool> DeletePath(boost::json::object* payload, std::string_view path);

// with_payload selectors: keep only the listed key paths (include) or drop them (exclude), as Qdrant's
// PayloadSelector. Include keeps a value when its path and a listed path agree on their common prefix (so
// containers along a listed path stay, possibly emptied); exclude drops a value when a listed path is a
// prefix of its path. `[]` in a listed path matches every element and `[n]` element n. Malformed paths select
// nothing (validate them first with ValidateKeyPath).
boost::json::object IncludePaths(const boost::json::object& payload, const std::vector<std::string>& paths);
boost::json::object ExcludePaths(const boost::json::object& payload, const std::vector<std::string>& paths);

}  // namespace quiver::payload

#endif  // QUIVER_PAYLOAD_JSON_UTIL_H_
