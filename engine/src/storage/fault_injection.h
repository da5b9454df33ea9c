// FaultInjectionStorage: forwards to another Storage and fails on purpose, for crash and error-path tests.
//
// Every mutating call (Create, OpenAppend, Append, Sync, Rename, Remove, Truncate, SyncDir) counts as one
// operation. FailAt(n) makes the n-th operation from now (1-based) fail; with `sticky`, every operation after it
// fails too, as a dying disk or a crash would look to the writer; without, the disk recovers at once. Combined
// with MemoryStorage::SimulateCrash this gives "crash at any point".
//
// SetOpFilter limits which kinds of operation are counted and can fail (FailAt's n counts only those), so a test
// can walk one write path per kind; matched() counts them. SetFaultKind chooses how the chosen one fails:
//   kIOError     IOError, nothing done (EIO).
//   kNoSpace     ResourceExhausted, nothing done (ENOSPC, as the POSIX backend reports it).
//   kShortWrite  an Append hands the first half of its bytes (rounded down) to the file, then fails with
//                ResourceExhausted: a short write on a full disk. Other operations fail as with kNoSpace.
//   kFailedSync  a Sync fails with IOError and the file loses a seeded-random part of its unsynced tail: it
//                keeps its synced bytes plus anything from none to all of the bytes appended since (what Linux
//                may leave after a failed fsync, whose dirty pages are dropped). Later appends follow what is
//                kept. Other operations fail as with kIOError.
// Sticky failures after the first are IOError whatever the kind, and do nothing.
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
  enum class FaultKind : uint8_t { kIOError, kNoSpace, kShortWrite, kFailedSync };
  // Operation kinds, for SetOpFilter (a bit mask). kCreate covers Create and OpenAppend.
  enum OpKind : uint32_t {
    kCreate = 1,
    kAppend = 2,
    kSync = 4,
    kRename = 8,
    kRemove = 16,
    kTruncate = 32,
    kSyncDir = 64,
    kAllOps = 127,
  };

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
  void SetFaultKind(FaultKind kind) { kind_ = kind; }
  void SetOpFilter(uint32_t kinds) { filter_ = kinds; }
  bool failed() const { return failed_; }
  // Every mutating operation so far.
  uint64_t operations() const { return operations_; }
  // The operations so far of the kinds the filter admits.
  uint64_t matched() const { return matched_; }

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

  // Counts one operation of kind `op`; an error when it is the one chosen to fail (or after it, when sticky).
  // *injected (when given) tells whether this call is the chosen one, so the caller can act out its kind.
  Status Tick(OpKind op, std::string_view what, bool* injected = nullptr);

 private:
  class File;

  Storage* base_;
  std::atomic<uint64_t> operations_{0};
  std::atomic<uint64_t> matched_{0};
  std::atomic<uint64_t> remaining_{0};
  std::atomic<bool> sticky_{true};
  std::atomic<bool> failed_{false};
  std::atomic<FaultKind> kind_{FaultKind::kIOError};
  std::atomic<uint32_t> filter_{kAllOps};
};

}  // namespace quiver::storage

#endif  // QUIVER_STORAGE_FAULT_INJECTION_H_
