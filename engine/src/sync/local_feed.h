// LocalFeedStore: the server's feeds kept in a Quiver database (the collection change feed of
// db/collection_core.h, "Change feed"): one collection per feed, the database's sync metadata for the store.
//
// Thread safety: internally synchronised (through the database and its collections).
#ifndef QUIVER_SYNC_LOCAL_FEED_H_
#define QUIVER_SYNC_LOCAL_FEED_H_

#include <memory>

#include "quiver/database.h"

namespace quiver::db {
class DatabaseCore;
}
#include "sync/feed.h"

namespace quiver::sync {

// `db` must outlive the store (a face passes &database.core()).
std::unique_ptr<FeedStore> NewLocalFeedStore(db::DatabaseCore* db);

// Helpers shared with the sync client: a point's delta under a register filter, read from a collection.
namespace local {
// The configuration's semantic part (vector names, sizes, distances; sparse vector names and modifiers)
// hashed: collections with equal hashes store and compare vectors alike (SYNC.md 2.11). 16 hex digits. A
// collection without sparse vectors hashes as it did before they existed.
std::string ConfigHash(const CollectionConfig& config);
// Checks a delta against a collection's dense and sparse vector spaces.
Status ValidateDelta(const PointDelta& point, const std::vector<db::VectorSpace>& spaces,
                     const std::vector<db::SparseSpace>& sparse_spaces);
}  // namespace local

}  // namespace quiver::sync

#endif  // QUIVER_SYNC_LOCAL_FEED_H_
