#include "storage/fault_injection.h"

#include "base/random.h"

namespace quiver::storage {

class FaultInjectionStorage::File final : public WritableFile {
 public:
  File(FaultInjectionStorage* owner, std::unique_ptr<WritableFile> base, std::string name)
      : owner_(owner), base_(std::move(base)), name_(std::move(name)), synced_(base_->size()) {}
  Status Append(std::string_view data) override {
    bool injected = false;
    Status s = owner_->Tick(kAppend, "append to " + name_, &injected);
    if (s.ok()) return base_->Append(data);
    if (injected && owner_->kind_ == FaultKind::kShortWrite) {
      const size_t written = data.size() / 2;
      (void)base_->Append(data.substr(0, written));
      return Status::ResourceExhausted("injected fault: short write to " + name_ + ": " + std::to_string(written) +
                                       " of " + std::to_string(data.size()) + " bytes, no space left on device");
    }
    return s;
  }
  Status Flush() override { return base_->Flush(); }
  Status Sync() override { return SyncWith(false); }
  Status SyncFlushed() override { return SyncWith(true); }
  Status Close() override { return base_->Close(); }
  uint64_t size() const override { return base_->size(); }

 private:
  Status SyncWith(bool flushed_only) {
    bool injected = false;
    Status s = owner_->Tick(kSync, "sync " + name_, &injected);
    if (s.ok()) {
      s = flushed_only ? base_->SyncFlushed() : base_->Sync();
      if (s.ok()) synced_ = base_->size();
      return s;
    }
    if (injected && owner_->kind_ == FaultKind::kFailedSync) {
      // The dirty bytes are dropped: the file keeps its synced part and a seeded-random prefix of the rest.
      (void)base_->Flush();
      const uint64_t size = base_->size();
      if (size > synced_) {
        SplitMix64 rng(owner_->operations_.load() * 0x9e3779b97f4a7c15ull + size);
        (void)owner_->base_->Truncate(name_, synced_ + rng() % (size - synced_ + 1));
      }
    }
    return s;
  }

  FaultInjectionStorage* owner_;
  std::unique_ptr<WritableFile> base_;
  std::string name_;
  uint64_t synced_;  // the file's size at its last successful sync
};

Status FaultInjectionStorage::Tick(OpKind op, std::string_view what, bool* injected) {
  ++operations_;
  if (failed_ && sticky_)
    return Status::IOError("injected fault (after an earlier one): " + std::string(what));
  if ((filter_.load() & op) == 0) return Status::OK();
  ++matched_;
  uint64_t r = remaining_.load();
  if (r == 0) return Status::OK();
  if (r > 1) {
    remaining_ = r - 1;
    return Status::OK();
  }
  remaining_ = 0;
  failed_ = true;
  if (injected) *injected = true;
  const std::string message = "injected fault: " + std::string(what);
  switch (kind_.load()) {
    case FaultKind::kNoSpace:
    case FaultKind::kShortWrite:
      return Status::ResourceExhausted(message + ": no space left on device");
    case FaultKind::kIOError:
    case FaultKind::kFailedSync:
      break;
  }
  return Status::IOError(message + ": input/output error");
}

Result<std::unique_ptr<WritableFile>> FaultInjectionStorage::Create(std::string_view name) {
  QUIVER_RETURN_IF_ERROR(Tick(kCreate, "create " + std::string(name)));
  QUIVER_ASSIGN_OR_RETURN(auto f, base_->Create(name));
  return std::unique_ptr<WritableFile>(new File(this, std::move(f), std::string(name)));
}

Result<std::unique_ptr<WritableFile>> FaultInjectionStorage::OpenAppend(std::string_view name) {
  QUIVER_RETURN_IF_ERROR(Tick(kCreate, "open " + std::string(name)));
  QUIVER_ASSIGN_OR_RETURN(auto f, base_->OpenAppend(name));
  return std::unique_ptr<WritableFile>(new File(this, std::move(f), std::string(name)));
}

Status FaultInjectionStorage::Rename(std::string_view from, std::string_view to) {
  QUIVER_RETURN_IF_ERROR(Tick(kRename, "rename " + std::string(from)));
  return base_->Rename(from, to);
}

Status FaultInjectionStorage::Remove(std::string_view name) {
  QUIVER_RETURN_IF_ERROR(Tick(kRemove, "remove " + std::string(name)));
  return base_->Remove(name);
}

Status FaultInjectionStorage::Truncate(std::string_view name, uint64_t size) {
  QUIVER_RETURN_IF_ERROR(Tick(kTruncate, "truncate " + std::string(name)));
  return base_->Truncate(name, size);
}

Status FaultInjectionStorage::SyncDir() {
  QUIVER_RETURN_IF_ERROR(Tick(kSyncDir, "sync folder"));
  return base_->SyncDir();
}

}  // namespace quiver::storage
