// AlignedArray<T>: a growable array of trivially copyable T whose storage starts on a 64-byte boundary (one cache
// line, one AVX-512 register). Vectors and graph links live in these. Large arrays are mapped from the operating
// system, aligned to huge pages and advised to use them, grown by remapping their pages where the system can
// (no copy, so no moment with two copies held) and unmapped when freed (base/huge_pages.h). Otherwise growing
// copies the contents. Pointers into the array are invalidated by any call that grows it.
//
// Thread safety: like std::vector.
#ifndef QUIVER_BASE_ALIGNED_ARRAY_H_
#define QUIVER_BASE_ALIGNED_ARRAY_H_

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <new>
#include <type_traits>
#include <utility>

#include "base/huge_pages.h"

namespace quiver {

inline constexpr size_t kCacheLine = 64;

template <typename T>
class AlignedArray {
  static_assert(std::is_trivially_copyable_v<T>);

 public:
  AlignedArray() = default;
  explicit AlignedArray(size_t n) { Resize(n); }
  AlignedArray(const AlignedArray& other) { *this = other; }
  AlignedArray& operator=(const AlignedArray& other) {
    if (this != &other) {
      Clear();
      Reserve(other.size_);
      if (other.size_) std::memcpy(data_, other.data_, other.size_ * sizeof(T));
      size_ = other.size_;
    }
    return *this;
  }
  AlignedArray(AlignedArray&& other) noexcept { Swap(other); }
  AlignedArray& operator=(AlignedArray&& other) noexcept {
    if (this != &other) {
      Clear();
      Swap(other);
    }
    return *this;
  }
  ~AlignedArray() { Clear(); }

  void Swap(AlignedArray& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(alignment_, other.alignment_);
    std::swap(mapped_, other.mapped_);
    std::swap(size_, other.size_);
    std::swap(capacity_, other.capacity_);
  }

  T* data() { return data_; }
  const T* data() const { return data_; }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  bool empty() const { return size_ == 0; }
  T& operator[](size_t i) { return data_[i]; }
  const T& operator[](size_t i) const { return data_[i]; }
  size_t bytes() const { return capacity_ * sizeof(T); }

  // Ensures room for n elements without further allocation. Growing a non-empty array allocates at least half
  // again its capacity, so reserving one more element at a time stays amortised constant.
  void Reserve(size_t n) {
    if (n <= capacity_) return;
    if (capacity_ > 0) n = std::max(n, capacity_ + capacity_ / 2);
    ReserveExact(n);
  }

  // Ensures room for exactly n elements (no geometric step): for callers that size their own growth.
  void ReserveExact(size_t n) {
    if (n <= capacity_) return;
    const size_t bytes = n * sizeof(T);
    const size_t alignment = kHugePagesPossible && bytes >= kHugePageThreshold ? kHugePageSize : kCacheLine;
    if (mapped_) {
      if (void* grown = GrowLarge(data_, capacity_ * sizeof(T), bytes)) {
        data_ = static_cast<T*>(grown);
        capacity_ = n;
        return;
      }
    }
    T* fresh = alignment == kHugePageSize ? static_cast<T*>(AllocateLarge(bytes)) : nullptr;
    const bool mapped = fresh != nullptr;
    if (!mapped) {
      fresh = static_cast<T*>(::operator new(bytes, std::align_val_t(alignment)));
      if (alignment == kHugePageSize) AdviseHugePages(fresh, bytes);
    }
    if (size_) std::memcpy(fresh, data_, size_ * sizeof(T));
    Free();
    data_ = fresh;
    capacity_ = n;
    alignment_ = alignment;
    mapped_ = mapped;
  }

  // Resizes to n elements; new elements are zero bytes. Grows capacity geometrically.
  void Resize(size_t n) {
    if (n > capacity_) Reserve(n);
    if (n > size_) std::memset(static_cast<void*>(data_ + size_), 0, (n - size_) * sizeof(T));
    size_ = n;
  }

  // Resizes to n elements, leaving new elements unwritten: the caller writes every one before reading it.
  void ResizeForOverwrite(size_t n) {
    if (n > capacity_) Reserve(n);
    size_ = n;
  }

  void Clear() {
    Free();
    data_ = nullptr;
    size_ = capacity_ = 0;
  }

 private:
  void Free() {
    if (!data_) return;
    if (mapped_) {
      FreeLarge(data_, capacity_ * sizeof(T));
    } else {
      ::operator delete(data_, std::align_val_t(alignment_));
    }
  }

  T* data_ = nullptr;
  size_t alignment_ = kCacheLine;
  bool mapped_ = false;  // from AllocateLarge
  size_t size_ = 0;
  size_t capacity_ = 0;
};

}  // namespace quiver

#endif  // QUIVER_BASE_ALIGNED_ARRAY_H_
