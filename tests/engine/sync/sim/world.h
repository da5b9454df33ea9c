// The deterministic sync simulation (SYNC.md 2.15): one server, 3-8 replicas, a virtual network that drops,
// duplicates, delays and reorders messages, per-replica clocks (skew of hours, drift, jumps back, frozen), crashes
// at any step through fault-injecting memory storage, server restores from a backup, epoch resets, tombstone GC,
// token expiry, and an oracle of every register write. Everything is driven by one seed: the same seed replays the
// same run.
//
// Run(seed) returns "" when the run converged and every property held, else a description of the first failure.
#ifndef QUIVER_TESTS_SYNC_SIM_WORLD_H_
#define QUIVER_TESTS_SYNC_SIM_WORLD_H_

#include <cstdint>
#include <string>

namespace quiver::sim {

struct RunReport {
  std::string failure;  // empty when the run passed
  std::string profile;  // what the seed turned on
  uint64_t ops = 0, rounds = 0, messages = 0, dropped = 0, duplicated = 0;
  uint64_t client_crashes = 0, server_crashes = 0, restores = 0, epoch_resets = 0, gc_runs = 0;
  uint64_t resyncs = 0, rejections = 0, clock_repairs = 0, digest_mismatches = 0, regressions_detected = 0;
  uint64_t converge_passes = 0;
};

RunReport Run(uint64_t seed, bool verbose = false);

}  // namespace quiver::sim

#endif  // QUIVER_TESTS_SYNC_SIM_WORLD_H_
