// DatabaseCore: the collections and aliases of one replica, its id and its clock; behind the public Database.
// When stored, it owns the folder's Storage and lock and writes the manifest (manifest.h) whenever a collection's
// files or the set of collections and aliases change.
//
// Locks are taken in one order: the database's map lock, then a collection's lock, then the manifest lock.
//
// Thread safety: internally synchronised; collection handles are shared pointers that outlive deletion.
#ifndef QUIVER_DB_DATABASE_CORE_H_
#define QUIVER_DB_DATABASE_CORE_H_

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "db/collection_core.h"
#include "db/hlc.h"
#include "db/manifest.h"
#include "quiver/collection.h"
#include "quiver/database.h"
#include "storage/storage.h"

namespace quiver::db {

class DatabaseCore final : public DatabaseFiles {
 public:
  // In memory when options.path is empty, else the folder through the POSIX backend.
  static Result<std::unique_ptr<DatabaseCore>> Open(const DatabaseOptions& options);
  // Over a given Storage (tests: memory, fault injection). The storage must outlive the database.
  static Result<std::unique_ptr<DatabaseCore>> OpenStorage(const DatabaseOptions& options, storage::Storage* storage);
  ~DatabaseCore() override;

  uint64_t replica_id() const { return replica_id_; }
  HybridClock& clock() { return clock_; }
  const std::string& path() const { return options_.path; }

  Status CreateCollection(std::string_view name, const CollectionConfig& config);
  Status DeleteCollection(std::string_view name);
  std::vector<std::string> ListCollections() const;
  bool CollectionExists(std::string_view name) const;
  Result<std::shared_ptr<Collection>> GetCollection(std::string_view name_or_alias) const;
  // Collections that could not be opened (damaged files), with the error naming the file; listed, deletable and
  // repairable, while GetCollection answers with the error.
  std::vector<std::pair<std::string, Status>> UnavailableCollections() const;
  Result<RepairReport> Repair(std::string_view name);
  Status UpdateAliases(std::span<const AliasAction> actions);
  std::vector<std::pair<std::string, std::string>> ListAliases() const;
  Status RestoreSnapshot(std::string_view name, std::string_view snapshot);
  Status Flush();
  Status Close();

  // Database-level sync metadata (engine/sync: replica bindings, collection tombstones), kept in the manifest: a
  // change is durable when SetSyncMeta returns (a new manifest). Values set (a value) or erased (none).
  std::optional<boost::json::value> SyncMeta(std::string_view key) const;
  boost::json::object SyncMetaWithPrefix(std::string_view prefix) const;
  Status SetSyncMeta(const std::vector<std::pair<std::string, std::optional<boost::json::value>>>& changes);

  // DatabaseFiles.
  storage::Storage& storage() override { return *storage_; }
  const DatabaseOptions& options() const override { return options_; }
  uint64_t NewFileNumber() override;
  Status CommitEntry(const CollectionEntry& entry) override;
  Result<CollectionEntry> CommittedEntry(uint32_t id) const override;
  bool Schedule(std::function<void()> work) override;

 private:
  explicit DatabaseCore(const DatabaseOptions& options);
  bool stored() const { return storage_ != nullptr; }
  Status OpenFolder();
  Status CollectGarbage();
  // Writes manifest_ as a new manifest file and points CURRENT at it; manifest_mu_ held.
  Status WriteManifestLocked();
  Status CheckOpen() const;
  Result<std::shared_ptr<Collection>> NewCollection(std::string_view name, const CollectionConfig& config);
  // Applies actions to `aliases` (a copy); the caller swaps it in when all succeed.
  Status ApplyAliasAction(const AliasAction& a, std::map<std::string, std::string, std::less<>>* aliases) const;

  struct Unavailable {
    uint32_t id = 0;  // the collection's id in the manifest
    Status why;
  };
  static Status UnavailableError(std::string_view name, const Unavailable& u);
  // Removes an unavailable collection from the manifest and its files; mu_ held.
  Status DropUnavailableLocked(std::map<std::string, Unavailable, std::less<>>::iterator u);

  DatabaseOptions options_;
  uint64_t replica_id_;
  HybridClock clock_;

  std::unique_ptr<storage::Storage> owned_storage_;
  storage::Storage* storage_ = nullptr;
  std::unique_ptr<storage::FileLock> lock_;
  bool opened_ = false;  // the folder was opened whole; only then may Close write a manifest

  mutable std::mutex mu_;
  bool closed_ = false;                                                        // guarded by mu_
  std::map<std::string, std::shared_ptr<Collection>, std::less<>> collections_;  // guarded by mu_
  std::map<std::string, std::string, std::less<>> aliases_;                     // guarded by mu_: alias -> name
  std::map<std::string, Unavailable, std::less<>> unavailable_;                 // guarded by mu_

  mutable std::mutex manifest_mu_;
  Manifest manifest_;               // guarded by manifest_mu_ (its sync metadata also in memory)
  uint64_t current_manifest_ = 0;   // guarded by manifest_mu_
};

// Checks a collection or alias name: 1..255 letters, digits, '-', '_' or '.'.
Status ValidateCollectionName(std::string_view name, std::string_view what);

}  // namespace quiver::db

#endif  // QUIVER_DB_DATABASE_CORE_H_
