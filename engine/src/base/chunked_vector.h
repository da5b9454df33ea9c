// ChunkedVector<T>: a sequence indexed like std::vector, held in fixed chunks of 2^kShift elements. Growing adds a
// chunk and never moves what is stored, so a table that grows to millions of entries never holds an old and a new
// copy of itself at once, and leaves no freed copies behind in the allocator (a std::vector of 200-byte records
// leaves about its own size free in the heap after growing: memory the process keeps). References to elements
// stay valid while it grows.
//
// Elements of a new chunk are value-initialised when the chunk is added; size() counts only those pushed or
// resized into. Thread safety: like std::vector.
#ifndef QUIVER_BASE_CHUNKED_VECTOR_H_
#define QUIVER_BASE_CHUNKED_VECTOR_H_

#include <cstddef>
#include <iterator>
#include <memory>
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
      : chunks_(std::move(other.chunks_)), size_(std::exchange(other.size_, 0)) {}
  ChunkedVector& operator=(ChunkedVector&& other) noexcept {
    chunks_ = std::move(other.chunks_);
    other.chunks_.clear();
    size_ = std::exchange(other.size_, 0);
    return *this;
  }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // Elements allocated, pushed or not.
  size_t capacity() const { return chunks_.size() * kChunk; }

  T& operator[](size_t i) { return chunks_[i >> kShift][i & (kChunk - 1)]; }
  const T& operator[](size_t i) const { return chunks_[i >> kShift][i & (kChunk - 1)]; }
  T& back() { return (*this)[size_ - 1]; }

  void push_back(T value) {
    if (size_ == capacity()) chunks_.push_back(std::make_unique<T[]>(kChunk));
    (*this)[size_++] = std::move(value);
  }

  // Grows with value-initialised elements or drops the last ones (their chunks are kept).
  void resize(size_t n) {
    while (capacity() < n) chunks_.push_back(std::make_unique<T[]>(kChunk));
    for (size_t i = n; i < size_; ++i) (*this)[i] = T();
    size_ = n;
  }

  template <typename V>
  class Iterator {
   public:
    using iterator_category = std::forward_iterator_tag;
    using value_type = T;
    using difference_type = std::ptrdiff_t;
    using pointer = V*;
    using reference = V&;
    Iterator() = default;
    Iterator(std::conditional_t<std::is_const_v<V>, const ChunkedVector*, ChunkedVector*> owner, size_t i)
        : owner_(owner), i_(i) {}
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
    std::conditional_t<std::is_const_v<V>, const ChunkedVector*, ChunkedVector*> owner_ = nullptr;
    size_t i_ = 0;
  };
  Iterator<T> begin() { return {this, 0}; }
  Iterator<T> end() { return {this, size_}; }
  Iterator<const T> begin() const { return {this, 0}; }
  Iterator<const T> end() const { return {this, size_}; }

 private:
  std::vector<std::unique_ptr<T[]>> chunks_;
  size_t size_ = 0;
};

}  // namespace quiver

#endif  // QUIVER_BASE_CHUNKED_VECTOR_H_
