// Stamps and the hybrid logical clock that makes them (DESIGN.md "Versions").
//
// An HLC value packs 48 bits of wall-clock milliseconds over a 16-bit counter. The clock never goes
// backwards: it takes the larger of the wall clock and the last value it gave or observed, and counts within
// a millisecond (when the counter would overflow it borrows the next millisecond). A stamp pairs an HLC value
// with the 64-bit id of the replica that made the change; stamps are unique and totally ordered.
//
// Thread safety: HybridClock is internally synchronised.
#ifndef QUIVER_DB_HLC_H_
#define QUIVER_DB_HLC_H_

#include <compare>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>

namespace quiver::db {

struct Stamp {
  uint64_t hlc = 0;
  uint64_t replica = 0;
  friend auto operator<=>(const Stamp&, const Stamp&) = default;
  friend bool operator==(const Stamp&, const Stamp&) = default;
  bool zero() const { return hlc == 0 && replica == 0; }
  std::string ToString() const;
};

inline constexpr uint64_t HlcMillis(uint64_t hlc) { return hlc >> 16; }
inline constexpr uint64_t HlcCounter(uint64_t hlc) { return hlc & 0xFFFF; }
inline constexpr uint64_t MakeHlc(uint64_t millis, uint64_t counter) {
  return (millis << 16) | (counter & 0xFFFF);
}

class HybridClock {
 public:
  // `wall_ms` returns milliseconds since the Unix epoch; empty uses the system clock.
  explicit HybridClock(std::function<uint64_t()> wall_ms = {});

  // The next value: larger than every value given or observed before.
  uint64_t Now();
  // Takes a value seen from another replica (or from storage) into account, so later values exceed it.
  void Observe(uint64_t hlc);
  uint64_t last() const;

  // Sync (engine/sync): a correction added to the wall clock, the sync client's estimate of the server's time
  // minus this machine's (SYNC.md 2.12). Physical time is the wall clock plus the offset.
  void SetOffsetMs(int64_t offset_ms);
  int64_t offset_ms() const;
  uint64_t PhysicalMs() const;
  // Lowers the clock to max(hlc, physical time) when it is above. Only for the sync client repairing a clock that
  // ran ahead, after it re-stamped every register stamped above `hlc` (stamps stay unique per replica).
  void Rewind(uint64_t hlc);

 private:
  uint64_t PhysicalLocked() const;

  std::function<uint64_t()> wall_ms_;
  mutable std::mutex mu_;
  uint64_t last_ = 0;
  int64_t offset_ms_ = 0;  // guarded by mu_
};

}  // namespace quiver::db

#endif  // QUIVER_DB_HLC_H_
