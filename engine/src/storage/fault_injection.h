// FaultInjectionStorage: forwards to another Storage and fails on purpose, for crash and error-path tests.
//
// Every mutating call (Create, OpenAppend, Append, Sync, Rename, Remove, Truncate, SyncDir) counts as one
// operation. FailAt(n) makes the n-th operation from now (1-based) fail with IOError; with `sticky`, every
// operation after it fails too, as a dying disk or a crash would look to the writer. Combined with
// MemoryStorage::SimulateCrash this gives "crash at any point".
//
// Thread safety: internally synchronised.
#ifndef QUIVER_STORAGE_FAULT_INJECTION_H_
#define QUIVER_STORAGE_FAULT_INJECTION_H_

#include <atomic>
#include <cstdint>

#include "storage/storage.h"

namespace quiver::storage {

class FaultInjectionStorage final : public Storage {
 public:
  explicit FaultInjectionStorage(Storage* base) : base_(base) {}

  void FailAt(uint64_t n, bool sticky = true) {
    remaining_ = n;
    sticky_ = sticky;
    failed_ = false;
  }
  void Disarm() {
    remaining_ = 0;
    failed_ = false;
  }
  bool failed() const { return failed_; }
  uint64_t operations() const { return operations_; }

  Result<std::vector<std::string>> List() override { return base_->List(); }
  Result<bool> Exists(std::string_view name) override { return base_->Exists(name); }
  Result<uint64_t> FileSize(std::string_view name) override { return base_->FileSize(name); }
  Result<std::string> ReadFile(std::string_view name) override { return base_->ReadFile(name); }
  Result<std::unique_ptr<FileBytes>> Map(std::string_view name) override { return base_->Map(name); }
  Result<std::unique_ptr<WritableFile>> Create(std::string_view name) override;
  Result<std::unique_ptr<WritableFile>> OpenAppend(std::string_view name) override;
  Status Rename(std::string_view from, std::string_view to) override;
  Status Remove(std::string_view name) override;
  Status Truncate(std::string_view name, uint64_t size) override;
  Status SyncDir() override;
  Result<std::unique_ptr<FileLock>> Lock(std::string_view name) override { return base_->Lock(name); }

  // Counts one operation; an IOError when it is the one chosen to fail (or after it, when sticky).
  Status Tick(std::string_view what);

 private:
  class File;

  Storage* base_;
  std::atomic<uint64_t> operations_{0};
  std::atomic<uint64_t> remaining_{0};
  std::atomic<bool> sticky_{true};
  std::atomic<bool> failed_{false};
};

}  // namespace quiver::storage

#endif  // QUIVER_STORAGE_FAULT_INJECTION_H_
