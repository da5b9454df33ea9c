// FieldIndex: the index of one payload field (one key path) inside a PayloadIndex, one implementation per
// FieldIndexType. It maps the field's values of its type to the slots holding them; values of other types are
// not indexed. For one field predicate, Lookup lists a superset of the slots with a value satisfying it (and
// says whether the list is exact), and Count bounds the size of that list without building it; both answer
// nothing when this index cannot bound the predicate with Matches()'s semantics.
//
// Thread safety: const methods may run concurrently; Add and Remove need exclusive access.
#ifndef QUIVER_PAYLOAD_FIELD_INDEX_H_
#define QUIVER_PAYLOAD_FIELD_INDEX_H_

#include <boost/json/value.hpp>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/coding.h"
#include "payload/filter.h"
#include "payload/payload_index.h"

namespace quiver::payload {

struct FieldBound {
  std::vector<uint32_t> slots;  // sorted, unique
  bool exact = false;           // every slot has a value satisfying the predicate
  double match_fraction = 1.0;  // when not exact: the share of slots expected to match
};

// What Count knows about the list Lookup would return: min <= its size <= max, and about `expected` of its
// slots satisfy the predicate (the list size times the match fraction).
struct FieldCount {
  size_t min = 0;
  size_t max = 0;
  double expected = 0;
  bool exact = false;  // as FieldBound::exact
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
  // Bounds on Lookup(predicate) without listing slots: O(log n) per value or range in the predicate (geo:
  // per grid row of the covered area; text: per query token). `points` is the number of slots with at least
  // one value in this index, which turns counts of (value, slot) entries into counts of slots. std::nullopt
  // exactly when Lookup gives std::nullopt.
  virtual std::optional<FieldCount> Count(const FieldPredicate& predicate, size_t points) const = 0;
  // Number of (value, slot) entries held: at least the number of slots, more when slots hold several values.
  virtual size_t entries() const = 0;
  virtual size_t MemoryUsage() const = 0;

  // Appends the index's entries to `out` in the layout of docs/formats.md ("Payload index section"), each
  // slot s written as remap[s]. `remap` must be increasing over the slots it keeps; entries whose slot maps
  // to kDroppedSlot (or lies past the end of `remap`) are left out.
  virtual void Encode(std::span<const uint32_t> remap, std::string* out) const = 0;
  // Fills this index, which must be empty, from Encode's bytes. Corruption (naming the offset) for entries
  // out of order, a slot not below `slot_count`, or a key this index type never holds.
  virtual Status Decode(ByteReader* in, uint32_t slot_count) = 0;
};

std::unique_ptr<FieldIndex> MakeFieldIndex(FieldIndexType type);

// Sorted-set helpers on slot vectors.
void AddSlot(std::vector<uint32_t>* slots, uint32_t slot);
bool RemoveSlot(std::vector<uint32_t>* slots, uint32_t slot);
std::vector<uint32_t> Intersect(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b);
std::vector<uint32_t> Unite(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b);
// Sorts and removes duplicates: a bitmap pass when the slots are dense (at least one per 64 of the largest),
// else a sort.
void Normalize(std::vector<uint32_t>* slots);

}  // namespace quiver::payload

#endif  // QUIVER_PAYLOAD_FIELD_INDEX_H_
