// WalWriter: appends records to one write-ahead log file. Appends are buffered under a lock; Sync makes them
// durable with group commit: a caller whose bytes were already covered by another caller's sync returns at once,
// and only one sync runs at a time, outside the lock, so appends continue meanwhile.
//
// After any failed write or sync the writer refuses further use with that error: what reached the file is
// unknown, and the owner must reopen (recovery decides what survived).
//
// Thread safety: all methods may be called from any thread.
#ifndef QUIVER_STORAGE_WAL_WRITER_H_
#define QUIVER_STORAGE_WAL_WRITER_H_

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "storage/storage.h"
#include "storage/wal_format.h"

namespace quiver::storage {

class WalWriter {
 public:
  // Creates file `name` (which must not exist) with a header naming `file_number`, and syncs it.
  static Result<std::unique_ptr<WalWriter>> Create(Storage* storage, std::string name, uint64_t file_number);
  // Continues an existing log whose valid prefix is `size` bytes (recovery has cut any torn tail).
  static Result<std::unique_ptr<WalWriter>> Reopen(Storage* storage, std::string name, uint64_t file_number);
  ~WalWriter();

  // Appends one record (buffered, not yet durable).
  Status Append(std::string_view payload, WalRecordType type = WalRecordType::kBatch);
  // Makes every record appended so far durable.
  Status Sync();
  // Syncs and closes the file. Later Sync calls succeed (their records were synced here); Append fails.
  Status Close();

  uint64_t file_number() const { return file_number_; }
  const std::string& name() const { return name_; }
  // Bytes appended (including the header).
  uint64_t size() const;
  // Bytes appended but not yet synced.
  uint64_t unsynced() const;

 private:
  WalWriter(std::string name, uint64_t file_number, std::unique_ptr<WritableFile> file, uint64_t size)
      : name_(std::move(name)), file_number_(file_number), file_(std::move(file)), appended_(size), synced_(size) {}

  std::string name_;
  uint64_t file_number_;
  std::unique_ptr<WritableFile> file_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  uint64_t appended_;     // guarded by mu_
  uint64_t synced_;       // guarded by mu_
  bool syncing_ = false;  // guarded by mu_
  bool closed_ = false;   // guarded by mu_
  Status error_;          // guarded by mu_
};

// Encodes one record (header + payload) into *out.
void EncodeWalRecord(WalRecordType type, std::string_view payload, std::string* out);
// The 20-byte header of log file `file_number`.
std::string EncodeWalFileHeader(uint64_t file_number);

}  // namespace quiver::storage

#endif  // QUIVER_STORAGE_WAL_WRITER_H_
