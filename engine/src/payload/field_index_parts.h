// The pieces the payload field indexes share (field_index.h): key encoding in the stored layout, the
// lookup-only posting map, and walking an index to look a predicate up or count its matches. Internal to the
// payload layer; each index kind lives in its own file (field_index_lookup.cc: keyword, bool, uuid;
// field_index_numeric.cc: integer, float, datetime; field_index_geo.cc; field_index_text.cc).
//
// Thread safety: as FieldIndex.
#ifndef QUIVER_PAYLOAD_FIELD_INDEX_PARTS_H_
#define QUIVER_PAYLOAD_FIELD_INDEX_PARTS_H_

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "base/coding.h"
#include "payload/field_index.h"
#include "payload/ordered_postings.h"

namespace quiver::payload::field_index_parts {

namespace json = boost::json;

inline std::string_view View(const json::string& s) { return std::string_view(s.data(), s.size()); }

// Bytes a std::map node costs beyond its payload (three pointers, colour, allocator slack).
constexpr size_t kMapNodeOverhead = 48;

// Keys in the stored layout (docs/formats.md, "Payload index section"): strings length-prefixed, UUIDs as 16
// bytes, numbers as little-endian fixed-width values.
inline void PutKey(std::string* out, const std::string& k) { PutLengthPrefixed(out, k); }
inline void PutKey(std::string* out, const std::array<uint8_t, 16>& k) {
  out->append(reinterpret_cast<const char*>(k.data()), k.size());
}
inline void PutKey(std::string* out, int64_t k) { PutFixed64(out, static_cast<uint64_t>(k)); }
inline void PutKey(std::string* out, double k) { PutDouble(out, k); }
inline void PutKey(std::string* out, uint8_t k) { PutFixed8(out, k); }
inline void PutKey(std::string* out, uint32_t k) { PutFixed32(out, k); }

inline Status ReadKey(ByteReader* in, std::string* k) {
  std::string_view v;
  QUIVER_RETURN_IF_ERROR(in->ReadLengthPrefixed(&v, "key"));
  k->assign(v);
  return Status::OK();
}
inline Status ReadKey(ByteReader* in, std::array<uint8_t, 16>* k) {
  std::span<const uint8_t> v;
  QUIVER_RETURN_IF_ERROR(in->ReadBytes(k->size(), &v, "key"));
  std::copy(v.begin(), v.end(), k->begin());
  return Status::OK();
}
inline Status ReadKey(ByteReader* in, int64_t* k) {
  uint64_t v = 0;
  QUIVER_RETURN_IF_ERROR(in->ReadU64(&v, "key"));
  *k = static_cast<int64_t>(v);
  return Status::OK();
}
inline Status ReadKey(ByteReader* in, double* k) {
  QUIVER_RETURN_IF_ERROR(in->ReadDouble(k, "key"));
  return std::isnan(*k) ? in->Error("NaN key") : Status::OK();
}
inline Status ReadKey(ByteReader* in, uint8_t* k) { return in->ReadU8(k, "key"); }
inline Status ReadKey(ByteReader* in, uint32_t* k) { return in->ReadU32(k, "key"); }

inline uint32_t MapSlot(std::span<const uint32_t> remap, uint32_t slot) {
  return slot < remap.size() ? remap[slot] : kDroppedSlot;
}

// A map from keys to sorted slot lists, for indexes that only look keys up (keyword, uuid, text).
template <typename Key, typename Compare = std::less<>>
class Postings {
 public:
  template <typename K>
  void Add(const K& key, uint32_t slot) {
    auto it = map_.find(key);
    if (it == map_.end()) it = map_.emplace(Key(key), std::vector<uint32_t>()).first;
    const size_t before = it->second.size();
    AddSlot(&it->second, slot);
    entries_ += it->second.size() - before;
  }
  template <typename K>
  void Remove(const K& key, uint32_t slot) {
    auto it = map_.find(key);
    if (it == map_.end()) return;
    if (RemoveSlot(&it->second, slot)) --entries_;
    if (it->second.empty()) map_.erase(it);
  }
  template <typename K>
  const std::vector<uint32_t>* Find(const K& key) const {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second;
  }
  size_t entries() const { return entries_; }

  // Key count, then per key: the key, its slot count and the slots as gaps (each slot minus one past the
  // previous).
  void Encode(std::span<const uint32_t> remap, std::string* out) const {
    std::string body;
    uint64_t keys = 0;
    std::vector<uint32_t> mapped;
    for (const auto& [key, slots] : map_) {
      mapped.clear();
      for (uint32_t slot : slots) {
        const uint32_t m = MapSlot(remap, slot);
        if (m != kDroppedSlot) mapped.push_back(m);
      }
      if (mapped.empty()) continue;
      PutKey(&body, key);
      PutVarint64(&body, mapped.size());
      uint32_t next = 0;
      for (uint32_t m : mapped) {
        PutVarint64(&body, m - next);
        next = m + 1;
      }
      ++keys;
    }
    PutVarint64(out, keys);
    out->append(body);
  }

  Status Decode(ByteReader* in, uint32_t slot_count) {
    uint64_t keys = 0;
    QUIVER_RETURN_IF_ERROR(in->ReadVarint64(&keys, "key count"));
    if (keys > in->remaining()) return in->Error("key count exceeds the section");
    for (uint64_t i = 0; i < keys; ++i) {
      Key key;
      QUIVER_RETURN_IF_ERROR(ReadKey(in, &key));
      if (!map_.empty() && !Compare()(map_.rbegin()->first, key)) return in->Error("keys out of order");
      uint64_t n = 0;
      QUIVER_RETURN_IF_ERROR(in->ReadVarint64(&n, "slot count"));
      if (n == 0 || n > slot_count || n > in->remaining())
        return in->Error("bad slot count " + std::to_string(n));
      std::vector<uint32_t> slots;
      slots.reserve(n);
      uint64_t next = 0;
      for (uint64_t j = 0; j < n; ++j) {
        uint64_t gap = 0;
        QUIVER_RETURN_IF_ERROR(in->ReadVarint64(&gap, "slot"));
        if (gap >= slot_count || next + gap >= slot_count) return in->Error("slot past the last slot");
        slots.push_back(static_cast<uint32_t>(next + gap));
        next += gap + 1;
      }
      entries_ += slots.size();
      map_.emplace_hint(map_.end(), std::move(key), std::move(slots));
    }
    return Status::OK();
  }

  size_t MemoryUsage() const {
    size_t bytes = 0;
    for (const auto& [key, slots] : map_) {
      bytes += kMapNodeOverhead + sizeof(Key) + sizeof(std::vector<uint32_t>) +
               slots.capacity() * sizeof(uint32_t);
      if constexpr (std::is_same_v<Key, std::string>) {
        if (key.capacity() > 15) bytes += key.capacity() + 1;
      }
    }
    return bytes;
  }

 private:
  std::map<Key, std::vector<uint32_t>, Compare> map_;
  size_t entries_ = 0;  // (key, slot) pairs
};

inline bool AsInt64(const json::value& v, int64_t* out) {
  if (const int64_t* i = v.if_int64()) {
    *out = *i;
    return true;
  }
  if (const uint64_t* u = v.if_uint64()) {
    if (*u <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      *out = static_cast<int64_t>(*u);
      return true;
    }
  }
  return false;
}

inline bool AsDouble(const json::value& v, double* out) {
  if (const double* d = v.if_double()) {
    *out = *d;
    return !std::isnan(*d);
  }
  if (const int64_t* i = v.if_int64()) {
    *out = static_cast<double>(*i);
    return true;
  }
  if (const uint64_t* u = v.if_uint64()) {
    *out = static_cast<double>(*u);
    return true;
  }
  return false;
}

// Entry count, then per entry: the key and the slot (varint), in (key, slot) order.
template <typename Key>
void EncodeOrdered(const OrderedPostings<Key>& postings, std::span<const uint32_t> remap, std::string* out) {
  std::string body;
  uint64_t n = 0;
  postings.ForEachEntry([&](const Key& key, uint32_t slot) {
    const uint32_t m = MapSlot(remap, slot);
    if (m == kDroppedSlot) return;
    PutKey(&body, key);
    PutVarint64(&body, m);
    ++n;
  });
  PutVarint64(out, n);
  out->append(body);
}

template <typename Key, typename Valid>
Status DecodeOrdered(ByteReader* in, uint32_t slot_count, Valid&& valid, OrderedPostings<Key>* out) {
  uint64_t n = 0;
  QUIVER_RETURN_IF_ERROR(in->ReadVarint64(&n, "entry count"));
  if (n > in->remaining()) return in->Error("entry count exceeds the section");
  std::vector<std::pair<Key, uint32_t>> entries;
  entries.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    Key key;
    QUIVER_RETURN_IF_ERROR(ReadKey(in, &key));
    if (!valid(key)) return in->Error("key out of range");
    uint64_t slot = 0;
    QUIVER_RETURN_IF_ERROR(in->ReadVarint64(&slot, "slot"));
    if (slot >= slot_count) return in->Error("slot " + std::to_string(slot) + " past the last slot");
    entries.emplace_back(key, static_cast<uint32_t>(slot));
  }
  if (!out->AssignSorted(entries)) return in->Error("entries out of order");
  return Status::OK();
}

constexpr auto kAnyKey = [](const auto&) { return true; };

template <typename Range, typename T>
bool LowerOk(const Range& r, T x) {
  return (!r.gt || x > *r.gt) && (!r.gte || x >= *r.gte);
}
template <typename Range, typename T>
bool UpperOk(const Range& r, T x) {
  return (!r.lt || x < *r.lt) && (!r.lte || x <= *r.lte);
}

// Ranks [from, to) of a run of entries in an OrderedPostings.
struct Run {
  size_t from = 0;
  size_t to = 0;
};

// The entries whose key k satisfies lower_ok(k) && upper_ok(k), where lower_ok is false then true and
// upper_ok true then false as k grows. Two rank queries.
template <typename Key, typename Lower, typename Upper>
Run RunOf(const OrderedPostings<Key>& postings, Lower&& lower_ok, Upper&& upper_ok) {
  const size_t from = postings.CountBelow([&](const Key& k) { return !lower_ok(k); });
  const size_t to = postings.CountBelow(upper_ok);
  return Run{from, std::max(from, to)};
}

// The entries of one key: their slots are distinct and in order.
template <typename Key>
Run RunOfKey(const OrderedPostings<Key>& postings, Key key) {
  const size_t from = postings.CountBelow([&](const Key& k) { return k < key; });
  const size_t to = postings.CountBelow([&](const Key& k) { return !(key < k); });
  return Run{from, to};
}

// How a predicate's bound relates to its matches.
struct Shape {
  bool exact = true;
  double match_fraction = 1.0;
};

// Index walks report what a predicate selects to a visitor, as runs of ordered entries and as posting lists.
// Gather lists the slots; Tally counts them.
struct Gather {
  std::vector<uint32_t>* out;
  template <typename Key>
  void operator()(const OrderedPostings<Key>& postings, Run run, bool /*one_key*/) const {
    postings.ForEachSlot(run.from, run.to, [this](uint32_t slot) { out->push_back(slot); });
  }
  void operator()(const std::vector<uint32_t>& list) const {
    out->insert(out->end(), list.begin(), list.end());
  }
};

struct Tally {
  size_t points = 0;       // slots with a value in the index
  size_t entries = 0;      // entries selected
  size_t largest = 0;      // the most of them known to be distinct slots (one key's run or list)
  size_t run_entries = 0;  // entries in runs over several keys (slots may repeat)
  double p_in_none = 1.0;  // chance a slot is in none of the one-key lists, were they independent
  template <typename Key>
  void operator()(const OrderedPostings<Key>&, Run run, bool one_key) {
    Add(run.to - run.from, one_key);
  }
  void operator()(const std::vector<uint32_t>& list) { Add(list.size(), true); }
  void Add(size_t n, bool one_key) {
    entries += n;
    if (one_key) {
      largest = std::max(largest, n);
      p_in_none *= points > 0 ? 1 - std::min(1.0, static_cast<double>(n) / static_cast<double>(points)) : 1;
    } else {
      largest = std::max<size_t>(largest, n > 0 ? 1 : 0);
      run_entries += n;
    }
  }
};

// Bounds on the distinct slots among the selected entries of an index holding `total` entries. The entries
// beyond each slot's first number total - points in the whole index, so at least entries - (total - points)
// of the selected ones are distinct slots. Expected: one-key lists united as if independent, plus the runs'
// entries times the share of entries that are a slot's first (points / total).
inline FieldCount CountOf(const Tally& tally, size_t total, Shape shape) {
  const size_t excess = total - std::min(total, tally.points);
  FieldCount c;
  c.max = tally.entries;
  c.min = std::max(tally.largest, tally.entries > excess ? tally.entries - excess : 0);
  const double per_entry =
      total > 0 ? std::min(1.0, static_cast<double>(tally.points) / static_cast<double>(total)) : 1;
  const double expected = static_cast<double>(tally.points) * (1 - tally.p_in_none) +
                          static_cast<double>(tally.run_entries) * per_entry;
  c.expected = std::clamp(expected, static_cast<double>(c.min), static_cast<double>(c.max)) *
               (shape.exact ? 1.0 : shape.match_fraction);
  c.exact = shape.exact;
  return c;
}

// Lookup and Count for an index whose Walk(predicate, visitor) reports runs and lists and returns their
// Shape, or std::nullopt when it cannot bound the predicate.
template <typename Index>
std::optional<FieldBound> LookupByWalk(const Index& index, const FieldPredicate& p) {
  std::vector<uint32_t> slots;
  Gather gather{&slots};
  std::optional<Shape> shape = index.Walk(p, gather);
  if (!shape) return std::nullopt;
  Normalize(&slots);
  return FieldBound{std::move(slots), shape->exact, shape->exact ? 1.0 : shape->match_fraction};
}

template <typename Index>
std::optional<FieldCount> CountByWalk(const Index& index, const FieldPredicate& p, size_t points) {
  Tally tally;
  tally.points = points;
  std::optional<Shape> shape = index.Walk(p, tally);
  if (!shape) return std::nullopt;
  return CountOf(tally, index.entries(), *shape);
}

std::unique_ptr<FieldIndex> MakeKeywordIndex();
std::unique_ptr<FieldIndex> MakeBoolIndex();
std::unique_ptr<FieldIndex> MakeUuidIndex();
std::unique_ptr<FieldIndex> MakeIntegerIndex();
std::unique_ptr<FieldIndex> MakeFloatIndex();
std::unique_ptr<FieldIndex> MakeDatetimeIndex();
std::unique_ptr<FieldIndex> MakeGeoIndex();
std::unique_ptr<FieldIndex> MakeTextIndex();

}  // namespace quiver::payload::field_index_parts

#endif  // QUIVER_PAYLOAD_FIELD_INDEX_PARTS_H_
