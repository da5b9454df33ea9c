#include "storage/storage.h"

namespace quiver::storage {

Result<std::unique_ptr<FileBytes>> Storage::Map(std::string_view name) {
  return Status::NotSupported("this storage cannot map " + std::string(name));
}

Status Storage::WriteFileAtomic(std::string_view name, std::string_view data) {
  ByteChunks chunks;
  chunks.AppendRef(data);
  return WriteFileAtomic(name, chunks);
}

Status Storage::WriteFileAtomic(std::string_view name, const ByteChunks& data) {
  const std::string tmp = std::string(name) + ".tmp";
  QUIVER_ASSIGN_OR_RETURN(bool exists, Exists(tmp));
  if (exists) QUIVER_RETURN_IF_ERROR(Remove(tmp));
  QUIVER_ASSIGN_OR_RETURN(auto file, Create(tmp));
  for (std::string_view piece : data.Views()) QUIVER_RETURN_IF_ERROR(file->Append(piece));
  QUIVER_RETURN_IF_ERROR(file->Sync());
  QUIVER_RETURN_IF_ERROR(file->Close());
  QUIVER_RETURN_IF_ERROR(Rename(tmp, name));
  return SyncDir();
}

}  // namespace quiver::storage
