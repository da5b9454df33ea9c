#include "payload/field_index.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <string>

#include "payload/datetime.h"
#include "payload/geo.h"
#include "payload/text_tokens.h"

namespace quiver::payload {
namespace {

namespace json = boost::json;

std::string_view View(const json::string& s) { return std::string_view(s.data(), s.size()); }

// Bytes a std::map node costs beyond its payload (three pointers, colour, allocator slack).
constexpr size_t kMapNodeOverhead = 48;

// A map from keys to sorted slot lists.
template <typename Key, typename Compare = std::less<>>
class Postings {
 public:
  template <typename K>
  void Add(const K& key, uint32_t slot) {
    auto it = map_.find(key);
    if (it == map_.end()) it = map_.emplace(Key(key), std::vector<uint32_t>()).first;
    AddSlot(&it->second, slot);
  }
  template <typename K>
  void Remove(const K& key, uint32_t slot) {
    auto it = map_.find(key);
    if (it == map_.end()) return;
    RemoveSlot(&it->second, slot);
    if (it->second.empty()) map_.erase(it);
  }
  template <typename K>
  const std::vector<uint32_t>* Find(const K& key) const {
    auto it = map_.find(key);
    return it == map_.end() ? nullptr : &it->second;
  }
  // Appends the slots of the keys in [begin, end) to *out (unsorted).
  template <typename It>
  static void Collect(It begin, It end, std::vector<uint32_t>* out) {
    for (It it = begin; it != end; ++it) out->insert(out->end(), it->second.begin(), it->second.end());
  }
  const std::map<Key, std::vector<uint32_t>, Compare>& map() const { return map_; }

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

FieldBound ExactBound(std::vector<uint32_t> slots) {
  Normalize(&slots);
  return FieldBound{std::move(slots), true, 1.0};
}

FieldBound InexactBound(std::vector<uint32_t> slots, double fraction) {
  Normalize(&slots);
  return FieldBound{std::move(slots), false, fraction};
}

// Collects the slots of the keys of a numeric map that satisfy `lower` and `upper` (each monotone in the key:
// `lower` false then true, `upper` true then false), starting the scan at `start`.
template <typename Map, typename Lower, typename Upper>
void CollectRange(const Map& map, typename Map::const_iterator start, Lower lower, Upper upper,
                  std::vector<uint32_t>* out) {
  auto it = start;
  while (it != map.end() && !lower(it->first)) ++it;
  for (; it != map.end() && upper(it->first); ++it)
    out->insert(out->end(), it->second.begin(), it->second.end());
}

template <typename Range, typename T>
bool LowerOk(const Range& r, T x) {
  return (!r.gt || x > *r.gt) && (!r.gte || x >= *r.gte);
}
template <typename Range, typename T>
bool UpperOk(const Range& r, T x) {
  return (!r.lt || x < *r.lt) && (!r.lte || x <= *r.lte);
}

// The largest lower bound of a range, or nullopt.
template <typename Range, typename T>
std::optional<T> LowestBound(const Range& r) {
  std::optional<T> lo;
  if (r.gt) lo = static_cast<T>(*r.gt);
  if (r.gte && (!lo || *r.gte > *lo)) lo = static_cast<T>(*r.gte);
  return lo;
}

// Slots of doubles (map keyed by double) within a number range.
void CollectDoubles(const std::map<double, std::vector<uint32_t>, std::less<>>& map, const NumberRange& r,
                    std::vector<uint32_t>* out) {
  std::optional<double> lo = LowestBound<NumberRange, double>(r);
  auto start = lo ? map.lower_bound(*lo) : map.begin();
  CollectRange(
      map, start, [&](double k) { return LowerOk(r, k); }, [&](double k) { return UpperOk(r, k); }, out);
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
  std::optional<FieldBound> Lookup(const FieldPredicate& p) const override {
    if (const MatchValue* m = std::get_if<MatchValue>(&p)) {
      const std::string* s = std::get_if<std::string>(&m->value);
      if (s == nullptr) return std::nullopt;
      const std::vector<uint32_t>* slots = postings_.Find(std::string_view(*s));
      return ExactBound(slots ? *slots : std::vector<uint32_t>());
    }
    if (const MatchAny* m = std::get_if<MatchAny>(&p)) {
      if (m->list.integers) return std::nullopt;
      std::vector<uint32_t> out;
      for (const std::string& s : m->list.strings) {
        if (const std::vector<uint32_t>* slots = postings_.Find(std::string_view(s))) {
          out.insert(out.end(), slots->begin(), slots->end());
        }
      }
      return ExactBound(std::move(out));
    }
    return std::nullopt;
  }
  size_t MemoryUsage() const override { return postings_.MemoryUsage(); }

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
      ints_.Add(i, slot);
      return true;
    }
    if (AsDouble(v, &d)) others_.Add(d, slot);
    return false;
  }
  bool Remove(uint32_t slot, const json::value& v) override {
    int64_t i;
    double d;
    if (AsInt64(v, &i)) {
      ints_.Remove(i, slot);
      return true;
    }
    if (AsDouble(v, &d)) others_.Remove(d, slot);
    return false;
  }
  std::optional<FieldBound> Lookup(const FieldPredicate& p) const override {
    if (const MatchValue* m = std::get_if<MatchValue>(&p)) {
      const int64_t* n = std::get_if<int64_t>(&m->value);
      if (n == nullptr) return std::nullopt;
      const std::vector<uint32_t>* slots = ints_.Find(*n);
      return ExactBound(slots ? *slots : std::vector<uint32_t>());
    }
    if (const MatchAny* m = std::get_if<MatchAny>(&p)) {
      if (!m->list.integers) return std::nullopt;
      std::vector<uint32_t> out;
      for (int64_t n : m->list.ints) {
        if (const std::vector<uint32_t>* slots = ints_.Find(n))
          out.insert(out.end(), slots->begin(), slots->end());
      }
      return ExactBound(std::move(out));
    }
    if (const NumberRange* r = std::get_if<NumberRange>(&p)) {
      std::vector<uint32_t> out;
      // (double)i is monotone in i, so the matching integers are contiguous; start a little below the bound
      // to absorb rounding of large integers.
      std::optional<double> lo = LowestBound<NumberRange, double>(*r);
      auto start = ints_.map().begin();
      if (lo && *lo > static_cast<double>(std::numeric_limits<int64_t>::min()) + 8192) {
        if (*lo >= static_cast<double>(std::numeric_limits<int64_t>::max())) {
          start = ints_.map().lower_bound(std::numeric_limits<int64_t>::max() - 8192);
        } else {
          start = ints_.map().lower_bound(static_cast<int64_t>(std::floor(*lo)) - 4096);
        }
      }
      CollectRange(
          ints_.map(), start, [&](int64_t k) { return LowerOk(*r, static_cast<double>(k)); },
          [&](int64_t k) { return UpperOk(*r, static_cast<double>(k)); }, &out);
      CollectDoubles(others_.map(), *r, &out);
      return ExactBound(std::move(out));
    }
    return std::nullopt;
  }
  size_t MemoryUsage() const override { return ints_.MemoryUsage() + others_.MemoryUsage(); }

 private:
  Postings<int64_t> ints_;
  Postings<double> others_;
};

class FloatIndex final : public FieldIndex {
 public:
  FieldIndexType type() const override { return FieldIndexType::kFloat; }
  bool Add(uint32_t slot, const json::value& v) override {
    double d;
    if (!AsDouble(v, &d)) return false;
    numbers_.Add(d, slot);
    return true;
  }
  bool Remove(uint32_t slot, const json::value& v) override {
    double d;
    if (!AsDouble(v, &d)) return false;
    numbers_.Remove(d, slot);
    return true;
  }
  std::optional<FieldBound> Lookup(const FieldPredicate& p) const override {
    if (const NumberRange* r = std::get_if<NumberRange>(&p)) {
      std::vector<uint32_t> out;
      CollectDoubles(numbers_.map(), *r, &out);
      return ExactBound(std::move(out));
    }
    // Integer matches: an integer stored as itself or as a float lands on the same double key. A superset:
    // floats such as 1.0 never match an integer.
    std::vector<int64_t> wanted;
    if (const MatchValue* m = std::get_if<MatchValue>(&p)) {
      const int64_t* n = std::get_if<int64_t>(&m->value);
      if (n == nullptr) return std::nullopt;
      wanted.push_back(*n);
    } else if (const MatchAny* m = std::get_if<MatchAny>(&p)) {
      if (!m->list.integers) return std::nullopt;
      wanted = m->list.ints;
    } else {
      return std::nullopt;
    }
    std::vector<uint32_t> out;
    for (int64_t n : wanted) {
      if (const std::vector<uint32_t>* slots = numbers_.Find(static_cast<double>(n))) {
        out.insert(out.end(), slots->begin(), slots->end());
      }
    }
    return InexactBound(std::move(out), 1.0);
  }
  size_t MemoryUsage() const override { return numbers_.MemoryUsage(); }

 private:
  Postings<double> numbers_;
};

class BoolIndex final : public FieldIndex {
 public:
  FieldIndexType type() const override { return FieldIndexType::kBool; }
  bool Add(uint32_t slot, const json::value& v) override {
    const bool* b = v.if_bool();
    if (b == nullptr) return false;
    AddSlot(*b ? &true_ : &false_, slot);
    return true;
  }
  bool Remove(uint32_t slot, const json::value& v) override {
    const bool* b = v.if_bool();
    if (b == nullptr) return false;
    RemoveSlot(*b ? &true_ : &false_, slot);
    return true;
  }
  std::optional<FieldBound> Lookup(const FieldPredicate& p) const override {
    const MatchValue* m = std::get_if<MatchValue>(&p);
    if (m == nullptr) return std::nullopt;
    const bool* b = std::get_if<bool>(&m->value);
    if (b == nullptr) return std::nullopt;
    return ExactBound(*b ? true_ : false_);
  }
  size_t MemoryUsage() const override { return (true_.capacity() + false_.capacity()) * sizeof(uint32_t); }

 private:
  std::vector<uint32_t> true_;
  std::vector<uint32_t> false_;
};

using UuidKey = std::array<uint8_t, 16>;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A UUID in hyphenated (36 characters) or simple (32 hex digits) form, as PointId accepts.
std::optional<UuidKey> ParseUuidKey(std::string_view s) {
  UuidKey key{};
  size_t nibble = 0;
  if (s.size() != 36 && s.size() != 32) return std::nullopt;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash_position = s.size() == 36 && (i == 8 || i == 13 || i == 18 || i == 23);
    if (dash_position) {
      if (s[i] != '-') return std::nullopt;
      continue;
    }
    const int h = HexValue(s[i]);
    if (h < 0) return std::nullopt;
    key[nibble / 2] = static_cast<uint8_t>(key[nibble / 2] | (nibble % 2 == 0 ? h << 4 : h));
    ++nibble;
  }
  return key;
}

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
  // Matches() compares strings exactly; every stored string equal to a UUID query parses to the same key, so
  // the key's slots are a superset (other spellings of the UUID are in it too). A non-UUID query has no
  // bound.
  std::optional<FieldBound> Lookup(const FieldPredicate& p) const override {
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
    std::vector<uint32_t> out;
    for (std::string_view s : wanted) {
      std::optional<UuidKey> key = ParseUuidKey(s);
      if (!key) return std::nullopt;
      if (const std::vector<uint32_t>* slots = postings_.Find(*key))
        out.insert(out.end(), slots->begin(), slots->end());
    }
    return InexactBound(std::move(out), 1.0);
  }
  size_t MemoryUsage() const override { return postings_.MemoryUsage(); }

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
    postings_.Add(*t, slot);
    return true;
  }
  bool Remove(uint32_t slot, const json::value& v) override {
    std::optional<int64_t> t = KeyOf(v);
    if (!t) return false;
    postings_.Remove(*t, slot);
    return true;
  }
  std::optional<FieldBound> Lookup(const FieldPredicate& p) const override {
    const DatetimeRange* r = std::get_if<DatetimeRange>(&p);
    if (r == nullptr) return std::nullopt;
    std::optional<int64_t> lo = LowestBound<DatetimeRange, int64_t>(*r);
    auto start = lo ? postings_.map().lower_bound(*lo) : postings_.map().begin();
    std::vector<uint32_t> out;
    CollectRange(
        postings_.map(), start, [&](int64_t k) { return LowerOk(*r, k); },
        [&](int64_t k) { return UpperOk(*r, k); }, &out);
    return ExactBound(std::move(out));
  }
  size_t MemoryUsage() const override { return postings_.MemoryUsage(); }

 private:
  static std::optional<int64_t> KeyOf(const json::value& v) {
    const json::string* s = v.if_string();
    return s == nullptr ? std::nullopt : ParseDatetime(View(*s));
  }
  Postings<int64_t> postings_;
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
    postings_.Add(CellOf(*p), slot);
    return true;
  }
  bool Remove(uint32_t slot, const json::value& v) override {
    std::optional<GeoPoint> p = GeoPointFromJson(v);
    if (!p) return false;
    postings_.Remove(CellOf(*p), slot);
    return true;
  }
  std::optional<FieldBound> Lookup(const FieldPredicate& p) const override {
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
    std::vector<uint32_t> out;
    for (const GeoRect& r : rects) {
      // One cell of margin on every side absorbs rounding at cell edges.
      const int64_t row_lo = std::max<int64_t>(0, Row(r.lat_min) - 1);
      const int64_t row_hi = std::min<int64_t>(kRows - 1, Row(r.lat_max) + 1);
      const int64_t col_lo = std::max<int64_t>(0, Column(r.lon_min) - 1);
      const int64_t col_hi = std::min<int64_t>(kColumns - 1, Column(r.lon_max) + 1);
      for (int64_t row = row_lo; row <= row_hi; ++row) {
        auto begin = postings_.map().lower_bound(static_cast<uint32_t>(row * kColumns + col_lo));
        auto end = postings_.map().upper_bound(static_cast<uint32_t>(row * kColumns + col_hi));
        Postings<uint32_t>::Collect(begin, end, &out);
      }
    }
    return InexactBound(std::move(out), 0.5);
  }
  size_t MemoryUsage() const override { return postings_.MemoryUsage(); }

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

  Postings<uint32_t> postings_;
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
    if (m->mode == MatchText::Mode::kAny) {
      std::vector<uint32_t> out;
      for (const std::string& token : m->tokens) {
        if (const std::vector<uint32_t>* slots = postings_.Find(std::string_view(token))) {
          out.insert(out.end(), slots->begin(), slots->end());
        }
      }
      return ExactBound(std::move(out));
    }
    // All tokens (or a phrase): the slots holding every token. A query without tokens matches every string,
    // which this index does not list.
    if (m->tokens.empty()) return std::nullopt;
    std::vector<uint32_t> out;
    bool first = true;
    for (const std::string& token : m->tokens) {
      const std::vector<uint32_t>* slots = postings_.Find(std::string_view(token));
      if (slots == nullptr) return ExactBound({});
      out = first ? *slots : Intersect(out, *slots);
      first = false;
    }
    // One token is exact; several may sit in different values of a point (one value must hold them all), and
    // a phrase also needs them in order.
    if (m->tokens.size() == 1) return ExactBound(std::move(out));
    return InexactBound(std::move(out), 1.0);
  }
  size_t MemoryUsage() const override { return postings_.MemoryUsage(); }

 private:
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
  if (!std::is_sorted(slots->begin(), slots->end())) std::sort(slots->begin(), slots->end());
  slots->erase(std::unique(slots->begin(), slots->end()), slots->end());
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
