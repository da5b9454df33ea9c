#include "db/fusion.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

namespace quiver::db {
namespace {

// Sums scores per point in first-seen order, then sorts best first (ties by id).
class Accumulator {
 public:
  void Add(const PointId& id, float score) {
    auto [it, inserted] = index_.try_emplace(id, out_.size());
    if (inserted) {
      out_.push_back(RankedPoint{id, score});
    } else {
      out_[it->second].score += score;
    }
  }
  std::vector<RankedPoint> Sorted() && {
    std::sort(out_.begin(), out_.end(), [](const RankedPoint& a, const RankedPoint& b) {
      if (a.score != b.score) return a.score > b.score;
      return a.id < b.id;
    });
    return std::move(out_);
  }

 private:
  std::unordered_map<PointId, size_t, PointIdHash> index_;
  std::vector<RankedPoint> out_;
};

}  // namespace

std::vector<RankedPoint> FuseRrf(std::span<const RankedList> lists, uint32_t k, std::span<const float> weights) {
  Accumulator acc;
  for (size_t i = 0; i < lists.size(); ++i) {
    const float w = weights.empty() ? 1.0f : weights[i];
    const std::vector<RankedPoint>& points = lists[i].points;
    for (size_t p = 0; p < points.size(); ++p) {
      const float score =
          w <= 0.0f ? 0.0f : 1.0f / (static_cast<float>(p + 1) / w + static_cast<float>(k) - 1.0f);
      acc.Add(points[p].id, score);
    }
  }
  return std::move(acc).Sorted();
}

std::vector<RankedPoint> FuseDbsf(std::span<const RankedList> lists) {
  Accumulator acc;
  for (const RankedList& list : lists) {
    const std::vector<RankedPoint>& points = list.points;
    const float sign = list.smaller_is_better ? -1.0f : 1.0f;
    if (points.size() < 2) {
      for (const RankedPoint& p : points) acc.Add(p.id, 0.5f);
      continue;
    }
    // Welford's one-pass mean and sample variance, in float as Qdrant computes them.
    float mean = 0.0f, aggregate = 0.0f;
    for (size_t i = 0; i < points.size(); ++i) {
      const float s = sign * points[i].score;
      const float old_delta = s - mean;
      mean += old_delta / static_cast<float>(i + 1);
      aggregate += old_delta * (s - mean);
    }
    const float sd = std::sqrt(aggregate / (static_cast<float>(points.size()) - 1.0f));
    const float lo = mean - 3.0f * sd, hi = mean + 3.0f * sd;
    for (const RankedPoint& p : points) {
      acc.Add(p.id, lo == hi ? 0.5f : (sign * p.score - lo) / (hi - lo));
    }
  }
  return std::move(acc).Sorted();
}

}  // namespace quiver::db
