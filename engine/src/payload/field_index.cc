#include "payload/field_index.h"

#include <algorithm>
#include <array>
#include <bit>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <string>

#include "payload/datetime.h"
#include "payload/geo.h"
#include "payload/ordered_postings.h"
#include "payload/text_tokens.h"
#include "quiver/point_id.h"

namespace quiver::payload {
namespace {

namespace json = boost::json;

std::string_view View(const json::string& s) { return std::string_view(s.data(), s.size()); }

// Bytes a std::map node costs beyond its payload (three pointers, colour, allocator slack).
constexpr size_t kMapNodeOverhead = 48;

// Keys in the stored layout (docs/formats.md, "Payload index section"): strings length-prefixed, UUIDs as 16
// bytes, numbers as little-endian fixed-width values.
void PutKey(std::string* out, const std::string& k) { PutLengthPrefixed(out, k); }
void PutKey(std::string* out, const std::array<uint8_t, 16>& k) {
  out->append(reinterpret_cast<const char*>(k.data()), k.size());
}
void PutKey(std::string* out, int64_t k) { PutFixed64(out, static_cast<uint64_t>(k)); }
void PutKey(std::string* out, double k) { PutDouble(out, k); }
void PutKey(std::string* out, uint8_t k) { PutFixed8(out, k); }
void PutKey(std::string* out, uint32_t k) { PutFixed32(out, k); }

Status ReadKey(ByteReader* in, std::string* k) {
  std::string_view v;
  QUIVER_RETURN_IF_ERROR(in->ReadLengthPrefixed(&v, "key"));
  k->assign(v);
  return Status::OK();
}
Status ReadKey(ByteReader* in, std::array<uint8_t, 16>* k) {
  std::span<const uint8_t> v;
  QUIVER_RETURN_IF_ERROR(in->ReadBytes(k->size(), &v, "key"));
  std::copy(v.begin(), v.end(), k->begin());
  return Status::OK();
}
Status ReadKey(ByteReader* in, int64_t* k) {
  uint64_t v = 0;
  QUIVER_RETURN_IF_ERROR(in->ReadU64(&v, "key"));
  *k = static_cast<int64_t>(v);
  return Status::OK();
}
Status ReadKey(ByteReader* in, double* k) {
  QUIVER_RETURN_IF_ERROR(in->ReadDouble(k, "key"));
  return std::isnan(*k) ? in->Error("NaN key") : Status::OK();
}
Status ReadKey(ByteReader* in, uint8_t* k) { return in->ReadU8(k, "key"); }
Status ReadKey(ByteReader* in, uint32_t* k) { return in->ReadU32(k, "key"); }

uint32_t MapSlot(std::span<const uint32_t> remap, uint32_t slot) {
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

bool AsInt64(const json::value& v, int64_t* out) {
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

bool AsDouble(const json::value& v, double* out) {
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
FieldCount CountOf(const Tally& tally, size_t total, Shape shape) {
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

class KeywordIndex final : public FieldIndex {
 public:
  FieldIndexType type() const override { return FieldIndexType::kKeyword; }
  bool Add(uint32_t slot, const json::value& v) override {
    const json::string* s = v.if_string();
    if (s == nullptr) return false;
    postings_.Add(View(*s), slot);
    return true;
  }
  bool Remove(uint32_t slot, const json::value& v) override {
    const json::string* s = v.if_string();
    if (s == nullptr) return false;
    postings_.Remove(View(*s), slot);
    return true;
  }
  std::optional<FieldBound> Lookup(const FieldPredicate& p) const override { return LookupByWalk(*this, p); }
  std::optional<FieldCount> Count(const FieldPredicate& p, size_t points) const override {
    return CountByWalk(*this, p, points);
  }
  size_t entries() const override { return postings_.entries(); }
  size_t MemoryUsage() const override { return postings_.MemoryUsage(); }
  void Encode(std::span<const uint32_t> remap, std::string* out) const override {
    postings_.Encode(remap, out);
  }
  Status Decode(ByteReader* in, uint32_t slot_count) override { return postings_.Decode(in, slot_count); }

  template <typename Visit>
  std::optional<Shape> Walk(const FieldPredicate& p, Visit& visit) const {
    if (const MatchValue* m = std::get_if<MatchValue>(&p)) {
      const std::string* s = std::get_if<std::string>(&m->value);
      if (s == nullptr) return std::nullopt;
      if (const std::vector<uint32_t>* slots = postings_.Find(std::string_view(*s))) visit(*slots);
      return Shape{};
    }
    if (const MatchAny* m = std::get_if<MatchAny>(&p)) {
      if (m->list.integers) return std::nullopt;
      for (const std::string& s : m->list.strings) {
        if (const std::vector<uint32_t>* slots = postings_.Find(std::string_view(s))) visit(*slots);
      }
      return Shape{};
    }
    return std::nullopt;
  }

 private:
  Postings<std::string> postings_;
};

// Integers, plus every other number (floats, integers beyond int64) kept aside so ranges stay exact.
class IntegerIndex final : public FieldIndex {
 public:
  FieldIndexType type() const override { return FieldIndexType::kInteger; }
  bool Add(uint32_t slot, const json::value& v) override {
    int64_t i;
    double d;
    if (AsInt64(v, &i)) {
      ints_.Insert(i, slot);
      return true;
    }
    if (AsDouble(v, &d)) others_.Insert(d, slot);
    return false;
  }
  bool Remove(uint32_t slot, const json::value& v) override {
    int64_t i;
    double d;
    if (AsInt64(v, &i)) {
      ints_.Erase(i, slot);
      return true;
    }
    if (AsDouble(v, &d)) others_.Erase(d, slot);
    return false;
  }
  std::optional<FieldBound> Lookup(const FieldPredicate& p) const override { return LookupByWalk(*this, p); }
  std::optional<FieldCount> Count(const FieldPredicate& p, size_t points) const override {
    return CountByWalk(*this, p, points);
  }
  size_t entries() const override { return ints_.size() + others_.size(); }
  size_t MemoryUsage() const override { return ints_.MemoryUsage() + others_.MemoryUsage(); }
  void Encode(std::span<const uint32_t> remap, std::string* out) const override {
    EncodeOrdered(ints_, remap, out);
    EncodeOrdered(others_, remap, out);
  }
  Status Decode(ByteReader* in, uint32_t slot_count) override {
    QUIVER_RETURN_IF_ERROR(DecodeOrdered(in, slot_count, kAnyKey, &ints_));
    return DecodeOrdered(in, slot_count, kAnyKey, &others_);
  }

  template <typename Visit>
  std::optional<Shape> Walk(const FieldPredicate& p, Visit& visit) const {
    if (const MatchValue* m = std::get_if<MatchValue>(&p)) {
      const int64_t* n = std::get_if<int64_t>(&m->value);
      if (n == nullptr) return std::nullopt;
      visit(ints_, RunOfKey(ints_, *n), true);
      return Shape{};
    }
    if (const MatchAny* m = std::get_if<MatchAny>(&p)) {
      if (!m->list.integers) return std::nullopt;
      for (int64_t n : m->list.ints) visit(ints_, RunOfKey(ints_, n), true);
      return Shape{};
    }
    if (const NumberRange* r = std::get_if<NumberRange>(&p)) {
      // Matches() compares every number as a double; (double)i grows with i, so the predicates stay monotone.
      visit(ints_,
            RunOf(
                ints_, [r](int64_t k) { return LowerOk(*r, static_cast<double>(k)); },
                [r](int64_t k) { return UpperOk(*r, static_cast<double>(k)); }),
            false);
      visit(others_,
            RunOf(
                others_, [r](double k) { return LowerOk(*r, k); }, [r](double k) { return UpperOk(*r, k); }),
            false);
      return Shape{};
    }
    return std::nullopt;
  }

 private:
  OrderedPostings<int64_t> ints_;
  OrderedPostings<double> others_;
};

class FloatIndex final : public FieldIndex {
 public:
  FieldIndexType type() const override { return FieldIndexType::kFloat; }
  bool Add(uint32_t slot, const json::value& v) override {
    double d;
    if (!AsDouble(v, &d)) return false;
    numbers_.Insert(d, slot);
    return true;
  }
  bool Remove(uint32_t slot, const json::value& v) override {
    double d;
    if (!AsDouble(v, &d)) return false;
    numbers_.Erase(d, slot);
    return true;
  }
  std::optional<FieldBound> Lookup(const FieldPredicate& p) const override { return LookupByWalk(*this, p); }
  std::optional<FieldCount> Count(const FieldPredicate& p, size_t points) const override {
    return CountByWalk(*this, p, points);
  }
  size_t entries() const override { return numbers_.size(); }
  size_t MemoryUsage() const override { return numbers_.MemoryUsage(); }
  void Encode(std::span<const uint32_t> remap, std::string* out) const override {
    EncodeOrdered(numbers_, remap, out);
  }
  Status Decode(ByteReader* in, uint32_t slot_count) override {
    return DecodeOrdered(in, slot_count, kAnyKey, &numbers_);
  }

  template <typename Visit>
  std::optional<Shape> Walk(const FieldPredicate& p, Visit& visit) const {
    if (const NumberRange* r = std::get_if<NumberRange>(&p)) {
      visit(numbers_,
            RunOf(
                numbers_, [r](double k) { return LowerOk(*r, k); }, [r](double k) { return UpperOk(*r, k); }),
            false);
      return Shape{};
    }
    // Integer matches: an integer stored as itself or as a float lands on the same double key. A superset:
    // floats such as 1.0 never match an integer.
    if (const MatchValue* m = std::get_if<MatchValue>(&p)) {
      const int64_t* n = std::get_if<int64_t>(&m->value);
      if (n == nullptr) return std::nullopt;
      visit(numbers_, RunOfKey(numbers_, static_cast<double>(*n)), true);
      return Shape{false, 1.0};
    }
    if (const MatchAny* m = std::get_if<MatchAny>(&p)) {
      if (!m->list.integers) return std::nullopt;
      for (int64_t n : m->list.ints) visit(numbers_, RunOfKey(numbers_, static_cast<double>(n)), true);
      return Shape{false, 1.0};
    }
    return std::nullopt;
  }

 private:
  OrderedPostings<double> numbers_;
};

class BoolIndex final : public FieldIndex {
 public:
  FieldIndexType type() const override { return FieldIndexType::kBool; }
  bool Add(uint32_t slot, const json::value& v) override {
    const bool* b = v.if_bool();
    if (b == nullptr) return false;
    values_.Insert(*b ? 1 : 0, slot);
    return true;
  }
  bool Remove(uint32_t slot, const json::value& v) override {
    const bool* b = v.if_bool();
    if (b == nullptr) return false;
    values_.Erase(*b ? 1 : 0, slot);
    return true;
  }
  std::optional<FieldBound> Lookup(const FieldPredicate& p) const override { return LookupByWalk(*this, p); }
  std::optional<FieldCount> Count(const FieldPredicate& p, size_t points) const override {
    return CountByWalk(*this, p, points);
  }
  size_t entries() const override { return values_.size(); }
  size_t MemoryUsage() const override { return values_.MemoryUsage(); }
  void Encode(std::span<const uint32_t> remap, std::string* out) const override {
    EncodeOrdered(values_, remap, out);
  }
  Status Decode(ByteReader* in, uint32_t slot_count) override {
    return DecodeOrdered(
        in, slot_count, [](uint8_t k) { return k <= 1; }, &values_);
  }

  template <typename Visit>
  std::optional<Shape> Walk(const FieldPredicate& p, Visit& visit) const {
    const MatchValue* m = std::get_if<MatchValue>(&p);
    if (m == nullptr) return std::nullopt;
    const bool* b = std::get_if<bool>(&m->value);
    if (b == nullptr) return std::nullopt;
    visit(values_, RunOfKey<uint8_t>(values_, *b ? 1 : 0), true);
    return Shape{};
  }

 private:
  OrderedPostings<uint8_t> values_;  // 0: false, 1: true
};

using UuidKey = std::array<uint8_t, 16>;

// A UUID in any form PointId accepts.
std::optional<UuidKey> ParseUuidKey(std::string_view s) { return PointId::UuidBytesOf(s); }

class UuidIndex final : public FieldIndex {
 public:
  FieldIndexType type() const override { return FieldIndexType::kUuid; }
  bool Add(uint32_t slot, const json::value& v) override {
    std::optional<UuidKey> key = KeyOf(v);
    if (!key) return false;
    postings_.Add(*key, slot);
    return true;
  }
  bool Remove(uint32_t slot, const json::value& v) override {
    std::optional<UuidKey> key = KeyOf(v);
    if (!key) return false;
    postings_.Remove(*key, slot);
    return true;
  }
  std::optional<FieldBound> Lookup(const FieldPredicate& p) const override { return LookupByWalk(*this, p); }
  std::optional<FieldCount> Count(const FieldPredicate& p, size_t points) const override {
    return CountByWalk(*this, p, points);
  }
  size_t entries() const override { return postings_.entries(); }
  size_t MemoryUsage() const override { return postings_.MemoryUsage(); }
  void Encode(std::span<const uint32_t> remap, std::string* out) const override {
    postings_.Encode(remap, out);
  }
  Status Decode(ByteReader* in, uint32_t slot_count) override { return postings_.Decode(in, slot_count); }

  // Matches() compares strings exactly; every stored string equal to a UUID query parses to the same key, so
  // the key's slots are a superset (other spellings of the UUID are in it too). A non-UUID query has no
  // bound.
  template <typename Visit>
  std::optional<Shape> Walk(const FieldPredicate& p, Visit& visit) const {
    std::vector<std::string_view> wanted;
    if (const MatchValue* m = std::get_if<MatchValue>(&p)) {
      const std::string* s = std::get_if<std::string>(&m->value);
      if (s == nullptr) return std::nullopt;
      wanted.push_back(*s);
    } else if (const MatchAny* m = std::get_if<MatchAny>(&p)) {
      if (m->list.integers) return std::nullopt;
      wanted.assign(m->list.strings.begin(), m->list.strings.end());
    } else {
      return std::nullopt;
    }
    std::vector<UuidKey> keys;
    for (std::string_view s : wanted) {
      std::optional<UuidKey> key = ParseUuidKey(s);
      if (!key) return std::nullopt;
      keys.push_back(*key);
    }
    for (const UuidKey& key : keys) {
      if (const std::vector<uint32_t>* slots = postings_.Find(key)) visit(*slots);
    }
    return Shape{false, 1.0};
  }

 private:
  static std::optional<UuidKey> KeyOf(const json::value& v) {
    const json::string* s = v.if_string();
    return s == nullptr ? std::nullopt : ParseUuidKey(View(*s));
  }
  Postings<UuidKey> postings_;
};

class DatetimeIndex final : public FieldIndex {
 public:
  FieldIndexType type() const override { return FieldIndexType::kDatetime; }
  bool Add(uint32_t slot, const json::value& v) override {
    std::optional<int64_t> t = KeyOf(v);
    if (!t) return false;
    times_.Insert(*t, slot);
    return true;
  }
  bool Remove(uint32_t slot, const json::value& v) override {
    std::optional<int64_t> t = KeyOf(v);
    if (!t) return false;
    times_.Erase(*t, slot);
    return true;
  }
  std::optional<FieldBound> Lookup(const FieldPredicate& p) const override { return LookupByWalk(*this, p); }
  std::optional<FieldCount> Count(const FieldPredicate& p, size_t points) const override {
    return CountByWalk(*this, p, points);
  }
  size_t entries() const override { return times_.size(); }
  size_t MemoryUsage() const override { return times_.MemoryUsage(); }
  void Encode(std::span<const uint32_t> remap, std::string* out) const override {
    EncodeOrdered(times_, remap, out);
  }
  Status Decode(ByteReader* in, uint32_t slot_count) override {
    return DecodeOrdered(in, slot_count, kAnyKey, &times_);
  }

  template <typename Visit>
  std::optional<Shape> Walk(const FieldPredicate& p, Visit& visit) const {
    const DatetimeRange* r = std::get_if<DatetimeRange>(&p);
    if (r == nullptr) return std::nullopt;
    visit(times_,
          RunOf(
              times_, [r](int64_t k) { return LowerOk(*r, k); }, [r](int64_t k) { return UpperOk(*r, k); }),
          false);
    return Shape{};
  }

 private:
  static std::optional<int64_t> KeyOf(const json::value& v) {
    const json::string* s = v.if_string();
    return s == nullptr ? std::nullopt : ParseDatetime(View(*s));
  }
  OrderedPostings<int64_t> times_;  // microseconds since the epoch
};

// Geo points bucketed on a grid of kCellDegrees cells; a cell id is row * kColumns + column.
class GeoIndex final : public FieldIndex {
 public:
  static constexpr double kCellDegrees = 0.1;
  static constexpr int64_t kRows = 1800;
  static constexpr int64_t kColumns = 3600;

  FieldIndexType type() const override { return FieldIndexType::kGeo; }
  bool Add(uint32_t slot, const json::value& v) override {
    std::optional<GeoPoint> p = GeoPointFromJson(v);
    if (!p) return false;
    cells_.Insert(CellOf(*p), slot);
    return true;
  }
  bool Remove(uint32_t slot, const json::value& v) override {
    std::optional<GeoPoint> p = GeoPointFromJson(v);
    if (!p) return false;
    cells_.Erase(CellOf(*p), slot);
    return true;
  }
  std::optional<FieldBound> Lookup(const FieldPredicate& p) const override { return LookupByWalk(*this, p); }
  std::optional<FieldCount> Count(const FieldPredicate& p, size_t points) const override {
    return CountByWalk(*this, p, points);
  }
  size_t entries() const override { return cells_.size(); }
  size_t MemoryUsage() const override { return cells_.MemoryUsage(); }
  void Encode(std::span<const uint32_t> remap, std::string* out) const override {
    EncodeOrdered(cells_, remap, out);
  }
  Status Decode(ByteReader* in, uint32_t slot_count) override {
    return DecodeOrdered(
        in, slot_count, [](uint32_t cell) { return cell < kRows * kColumns; }, &cells_);
  }

  // The points in the grid cells covering the shape: one run per covered row (one run in all for rectangles
  // as wide as the world).
  template <typename Visit>
  std::optional<Shape> Walk(const FieldPredicate& p, Visit& visit) const {
    std::vector<GeoRect> rects;
    if (const GeoRadius* g = std::get_if<GeoRadius>(&p)) {
      rects = CoveringRects(*g);
    } else if (const GeoBoundingBox* g = std::get_if<GeoBoundingBox>(&p)) {
      rects = CoveringRects(*g);
    } else if (const GeoPolygon* g = std::get_if<GeoPolygon>(&p)) {
      rects = CoveringRects(*g);
    } else {
      return std::nullopt;
    }
    for (const GeoRect& r : rects) {
      // One cell of margin on every side absorbs rounding at cell edges.
      const int64_t row_lo = std::max<int64_t>(0, Row(r.lat_min) - 1);
      const int64_t row_hi = std::min<int64_t>(kRows - 1, Row(r.lat_max) + 1);
      const int64_t col_lo = std::max<int64_t>(0, Column(r.lon_min) - 1);
      const int64_t col_hi = std::min<int64_t>(kColumns - 1, Column(r.lon_max) + 1);
      const bool full_rows = col_lo == 0 && col_hi == kColumns - 1;
      for (int64_t row = row_lo; row <= row_hi; ++row) {
        const uint32_t lo = static_cast<uint32_t>(row * kColumns + col_lo);
        const uint32_t hi = static_cast<uint32_t>((full_rows ? row_hi : row) * kColumns + col_hi);
        visit(cells_,
              RunOf(
                  cells_, [lo](uint32_t c) { return c >= lo; }, [hi](uint32_t c) { return c <= hi; }),
              false);
        if (full_rows) break;
      }
    }
    return Shape{false, 0.5};
  }

 private:
  static int64_t Row(double lat) {
    return std::clamp<int64_t>(static_cast<int64_t>(std::floor((lat + 90.0) / kCellDegrees)), 0, kRows - 1);
  }
  static int64_t Column(double lon) {
    return std::clamp<int64_t>(static_cast<int64_t>(std::floor((lon + 180.0) / kCellDegrees)), 0,
                               kColumns - 1);
  }
  static uint32_t CellOf(const GeoPoint& p) {
    return static_cast<uint32_t>(Row(p.lat) * kColumns + Column(p.lon));
  }

  OrderedPostings<uint32_t> cells_;
};

class TextIndex final : public FieldIndex {
 public:
  FieldIndexType type() const override { return FieldIndexType::kText; }
  bool Add(uint32_t slot, const json::value& v) override {
    return ForTokens(v, [&](std::string_view token) { postings_.Add(token, slot); });
  }
  bool Remove(uint32_t slot, const json::value& v) override {
    return ForTokens(v, [&](std::string_view token) { postings_.Remove(token, slot); });
  }
  std::optional<FieldBound> Lookup(const FieldPredicate& p) const override {
    const MatchText* m = std::get_if<MatchText>(&p);
    if (m == nullptr) return std::nullopt;
    if (m->mode == MatchText::Mode::kAny) return LookupByWalk(*this, p);
    std::optional<std::vector<const std::vector<uint32_t>*>> lists = AllLists(*m);
    if (!lists) return std::nullopt;
    if (lists->empty()) return FieldBound{{}, true, 1.0};
    // The slots holding every token, smallest list first.
    std::vector<uint32_t> out = *lists->front();
    for (size_t i = 1; i < lists->size() && !out.empty(); ++i) out = Intersect(out, *(*lists)[i]);
    // One token is exact; several may sit in different values of a point (one value must hold them all), and
    // a phrase also needs them in order.
    if (lists->size() == 1) return FieldBound{std::move(out), true, 1.0};
    return FieldBound{std::move(out), false, 1.0};
  }
  // text_any: the sum of the tokens' lists. text/phrase: at most the smallest token list; expected as if the
  // tokens were independent.
  std::optional<FieldCount> Count(const FieldPredicate& p, size_t points) const override {
    const MatchText* m = std::get_if<MatchText>(&p);
    if (m == nullptr) return std::nullopt;
    if (m->mode == MatchText::Mode::kAny) return CountByWalk(*this, p, points);
    std::optional<std::vector<const std::vector<uint32_t>*>> lists = AllLists(*m);
    if (!lists) return std::nullopt;
    FieldCount c;
    c.exact = lists->size() <= 1;
    if (lists->empty()) return c;
    c.max = lists->front()->size();
    c.min = c.exact ? c.max : 0;
    c.expected = static_cast<double>(c.max);
    for (size_t i = 1; i < lists->size(); ++i) {
      c.expected *= points > 0 ? std::min(1.0, static_cast<double>((*lists)[i]->size()) / points) : 0.0;
    }
    return c;
  }
  size_t entries() const override { return postings_.entries(); }
  size_t MemoryUsage() const override { return postings_.MemoryUsage(); }
  void Encode(std::span<const uint32_t> remap, std::string* out) const override {
    postings_.Encode(remap, out);
  }
  Status Decode(ByteReader* in, uint32_t slot_count) override { return postings_.Decode(in, slot_count); }

  // text_any: the union of the tokens' lists, exact.
  template <typename Visit>
  std::optional<Shape> Walk(const FieldPredicate& p, Visit& visit) const {
    const MatchText* m = std::get_if<MatchText>(&p);
    if (m == nullptr || m->mode != MatchText::Mode::kAny) return std::nullopt;
    for (const std::string& token : m->tokens) {
      if (const std::vector<uint32_t>* slots = postings_.Find(std::string_view(token))) visit(*slots);
    }
    return Shape{};
  }

 private:
  // text/phrase: the tokens' lists, smallest first; empty when a token is in no list (nothing matches).
  // A query without tokens matches every string, which this index does not list: std::nullopt.
  std::optional<std::vector<const std::vector<uint32_t>*>> AllLists(const MatchText& m) const {
    if (m.tokens.empty()) return std::nullopt;
    std::vector<const std::vector<uint32_t>*> lists;
    for (const std::string& token : m.tokens) {
      const std::vector<uint32_t>* slots = postings_.Find(std::string_view(token));
      if (slots == nullptr) return std::vector<const std::vector<uint32_t>*>();
      lists.push_back(slots);
    }
    std::sort(lists.begin(), lists.end(), [](const auto* a, const auto* b) { return a->size() < b->size(); });
    return lists;
  }

  template <typename Fn>
  bool ForTokens(const json::value& v, Fn&& fn) {
    const json::string* s = v.if_string();
    if (s == nullptr) return false;
    TokenCursor cursor(View(*s));
    std::string_view token;
    bool any = false;
    while (cursor.Next(&token)) {
      buffer_.assign(token.begin(), token.end());
      for (char& c : buffer_) c = AsciiLower(c);
      fn(std::string_view(buffer_));
      any = true;
    }
    return any;
  }

  Postings<std::string> postings_;
  std::string buffer_;
};

}  // namespace

void AddSlot(std::vector<uint32_t>* slots, uint32_t slot) {
  if (slots->empty() || slots->back() < slot) {
    slots->push_back(slot);
    return;
  }
  auto it = std::lower_bound(slots->begin(), slots->end(), slot);
  if (it == slots->end() || *it != slot) slots->insert(it, slot);
}

bool RemoveSlot(std::vector<uint32_t>* slots, uint32_t slot) {
  auto it = std::lower_bound(slots->begin(), slots->end(), slot);
  if (it == slots->end() || *it != slot) return false;
  slots->erase(it);
  return true;
}

std::vector<uint32_t> Intersect(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  std::vector<uint32_t> out;
  out.reserve(std::min(a.size(), b.size()));
  std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

std::vector<uint32_t> Unite(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b) {
  std::vector<uint32_t> out;
  out.reserve(a.size() + b.size());
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

void Normalize(std::vector<uint32_t>* slots) {
  if (std::is_sorted(slots->begin(), slots->end())) {
    slots->erase(std::unique(slots->begin(), slots->end()), slots->end());
    return;
  }
  const uint32_t largest = *std::max_element(slots->begin(), slots->end());
  const size_t words = static_cast<size_t>(largest) / 64 + 1;
  if (words > slots->size()) {
    std::sort(slots->begin(), slots->end());
    slots->erase(std::unique(slots->begin(), slots->end()), slots->end());
    return;
  }
  std::vector<uint64_t> bits(words, 0);
  for (uint32_t slot : *slots) bits[slot / 64] |= uint64_t{1} << (slot % 64);
  slots->clear();
  for (size_t w = 0; w < words; ++w) {
    for (uint64_t word = bits[w]; word != 0; word &= word - 1) {
      slots->push_back(static_cast<uint32_t>(w * 64 + static_cast<size_t>(std::countr_zero(word))));
    }
  }
}

std::unique_ptr<FieldIndex> MakeFieldIndex(FieldIndexType type) {
  switch (type) {
    case FieldIndexType::kKeyword:
      return std::make_unique<KeywordIndex>();
    case FieldIndexType::kInteger:
      return std::make_unique<IntegerIndex>();
    case FieldIndexType::kFloat:
      return std::make_unique<FloatIndex>();
    case FieldIndexType::kBool:
      return std::make_unique<BoolIndex>();
    case FieldIndexType::kUuid:
      return std::make_unique<UuidIndex>();
    case FieldIndexType::kDatetime:
      return std::make_unique<DatetimeIndex>();
    case FieldIndexType::kGeo:
      return std::make_unique<GeoIndex>();
    case FieldIndexType::kText:
      return std::make_unique<TextIndex>();
  }
  return nullptr;
}

}  // namespace quiver::payload
