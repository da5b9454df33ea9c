// WalWriter: appends records to one write-ahead log file, with group commit: concurrent callers queue up, and
// the first in line writes every queued record and syncs once for all of them.
//
// Thread safety: Append may be called from many threads at once.
#ifndef QUIVER_STORAGE_WAL_WRITER_H_
#define QUIVER_STORAGE_WAL_WRITER_H_

#include <condition_variable>
#include <cstdint>
#include <deque>
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
  ~WalWriter();

  // Appends one record. With `sync`, returns once it (and everything before it) is durable. After any failure
  // the writer refuses further appends with the same error: what reached the file is unknown, and the owner
  // must reopen (recovery decides what survived).
  Status Append(std::string_view payload, bool sync);
  // Makes everything appended durable.
  Status Sync();
  // Syncs and closes the file.
  Status Close();

  uint64_t file_number() const { return file_number_; }
  const std::string& name() const { return name_; }
  uint64_t size() const;

 private:
  struct Waiter {
    std::string_view payload;
    bool sync = false;  // a sync-only request has an empty payload and no record
    bool record = true;
    bool done = false;
    Status status;
  };

  WalWriter(std::string name, uint64_t file_number, std::unique_ptr<WritableFile> file)
      : name_(std::move(name)), file_number_(file_number), file_(std::move(file)) {}
  Status Submit(Waiter* w);

  std::string name_;
  uint64_t file_number_;
  std::unique_ptr<WritableFile> file_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Waiter*> queue_;
  Status error_;
  bool closed_ = false;
};

// Encodes one record (header + payload) into *out.
void EncodeWalRecord(WalRecordType type, std::string_view payload, std::string* out);
// The 20-byte header of log file `file_number`.
std::string EncodeWalFileHeader(uint64_t file_number);

}  // namespace quiver::storage

#endif  // QUIVER_STORAGE_WAL_WRITER_H_
