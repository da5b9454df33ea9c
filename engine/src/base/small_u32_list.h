// SmallU32List: a list of uint32_t in 16 bytes, its first two entries inline and a heap array only past that.
//
// A segment keeps one per point for the point's row in each dense vector space and one for its sparse spaces:
// a collection has one or two of each, often none sparse, so a std::vector (24 bytes and a 32-byte heap block for
// one or two entries) cost about 80 bytes a point where this costs 32. The interface is the part of std::vector
// those lists use; copies are deep.
//
// Thread safety: like std::vector.
#ifndef QUIVER_BASE_SMALL_U32_LIST_H_
#define QUIVER_BASE_SMALL_U32_LIST_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <utility>

namespace quiver {

class SmallU32List {
 public:
  static constexpr size_t kInline = 2;

  SmallU32List() = default;
  SmallU32List(const SmallU32List& other) { CopyFrom(other); }
  SmallU32List(SmallU32List&& other) noexcept { StealFrom(other); }
  SmallU32List& operator=(const SmallU32List& other) {
    if (this != &other) {
      Release();
      CopyFrom(other);
    }
    return *this;
  }
  SmallU32List& operator=(SmallU32List&& other) noexcept {
    if (this != &other) {
      Release();
      StealFrom(other);
    }
    return *this;
  }
  ~SmallU32List() { Release(); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  uint32_t* data() { return OnHeap() ? heap_ : inline_; }
  const uint32_t* data() const { return OnHeap() ? heap_ : inline_; }
  uint32_t& operator[](size_t i) { return data()[i]; }
  const uint32_t& operator[](size_t i) const { return data()[i]; }
  uint32_t* begin() { return data(); }
  uint32_t* end() { return data() + size_; }
  const uint32_t* begin() const { return data(); }
  const uint32_t* end() const { return data() + size_; }

  // n entries, each `value`.
  void assign(size_t n, uint32_t value) {
    Release();
    Allocate(n);
    std::fill(begin(), end(), value);
  }
  // Keeps the first min(n, size()) entries; new ones are `value`.
  void resize(size_t n, uint32_t value = 0) {
    if (n == size_) return;
    SmallU32List next;
    next.Allocate(n);
    const size_t kept = std::min<size_t>(n, size_);
    std::copy(begin(), begin() + kept, next.begin());
    std::fill(next.begin() + kept, next.end(), value);
    *this = std::move(next);
  }

  friend bool operator==(const SmallU32List& a, const SmallU32List& b) {
    return a.size_ == b.size_ && std::equal(a.begin(), a.end(), b.begin());
  }

  // Heap bytes beyond the object itself.
  size_t heap_bytes() const { return OnHeap() ? size_ * sizeof(uint32_t) : 0; }

 private:
  bool OnHeap() const { return size_ > kInline; }
  void Allocate(size_t n) {
    size_ = static_cast<uint32_t>(n);
    if (OnHeap()) heap_ = new uint32_t[n];
  }
  void Release() {
    if (OnHeap()) delete[] heap_;
    size_ = 0;
  }
  void CopyFrom(const SmallU32List& other) {
    Allocate(other.size_);
    std::copy(other.begin(), other.end(), begin());
  }
  void StealFrom(SmallU32List& other) {
    size_ = other.size_;
    std::memcpy(inline_, other.inline_, sizeof(inline_));  // the heap pointer or the inline entries
    other.size_ = 0;
  }

  uint32_t size_ = 0;
  union {
    uint32_t inline_[kInline] = {};
    uint32_t* heap_;
  };
};

static_assert(sizeof(SmallU32List) == 16 || sizeof(void*) < 8, "two inline entries and a size in 16 bytes");

}  // namespace quiver

#endif  // QUIVER_BASE_SMALL_U32_LIST_H_
