#include "storage/storage.h"

namespace quiver::storage {

Result<std::unique_ptr<FileBytes>> Storage::Map(std::string_view name) {
  return Status::NotSupported("this storage cannot map " + std::string(name));
}

Status Storage::WriteFileAtomic(std::string_view name, std::string_view data) {
  const std::string tmp = std::string(name) + ".tmp";
  QUIVER_ASSIGN_OR_RETURN(bool exists, Exists(tmp));
  if (exists) QUIVER_RETURN_IF_ERROR(Remove(tmp));
  QUIVER_ASSIGN_OR_RETURN(auto file, Create(tmp));
  QUIVER_RETURN_IF_ERROR(file->Append(data));
  QUIVER_RETURN_IF_ERROR(file->Sync());
  QUIVER_RETURN_IF_ERROR(file->Close());
  QUIVER_RETURN_IF_ERROR(Rename(tmp, name));
  return SyncDir();
}

}  // namespace quiver::storage
