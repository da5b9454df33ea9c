#include "storage/fault_injection.h"

namespace quiver::storage {

class FaultInjectionStorage::File final : public WritableFile {
 public:
  File(FaultInjectionStorage* owner, std::unique_ptr<WritableFile> base, std::string name)
      : owner_(owner), base_(std::move(base)), name_(std::move(name)) {}
  Status Append(std::string_view data) override {
    QUIVER_RETURN_IF_ERROR(owner_->Tick("append to " + name_));
    return base_->Append(data);
  }
  Status Flush() override { return base_->Flush(); }
  Status Sync() override {
    QUIVER_RETURN_IF_ERROR(owner_->Tick("sync " + name_));
    return base_->Sync();
  }
  Status SyncFlushed() override {
    QUIVER_RETURN_IF_ERROR(owner_->Tick("sync " + name_));
    return base_->SyncFlushed();
  }
  Status Close() override { return base_->Close(); }
  uint64_t size() const override { return base_->size(); }

 private:
  FaultInjectionStorage* owner_;
  std::unique_ptr<WritableFile> base_;
  std::string name_;
};

Status FaultInjectionStorage::Tick(std::string_view what) {
  ++operations_;
  if (failed_ && sticky_)
    return Status::IOError("injected fault (after an earlier one): " + std::string(what));
  uint64_t r = remaining_.load();
  if (r == 0) return Status::OK();
  if (r == 1) {
    remaining_ = 0;
    failed_ = true;
    return Status::IOError("injected fault: " + std::string(what));
  }
  remaining_ = r - 1;
  return Status::OK();
}

Result<std::unique_ptr<WritableFile>> FaultInjectionStorage::Create(std::string_view name) {
  QUIVER_RETURN_IF_ERROR(Tick("create " + std::string(name)));
  QUIVER_ASSIGN_OR_RETURN(auto f, base_->Create(name));
  return std::unique_ptr<WritableFile>(new File(this, std::move(f), std::string(name)));
}

Result<std::unique_ptr<WritableFile>> FaultInjectionStorage::OpenAppend(std::string_view name) {
  QUIVER_RETURN_IF_ERROR(Tick("open " + std::string(name)));
  QUIVER_ASSIGN_OR_RETURN(auto f, base_->OpenAppend(name));
  return std::unique_ptr<WritableFile>(new File(this, std::move(f), std::string(name)));
}

Status FaultInjectionStorage::Rename(std::string_view from, std::string_view to) {
  QUIVER_RETURN_IF_ERROR(Tick("rename " + std::string(from)));
  return base_->Rename(from, to);
}

Status FaultInjectionStorage::Remove(std::string_view name) {
  QUIVER_RETURN_IF_ERROR(Tick("remove " + std::string(name)));
  return base_->Remove(name);
}

Status FaultInjectionStorage::Truncate(std::string_view name, uint64_t size) {
  QUIVER_RETURN_IF_ERROR(Tick("truncate " + std::string(name)));
  return base_->Truncate(name, size);
}

Status FaultInjectionStorage::SyncDir() {
  QUIVER_RETURN_IF_ERROR(Tick("sync folder"));
  return base_->SyncDir();
}

}  // namespace quiver::storage
