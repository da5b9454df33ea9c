// ChunkedVector<T>: a sequence indexed like std::vector, held in chunks of 2^kShift elements. Growing fills the
// last chunk (a std::vector that grows up to the chunk size, so a small table stays small) and then starts a new
// one: the full chunks never move, so a table that grows to millions of entries never holds an old and a new copy
// of itself at once, and leaves no freed copies of itself behind in the allocator (a std::vector of 200-byte
// records leaves about its own size free in the heap after growing: memory the process keeps).
//
// Like std::vector, growing may move the elements of the last chunk: references into it do not survive a
// push_back or resize. Thread safety: like std::vector.
#ifndef QUIVER_BASE_CHUNKED_VECTOR_H_
#define QUIVER_BASE_CHUNKED_VECTOR_H_

#include <cstddef>
#include <iterator>
#include <type_traits>
#include <utility>
#include <vector>

namespace quiver {

template <typename T, size_t kShift = 10>
class ChunkedVector {
 public:
  static constexpr size_t kChunk = size_t{1} << kShift;

  ChunkedVector() = default;
  // n value-initialised elements.
  explicit ChunkedVector(size_t n) { resize(n); }
  ChunkedVector(ChunkedVector&& other) noexcept
      : chunks_(std::move(other.chunks_)), size_(std::exchange(other.size_, 0)) {
    other.chunks_.clear();
  }
  ChunkedVector& operator=(ChunkedVector&& other) noexcept {
    chunks_ = std::move(other.chunks_);
    other.chunks_.clear();
    size_ = std::exchange(other.size_, 0);
    return *this;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Elements the chunks have room for.
  size_t capacity() const {
    return chunks_.empty() ? 0 : (chunks_.size() - 1) * kChunk + chunks_.back().capacity();
  }

  T& operator[](size_t i) { return chunks_[i >> kShift][i & (kChunk - 1)]; }
  const T& operator[](size_t i) const { return chunks_[i >> kShift][i & (kChunk - 1)]; }
  T& back() { return (*this)[size_ - 1]; }

  void push_back(T value) {
    if (chunks_.empty() || chunks_.back().size() == kChunk) {
      chunks_.emplace_back();
      if (chunks_.size() > 1) chunks_.back().reserve(kChunk);  // past the first chunk, room for a whole one
    }
    chunks_.back().push_back(std::move(value));
    ++size_;
  }

  // Grows with value-initialised elements or drops the last ones.
  void resize(size_t n) {
    const size_t chunks = (n + kChunk - 1) >> kShift;
    chunks_.resize(chunks);
    for (size_t c = 0; c < chunks; ++c) chunks_[c].resize(c + 1 < chunks ? kChunk : n - c * kChunk);
    size_ = n;
  }

  template <typename V>
  class Iterator {
    using Owner = std::conditional_t<std::is_const_v<V>, const ChunkedVector*, ChunkedVector*>;

   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = V*;
    using reference = V&;
    Iterator() = default;
    Iterator(Owner owner, size_t i) : owner_(owner), i_(i) {}
    V& operator*() const { return (*owner_)[i_]; }
    V* operator->() const { return &(*owner_)[i_]; }
    Iterator& operator++() {
      ++i_;
      return *this;
    }
    Iterator operator++(int) {
      Iterator before = *this;
      ++i_;
      return before;
    }
    friend bool operator==(const Iterator& a, const Iterator& b) { return a.i_ == b.i_; }

   private:
    Owner owner_ = nullptr;
    size_t i_ = 0;
  };
  Iterator<T> begin() { return {this, 0}; }
  Iterator<T> end() { return {this, size_}; }
  Iterator<const T> begin() const { return {this, 0}; }
  Iterator<const T> end() const { return {this, size_}; }

 private:
  std::vector<std::vector<T>> chunks_;
  size_t size_ = 0;
};

}  // namespace quiver

#endif  // QUIVER_BASE_CHUNKED_VECTOR_H_
