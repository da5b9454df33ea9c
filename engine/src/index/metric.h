// Metrics and how an index turns a kernel's raw value into a distance, where smaller is always closer:
//   kL2           squared Euclidean distance
//   kInnerProduct negated dot product
//   kCosine       negated dot product of vectors normalised to unit length when stored (and queries when asked)
//   kL1           Manhattan distance
// The database layer turns distances into the scores users see.
#ifndef QUIVER_INDEX_METRIC_H_
#define QUIVER_INDEX_METRIC_H_

#include <cstdint>
#include <string_view>

namespace quiver::index {

enum class Metric : uint8_t { kL2 = 0, kInnerProduct = 1, kCosine = 2, kL1 = 3 };

inline constexpr uint8_t kMaxMetric = 3;

constexpr std::string_view MetricName(Metric m) {
  switch (m) {
    case Metric::kL2: return "l2";
    case Metric::kInnerProduct: return "ip";
    case Metric::kCosine: return "cosine";
    case Metric::kL1: return "l1";
  }
  return "unknown";
}

}  // namespace quiver::index

#endif  // QUIVER_INDEX_METRIC_H_
