#include "storage/wal_reader.h"

#include <cstring>

#include "base/coding.h"
#include "base/crc32c.h"
#include "storage/wal_format.h"

namespace quiver::storage {

namespace {

Status ReadRecords(std::span<const uint8_t> bytes, std::string_view name, uint64_t expected_file_number,
                   bool newest, bool accept_sync,
                   const std::function<Status(WalRecordType, std::string_view, uint64_t)>& on_record,
                   WalTail* tail) {
  *tail = WalTail{};
  auto damage = [&](uint64_t offset, const std::string& why) -> Status {
    if (newest) {
      tail->valid_bytes = offset;
      tail->torn = true;
      tail->reason = why + " at offset " + std::to_string(offset);
      return Status::OK();
    }
    return Status::Corruption(std::string(name) + ": " + why + " at offset " + std::to_string(offset));
  };

  if (bytes.size() < kWalFileHeaderSize) return damage(0, "incomplete file header");
  const uint8_t* p = bytes.data();
  if (std::memcmp(p, kWalMagic, 8) != 0) return damage(0, "bad log magic");
  if (crc32c::Value(p, 16) != DecodeFixed32(p + 16)) return damage(0, "log header checksum mismatch");
  if (DecodeFixed64(p + 8) != expected_file_number) {
    // A header with a valid checksum but another number is not a torn write: the file is misplaced.
    return Status::Corruption(std::string(name) + ": header names log " +
                              std::to_string(DecodeFixed64(p + 8)) + " at offset 8");
  }
  uint64_t pos = kWalFileHeaderSize;
  tail->valid_bytes = pos;
  while (pos < bytes.size()) {
    if (bytes.size() - pos < kWalRecordHeaderSize) return damage(pos, "incomplete record header");
    const uint32_t length = DecodeFixed32(p + pos);
    const uint32_t crc = DecodeFixed32(p + pos + 4);
    const uint8_t type = p[pos + 8];
    if (length > kWalMaxRecord || length > bytes.size() - pos - kWalRecordHeaderSize) {
      return damage(pos, "record of " + std::to_string(length) + " bytes runs past the end of the file");
    }
    const uint8_t* payload = p + pos + kWalRecordHeaderSize;
    if (crc32c::Extend(crc32c::Value(&type, 1), payload, length) != crc)
      return damage(pos, "record checksum mismatch");
    if (type != static_cast<uint8_t>(WalRecordType::kBatch) &&
        !(accept_sync && type == static_cast<uint8_t>(WalRecordType::kSync))) {
      return damage(pos, "unknown record type " + std::to_string(type));
    }
    QUIVER_RETURN_IF_ERROR(on_record(static_cast<WalRecordType>(type),
                                     std::string_view(reinterpret_cast<const char*>(payload), length), pos));
    pos += kWalRecordHeaderSize + length;
    tail->valid_bytes = pos;
  }
  return Status::OK();
}

}  // namespace

Status ReadWalFile(std::span<const uint8_t> bytes, std::string_view name, uint64_t expected_file_number,
                   bool newest, const std::function<Status(std::string_view, uint64_t)>& on_record,
                   WalTail* tail) {
  return ReadRecords(bytes, name, expected_file_number, newest, /*accept_sync=*/false,
                     [&](WalRecordType, std::string_view payload, uint64_t offset) { return on_record(payload, offset); },
                     tail);
}

Status ReadWalRecords(std::span<const uint8_t> bytes, std::string_view name, uint64_t expected_file_number,
                      bool newest,
                      const std::function<Status(WalRecordType, std::string_view, uint64_t)>& on_record,
                      WalTail* tail) {
  return ReadRecords(bytes, name, expected_file_number, newest, /*accept_sync=*/true, on_record, tail);
}

}  // namespace quiver::storage
