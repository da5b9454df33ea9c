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

Result<std::unique_ptr<WalWriter>> WalWriter::Create(Storage* storage, std::string name,
                                                     uint64_t file_number) {
  QUIVER_ASSIGN_OR_RETURN(auto file, storage->Create(name));
  QUIVER_RETURN_IF_ERROR(file->Append(EncodeWalFileHeader(file_number)));
  QUIVER_RETURN_IF_ERROR(file->Sync());
  QUIVER_RETURN_IF_ERROR(storage->SyncDir());
  return std::unique_ptr<WalWriter>(new WalWriter(std::move(name), file_number, std::move(file)));
}

WalWriter::~WalWriter() { (void)Close(); }

uint64_t WalWriter::size() const { return file_->size(); }

Status WalWriter::Append(std::string_view payload, bool sync) {
  if (payload.size() > kWalMaxRecord) {
    return Status::ResourceExhausted("a write of " + std::to_string(payload.size()) +
                                     " bytes exceeds the log's record limit of 1 GiB; split the batch");
  }
  Waiter w;
  w.payload = payload;
  w.sync = sync;
  return Submit(&w);
}

Status WalWriter::Sync() {
  Waiter w;
  w.sync = true;
  w.record = false;
  return Submit(&w);
}

Status WalWriter::Submit(Waiter* w) {
  std::unique_lock<std::mutex> lock(mu_);
  if (closed_) return Status::FailedPrecondition("log " + name_ + " is closed");
  if (!error_.ok()) return error_;
  queue_.push_back(w);
  cv_.wait(lock, [&] { return w->done || queue_.front() == w; });
  if (w->done) return w->status;

  // Leader: write the whole queue as one group, sync once if anyone asked.
  std::deque<Waiter*> group(queue_.begin(), queue_.end());
  bool need_sync = false;
  std::string buf;
  for (Waiter* g : group) {
    if (g->record) EncodeWalRecord(WalRecordType::kBatch, g->payload, &buf);
    need_sync |= g->sync;
  }
  lock.unlock();
  Status s = buf.empty() ? Status::OK() : file_->Append(buf);
  if (s.ok()) s = need_sync ? file_->Sync() : file_->Flush();
  lock.lock();
  if (!s.ok() && error_.ok()) error_ = s;
  for (Waiter* g : group) {
    queue_.pop_front();
    g->status = s;
    g->done = true;
  }
  cv_.notify_all();
  return s;
}

Status WalWriter::Close() {
  std::unique_lock<std::mutex> lock(mu_);
  if (closed_) return Status::OK();
  closed_ = true;
  Status s = error_;
  if (s.ok()) s = file_->Sync();
  Status c = file_->Close();
  return s.ok() ? c : s;
}

}  // namespace quiver::storage
