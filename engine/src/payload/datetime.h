// Datetime values in payloads and in datetime ranges: the text forms Qdrant accepts, as instants in
// microseconds since the Unix epoch (UTC).
//
// Qdrant reads a datetime with the Rust chrono crate, trying in turn: strict RFC 3339; chrono's relaxed
// RFC 3339 (`DateTime::from_str`); "%Y-%m-%dT%H:%M:%S%.f%#z" and the same with a space for `T`; and, read as
// UTC, "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M" and "%Y-%m-%d".
// This parser follows the same steps with chrono's scanning rules, so it accepts exactly the same text. In
// short:
// - Month, day, hour, minute and second have 1 or 2 digits, and white space may precede each of them. A year
//   has 1 to 4 digits, or a sign and any number of digits (years -262143..262142).
// - Between date and time: `T`, `t` or white space. A zone needs seconds: `Z`/`z`, `UTC` (any case), or
//   `+`/`-` with two hour digits and two minute digits (first 0-5) apart by nothing, `:` or white space
//   (`+01` alone too); white space may precede it. Offsets stay within +-23:59. A fraction `.d...` may follow
//   the seconds: digits past the sixth are truncated (microsecond precision). No zone means UTC.
// - A few combinations are refused as chrono refuses them: `t` without a zone, or with a zone but minutes
//   left off (`2023-02-08t10:49:00+01`); a zone after `HH:MM` without seconds.
// - Seconds may be 60: a leap second counts as the first second of the next minute.
//
// Thread safety: pure functions.
#ifndef QUIVER_PAYLOAD_DATETIME_H_
#define QUIVER_PAYLOAD_DATETIME_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace quiver::payload {

// The instant `text` names, or nullopt when it is not one of the accepted forms. No allocation.
std::optional<int64_t> ParseDatetime(std::string_view text);

// RFC 3339 text in UTC with microseconds ("2023-02-08T10:49:00.000000Z"), for messages and tests.
std::string FormatDatetime(int64_t micros);

}  // namespace quiver::payload

#endif  // QUIVER_PAYLOAD_DATETIME_H_
