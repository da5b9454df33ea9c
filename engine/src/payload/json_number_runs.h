// A faster parse of JSON text that holds long arrays of plain numbers (query, batch and upsert vectors): a
// pre-pass reads each such array itself and Boost.JSON parses the rest, with the arrays' contents blanked to
// spaces. The result is the value, error code and error offset Boost.JSON's stream_parser gives for the same
// text and options: every number the pre-pass reads is converted the way Boost.JSON 1.81's parser converts it
// (its mantissa and exponent rules and detail::dec_to_float, so the same double bits and the same int64 for an
// integer), and anything the pre-pass does not recognise (a leading '+', "01", ".5", more than 15 integer
// digits, an exponent of more than 4 digits, a string or an object among the numbers) leaves that array to
// Boost.JSON. Blanking keeps every offset and every remaining length the same, so Boost.JSON takes the same
// paths and reports errors at the same offsets. tests/engine/payload/json_number_runs_test.cc compares the two.
//
// Thread safety: pure functions.
#ifndef QUIVER_PAYLOAD_JSON_NUMBER_RUNS_H_
#define QUIVER_PAYLOAD_JSON_NUMBER_RUNS_H_

#include <boost/json/error.hpp>
#include <boost/json/parse_options.hpp>
#include <boost/json/value.hpp>
#include <cstddef>
#include <string_view>

namespace quiver::payload {

// Arrays with fewer numbers than this are left to Boost.JSON.
inline constexpr size_t kMinNumberRun = 8;

// What a parse gave: on success `ec` is clear, `done` true and `value` holds the result; otherwise `offset` is
// where stream_parser::write stopped (the text's size when finish failed), `ec` the error (or none and `done`
// false for an incomplete text).
struct JsonParseOutcome {
  boost::json::value value;
  boost::json::error_code ec;
  size_t offset = 0;
  bool done = false;
};

// Parses one JSON value as boost::json::stream_parser with `options` does (write of the whole text, then
// finish); `number_runs` false parses with stream_parser itself (the reference the tests compare with).
JsonParseOutcome ParseJsonValue(std::string_view text, const boost::json::parse_options& options,
                                bool number_runs = true);

}  // namespace quiver::payload

#endif  // QUIVER_PAYLOAD_JSON_NUMBER_RUNS_H_
