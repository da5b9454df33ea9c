// Reading a write-ahead log file back during recovery.
//
// Records are checked one by one: length within the file, crc32c over type and payload, known type. In the
// newest log file, the first damaged record marks a torn tail: reading stops cleanly there and reports the
// offset, so the owner can cut the file and carry on (the writes there were never acknowledged as durable
// unless synced, and a synced record is never damaged by a crash). In an older, completed file any damage is
// Corruption naming the file and offset: its records were synced before the next file began. A record that
// fails its checksum is never returned.
#ifndef QUIVER_STORAGE_WAL_READER_H_
#define QUIVER_STORAGE_WAL_READER_H_

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>

#include "quiver/status.h"
#include "storage/wal_format.h"

namespace quiver::storage {

struct WalTail {
  uint64_t valid_bytes = 0;  // the file's good prefix
  bool torn = false;         // damage or a partial record followed the good prefix
  std::string reason;        // why reading stopped early, when torn
};

// Calls on_record(payload, offset) for every good record of `bytes` (a log file named `name`), in order. An
// error from on_record stops reading and is returned.
Status ReadWalFile(std::span<const uint8_t> bytes, std::string_view name, uint64_t expected_file_number,
                   bool newest, const std::function<Status(std::string_view, uint64_t)>& on_record,
                   WalTail* tail);
// The same for logs that may hold change-feed records too: on_record(type, payload, offset) for every good
// record of a known type (WalRecordType).
Status ReadWalRecords(std::span<const uint8_t> bytes, std::string_view name, uint64_t expected_file_number,
                      bool newest,
                      const std::function<Status(WalRecordType, std::string_view, uint64_t)>& on_record,
                      WalTail* tail);

}  // namespace quiver::storage

#endif  // QUIVER_STORAGE_WAL_READER_H_
