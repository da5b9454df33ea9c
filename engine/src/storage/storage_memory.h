// MemoryStorage: files in memory, for tests and throwaway databases. It models durability precisely: it
// remembers, per file, how many bytes were synced, and which names the directory held at the last SyncDir.
// SimulateCrash() turns the storage into what a power loss would leave: the directory as last synced, each
// file cut to its synced length, optionally with a torn (partial) piece of its unsynced tail.
//
// Thread safety: internally synchronised.
#ifndef QUIVER_STORAGE_STORAGE_MEMORY_H_
#define QUIVER_STORAGE_STORAGE_MEMORY_H_

#include <map>
#include <memory>
#include <mutex>

#include "storage/storage.h"

namespace quiver::storage {

class MemoryStorage final : public Storage {
 public:
  MemoryStorage();
  ~MemoryStorage() override;

  Result<std::vector<std::string>> List() override;
  Result<bool> Exists(std::string_view name) override;
  Result<uint64_t> FileSize(std::string_view name) override;
  Result<std::string> ReadFile(std::string_view name) override;
  Result<std::unique_ptr<FileBytes>> Map(std::string_view name) override;
  Result<std::unique_ptr<WritableFile>> Create(std::string_view name) override;
  Result<std::unique_ptr<WritableFile>> OpenAppend(std::string_view name) override;
  Status Rename(std::string_view from, std::string_view to) override;
  Status Remove(std::string_view name) override;
  Status Truncate(std::string_view name, uint64_t size) override;
  Status SyncDir() override;
  Result<std::unique_ptr<FileLock>> Lock(std::string_view name) override;

  // Power loss: keeps the directory as of the last SyncDir and each file's synced bytes. With `tear_seed` !=
  // 0, each file also keeps a seeded-random prefix of its unsynced tail (a torn write).
  void SimulateCrash(uint64_t tear_seed = 0);
  // Replaces a file's bytes, bypassing durability (for corruption tests).
  void SetContents(std::string_view name, std::string data);
  // Total bytes held.
  uint64_t TotalBytes();

  struct File;

 private:
  class Writer;
  class Bytes;
  class Lock_;

  std::mutex mu_;
  std::map<std::string, std::shared_ptr<File>, std::less<>> files_;    // live directory
  std::map<std::string, std::shared_ptr<File>, std::less<>> durable_;  // directory at the last SyncDir
  std::map<std::string, bool, std::less<>> locks_;
};

}  // namespace quiver::storage

#endif  // QUIVER_STORAGE_STORAGE_MEMORY_H_
