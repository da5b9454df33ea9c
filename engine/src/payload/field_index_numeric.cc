// Ordered indexes: integer, float and datetime (range and match conditions).
#include "payload/field_index_parts.h"
#include "payload/datetime.h"

namespace quiver::payload::field_index_parts {
namespace {

namespace json = boost::json;

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

}  // namespace

std::unique_ptr<FieldIndex> MakeIntegerIndex() { return std::make_unique<IntegerIndex>(); }
std::unique_ptr<FieldIndex> MakeFloatIndex() { return std::make_unique<FloatIndex>(); }
std::unique_ptr<FieldIndex> MakeDatetimeIndex() { return std::make_unique<DatetimeIndex>(); }

}  // namespace quiver::payload::field_index_parts
