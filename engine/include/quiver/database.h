// Database: the collections and aliases of one Quiver replica, with the replica's identity and hybrid logical
// clock. In memory for now; the storage layer persists it without changing this API.
//
// Thread safety: all methods may be called from any thread. A Collection handle stays valid (and usable) after
// its collection is deleted from the database; it is then detached.
#ifndef QUIVER_DATABASE_H_
#define QUIVER_DATABASE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "quiver/collection.h"
#include "quiver/status.h"
#include "quiver/types.h"

namespace quiver {

namespace db {
class DatabaseCore;
}

struct DatabaseOptions {
  // This replica's 64-bit id, part of every stamp. 0 picks a random one.
  uint64_t replica_id = 0;
  // Wall-clock milliseconds since the Unix epoch for the hybrid logical clock. Empty uses the system clock;
  // tests pass a fake.
  std::function<uint64_t()> wall_clock_ms;
};

class Database {
 public:
  static Result<std::unique_ptr<Database>> Open(const DatabaseOptions& options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  uint64_t replica_id() const;

  // Names are 1..255 characters of letters, digits, '-', '_' and '.'. InvalidArgument for a bad name or config
  // (vector size 1..65536, hnsw m 2..128, ef_construct >= 4, vector names likewise); AlreadyExists if taken
  // (by a collection or an alias).
  Status CreateCollection(std::string_view name, const CollectionConfig& config);
  // NotFound if absent. Aliases pointing at it are removed too.
  Status DeleteCollection(std::string_view name);
  std::vector<std::string> ListCollections() const;
  bool CollectionExists(std::string_view name) const;
  // By collection name or alias. NotFound if neither.
  Result<std::shared_ptr<Collection>> GetCollection(std::string_view name_or_alias) const;

  Status CreateAlias(std::string_view alias, std::string_view collection);
  Status DeleteAlias(std::string_view alias);
  Status RenameAlias(std::string_view old_alias, std::string_view new_alias);
  // Applies all actions or none: the way to switch an alias from one collection to another atomically.
  Status UpdateAliases(std::span<const AliasAction> actions);
  // (alias, collection) pairs, sorted by alias.
  std::vector<std::pair<std::string, std::string>> ListAliases() const;

  db::DatabaseCore& core() { return *core_; }

 private:
  explicit Database(std::unique_ptr<db::DatabaseCore> core);
  std::unique_ptr<db::DatabaseCore> core_;
};

}  // namespace quiver

#endif  // QUIVER_DATABASE_H_
