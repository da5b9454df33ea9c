// FieldIndex: the index of one payload field (one key path) inside a PayloadIndex, one implementation per
// FieldIndexType. It maps the field's values of its type to the slots holding them; values of other types are
// not indexed. Lookup answers, for one field predicate, a superset of the slots with a value satisfying it
// (and whether the set is exact), or nothing when this index cannot bound the predicate with Matches()'s
// semantics.
//
// Thread safety: const methods may run concurrently; Add and Remove need exclusive access.
#ifndef QUIVER_PAYLOAD_FIELD_INDEX_H_
#define QUIVER_PAYLOAD_FIELD_INDEX_H_

#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "payload/filter.h"
#include "payload/payload_index.h"

namespace quiver::payload {

struct FieldBound {
  std::vector<uint32_t> slots;  // sorted, unique
  bool exact = false;           // every slot has a value satisfying the predicate
  double match_fraction = 1.0;  // when not exact: the share of slots expected to match
};

class FieldIndex {
 public:
  virtual ~FieldIndex() = default;
  virtual FieldIndexType type() const = 0;
  // Adds `slot` under one value (arrays are already expanded by the caller). True when the value has this
  // index's type (the point then counts as indexed).
  virtual bool Add(uint32_t slot, const boost::json::value& value) = 0;
  // Undoes Add with the same value.
  virtual bool Remove(uint32_t slot, const boost::json::value& value) = 0;
  virtual std::optional<FieldBound> Lookup(const FieldPredicate& predicate) const = 0;
  virtual size_t MemoryUsage() const = 0;
};

std::unique_ptr<FieldIndex> MakeFieldIndex(FieldIndexType type);

// Sorted-set helpers on slot vectors.
void AddSlot(std::vector<uint32_t>* slots, uint32_t slot);
bool RemoveSlot(std::vector<uint32_t>* slots, uint32_t slot);
std::vector<uint32_t> Intersect(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b);
std::vector<uint32_t> Unite(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b);
// Sorts and removes duplicates.
void Normalize(std::vector<uint32_t>* slots);

}  // namespace quiver::payload

#endif  // QUIVER_PAYLOAD_FIELD_INDEX_H_
