// Lookup indexes: keyword (strings), bool, uuid.
#include "payload/field_index_parts.h"
#include "quiver/point_id.h"

namespace quiver::payload::field_index_parts {
namespace {

namespace json = boost::json;

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

}  // namespace

std::unique_ptr<FieldIndex> MakeKeywordIndex() { return std::make_unique<KeywordIndex>(); }
std::unique_ptr<FieldIndex> MakeBoolIndex() { return std::make_unique<BoolIndex>(); }
std::unique_ptr<FieldIndex> MakeUuidIndex() { return std::make_unique<UuidIndex>(); }

}  // namespace quiver::payload::field_index_parts
