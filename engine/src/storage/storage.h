// Storage: the small file interface every persistent part of Quiver is written against (LevelDB's Env is the
// model). A Storage holds flat-named files under one root: list, read, create, append, rename, remove, sync,
// and an exclusive lock. Backends: POSIX (native, and inside WASM over Emscripten's MEMFS/IDBFS/NODEFS) and
// Memory (tests; it remembers what was synced, so a simulated crash can drop the rest). Wrappers such as
// fault injection forward to another Storage.
//
// File names are relative, without '/' (a database's files live in one folder). Every method returns a
// Status: IOError with the file name and the system's reason when the backend fails, NotFound for a missing
// file, NotSupported for an optional capability a backend lacks (Map).
//
// Durability contract: bytes appended are durable only after WritableFile::Sync returns OK; a new, renamed or
// removed name is durable only after SyncDir returns OK. After a crash, a file may hold any prefix of its
// unsynced appends (possibly a torn last write), and unsynced renames may or may not have happened.
//
// Thread safety: a Storage may be used from several threads at once; a WritableFile by one thread at a time.
#ifndef QUIVER_STORAGE_STORAGE_H_
#define QUIVER_STORAGE_STORAGE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/byte_chunks.h"
#include "quiver/status.h"

namespace quiver::storage {

class WritableFile {
 public:
  virtual ~WritableFile() = default;
  // Appends bytes (buffered by the backend until Flush or Sync).
  virtual Status Append(std::string_view data) = 0;
  // Hands buffered bytes to the backend (the OS), without making them durable.
  virtual Status Flush() = 0;
  // Flushes and makes every appended byte durable.
  virtual Status Sync() = 0;
  // Makes the bytes handed over by earlier Flush calls durable. Unlike the other methods it may run on one thread
  // while another thread calls Append or Flush (group commit syncs outside the log's lock).
  virtual Status SyncFlushed() = 0;
  // Flushes and closes; further calls fail. Does not sync.
  virtual Status Close() = 0;
  // Bytes appended so far, the file's size once flushed.
  virtual uint64_t size() const = 0;
};

// Read-only bytes of a whole file, valid while the object lives (a memory map natively, a copy otherwise).
class FileBytes {
 public:
  virtual ~FileBytes() = default;
  virtual std::span<const uint8_t> bytes() const = 0;
};

// Held while a database is open for writing; released on destruction.
class FileLock {
 public:
  virtual ~FileLock() = default;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // Names of the files under the root, sorted.
  virtual Result<std::vector<std::string>> List() = 0;
  virtual Result<bool> Exists(std::string_view name) = 0;
  virtual Result<uint64_t> FileSize(std::string_view name) = 0;
  // The whole file.
  virtual Result<std::string> ReadFile(std::string_view name) = 0;
  // The whole file, mapped into memory when the backend can (else NotSupported; callers fall back to
  // ReadFile).
  virtual Result<std::unique_ptr<FileBytes>> Map(std::string_view name);
  // Creates an empty file for appending; AlreadyExists if the name is taken.
  virtual Result<std::unique_ptr<WritableFile>> Create(std::string_view name) = 0;
  // Opens an existing file for appending at its end.
  virtual Result<std::unique_ptr<WritableFile>> OpenAppend(std::string_view name) = 0;
  // Atomically replaces `to` (if present) with `from`.
  virtual Status Rename(std::string_view from, std::string_view to) = 0;
  virtual Status Remove(std::string_view name) = 0;
  // Cuts a file to `size` bytes (recovery uses it to drop a torn log tail).
  virtual Status Truncate(std::string_view name, uint64_t size) = 0;
  // Makes the directory's entries (created, renamed, removed names) durable.
  virtual Status SyncDir() = 0;
  // Takes the exclusive lock file `name`; Busy if another holder (process or Storage) has it.
  virtual Result<std::unique_ptr<FileLock>> Lock(std::string_view name) = 0;

  // Writes a whole file durably under a temporary name, then renames it into place and syncs the directory.
  Status WriteFileAtomic(std::string_view name, std::string_view data);
  // The same for a file given as chunks, appended one after another.
  Status WriteFileAtomic(std::string_view name, const ByteChunks& data);
};

// A Storage over a folder of the host's file system. Creates the folder if missing.
Result<std::unique_ptr<Storage>> OpenPosixStorage(const std::string& root);

}  // namespace quiver::storage

#endif  // QUIVER_STORAGE_STORAGE_H_
