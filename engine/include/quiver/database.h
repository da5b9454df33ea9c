// Database: the collections and aliases of one Quiver replica, with the replica's identity and hybrid logical
// clock. Either in memory or persisted in a folder (DESIGN.md "Storage"): every write goes to a collection's
// write-ahead log and to an unindexed write segment, which is sealed into an immutable segment file at a size
// threshold; segments are merged and indexed (HNSW) by the optimizer. Opening loads segments and their indexes
// and replays the logs.
//
// One writer per folder: a second Open for writing gets Busy. A read-only Open takes no lock and writes nothing.
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
#include "quiver/executor.h"
#include "quiver/status.h"
#include "quiver/types.h"

namespace quiver {

namespace db {
class DatabaseCore;
}

// When a write is durable.
enum class Durability : uint8_t {
  kSync = 0,     // when the call returns (the log is synced, with group commit)
  kBatched = 1,  // within about 100 ms, or at Flush(); a crash may lose the last moments
  kNone = 2,     // at Flush() or Close() only; the operating system decides otherwise
};

// What Database::Repair did to a collection.
struct RepairReport {
  std::string collection;
  uint64_t points = 0;               // live points after the repair
  std::vector<std::string> rebuilt;  // derived data rebuilt from the vectors and payloads, each naming its file
  std::vector<std::string> lost;     // what could not be salvaged, each naming its file and what it held
};

struct DatabaseOptions {
  // This replica's 64-bit id, part of every stamp. 0 picks a random one (a stored database keeps its own).
  uint64_t replica_id = 0;
  // Wall-clock milliseconds since the Unix epoch for the hybrid logical clock. Empty uses the system clock;
  // tests pass a fake.
  std::function<uint64_t()> wall_clock_ms;
  // Folder of the database; empty keeps everything in memory.
  std::string path;
  Durability durability = Durability::kSync;
  // Open without the writer lock; writes fail with FailedPrecondition.
  bool read_only = false;
  // Threads for background work (index builds, merges). Null: that work runs on the writing thread.
  Executor* executor = nullptr;
  // A stored collection's write segment is sealed when it holds this many points.
  size_t segment_points = 20000;
  // After a seal, merge and index segments automatically (in the background with an executor, else before the
  // sealing write returns), in bounded steps: a step indexes about one segment's points into a graph of at most
  // 32 x segment_points, so the work survives processes that are killed after a second or two; opening resumes
  // the steps left. Optimize() merges everything into one segment on demand either way.
  bool auto_optimize = true;
  // Deleted points (tombstones) younger than this are kept through merges so late replicated writes cannot
  // revive them; older ones are dropped.
  uint64_t tombstone_retention_ms = 7ull * 24 * 3600 * 1000;
};

class Database {
 public:
  static Result<std::unique_ptr<Database>> Open(const DatabaseOptions& options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  uint64_t replica_id() const;
  // The folder, or "" in memory.
  const std::string& path() const;

  // Makes every write so far durable (syncs the logs).
  Status Flush();
  // Flushes, waits for background work, and releases the folder's lock. Later calls fail with
  // FailedPrecondition; the destructor closes too.
  Status Close();

  // Names are 1..255 characters of letters, digits, '-', '_' and '.'. InvalidArgument for a bad name or config
  // (vector size 1..65536, hnsw m 2..128, ef_construct >= 4, vector names likewise); AlreadyExists if taken
  // (by a collection or an alias).
  Status CreateCollection(std::string_view name, const CollectionConfig& config);
  // NotFound if absent. Aliases pointing at it are removed too.
  Status DeleteCollection(std::string_view name);
  std::vector<std::string> ListCollections() const;
  bool CollectionExists(std::string_view name) const;
  // By collection name or alias. NotFound if neither. A collection whose files were found damaged when the
  // database opened answers with that Corruption (naming the file) until it is repaired or deleted; the others
  // work.
  Result<std::shared_ptr<Collection>> GetCollection(std::string_view name_or_alias) const;
  // The collections that could not be opened, with the error naming the damaged file.
  std::vector<std::pair<std::string, Status>> UnavailableCollections() const;
  // Repairs a stored collection: rebuilds derived data (HNSW graphs, payload indexes) from the vectors and
  // payloads, keeps every segment, deletion file and log record that checks out, and reports what was lost.
  // An unavailable collection becomes available; an available one is checked first (Verify) and repaired
  // only if its files are damaged (its handles are closed then). FailedPrecondition in memory or read-only.
  Result<RepairReport> Repair(std::string_view collection);

  // Creates collection `name` from a snapshot made by Collection::CreateSnapshot. AlreadyExists if the name is
  // taken; Corruption for a damaged snapshot.
  Status RestoreSnapshot(std::string_view name, std::string_view snapshot);

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
