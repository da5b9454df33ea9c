// Fusing ranked lists of points into one, as Qdrant's fusion queries do (lib/segment/src/common:
// reciprocal_rank_fusion.rs and score_fusion.rs).
//
// RRF (reciprocal rank fusion): a point at 0-based position p of list i scores 1 / ((p + 1) / w_i + k - 1),
// summed over the lists it appears in (w_i: the list's weight, 1 by default; a weight <= 0 contributes 0). With
// w = 1 that is the classic 1 / (p + k). Only positions matter, not the lists' scores. Qdrant's default k is 2.
//
// DBSF (distribution-based score fusion): each list's scores are normalised to (s - (mean - 3 sd)) / (6 sd),
// with the sample standard deviation (n - 1), then summed per point. A list of one point scores it 0.5; a list
// whose spread is zero scores every point 0.5. Scores are not clamped to [0, 1]. A list whose scores are
// distances (Euclid, Manhattan: smaller is better) is negated first, so that a closer point always scores
// higher (Qdrant normalises the raw distances, which would reward farther points).
//
// Both return every point of the lists once, best first, ties by point id (Qdrant leaves ties unordered).
// Arithmetic is in float, as Qdrant's.
//
// Thread safety: pure functions.
#ifndef QUIVER_DB_FUSION_H_
#define QUIVER_DB_FUSION_H_

#include <cstdint>
#include <span>
#include <vector>

#include "quiver/point_id.h"

namespace quiver::db {

// One entry of a ranked list.
struct RankedPoint {
  PointId id;
  float score = 0;
};

// A ranked list, best first.
struct RankedList {
  std::vector<RankedPoint> points;
  bool smaller_is_better = false;  // the scores are distances
};

inline constexpr uint32_t kDefaultRrfK = 2;

// `weights` is empty (all 1) or one per list.
std::vector<RankedPoint> FuseRrf(std::span<const RankedList> lists, uint32_t k, std::span<const float> weights);
std::vector<RankedPoint> FuseDbsf(std::span<const RankedList> lists);

}  // namespace quiver::db

#endif  // QUIVER_DB_FUSION_H_
