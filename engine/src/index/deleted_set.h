// DeletedSet: a bitmap of deleted rows with a count. Rows past the end are not deleted.
#ifndef QUIVER_INDEX_DELETED_SET_H_
#define QUIVER_INDEX_DELETED_SET_H_

#include <cstddef>
#include <cstdint>
#include <vector>

namespace quiver::index {

class DeletedSet {
 public:
  bool Contains(uint32_t row) const {
    size_t w = row >> 6;
    return w < words_.size() && ((words_[w] >> (row & 63)) & 1);
  }
  // Returns true if the row was not deleted before.
  bool Insert(uint32_t row) {
    size_t w = row >> 6;
    if (w >= words_.size()) words_.resize(w + 1, 0);
    uint64_t bit = uint64_t{1} << (row & 63);
    if (words_[w] & bit) return false;
    words_[w] |= bit;
    ++count_;
    return true;
  }
  size_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  const std::vector<uint64_t>& words() const { return words_; }
  size_t MemoryUsage() const { return words_.capacity() * sizeof(uint64_t); }

  // Replaces the contents with `words` (bits past `rows` must be clear); recomputes the count.
  void Assign(std::vector<uint64_t> words) {
    words_ = std::move(words);
    count_ = 0;
    for (uint64_t w : words_) count_ += static_cast<size_t>(__builtin_popcountll(w));
  }

 private:
  std::vector<uint64_t> words_;
  size_t count_ = 0;
};

}  // namespace quiver::index

#endif  // QUIVER_INDEX_DELETED_SET_H_
