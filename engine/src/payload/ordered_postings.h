// OrderedPostings: a sorted set of (key, slot) entries that counts by rank, the structure behind the payload
// indexes that answer ranges (integer, float, datetime, geo cells) and bool.
//
// Entries sit in blocks of at most kMaxBlock sorted entries (a two-level B-tree). A directory of each block's
// first entry finds a block by binary search, and a Fenwick tree over the block sizes gives the number of
// entries before any block, so:
//   - CountBelow (the rank of a key) is O(log n): two binary searches and a Fenwick prefix sum;
//   - Insert and Erase are O(kMaxBlock + log n): a shift inside one block and a Fenwick update. A block that
//     overflows is split and one that runs low is merged with a neighbour, which rebuilds the directory in
//     O(n / kMaxBlock); a block changes shape at most once per kMaxBlock / 4 writes to it.
//   - ForEachSlot(from, to) is O(log n + (to - from)).
// Nothing is rebuilt lazily, so const methods never write.
//
// Thread safety: const methods may run concurrently; Insert and Erase need exclusive access.
#ifndef QUIVER_PAYLOAD_ORDERED_POSTINGS_H_
#define QUIVER_PAYLOAD_ORDERED_POSTINGS_H_

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace quiver::payload {

// Key: a totally ordered value type under operator< (no NaN).
template <typename Key>
class OrderedPostings {
 public:
  static constexpr size_t kMaxBlock = 512;
  static constexpr size_t kMinBlock = kMaxBlock / 8;

  // Adds (key, slot); false if it is already there.
  bool Insert(Key key, uint32_t slot) {
    const Entry e{key, slot};
    if (blocks_.empty()) {
      blocks_.push_back({e});
      size_ = 1;
      Rebuild();
      return true;
    }
    const size_t b = BlockFor(e);
    std::vector<Entry>& block = blocks_[b];
    auto it = std::lower_bound(block.begin(), block.end(), e, Less);
    if (it != block.end() && !Less(e, *it)) return false;
    const bool first = it == block.begin();
    block.insert(it, e);
    ++size_;
    if (block.size() > kMaxBlock) {
      Split(b);
      return true;
    }
    if (first) firsts_[b] = e;
    FenwickAdd(b, 1);
    return true;
  }

  // Removes (key, slot); false if it is not there.
  bool Erase(Key key, uint32_t slot) {
    if (blocks_.empty()) return false;
    const Entry e{key, slot};
    const size_t b = BlockFor(e);
    std::vector<Entry>& block = blocks_[b];
    auto it = std::lower_bound(block.begin(), block.end(), e, Less);
    if (it == block.end() || Less(e, *it)) return false;
    block.erase(it);
    --size_;
    if (block.size() < kMinBlock && (block.empty() || blocks_.size() > 1)) {
      Merge(b);
      return true;
    }
    firsts_[b] = block.front();
    FenwickAdd(b, -1);
    return true;
  }

  size_t size() const { return size_; }

  // The number of entries whose key satisfies `below(key)`, a predicate that holds for every key up to some
  // point and for none after it (for example [x](Key k) { return k < x; }).
  template <typename Below>
  size_t CountBelow(Below&& below) const {
    const auto first_fails =
        std::partition_point(firsts_.begin(), firsts_.end(), [&](const Entry& e) { return below(e.key); });
    if (first_fails == firsts_.begin()) return 0;
    const size_t b = static_cast<size_t>(first_fails - firsts_.begin()) - 1;
    const std::vector<Entry>& block = blocks_[b];
    const auto in_block =
        std::partition_point(block.begin(), block.end(), [&](const Entry& e) { return below(e.key); });
    return FenwickPrefix(b) + static_cast<size_t>(in_block - block.begin());
  }

  // Calls fn(slot) for the entries of ranks [from, to), in (key, slot) order. Requires from <= to <= size().
  template <typename Fn>
  void ForEachSlot(size_t from, size_t to, Fn&& fn) const {
    if (from >= to) return;
    auto [b, offset] = Locate(from);
    for (size_t left = to - from; left > 0 && b < blocks_.size(); ++b, offset = 0) {
      const std::vector<Entry>& block = blocks_[b];
      const size_t take = std::min(left, block.size() - offset);
      for (size_t i = offset; i < offset + take; ++i) fn(block[i].slot);
      left -= take;
    }
  }

  // Calls fn(key, slot) for every entry, in (key, slot) order.
  template <typename Fn>
  void ForEachEntry(Fn&& fn) const {
    for (const std::vector<Entry>& block : blocks_) {
      for (const Entry& e : block) fn(e.key, e.slot);
    }
  }

  // Replaces the contents with `entries`, which must be strictly increasing in (key, slot) order (false, and
  // nothing changed, when they are not): O(n), for loading a stored index.
  bool AssignSorted(const std::vector<std::pair<Key, uint32_t>>& entries) {
    for (size_t i = 1; i < entries.size(); ++i) {
      if (!Less(Entry{entries[i - 1].first, entries[i - 1].second},
                Entry{entries[i].first, entries[i].second})) {
        return false;
      }
    }
    blocks_.clear();
    constexpr size_t kFill = kMaxBlock / 2;  // room to grow before the first split
    for (size_t i = 0; i < entries.size(); i += kFill) {
      std::vector<Entry> block;
      const size_t end = std::min(entries.size(), i + kFill);
      block.reserve(end - i);
      for (size_t j = i; j < end; ++j) block.push_back(Entry{entries[j].first, entries[j].second});
      blocks_.push_back(std::move(block));
    }
    size_ = entries.size();
    Rebuild();
    return true;
  }

  size_t MemoryUsage() const {
    size_t bytes = blocks_.capacity() * sizeof(std::vector<Entry>) + firsts_.capacity() * sizeof(Entry) +
                   fenwick_.capacity() * sizeof(size_t);
    for (const std::vector<Entry>& block : blocks_) bytes += block.capacity() * sizeof(Entry);
    return bytes;
  }

 private:
  struct Entry {
    Key key;
    uint32_t slot;
  };

  static bool Less(const Entry& a, const Entry& b) {
    if (a.key < b.key) return true;
    if (b.key < a.key) return false;
    return a.slot < b.slot;
  }

  // The block that holds or would hold `e`: the last block whose first entry is <= e, else the first block.
  size_t BlockFor(const Entry& e) const {
    const auto after = std::upper_bound(firsts_.begin(), firsts_.end(), e, Less);
    return after == firsts_.begin() ? 0 : static_cast<size_t>(after - firsts_.begin()) - 1;
  }

  // Block b's second half becomes a new block after it.
  void Split(size_t b) {
    std::vector<Entry>& block = blocks_[b];
    const auto middle = block.begin() + static_cast<std::ptrdiff_t>(block.size() / 2);
    std::vector<Entry> upper(middle, block.end());
    block.erase(middle, block.end());
    block.shrink_to_fit();
    blocks_.insert(blocks_.begin() + static_cast<std::ptrdiff_t>(b) + 1, std::move(upper));
    Rebuild();
  }

  // Block b ran low: it joins a neighbour (split again if the two are too many), or goes when empty.
  void Merge(size_t b) {
    if (blocks_[b].empty()) {
      blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(b));
      Rebuild();
      return;
    }
    const size_t left = b + 1 < blocks_.size() ? b : b - 1;
    std::vector<Entry>& into = blocks_[left];
    std::vector<Entry>& from = blocks_[left + 1];
    into.insert(into.end(), from.begin(), from.end());
    blocks_.erase(blocks_.begin() + static_cast<std::ptrdiff_t>(left) + 1);
    if (blocks_[left].size() > kMaxBlock) {
      Split(left);
    } else {
      Rebuild();
    }
  }

  // Rebuilds the directory and the Fenwick tree from the blocks: O(number of blocks).
  void Rebuild() {
    firsts_.clear();
    fenwick_.assign(blocks_.size() + 1, 0);
    for (size_t b = 0; b < blocks_.size(); ++b) {
      firsts_.push_back(blocks_[b].front());
      fenwick_[b + 1] += blocks_[b].size();
      const size_t parent = (b + 1) + ((b + 1) & (~(b + 1) + 1));
      if (parent < fenwick_.size()) fenwick_[parent] += fenwick_[b + 1];
    }
  }

  // Adds `delta` to the size of block b.
  void FenwickAdd(size_t b, int delta) {
    for (size_t i = b + 1; i < fenwick_.size(); i += i & (~i + 1)) fenwick_[i] += static_cast<size_t>(delta);
  }

  // The number of entries in blocks [0, b).
  size_t FenwickPrefix(size_t b) const {
    size_t sum = 0;
    for (size_t i = b; i > 0; i -= i & (~i + 1)) sum += fenwick_[i];
    return sum;
  }

  // The block and offset of the entry of rank r (blocks_.size() when r == size()).
  std::pair<size_t, size_t> Locate(size_t r) const {
    size_t pos = 0;  // blocks [0, pos) hold at most r entries
    size_t step = 1;
    while (step * 2 < fenwick_.size()) step *= 2;
    for (; step > 0; step /= 2) {
      if (pos + step < fenwick_.size() && fenwick_[pos + step] <= r) {
        pos += step;
        r -= fenwick_[pos];
      }
    }
    return {pos, r};
  }

  std::vector<std::vector<Entry>> blocks_;  // sorted, non-empty, each block's entries below the next's
  std::vector<Entry> firsts_;               // firsts_[b] == blocks_[b].front()
  std::vector<size_t> fenwick_;             // 1-based Fenwick tree over the block sizes
  size_t size_ = 0;
};

}  // namespace quiver::payload

#endif  // QUIVER_PAYLOAD_ORDERED_POSTINGS_H_
