// Helpers for the sync tests: in-memory databases with fake clocks, a server with its SyncService, and clients.
#ifndef QUIVER_TESTS_SYNC_TEST_UTIL_H_
#define QUIVER_TESTS_SYNC_TEST_UTIL_H_

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "db/collection_core.h"
#include "db/database_core.h"
#include "quiver/database.h"
#include "sync/client.h"
#include "sync/local_feed.h"
#include "sync/loopback_transport.h"
#include "sync/service.h"

namespace quiver::testing {

struct FakeClock {
  uint64_t ms = 1'700'000'000'000ull;
};

inline std::unique_ptr<Database> OpenSyncDatabase(uint64_t replica, std::shared_ptr<FakeClock> clock) {
  DatabaseOptions options;
  options.replica_id = replica;
  options.wall_clock_ms = [clock] { return clock->ms; };
  auto db = Database::Open(options);
  REQUIRE(db.ok());
  return std::move(*db);
}

inline CollectionConfig SyncConfig(uint32_t dim = 3, Distance distance = Distance::kEuclid) {
  CollectionConfig c;
  c.vectors[""] = VectorParams{dim, distance, IndexKind::kFlat, std::nullopt, std::nullopt};
  return c;
}

// Runs one round to its end (loopback transports answer at once) and returns its status.
inline Status SyncNow(sync::SyncClient& client) {
  Status result = Status::Internal("the round did not finish");
  bool finished = false;
  client.Sync([&](Status s) {
    result = s;
    finished = true;
  });
  REQUIRE(finished);
  return result;
}

inline std::string Digest(Database& db, const std::string& name) {
  auto c = db.GetCollection(name);
  REQUIRE(c.ok());
  return (*c)->core().StateDigest();
}

}  // namespace quiver::testing

#endif  // QUIVER_TESTS_SYNC_TEST_UTIL_H_
