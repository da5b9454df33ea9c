// Write-ahead log files (storage/wal_reader.h) with their op batches, as recovery reads them.
//
// Input: byte 0 holds mode bits (1: repair checksums after mutation, 2: the newest file, where damage is a torn
// tail, 4: expect file number 5 instead of the header's); the rest is the file. Checks: damage in the newest
// file is a torn tail with a good prefix inside the file, and reading that prefix again finds the same records
// and no damage; in an older file it is Corruption.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/coding.h"
#include "db/op_codec.h"
#include "fuzz_util.h"
#include "storage/wal_format.h"
#include "storage/wal_reader.h"

using namespace quiver;

namespace {

Status Read(std::string_view bytes, bool newest, bool misplaced, storage::WalTail* tail,
            std::vector<uint64_t>* offsets) {
  const uint64_t number = bytes.size() >= 16 && !misplaced ? DecodeFixed64(bytes.data() + 8) : 5;
  return storage::ReadWalFile({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, "wal-1-5.log",
                              number, newest,
                              [&](std::string_view payload, uint64_t offset) -> Status {
                                offsets->push_back(offset);
                                auto batch = db::DecodeOpBatch(payload, "wal-1-5.log",
                                                               offset + storage::kWalRecordHeaderSize);
                                if (!batch.ok()) FUZZ_CHECK(batch.status().IsCorruption());
                                return Status::OK();
                              },
                              tail);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  if (mode & fuzz::kFixChecksums) fuzz::FixWalChecksums(&bytes);
  const bool newest = mode & 2;
  storage::WalTail tail;
  std::vector<uint64_t> offsets;
  Status s = Read(bytes, newest, mode & 4, &tail, &offsets);
  if (!s.ok()) {
    FUZZ_CHECK(s.IsCorruption());
    return 0;
  }
  FUZZ_CHECK(tail.valid_bytes <= bytes.size());
  if (!newest) FUZZ_CHECK(!tail.torn);
  if (!tail.torn) {
    FUZZ_CHECK(tail.valid_bytes == bytes.size());
    return 0;
  }
  FUZZ_CHECK(!tail.reason.empty());
  if (tail.valid_bytes < storage::kWalFileHeaderSize) return 0;  // recovery removes such a file
  storage::WalTail cut_tail;
  std::vector<uint64_t> cut_offsets;
  FUZZ_CHECK_OK(Read(std::string_view(bytes).substr(0, tail.valid_bytes), true, mode & 4, &cut_tail, &cut_offsets));
  FUZZ_CHECK(!cut_tail.torn && cut_tail.valid_bytes == tail.valid_bytes);
  FUZZ_CHECK(cut_offsets == offsets);
  return 0;
}
