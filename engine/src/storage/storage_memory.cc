#include "storage/storage_memory.h"

#include "base/random.h"

namespace quiver::storage {

struct MemoryStorage::File {
  std::string data;
  size_t synced = 0;
};

class MemoryStorage::Writer final : public WritableFile {
 public:
  Writer(MemoryStorage* owner, std::shared_ptr<File> file, std::string name)
      : owner_(owner), file_(std::move(file)), name_(std::move(name)) {}
  Status Append(std::string_view data) override {
    if (closed_) return Status::FailedPrecondition(name_ + " is closed");
    std::lock_guard<std::mutex> lock(owner_->mu_);
    file_->data.append(data);
    return Status::OK();
  }
  Status Flush() override {
    return closed_ ? Status::FailedPrecondition(name_ + " is closed") : Status::OK();
  }
  Status Sync() override {
    if (closed_) return Status::FailedPrecondition(name_ + " is closed");
    std::lock_guard<std::mutex> lock(owner_->mu_);
    file_->synced = file_->data.size();
    return Status::OK();
  }
  Status SyncFlushed() override { return Sync(); }
  Status Close() override {
    closed_ = true;
    return Status::OK();
  }
  uint64_t size() const override {
    std::lock_guard<std::mutex> lock(owner_->mu_);
    return file_->data.size();
  }

 private:
  MemoryStorage* owner_;
  std::shared_ptr<File> file_;
  std::string name_;
  bool closed_ = false;
};

class MemoryStorage::Bytes final : public FileBytes {
 public:
  explicit Bytes(std::string data) : data_(std::move(data)) {}
  std::span<const uint8_t> bytes() const override {
    return {reinterpret_cast<const uint8_t*>(data_.data()), data_.size()};
  }

 private:
  std::string data_;
};

class MemoryStorage::Lock_ final : public FileLock {
 public:
  Lock_(MemoryStorage* owner, std::string name) : owner_(owner), name_(std::move(name)) {}
  ~Lock_() override {
    std::lock_guard<std::mutex> lock(owner_->mu_);
    owner_->locks_.erase(name_);
  }

 private:
  MemoryStorage* owner_;
  std::string name_;
};

MemoryStorage::MemoryStorage() = default;
MemoryStorage::~MemoryStorage() = default;

Result<std::vector<std::string>> MemoryStorage::List() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<std::string> out;
  for (const auto& [name, f] : files_) out.push_back(name);
  return out;
}

Result<bool> MemoryStorage::Exists(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  return files_.find(name) != files_.end();
}

Result<uint64_t> MemoryStorage::FileSize(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(name);
  if (it == files_.end()) return Status::NotFound(std::string(name) + " does not exist");
  return it->second->data.size();
}

Result<std::string> MemoryStorage::ReadFile(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(name);
  if (it == files_.end()) return Status::NotFound(std::string(name) + " does not exist");
  return it->second->data;
}

Result<std::unique_ptr<FileBytes>> MemoryStorage::Map(std::string_view name) {
  QUIVER_ASSIGN_OR_RETURN(std::string data, ReadFile(name));
  return std::unique_ptr<FileBytes>(new Bytes(std::move(data)));
}

Result<std::unique_ptr<WritableFile>> MemoryStorage::Create(std::string_view name) {
  if (name.empty() || name.find('/') != std::string_view::npos) {
    return Status::InvalidArgument("bad file name '" + std::string(name) + "'");
  }
  std::lock_guard<std::mutex> lock(mu_);
  if (files_.find(name) != files_.end()) return Status::AlreadyExists(std::string(name) + " already exists");
  auto file = std::make_shared<File>();
  files_.emplace(std::string(name), file);
  return std::unique_ptr<WritableFile>(new Writer(this, file, std::string(name)));
}

Result<std::unique_ptr<WritableFile>> MemoryStorage::OpenAppend(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(name);
  if (it == files_.end()) return Status::NotFound(std::string(name) + " does not exist");
  return std::unique_ptr<WritableFile>(new Writer(this, it->second, std::string(name)));
}

Status MemoryStorage::Rename(std::string_view from, std::string_view to) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(from);
  if (it == files_.end()) return Status::NotFound(std::string(from) + " does not exist");
  auto file = it->second;
  files_.erase(it);
  files_[std::string(to)] = file;
  return Status::OK();
}

Status MemoryStorage::Remove(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(name);
  if (it == files_.end()) return Status::NotFound(std::string(name) + " does not exist");
  files_.erase(it);
  return Status::OK();
}

Status MemoryStorage::Truncate(std::string_view name, uint64_t size) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = files_.find(name);
  if (it == files_.end()) return Status::NotFound(std::string(name) + " does not exist");
  File& f = *it->second;
  if (size < f.data.size()) f.data.resize(size);
  f.synced = std::min<size_t>(f.synced, f.data.size());
  return Status::OK();
}

Status MemoryStorage::SyncDir() {
  std::lock_guard<std::mutex> lock(mu_);
  durable_ = files_;
  return Status::OK();
}

Result<std::unique_ptr<FileLock>> MemoryStorage::Lock(std::string_view name) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!locks_.emplace(std::string(name), true).second)
    return Status::Busy("the database is already open for writing");
  return std::unique_ptr<FileLock>(new Lock_(this, std::string(name)));
}

void MemoryStorage::SimulateCrash(uint64_t tear_seed) {
  std::lock_guard<std::mutex> lock(mu_);
  SplitMix64 rng(tear_seed);
  std::map<std::string, std::shared_ptr<File>, std::less<>> next;
  for (const auto& [name, file] : durable_) {
    auto copy = std::make_shared<File>();
    size_t keep = file->synced;
    if (tear_seed != 0 && file->data.size() > keep) keep += rng() % (file->data.size() - keep + 1);
    copy->data = file->data.substr(0, keep);
    copy->synced = copy->data.size();
    next.emplace(name, copy);
  }
  files_ = next;
  durable_ = next;
  locks_.clear();
}

void MemoryStorage::SetContents(std::string_view name, std::string data) {
  std::lock_guard<std::mutex> lock(mu_);
  auto file = std::make_shared<File>();
  file->data = std::move(data);
  file->synced = file->data.size();
  files_[std::string(name)] = file;
  durable_[std::string(name)] = file;
}

uint64_t MemoryStorage::TotalBytes() {
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t n = 0;
  for (const auto& [name, f] : files_) n += f->data.size();
  return n;
}

}  // namespace quiver::storage
