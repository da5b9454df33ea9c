#include "payload/payload_index.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "base/coding.h"
#include "payload/field_index.h"
#include "payload/filter.h"
#include "payload/json_path.h"

namespace quiver::payload {

struct PayloadIndex::Field {
  JsonPath path;
  FieldIndexType type;
  std::unique_ptr<FieldIndex> index;
  size_t points = 0;  // slots with at least one value of the index's type
};

namespace {

// Tolerance when rounding counts computed in floating point.
constexpr double kSlack = 1e-6;

// An exact field bound whose count may repeat slots (several values of one point) is listed, to count its
// distinct slots, when it has at most this many entries: constant work that keeps small estimates exact.
constexpr size_t kListToCount = 64;

// A count held in a double (a sum of sizes, exact below 2^53) as a size_t, saturating (size_t is 32 bits in
// WASM).
size_t ToCount(double x) {
  return x >= static_cast<double>(SIZE_MAX) ? SIZE_MAX : static_cast<size_t>(std::max(0.0, x));
}

constexpr std::string_view kTypeNames[] = {"keyword", "integer",  "float", "bool",
                                           "uuid",    "datetime", "geo",   "text"};

// What the indexes say about a filter or condition over `total` points: bounds on the match count and
// whether indexes bound it, with an upper bound on the size of the list Collect would build.
struct Plan {
  double min = 0;
  double expected = 0;
  double max = 0;
  bool bounded = false;
  double candidates = 0;  // when bounded
};

}  // namespace

// Walks a filter with the indexes: OfFilter counts (no slot lists), Collect lists candidates. `prefix` is set
// inside nested conditions: the element path from the root, to which inner keys are relative. There, bounds
// only hold as upper bounds (the same element must satisfy every inner condition, which per-path indexes
// cannot see), so minimums become 0 and must_not gives no information.
class Planner {
 public:
  Planner(const PayloadIndex& index, size_t total) : index_(index), n_(static_cast<double>(total)) {}

  Plan OfFilter(const Filter& f, const JsonPath* prefix) const {
    std::vector<Plan> parts;
    for (const Condition& c : f.must) parts.push_back(OfCondition(c, prefix));
    for (const Condition& c : f.must_not) parts.push_back(prefix ? Unknown() : Not(OfCondition(c, prefix)));
    if (f.should) parts.push_back(OfShould(*f.should, prefix));
    if (f.min_should) parts.push_back(OfMinShould(*f.min_should, prefix));
    return And(std::move(parts));
  }

  // The candidates of a filter: the list of its smallest bounded part, intersected with the lists of the
  // other bounded parts that are at most kIntersectRatio times larger than the result so far.
  std::optional<std::vector<uint32_t>> Collect(const Filter& f, const JsonPath* prefix) const {
    enum class Kind { kMust, kShould, kMinShould };
    struct Part {
      double bound;
      Kind kind;
      size_t i;
    };
    std::vector<Part> parts;
    for (size_t i = 0; i < f.must.size(); ++i) {
      const Plan p = OfCondition(f.must[i], prefix);
      if (p.bounded) parts.push_back(Part{p.candidates, Kind::kMust, i});
    }
    if (f.should) {
      const Plan p = OfShould(*f.should, prefix);
      if (p.bounded) parts.push_back(Part{p.candidates, Kind::kShould, 0});
    }
    if (f.min_should) {
      const Plan p = OfMinShould(*f.min_should, prefix);
      if (p.bounded) parts.push_back(Part{p.candidates, Kind::kMinShould, 0});
    }
    if (parts.empty()) return std::nullopt;
    std::stable_sort(parts.begin(), parts.end(),
                     [](const Part& a, const Part& b) { return a.bound < b.bound; });
    auto collect = [&](const Part& part) -> std::optional<std::vector<uint32_t>> {
      switch (part.kind) {
        case Kind::kMust:
          return CollectCondition(f.must[part.i], prefix);
        case Kind::kShould:
          return CollectUnion(*f.should, prefix);
        case Kind::kMinShould:
          if (f.min_should->min_count > f.min_should->conditions.size()) return std::vector<uint32_t>();
          return CollectUnion(f.min_should->conditions, prefix);
      }
      return std::nullopt;
    };
    std::optional<std::vector<uint32_t>> out = collect(parts[0]);
    if (!out) return std::nullopt;  // not reached: a bounded plan always collects
    const double ratio = static_cast<double>(PayloadIndex::kIntersectRatio);
    for (size_t j = 1; j < parts.size() && !out->empty(); ++j) {
      if (parts[j].bound > ratio * static_cast<double>(out->size())) break;  // and so are the rest
      if (std::optional<std::vector<uint32_t>> other = collect(parts[j])) *out = Intersect(*out, *other);
    }
    return out;
  }

 private:
  Plan All() const { return Plan{n_, n_, n_, false, 0}; }
  Plan None() const { return Plan{0, 0, 0, true, 0}; }
  Plan Unknown() const { return Plan{0, n_ / 2, n_, false, 0}; }

  Plan OfCondition(const Condition& c, const JsonPath* prefix) const {
    if (const FieldCondition* fc = std::get_if<FieldCondition>(&c)) return OfField(*fc, prefix);
    if (const HasIdCondition* h = std::get_if<HasIdCondition>(&c)) {
      const double m = std::min(n_, static_cast<double>(h->ids.size()));
      return Plan{0, m, m, false, 0};
    }
    if (const NestedCondition* nc = std::get_if<NestedCondition>(&c)) {
      if (nc->filter == nullptr) return Unknown();
      const JsonPath inner_prefix = prefix ? prefix->Concat(nc->key) : nc->key;
      Plan inner = OfFilter(*nc->filter, &inner_prefix);
      inner.min = 0;
      inner.expected = std::min(inner.expected, inner.max);
      return inner;
    }
    if (const FilterCondition* f = std::get_if<FilterCondition>(&c)) {
      return f->filter == nullptr ? Unknown() : OfFilter(*f->filter, prefix);
    }
    return Unknown();  // is_empty, is_null
  }

  Plan OfShould(const std::vector<Condition>& conditions, const JsonPath* prefix) const {
    std::vector<Plan> any;
    for (const Condition& c : conditions) any.push_back(OfCondition(c, prefix));
    return Or(std::move(any));
  }

  Plan OfMinShould(const MinShould& m, const JsonPath* prefix) const {
    std::vector<Plan> some;
    for (const Condition& c : m.conditions) some.push_back(OfCondition(c, prefix));
    return AtLeast(std::move(some), m.min_count);
  }

  const PayloadIndex::Field* FieldOf(const FieldCondition& c, const JsonPath* prefix) const {
    return index_.FindField(prefix ? prefix->Concat(c.key).text() : c.key.text());
  }

  Plan OfField(const FieldCondition& c, const JsonPath* prefix) const {
    const PayloadIndex::Field* field = FieldOf(c, prefix);
    if (field == nullptr) return Unknown();
    std::optional<FieldCount> count = field->index->Count(c.predicate, field->points);
    if (!count) return Unknown();
    if (count->exact && count->min < count->max && count->max <= kListToCount) {
      const size_t distinct = field->index->Lookup(c.predicate)->slots.size();
      count->min = count->max = distinct;
      count->expected = static_cast<double>(distinct);
    }
    Plan e;
    e.max = std::min(n_, static_cast<double>(count->max));
    e.min = count->exact && prefix == nullptr ? std::min(e.max, static_cast<double>(count->min)) : 0;
    e.expected = std::clamp(count->expected, e.min, e.max);
    e.bounded = true;
    e.candidates = static_cast<double>(count->max);
    return e;
  }

  std::optional<std::vector<uint32_t>> CollectCondition(const Condition& c, const JsonPath* prefix) const {
    if (const FieldCondition* fc = std::get_if<FieldCondition>(&c)) {
      const PayloadIndex::Field* field = FieldOf(*fc, prefix);
      if (field == nullptr) return std::nullopt;
      std::optional<FieldBound> bound = field->index->Lookup(fc->predicate);
      if (!bound) return std::nullopt;
      return std::move(bound->slots);
    }
    if (const NestedCondition* nc = std::get_if<NestedCondition>(&c)) {
      if (nc->filter == nullptr) return std::nullopt;
      const JsonPath inner_prefix = prefix ? prefix->Concat(nc->key) : nc->key;
      return Collect(*nc->filter, &inner_prefix);
    }
    if (const FilterCondition* f = std::get_if<FilterCondition>(&c)) {
      if (f->filter == nullptr) return std::nullopt;
      return Collect(*f->filter, prefix);
    }
    return std::nullopt;  // has_id, is_empty, is_null
  }

  // The union of the conditions' lists, or std::nullopt if one is not bounded.
  std::optional<std::vector<uint32_t>> CollectUnion(const std::vector<Condition>& conditions,
                                                    const JsonPath* prefix) const {
    std::vector<uint32_t> out;
    for (const Condition& c : conditions) {
      std::optional<std::vector<uint32_t>> part = CollectCondition(c, prefix);
      if (!part) return std::nullopt;
      out.insert(out.end(), part->begin(), part->end());
    }
    Normalize(&out);
    return out;
  }

  Plan Not(const Plan& e) const { return Plan{n_ - e.max, n_ - e.expected, n_ - e.min, false, 0}; }

  Plan And(std::vector<Plan> parts) const {
    if (parts.empty()) return All();
    Plan out;
    out.max = n_;
    double min_sum = 0;
    double p = 1;
    for (const Plan& e : parts) {
      out.max = std::min(out.max, e.max);
      min_sum += e.min;
      p *= n_ > 0 ? e.expected / n_ : 0;
      if (e.bounded) {
        out.candidates = out.bounded ? std::min(out.candidates, e.candidates) : e.candidates;
        out.bounded = true;
      }
    }
    out.min = std::max(0.0, min_sum - static_cast<double>(parts.size() - 1) * n_);
    out.expected = n_ * p;
    return Finish(out);
  }

  Plan Or(std::vector<Plan> parts) const {
    if (parts.empty()) return None();  // `should: []` matches nothing
    Plan out;
    out.bounded = true;
    double max_sum = 0;
    double p_none = 1;
    for (const Plan& e : parts) {
      out.min = std::max(out.min, e.min);
      max_sum += e.max;
      p_none *= n_ > 0 ? 1 - e.expected / n_ : 1;
      out.bounded = out.bounded && e.bounded;
      out.candidates += e.candidates;
    }
    out.max = std::min(n_, max_sum);
    out.expected = n_ * (1 - p_none);
    if (!out.bounded) out.candidates = 0;
    return Finish(out);
  }

  // At least k of the parts.
  Plan AtLeast(std::vector<Plan> parts, size_t k) const {
    if (k == 0) return All();
    if (k > parts.size()) return None();
    if (k == 1) return Or(std::move(parts));
    const double kd = static_cast<double>(k);
    const double n_parts = static_cast<double>(parts.size());
    double min_sum = 0, max_sum = 0;
    // dp[j]: probability that exactly j parts hold (j < k), j == k collects "k or more"; parts independent.
    std::vector<double> dp(k + 1, 0.0);
    dp[0] = 1;
    Plan out;
    out.bounded = true;
    for (const Plan& e : parts) {
      min_sum += e.min;
      max_sum += e.max;
      const double p = n_ > 0 ? e.expected / n_ : 0;
      dp[k] += dp[k - 1] * p;
      for (size_t j = k - 1; j > 0; --j) dp[j] = dp[j] * (1 - p) + dp[j - 1] * p;
      dp[0] *= 1 - p;
      out.bounded = out.bounded && e.bounded;
      out.candidates += e.candidates;
    }
    // Each matching point satisfies >= k parts, so the parts' counts add up to at least k per such point; and
    // a point satisfying c parts counts c <= n_parts times.
    out.max = std::min(n_, std::floor(max_sum / kd + kSlack));
    out.min = std::max(0.0, std::ceil((min_sum - (kd - 1) * n_) / (n_parts - kd + 1) - kSlack));
    out.expected = n_ * dp[k];
    if (!out.bounded) out.candidates = 0;
    return Finish(out);
  }

  Plan Finish(Plan e) const {
    if (e.bounded) e.max = std::min(e.max, e.candidates);
    e.max = std::clamp(e.max, 0.0, n_);
    e.min = std::clamp(e.min, 0.0, e.max);
    e.expected = std::clamp(e.expected, e.min, e.max);
    return e;
  }

  const PayloadIndex& index_;
  double n_;
};

Result<FieldIndexType> ParseFieldIndexType(std::string_view name) {
  for (size_t i = 0; i < std::size(kTypeNames); ++i) {
    if (kTypeNames[i] == name) return static_cast<FieldIndexType>(i);
  }
  std::string message = "'";
  message.append(name.substr(0, 64));
  message +=
      "' is not a payload index type (expected keyword, integer, float, bool, uuid, datetime, geo or text)";
  return Status::InvalidArgument(message);
}

std::string_view FieldIndexTypeName(FieldIndexType type) {
  const size_t i = static_cast<size_t>(type);
  return i < std::size(kTypeNames) ? kTypeNames[i] : "unknown";
}

PayloadIndex::PayloadIndex() = default;
PayloadIndex::~PayloadIndex() = default;
PayloadIndex::PayloadIndex(PayloadIndex&&) noexcept = default;
PayloadIndex& PayloadIndex::operator=(PayloadIndex&&) noexcept = default;

Status PayloadIndex::CreateField(std::string_view path, FieldIndexType type) {
  return CreateField(path, type, [](PointVisitor) {});
}

Status PayloadIndex::CreateField(std::string_view path, FieldIndexType type,
                                 FunctionRef<void(PointVisitor)> for_each_point) {
  QUIVER_ASSIGN_OR_RETURN(JsonPath parsed, JsonPath::Parse(path));
  auto it = fields_.find(parsed.text());
  if (it != fields_.end()) {
    if (it->second->type == type) return Status::OK();
    return Status::AlreadyExists("field '" + parsed.text() + "' is already indexed as " +
                                 std::string(FieldIndexTypeName(it->second->type)));
  }
  auto field = std::make_unique<Field>();
  field->path = parsed;
  field->type = type;
  field->index = MakeFieldIndex(type);
  Field* f = field.get();
  fields_.emplace(parsed.text(), std::move(field));
  for_each_point([&](uint32_t slot, const boost::json::object& payload) {
    bool any = false;
    ForEachValue(payload, f->path, [&](const boost::json::value& v) {
      any = f->index->Add(slot, v) || any;
      return false;
    });
    if (any) ++f->points;
  });
  return Status::OK();
}

Status PayloadIndex::DropField(std::string_view path) {
  QUIVER_ASSIGN_OR_RETURN(JsonPath parsed, JsonPath::Parse(path));
  if (fields_.erase(parsed.text()) == 0)
    return Status::NotFound("field '" + parsed.text() + "' is not indexed");
  return Status::OK();
}

std::vector<std::pair<std::string, FieldIndexType>> PayloadIndex::Fields() const {
  std::vector<std::pair<std::string, FieldIndexType>> out;
  out.reserve(fields_.size());
  for (const auto& [text, field] : fields_) out.emplace_back(text, field->type);
  return out;
}

void PayloadIndex::Insert(uint32_t slot, const boost::json::object& payload) {
  for (auto& entry : fields_) {
    Field* field = entry.second.get();
    bool any = false;
    ForEachValue(payload, field->path, [&](const boost::json::value& v) {
      any = field->index->Add(slot, v) || any;
      return false;
    });
    if (any) ++field->points;
  }
}

void PayloadIndex::Erase(uint32_t slot, const boost::json::object& payload) {
  for (auto& entry : fields_) {
    Field* field = entry.second.get();
    bool any = false;
    ForEachValue(payload, field->path, [&](const boost::json::value& v) {
      any = field->index->Remove(slot, v) || any;
      return false;
    });
    if (any && field->points > 0) --field->points;
  }
}

CardinalityEstimate PayloadIndex::Estimate(const Filter& filter, size_t total) const {
  const Plan e = Planner(*this, total).OfFilter(filter, nullptr);
  CardinalityEstimate out;
  // Counts are whole numbers; the slack keeps rounding noise from moving a bound past one.
  out.max = static_cast<size_t>(std::floor(e.max + kSlack));
  out.min = std::min(out.max, static_cast<size_t>(std::ceil(e.min - kSlack)));
  out.expected = std::clamp(static_cast<size_t>(std::llround(e.expected)), out.min, out.max);
  out.bounded = !fields_.empty() && e.bounded;
  if (out.bounded) out.max_candidates = ToCount(e.candidates);
  return out;
}

bool PayloadIndex::Bounded(const Filter& filter) const {
  return !fields_.empty() && Planner(*this, 0).OfFilter(filter, nullptr).bounded;
}

std::optional<std::vector<uint32_t>> PayloadIndex::Candidates(const Filter& filter) const {
  if (fields_.empty()) return std::nullopt;
  return Planner(*this, 0).Collect(filter, nullptr);
}

std::optional<std::vector<uint32_t>> PayloadIndex::Candidates(const Filter& filter, size_t limit) const {
  if (fields_.empty()) return std::nullopt;
  const Planner planner(*this, 0);
  const Plan plan = planner.OfFilter(filter, nullptr);
  if (!plan.bounded || ToCount(plan.candidates) > limit) return std::nullopt;
  return planner.Collect(filter, nullptr);
}

Status PayloadIndex::KeepOnly(const std::vector<std::pair<std::string, FieldIndexType>>& fields) {
  std::map<std::string, FieldIndexType> wanted;
  for (const auto& [path, type] : fields) {
    QUIVER_ASSIGN_OR_RETURN(JsonPath parsed, JsonPath::Parse(path));
    wanted.emplace(parsed.text(), type);
  }
  std::erase_if(fields_, [&](const auto& entry) {
    auto it = wanted.find(entry.first);
    return it == wanted.end() || it->second != entry.second->type;
  });
  return Status::OK();
}

// Field count, then per field in path order: the canonical path (length-prefixed), the type (u8), the number
// of points with a value (varint) and the field index's bytes (length-prefixed).
std::string PayloadIndex::Encode(std::span<const uint32_t> remap) const {
  std::string out, body;
  PutVarint64(&out, fields_.size());
  for (const auto& [text, field] : fields_) {
    PutLengthPrefixed(&out, text);
    PutFixed8(&out, static_cast<uint8_t>(field->type));
    PutVarint64(&out, field->points);
    body.clear();
    field->index->Encode(remap, &body);
    PutLengthPrefixed(&out, body);
  }
  return out;
}

Status PayloadIndex::Decode(std::span<const uint8_t> bytes, uint32_t slot_count, const std::string& what,
                            size_t base_offset) {
  if (!fields_.empty()) return Status::FailedPrecondition("payload index to load into is not empty");
  ByteReader in(bytes, what, base_offset);
  uint64_t count = 0;
  QUIVER_RETURN_IF_ERROR(in.ReadVarint64(&count, "field count"));
  if (count > in.remaining()) return in.Error("field count exceeds the section");
  std::string previous;
  for (uint64_t i = 0; i < count; ++i) {
    std::string_view path;
    uint8_t type = 0;
    uint64_t points = 0;
    std::string_view body;
    QUIVER_RETURN_IF_ERROR(in.ReadLengthPrefixed(&path, "field path"));
    QUIVER_RETURN_IF_ERROR(in.ReadU8(&type, "field type"));
    QUIVER_RETURN_IF_ERROR(in.ReadVarint64(&points, "field point count"));
    const size_t body_at = in.position();
    QUIVER_RETURN_IF_ERROR(in.ReadLengthPrefixed(&body, "field index"));
    if (type >= std::size(kTypeNames)) return in.Error("unknown field index type " + std::to_string(type));
    if (points > slot_count) return in.Error("field point count exceeds the slot count");
    Result<JsonPath> parsed = JsonPath::Parse(path);
    if (!parsed.ok() || parsed->text() != path) return in.Error("bad field path '" + std::string(path) + "'");
    if (i > 0 && !(previous < path)) return in.Error("fields out of order");
    previous.assign(path);

    auto field = std::make_unique<Field>();
    field->path = *parsed;
    field->type = static_cast<FieldIndexType>(type);
    field->index = MakeFieldIndex(field->type);
    field->points = points;
    // The body's offset: the length prefix is a varint in front of it.
    const size_t offset = base_offset + body_at + (in.position() - body_at - body.size());
    ByteReader field_in(body, what + " field '" + std::string(path) + "'", offset);
    QUIVER_RETURN_IF_ERROR(field->index->Decode(&field_in, slot_count));
    if (!field_in.empty()) return field_in.Error("unexpected bytes after the field index");
    fields_.emplace(std::string(path), std::move(field));
  }
  if (!in.empty()) return in.Error("unexpected bytes after the last field");
  return Status::OK();
}

size_t PayloadIndex::MemoryUsage() const {
  size_t bytes = 0;
  for (const auto& [text, field] : fields_) {
    bytes += sizeof(Field) + text.capacity() + field->index->MemoryUsage();
  }
  return bytes;
}

size_t PayloadIndex::IndexedPoints(std::string_view path) const {
  Result<JsonPath> parsed = JsonPath::Parse(path);
  if (!parsed.ok()) return 0;
  const Field* field = FindField(parsed->text());
  return field == nullptr ? 0 : field->points;
}

const PayloadIndex::Field* PayloadIndex::FindField(const std::string& canonical_path) const {
  auto it = fields_.find(canonical_path);
  return it == fields_.end() ? nullptr : it->second.get();
}

}  // namespace quiver::payload
