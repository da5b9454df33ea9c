#include "payload/payload_index.h"

#include <algorithm>
#include <cmath>

#include "payload/field_index.h"
#include "payload/filter.h"
#include "payload/json_path.h"

namespace quiver::payload {

struct PayloadIndex::Field {
  JsonPath path;
  FieldIndexType type;
  std::unique_ptr<FieldIndex> index;
  std::vector<uint32_t> points;  // slots with at least one value of the index's type
};

namespace {

// Tolerance when rounding counts computed in floating point.
constexpr double kSlack = 1e-6;

constexpr std::string_view kTypeNames[] = {"keyword", "integer",  "float", "bool",
                                           "uuid",    "datetime", "geo",   "text"};

// What the indexes say about a filter or condition over `total` points: bounds on the match count and, when
// the indexes can bound it, a sorted superset of the matching slots.
struct Plan {
  double min = 0;
  double expected = 0;
  double max = 0;
  std::optional<std::vector<uint32_t>> candidates;
};

}  // namespace

// Walks a filter with the indexes. `prefix` is set inside nested conditions: the element path from the root,
// to which inner keys are relative. There, bounds only hold as upper bounds (the same element must satisfy
// every inner condition, which per-path indexes cannot see), so minimums become 0 and must_not gives no
// information.
class Planner {
 public:
  Planner(const PayloadIndex& index, size_t total) : index_(index), n_(static_cast<double>(total)) {}

  Plan OfFilter(const Filter& f, const JsonPath* prefix) const {
    std::vector<Plan> parts;
    for (const Condition& c : f.must) parts.push_back(OfCondition(c, prefix));
    for (const Condition& c : f.must_not) parts.push_back(prefix ? Unknown() : Not(OfCondition(c, prefix)));
    if (f.should) {
      std::vector<Plan> any;
      for (const Condition& c : *f.should) any.push_back(OfCondition(c, prefix));
      parts.push_back(Or(std::move(any)));
    }
    if (f.min_should) {
      std::vector<Plan> some;
      for (const Condition& c : f.min_should->conditions) some.push_back(OfCondition(c, prefix));
      parts.push_back(AtLeast(std::move(some), f.min_should->min_count));
    }
    return And(std::move(parts));
  }

 private:
  Plan All() const { return Plan{n_, n_, n_, std::nullopt}; }
  Plan None() const { return Plan{0, 0, 0, std::vector<uint32_t>()}; }
  Plan Unknown() const { return Plan{0, n_ / 2, n_, std::nullopt}; }

  Plan OfCondition(const Condition& c, const JsonPath* prefix) const {
    if (const FieldCondition* fc = std::get_if<FieldCondition>(&c)) return OfField(*fc, prefix);
    if (const HasIdCondition* h = std::get_if<HasIdCondition>(&c)) {
      const double m = std::min(n_, static_cast<double>(h->ids.size()));
      return Plan{0, m, m, std::nullopt};
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

  Plan OfField(const FieldCondition& c, const JsonPath* prefix) const {
    const PayloadIndex::Field* field = index_.FindField(prefix ? prefix->Concat(c.key).text() : c.key.text());
    if (field == nullptr) return Unknown();
    std::optional<FieldBound> bound = field->index->Lookup(c.predicate);
    if (!bound) return Unknown();
    const double count = std::min(n_, static_cast<double>(bound->slots.size()));
    Plan e;
    e.max = count;
    e.min = bound->exact && prefix == nullptr ? count : 0;
    e.expected = bound->exact ? count : count * bound->match_fraction;
    e.candidates = std::move(bound->slots);
    return e;
  }

  Plan Not(const Plan& e) const { return Plan{n_ - e.max, n_ - e.expected, n_ - e.min, std::nullopt}; }

  Plan And(std::vector<Plan> parts) const {
    if (parts.empty()) return All();
    Plan out;
    out.max = n_;
    double min_sum = 0;
    double p = 1;
    for (Plan& e : parts) {
      out.max = std::min(out.max, e.max);
      min_sum += e.min;
      p *= n_ > 0 ? e.expected / n_ : 0;
      if (e.candidates) {
        out.candidates =
            out.candidates ? Intersect(*out.candidates, *e.candidates) : std::move(*e.candidates);
      }
    }
    out.min = std::max(0.0, min_sum - static_cast<double>(parts.size() - 1) * n_);
    out.expected = n_ * p;
    return Finish(std::move(out));
  }

  Plan Or(std::vector<Plan> parts) const {
    if (parts.empty()) return None();  // `should: []` matches nothing
    Plan out;
    double max_sum = 0;
    double p_none = 1;
    bool all_bounded = true;
    std::vector<uint32_t> united;
    for (Plan& e : parts) {
      out.min = std::max(out.min, e.min);
      max_sum += e.max;
      p_none *= n_ > 0 ? 1 - e.expected / n_ : 1;
      if (e.candidates && all_bounded) {
        united = Unite(united, *e.candidates);
      } else {
        all_bounded = false;
      }
    }
    out.max = std::min(n_, max_sum);
    out.expected = n_ * (1 - p_none);
    if (all_bounded) out.candidates = std::move(united);
    return Finish(std::move(out));
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
    bool all_bounded = true;
    std::vector<uint32_t> united;
    for (Plan& e : parts) {
      min_sum += e.min;
      max_sum += e.max;
      const double p = n_ > 0 ? e.expected / n_ : 0;
      dp[k] += dp[k - 1] * p;
      for (size_t j = k - 1; j > 0; --j) dp[j] = dp[j] * (1 - p) + dp[j - 1] * p;
      dp[0] *= 1 - p;
      if (e.candidates && all_bounded) {
        united = Unite(united, *e.candidates);
      } else {
        all_bounded = false;
      }
    }
    Plan out;
    // Each matching point satisfies >= k parts, so the parts' counts add up to at least k per such point; and
    // a point satisfying c parts counts c <= n_parts times.
    out.max = std::min(n_, std::floor(max_sum / kd + kSlack));
    out.min = std::max(0.0, std::ceil((min_sum - (kd - 1) * n_) / (n_parts - kd + 1) - kSlack));
    out.expected = n_ * dp[k];
    if (all_bounded) out.candidates = std::move(united);
    return Finish(std::move(out));
  }

  Plan Finish(Plan e) const {
    if (e.candidates) e.max = std::min(e.max, static_cast<double>(e.candidates->size()));
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
    if (any) AddSlot(&f->points, slot);
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
    if (any) AddSlot(&field->points, slot);
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
    if (any) RemoveSlot(&field->points, slot);
  }
}

CardinalityEstimate PayloadIndex::Estimate(const Filter& filter, size_t total) const {
  Plan e = Planner(*this, total).OfFilter(filter, nullptr);
  CardinalityEstimate out;
  // Counts are whole numbers; the slack keeps rounding noise from moving a bound past one.
  out.max = static_cast<size_t>(std::floor(e.max + kSlack));
  out.min = std::min(out.max, static_cast<size_t>(std::ceil(e.min - kSlack)));
  out.expected = std::clamp(static_cast<size_t>(std::llround(e.expected)), out.min, out.max);
  return out;
}

std::optional<std::vector<uint32_t>> PayloadIndex::Candidates(const Filter& filter) const {
  if (fields_.empty()) return std::nullopt;
  return Planner(*this, SIZE_MAX).OfFilter(filter, nullptr).candidates;
}

size_t PayloadIndex::MemoryUsage() const {
  size_t bytes = 0;
  for (const auto& [text, field] : fields_) {
    bytes += sizeof(Field) + text.capacity() + field->points.capacity() * sizeof(uint32_t) +
             field->index->MemoryUsage();
  }
  return bytes;
}

size_t PayloadIndex::IndexedPoints(std::string_view path) const {
  Result<JsonPath> parsed = JsonPath::Parse(path);
  if (!parsed.ok()) return 0;
  const Field* field = FindField(parsed->text());
  return field == nullptr ? 0 : field->points.size();
}

const PayloadIndex::Field* PayloadIndex::FindField(const std::string& canonical_path) const {
  auto it = fields_.find(canonical_path);
  return it == fields_.end() ? nullptr : it->second.get();
}

}  // namespace quiver::payload
