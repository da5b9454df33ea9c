// Datetime values in payloads and in datetime ranges: the text forms Qdrant accepts, as instants in
// microseconds since the Unix epoch (UTC).
//
// Accepted: `YYYY-MM-DD`, optionally followed by `T`, `t` or a space and `HH:MM`, `HH:MM:SS` or
// `HH:MM:SS.fff...` (any number of fraction digits; digits past the sixth are truncated), optionally followed
// by a zone `Z`/`z`,
// `+HH:MM`, `+HHMM` or `+HH` (or `-`). A date alone is midnight; a time without a zone is UTC. Seconds may be
// 60 (a leap second counts as the first second of the next minute). Years 0000..9999.
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
