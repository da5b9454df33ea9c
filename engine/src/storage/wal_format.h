// The write-ahead log's byte layout (docs/formats.md, "Write-ahead log"), shared by WalWriter and WalReader.
//
//   file header  magic "QUIVWAL1" (8) | file number u64 | crc32c of the 16 bytes before it u32   (20 bytes)
//   record       payload length u32 | crc32c of (type byte + payload) u32 | type u8 | payload
#ifndef QUIVER_STORAGE_WAL_FORMAT_H_
#define QUIVER_STORAGE_WAL_FORMAT_H_

#include <cstddef>
#include <cstdint>

namespace quiver::storage {

inline constexpr char kWalMagic[8] = {'Q', 'U', 'I', 'V', 'W', 'A', 'L', '1'};
inline constexpr size_t kWalFileHeaderSize = 20;
inline constexpr size_t kWalRecordHeaderSize = 9;
// A record's payload is at most this large; bigger batches are refused by the writer.
inline constexpr uint32_t kWalMaxRecord = 1u << 30;

// kBatch: an op batch (db/op_codec.h). kSync: a change-feed record, an op batch with the sync metadata committed
// with it (db/feed_record.h).
enum class WalRecordType : uint8_t { kBatch = 1, kSync = 2 };

}  // namespace quiver::storage

#endif  // QUIVER_STORAGE_WAL_FORMAT_H_
