// The change feed's log record (docs/formats.md, "Sync record"): a FeedWrite (collection_core.h) as one record
// of type 2 in a collection's write-ahead log, so the sync metadata commits with the ops it describes. Decoding
// checks every length and value and reports Corruption with the offset.
//
// Thread safety: pure functions.
#ifndef QUIVER_DB_FEED_RECORD_H_
#define QUIVER_DB_FEED_RECORD_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "db/collection_core.h"

namespace quiver::db {

inline constexpr uint8_t kFeedRecordVersion = 1;

void EncodeFeedRecord(uint64_t sequence, const FeedWrite& write, std::string* out);
// Upsert ops come back with stored_form set. `what` labels errors; `base_offset` is where `bytes` starts.
Result<std::pair<uint64_t, FeedWrite>> DecodeFeedRecord(std::string_view bytes, std::string_view what,
                                                        uint64_t base_offset = 0);

}  // namespace quiver::db

#endif  // QUIVER_DB_FEED_RECORD_H_
