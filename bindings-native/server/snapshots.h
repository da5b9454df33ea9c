// Collection snapshots as files: DATA/snapshots/<collection>/<name>.snapshot, each with a
// <name>.snapshot.checksum file holding its SHA-256 in hex, described as Qdrant describes them (name,
// creation_time, size, checksum). The bytes are those of Collection::CreateSnapshot (docs/formats.md,
// "Snapshot"). Files are written to a temporary name, synced and renamed, so a listed snapshot is always
// whole.
//
// Thread safety: all methods may be called from any thread; the file system arbitrates.
#ifndef QUIVER_SERVER_SNAPSHOTS_H_
#define QUIVER_SERVER_SNAPSHOTS_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "quiver/collection.h"
#include "quiver/database.h"
#include "quiver/status.h"

namespace quiver::server {

struct SnapshotDescription {
  std::string name;
  std::string creation_time;  // "2026-01-31T12:00:00" (UTC)
  uint64_t size = 0;
  std::string checksum;  // SHA-256, lower-case hex
};

// {"name": ..., "creation_time": ..., "size": ..., "checksum": ...}
std::string SnapshotJson(const SnapshotDescription& d);

class SnapshotStore {
 public:
  explicit SnapshotStore(std::string root);
  const std::string& root() const { return root_; }

  // Writes a snapshot of `collection` under its name.
  Result<SnapshotDescription> Create(const Collection& collection);
  // The collection's snapshots by name (empty when it has none).
  Result<std::vector<SnapshotDescription>> List(std::string_view collection) const;
  // The file of a snapshot; InvalidArgument for a name that is not a snapshot name, NotFound if absent.
  Result<std::string> PathOf(std::string_view collection, std::string_view name) const;
  Status Delete(std::string_view collection, std::string_view name);

  // A recover location: file:// URLs (and plain absolute paths) of files inside the snapshots folder.
  // NotSupported for http(s) (upload the file instead); InvalidArgument for anything else.
  Result<std::string> ResolveLocation(std::string_view location) const;

 private:
  std::string root_;
};

// Replaces (or creates) collection `name` with the snapshot `bytes`. When `checksum` is not empty, the bytes'
// SHA-256 must equal it (InvalidArgument otherwise). A damaged snapshot (Corruption) leaves an existing
// collection as it was: the snapshot is restored under a scratch name first, then the old collection is
// dropped and the snapshot restored under its name.
Status RestoreReplacing(Database& db, std::string_view name, std::string_view bytes,
                        std::string_view checksum);

Result<std::string> ReadWholeFile(const std::string& path);

}  // namespace quiver::server

#endif  // QUIVER_SERVER_SNAPSHOTS_H_
