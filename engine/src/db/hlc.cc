#include "db/hlc.h"

#include <algorithm>
#include <chrono>

namespace quiver::db {

std::string Stamp::ToString() const {
  return std::to_string(HlcMillis(hlc)) + "." + std::to_string(HlcCounter(hlc)) + "@" +
         std::to_string(replica);
}

HybridClock::HybridClock(std::function<uint64_t()> wall_ms) : wall_ms_(std::move(wall_ms)) {
  if (!wall_ms_) {
    wall_ms_ = [] {
      return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count());
    };
  }
}

uint64_t HybridClock::PhysicalLocked() const {
  const int64_t wall = static_cast<int64_t>(wall_ms_()) + offset_ms_;
  return wall <= 0 ? 0 : static_cast<uint64_t>(wall) & ((uint64_t{1} << 48) - 1);
}

uint64_t HybridClock::Now() {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t wall = PhysicalLocked();
  const uint64_t last_ms = HlcMillis(last_);
  if (wall > last_ms) {
    last_ = MakeHlc(wall, 0);
  } else if (HlcCounter(last_) < 0xFFFF) {
    last_ += 1;
  } else {
    last_ = MakeHlc(last_ms + 1, 0);
  }
  return last_;
}

void HybridClock::Observe(uint64_t hlc) {
  std::lock_guard<std::mutex> lock(mu_);
  if (hlc > last_) last_ = hlc;
}

uint64_t HybridClock::last() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_;
}

void HybridClock::SetOffsetMs(int64_t offset_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  offset_ms_ = offset_ms;
}

int64_t HybridClock::offset_ms() const {
  std::lock_guard<std::mutex> lock(mu_);
  return offset_ms_;
}

uint64_t HybridClock::PhysicalMs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return PhysicalLocked();
}

void HybridClock::Rewind(uint64_t hlc) {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t floor = std::max(hlc, MakeHlc(PhysicalLocked(), 0));
  if (last_ > floor) last_ = floor;
}

}  // namespace quiver::db
