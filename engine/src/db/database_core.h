// DatabaseCore: the collections and aliases of one replica, its id and its clock. Behind the public Database.
//
// Thread safety: internally synchronised; collection handles are shared pointers that outlive deletion.
#ifndef QUIVER_DB_DATABASE_CORE_H_
#define QUIVER_DB_DATABASE_CORE_H_

#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "db/hlc.h"
#include "quiver/collection.h"
#include "quiver/database.h"

namespace quiver::db {

class DatabaseCore {
 public:
  explicit DatabaseCore(const DatabaseOptions& options);

  uint64_t replica_id() const { return replica_id_; }
  HybridClock& clock() { return clock_; }

  Status CreateCollection(std::string_view name, const CollectionConfig& config);
  Status DeleteCollection(std::string_view name);
  std::vector<std::string> ListCollections() const;
  bool CollectionExists(std::string_view name) const;
  Result<std::shared_ptr<Collection>> GetCollection(std::string_view name_or_alias) const;
  Status UpdateAliases(std::span<const AliasAction> actions);
  std::vector<std::pair<std::string, std::string>> ListAliases() const;

 private:
  // Applies actions to `aliases` (a copy); the caller swaps it in when all succeed.
  Status ApplyAliasAction(const AliasAction& a,
                          std::map<std::string, std::string, std::less<>>* aliases) const;

  uint64_t replica_id_;
  HybridClock clock_;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Collection>, std::less<>> collections_;
  std::map<std::string, std::string, std::less<>> aliases_;  // alias -> collection
};

// Checks a collection or alias name: 1..255 letters, digits, '-', '_' or '.'.
Status ValidateCollectionName(std::string_view name, std::string_view what);

}  // namespace quiver::db

#endif  // QUIVER_DB_DATABASE_CORE_H_
