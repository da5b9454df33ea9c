#include "payload/field_index.h"

#include <algorithm>
#include <bit>

#include "payload/field_index_parts.h"

namespace quiver::payload {

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
      return field_index_parts::MakeKeywordIndex();
    case FieldIndexType::kInteger:
      return field_index_parts::MakeIntegerIndex();
    case FieldIndexType::kFloat:
      return field_index_parts::MakeFloatIndex();
    case FieldIndexType::kBool:
      return field_index_parts::MakeBoolIndex();
    case FieldIndexType::kUuid:
      return field_index_parts::MakeUuidIndex();
    case FieldIndexType::kDatetime:
      return field_index_parts::MakeDatetimeIndex();
    case FieldIndexType::kGeo:
      return field_index_parts::MakeGeoIndex();
    case FieldIndexType::kText:
      return field_index_parts::MakeTextIndex();
  }
  return nullptr;
}

}  // namespace quiver::payload
