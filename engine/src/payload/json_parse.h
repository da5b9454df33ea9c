// The engine's one JSON parser: Boost.JSON's basic_parser with a handler of Quiver's own. Every place that reads
// JSON holding user numbers uses it: request bodies, payloads in the log, segment files, snapshots and the change
// feed, the CLI's imports.
//
// It builds the value tree boost::json::parse builds with the same options, except for numbers:
// - A number with a fraction or an exponent becomes the double nearest to its text (std::from_chars). Boost.JSON
//   1.81 multiplies the decimal mantissa by a tabulated power of ten, which can land on a neighbour of the
//   nearest double, so a payload double could change on its way through the log and back. Integers are read as
//   Boost.JSON reads them: int64, else uint64, else the nearest double.
// - Arrays of at least kMinNumberRun plain numbers (vectors) are read ahead of Boost.JSON's parser, which sees
//   a placeholder in their place; the values are the ones the parser's path gives (the same rules), at a
//   fraction of the cost. A search body is mostly one such array.
//
// Thread safety: pure functions.
#ifndef QUIVER_PAYLOAD_JSON_PARSE_H_
#define QUIVER_PAYLOAD_JSON_PARSE_H_

#include <boost/json/error.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <string_view>
#include <utility>
#include <vector>

namespace quiver::payload {

// Boost.JSON's default nesting limit, which boost::json::parse applies.
inline constexpr size_t kDefaultJsonDepth = 32;
// Arrays of plain numbers shorter than this are left to the parser (the read-ahead would not pay for itself).
inline constexpr size_t kMinNumberRun = 16;

// A number array kept out of the value tree, for the one reader that takes it as numbers (a search body's
// vector): when the root object's member `member` is an array of at least kMinNumberRun plain numbers,
// ParseJson leaves a placeholder in its place (a string starting with U+0000, which no text read with a
// placeholder can spell) and its numbers here, as ReadVector would see them (integers as doubles).
struct KeptNumbers {
  std::string_view member;
  std::vector<std::pair<size_t, std::vector<double>>> arrays;  // by placeholder number

  // The numbers `v` stands for, or null when it is not a placeholder of this parse.
  const std::vector<double>* Find(const boost::json::value& v) const;
};

// Strict JSON (valid UTF-8, no comments or trailing commas, nothing after the value, at most `max_depth` levels
// of arrays and objects). On failure returns null with `ec` set (Boost.JSON's error codes) and, when
// `error_offset` is given, the byte offset where the text stopped making sense. With `kept`, see KeptNumbers.
boost::json::value ParseJson(std::string_view text, boost::system::error_code& ec,
                             size_t max_depth = kDefaultJsonDepth, size_t* error_offset = nullptr,
                             KeptNumbers* kept = nullptr);

}  // namespace quiver::payload

#endif  // QUIVER_PAYLOAD_JSON_PARSE_H_
