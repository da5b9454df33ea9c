// Heaps over Neighbor used by every search: TopK keeps the k closest seen so far (a max-heap on distance, the
// worst on top), MinQueue hands out the closest pending candidate. Both reuse their storage across searches.
#ifndef QUIVER_INDEX_TOP_K_H_
#define QUIVER_INDEX_TOP_K_H_

#include <algorithm>
#include <cstddef>
#include <limits>
#include <vector>

#include "index/vector_index.h"

namespace quiver::index {

class TopK {
 public:
  void Reset(size_t k) {
    k_ = k;
    heap_.clear();
  }
  size_t size() const { return heap_.size(); }
  bool full() const { return heap_.size() >= k_; }
  // The distance a candidate must beat to enter: +inf until full, then the worst kept.
  float bound() const { return full() ? heap_.front().distance : std::numeric_limits<float>::infinity(); }

  // Keeps (row, d) if it is among the k best seen so far.
  void Push(uint32_t row, float d) {
    if (heap_.size() < k_) {
      heap_.push_back(Neighbor{row, d});
      std::push_heap(heap_.begin(), heap_.end());
    } else if (Neighbor{row, d} < heap_.front()) {
      std::pop_heap(heap_.begin(), heap_.end());
      heap_.back() = Neighbor{row, d};
      std::push_heap(heap_.begin(), heap_.end());
    }
  }

  // Moves the kept neighbours, closest first, into *out.
  void Extract(std::vector<Neighbor>* out) {
    std::sort_heap(heap_.begin(), heap_.end());
    out->assign(heap_.begin(), heap_.end());
    heap_.clear();
  }
  const std::vector<Neighbor>& items() const { return heap_; }

 private:
  size_t k_ = 0;
  std::vector<Neighbor> heap_;
};

class MinQueue {
 public:
  void Clear() { heap_.clear(); }
  bool empty() const { return heap_.empty(); }
  size_t size() const { return heap_.size(); }
  const Neighbor& top() const { return heap_.front(); }
  void Push(uint32_t row, float d) {
    heap_.push_back(Neighbor{row, d});
    std::push_heap(heap_.begin(), heap_.end(), Farther{});
  }
  void Pop() {
    std::pop_heap(heap_.begin(), heap_.end(), Farther{});
    heap_.pop_back();
  }

 private:
  // Candidates only need distance order; ties may come out in any order.
  struct Farther {
    bool operator()(const Neighbor& a, const Neighbor& b) const { return a.distance > b.distance; }
  };
  std::vector<Neighbor> heap_;
};

}  // namespace quiver::index

#endif  // QUIVER_INDEX_TOP_K_H_
