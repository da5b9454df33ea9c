#include "storage/wal_writer.h"

#include "base/coding.h"
#include "base/crc32c.h"

namespace quiver::storage {

void EncodeWalRecord(WalRecordType type, std::string_view payload, std::string* out) {
  const uint8_t t = static_cast<uint8_t>(type);
  uint32_t crc = crc32c::Extend(crc32c::Value(&t, 1), payload.data(), payload.size());
  PutFixed32(out, static_cast<uint32_t>(payload.size()));
  PutFixed32(out, crc);
  PutFixed8(out, t);
  out->append(payload);
}

std::string EncodeWalFileHeader(uint64_t file_number) {
  std::string h(kWalMagic, 8);
  PutFixed64(&h, file_number);
  PutFixed32(&h, crc32c::Value(h.data(), h.size()));
  return h;
}

Result<std::unique_ptr<WalWriter>> WalWriter::Create(Storage* storage, std::string name, uint64_t file_number) {
  QUIVER_ASSIGN_OR_RETURN(auto file, storage->Create(name));
  const std::string header = EncodeWalFileHeader(file_number);
  QUIVER_RETURN_IF_ERROR(file->Append(header));
  QUIVER_RETURN_IF_ERROR(file->Sync());
  QUIVER_RETURN_IF_ERROR(storage->SyncDir());
  return std::unique_ptr<WalWriter>(new WalWriter(std::move(name), file_number, std::move(file), header.size()));
}

Result<std::unique_ptr<WalWriter>> WalWriter::Reopen(Storage* storage, std::string name, uint64_t file_number) {
  QUIVER_ASSIGN_OR_RETURN(auto file, storage->OpenAppend(name));
  const uint64_t size = file->size();
  return std::unique_ptr<WalWriter>(new WalWriter(std::move(name), file_number, std::move(file), size));
}

WalWriter::~WalWriter() { (void)Close(); }

uint64_t WalWriter::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return appended_;
}

uint64_t WalWriter::unsynced() const {
  std::lock_guard<std::mutex> lock(mu_);
  return appended_ - synced_;
}

Status WalWriter::Append(std::string_view payload, WalRecordType record_type) {
  if (payload.size() > kWalMaxRecord) {
    return Status::ResourceExhausted("a write of " + std::to_string(payload.size()) +
                                     " bytes exceeds the log's record limit of 1 GiB; split the batch");
  }
  // The header is built here; the payload goes to the file as it is, without another copy.
  const uint8_t type = static_cast<uint8_t>(record_type);
  std::string header;
  PutFixed32(&header, static_cast<uint32_t>(payload.size()));
  PutFixed32(&header, crc32c::Extend(crc32c::Value(&type, 1), payload.data(), payload.size()));
  PutFixed8(&header, type);
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return Status::FailedPrecondition("log " + name_ + " is closed");
  if (!error_.ok()) return error_;
  Status s = file_->Append(header);
  if (s.ok()) s = file_->Append(payload);
  if (!s.ok()) {
    error_ = s;
    return s;
  }
  appended_ += header.size() + payload.size();
  return Status::OK();
}

Status WalWriter::Sync() {
  std::unique_lock<std::mutex> lock(mu_);
  const uint64_t target = appended_;
  for (;;) {
    if (!error_.ok()) return error_;
    if (synced_ >= target) return Status::OK();
    if (!syncing_) break;
    cv_.wait(lock);
  }
  syncing_ = true;
  const uint64_t upto = appended_;
  Status s = file_->Flush();
  if (s.ok()) {
    lock.unlock();
    s = file_->SyncFlushed();
    lock.lock();
  }
  syncing_ = false;
  if (s.ok()) {
    synced_ = std::max(synced_, upto);
  } else if (error_.ok()) {
    error_ = s;
  }
  cv_.notify_all();
  return s;
}

Status WalWriter::Close() {
  Status s = Sync();
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return error_;
  closed_ = true;
  Status c = file_->Close();
  if (s.ok() && !c.ok()) error_ = c;
  return s.ok() ? c : s;
}

}  // namespace quiver::storage
