#include "index/sparse_index.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "base/coding.h"

namespace quiver::index {

Status NormalizeSparse(SparseVector* v) {
  if (v->indices.size() != v->values.size()) {
    return Status::InvalidArgument("indices and values have different lengths (" +
                                   std::to_string(v->indices.size()) + " and " + std::to_string(v->values.size()) +
                                   ")");
  }
  for (size_t i = 0; i < v->values.size(); ++i) {
    if (!std::isfinite(v->values[i])) {
      return Status::InvalidArgument("values[" + std::to_string(i) + "] is not a finite number");
    }
  }
  if (!std::is_sorted(v->indices.begin(), v->indices.end())) {
    std::vector<size_t> order(v->indices.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return v->indices[a] < v->indices[b]; });
    SparseVector sorted;
    sorted.indices.reserve(order.size());
    sorted.values.reserve(order.size());
    for (size_t i : order) {
      sorted.indices.push_back(v->indices[i]);
      sorted.values.push_back(v->values[i]);
    }
    *v = std::move(sorted);
  }
  for (size_t i = 1; i < v->indices.size(); ++i) {
    if (v->indices[i] == v->indices[i - 1]) {
      return Status::InvalidArgument("duplicate index " + std::to_string(v->indices[i]));
    }
  }
  return Status::OK();
}

Status CheckSparse(std::span<const uint32_t> indices, std::span<const float> values) {
  if (indices.size() != values.size()) {
    return Status::InvalidArgument("indices and values have different lengths (" + std::to_string(indices.size()) +
                                   " and " + std::to_string(values.size()) + ")");
  }
  for (size_t i = 0; i < indices.size(); ++i) {
    if (i > 0 && indices[i] <= indices[i - 1]) {
      return Status::InvalidArgument(indices[i] == indices[i - 1]
                                         ? "duplicate index " + std::to_string(indices[i])
                                         : "indices are not in increasing order");
    }
    if (!std::isfinite(values[i])) {
      return Status::InvalidArgument("values[" + std::to_string(i) + "] is not a finite number");
    }
  }
  return Status::OK();
}

double SparseIdf(size_t points, size_t with_index) {
  const double n_all = static_cast<double>(points), n = static_cast<double>(with_index);
  return std::log((n_all - n + 0.5) / (n + 0.5) + 1.0);
}

std::optional<float> SparseDot(SparseView a, SparseView b) {
  size_t i = 0, j = 0;
  bool shared = false;
  float sum = 0.0f;
  while (i < a.indices.size() && j < b.indices.size()) {
    if (a.indices[i] < b.indices[j]) {
      ++i;
    } else if (a.indices[i] > b.indices[j]) {
      ++j;
    } else {
      sum += a.values[i] * b.values[j];
      shared = true;
      ++i;
      ++j;
    }
  }
  if (!shared) return std::nullopt;
  return sum;
}

SparseView SparseIndex::Vector(uint32_t row) const {
  const size_t begin = offsets_[row], end = offsets_[row + 1];
  return SparseView{{indices_.data() + begin, end - begin}, {values_.data() + begin, end - begin}};
}

uint32_t SparseIndex::DocumentFrequency(uint32_t index) const {
  auto it = postings_.find(index);
  return it == postings_.end() ? 0 : it->second.live;
}

uint32_t SparseIndex::Add(SparseView v) {
  const uint32_t row = static_cast<uint32_t>(size());
  indices_.insert(indices_.end(), v.indices.begin(), v.indices.end());
  values_.insert(values_.end(), v.values.begin(), v.values.end());
  offsets_.push_back(indices_.size());
  Index(row);
  return row;
}

void SparseIndex::Index(uint32_t row) {
  const SparseView v = Vector(row);
  const bool live = !deleted_.Contains(row);
  for (size_t i = 0; i < v.indices.size(); ++i) {
    PostingList& list = postings_[v.indices[i]];
    list.entries.push_back(Posting{row, v.values[i]});
    if (live) ++list.live;
  }
}

void SparseIndex::Remove(uint32_t row) {
  if (row >= size() || !deleted_.Insert(row)) return;
  for (uint32_t index : Vector(row).indices) --postings_[index].live;
}

void SparseIndex::Score(SparseView query, FunctionRef<void(uint32_t, float)> fn) const {
  // One accumulator per row, reused by the thread across searches; only touched rows are reset.
  thread_local std::vector<float> acc;
  thread_local std::vector<uint8_t> seen;
  thread_local std::vector<uint32_t> touched;
  const size_t rows = size();
  if (acc.size() < rows) {
    acc.resize(rows, 0.0f);
    seen.resize(rows, 0);
  }
  touched.clear();
  for (size_t t = 0; t < query.indices.size(); ++t) {
    auto it = postings_.find(query.indices[t]);
    if (it == postings_.end() || it->second.live == 0) continue;
    const float w = query.values[t];
    for (const Posting& p : it->second.entries) {
      if (!seen[p.row]) {
        seen[p.row] = 1;
        acc[p.row] = 0.0f;
        touched.push_back(p.row);
      }
      acc[p.row] += w * p.value;
    }
  }
  // Reset before calling back, so a callback may search again.
  std::vector<std::pair<uint32_t, float>> hits;
  hits.reserve(touched.size());
  for (uint32_t row : touched) {
    seen[row] = 0;
    if (!deleted_.Contains(row)) hits.emplace_back(row, acc[row]);
  }
  for (const auto& [row, score] : hits) fn(row, score);
}

std::string SparseIndex::Serialize() const {
  std::string out;
  const size_t rows = size();
  PutFixed32(&out, static_cast<uint32_t>(rows));
  PutFixed32(&out, 0);
  PutFixed64(&out, indices_.size());
  for (size_t r = 0; r < rows; ++r) PutFixed32(&out, static_cast<uint32_t>(offsets_[r + 1] - offsets_[r]));
  out.append(reinterpret_cast<const char*>(indices_.data()), indices_.size() * sizeof(uint32_t));
  out.append(reinterpret_cast<const char*>(values_.data()), values_.size() * sizeof(float));
  std::vector<uint64_t> words((rows + 63) / 64, 0);
  const auto& have = deleted_.words();
  for (size_t w = 0; w < words.size() && w < have.size(); ++w) words[w] = have[w];
  out.append(reinterpret_cast<const char*>(words.data()), words.size() * sizeof(uint64_t));
  return out;
}

Result<std::unique_ptr<SparseIndex>> SparseIndex::Load(std::span<const uint8_t> bytes, const std::string& what,
                                                       size_t base_offset) {
  ByteReader r(bytes, what, base_offset);
  uint32_t rows = 0, reserved = 0;
  uint64_t entries = 0;
  QUIVER_RETURN_IF_ERROR(r.ReadU32(&rows, "row count"));
  QUIVER_RETURN_IF_ERROR(r.ReadU32(&reserved, "reserved"));
  if (reserved != 0) return r.Error("reserved field is not zero");
  QUIVER_RETURN_IF_ERROR(r.ReadU64(&entries, "entry count"));
  const uint64_t words = (uint64_t{rows} + 63) / 64;
  // rows counts, entries indices and values, the bitmap: nothing else.
  if (entries > r.remaining() / 8 || uint64_t{rows} * 4 + entries * 8 + words * 8 != r.remaining()) {
    return r.Error("size does not match " + std::to_string(rows) + " rows of " + std::to_string(entries) +
                   " entries");
  }
  auto index = std::make_unique<SparseIndex>();
  index->offsets_.reserve(size_t{rows} + 1);
  for (uint32_t row = 0; row < rows; ++row) {
    uint32_t count = 0;
    QUIVER_RETURN_IF_ERROR(r.ReadU32(&count, "row entry count"));
    const uint64_t next = index->offsets_.back() + count;
    if (next > entries) return r.Error("row entry counts exceed the entry count");
    index->offsets_.push_back(next);
  }
  if (index->offsets_.back() != entries) return r.Error("row entry counts do not add up to the entry count");
  index->indices_.resize(entries);
  index->values_.resize(entries);
  std::span<const uint8_t> raw;
  QUIVER_RETURN_IF_ERROR(r.ReadBytes(entries * 4, &raw, "indices"));
  if (entries) std::memcpy(index->indices_.data(), raw.data(), raw.size());
  QUIVER_RETURN_IF_ERROR(r.ReadBytes(entries * 4, &raw, "values"));
  if (entries) std::memcpy(index->values_.data(), raw.data(), raw.size());
  for (uint32_t row = 0; row < rows; ++row) {
    const SparseView v = index->Vector(row);
    Status s = CheckSparse(v.indices, v.values);
    if (!s.ok()) return r.Error("row " + std::to_string(row) + ": " + std::string(s.message()));
  }
  std::vector<uint64_t> bits(words);
  for (uint64_t w = 0; w < words; ++w) QUIVER_RETURN_IF_ERROR(r.ReadU64(&bits[w], "deleted rows"));
  if (rows % 64 != 0 && words > 0 && (bits.back() >> (rows % 64)) != 0) {
    return r.Error("deleted bit set past the last row");
  }
  index->deleted_.Assign(std::move(bits));
  for (uint32_t row = 0; row < rows; ++row) index->Index(row);
  return index;
}

size_t SparseIndex::MemoryUsage() const {
  size_t bytes = offsets_.capacity() * sizeof(uint64_t) + indices_.capacity() * sizeof(uint32_t) +
                 values_.capacity() * sizeof(float) + deleted_.MemoryUsage();
  for (const auto& [index, list] : postings_) bytes += 48 + list.entries.capacity() * sizeof(Posting);
  return bytes;
}

}  // namespace quiver::index
