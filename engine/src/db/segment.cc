#include "db/segment.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/coding.h"
#include "index/flat_index.h"
#include "index/hnsw_index.h"
#include "payload/json_util.h"

namespace quiver::db {
namespace {

index::Metric MetricFor(Distance d) {
  switch (d) {
    case Distance::kCosine:
      return index::Metric::kCosine;
    case Distance::kEuclid:
      return index::Metric::kL2;
    case Distance::kDot:
      return index::Metric::kInnerProduct;
    case Distance::kManhattan:
      return index::Metric::kL1;
  }
  return index::Metric::kL2;
}

// How many live rows a filtered search samples to estimate its selectivity when no index bounds the filter
// (a power of two: the sample's order below reverses the bits of its index), and the matches after which it
// stops early: 32 matches estimate a broad filter as closely as the whole sample estimates one of 1 in 8.
constexpr size_t kEstimateSampleBits = 8;
constexpr size_t kEstimateSample = size_t{1} << kEstimateSampleBits;
constexpr size_t kEstimateEnoughMatches = 32;

// A filtered search walks the graph unfiltered and filters what it returns when at least this share of the
// segment matches (bench/filter_bench.cc: at 10% and 50% the filtered walk was 0.6-0.8x of post-filtering, as it
// checks the filter on every row it meets), fetching at least kGraphThenFilterMargin * k / selectivity neighbours.
constexpr double kGraphThenFilterSelectivity = 0.08;
constexpr double kGraphThenFilterMargin = 1.0;
// A walk short of k matches widens its beam by kGraphThenFilterWiden times the share of k it lacks, at most
// to kGraphThenFilterMaxWiden times its first beam.
constexpr double kGraphThenFilterWiden = 1.25;
constexpr size_t kGraphThenFilterMaxWiden = 4;

}  // namespace

Result<std::unique_ptr<Segment>> Segment::Create(std::vector<VectorSpace> spaces,
                                                 std::vector<SparseSpace> sparse_spaces,
                                                 std::optional<IndexKind> index_kind_override) {
  std::unique_ptr<Segment> seg(new Segment());
  for (size_t s = 0; s < sparse_spaces.size(); ++s) seg->sparse_.push_back(Sparse{std::make_unique<index::SparseIndex>(), {}});
  seg->sparse_spaces_ = std::move(sparse_spaces);
  for (const VectorSpace& vs : spaces) {
    Space sp;
    const IndexKind kind = index_kind_override.value_or(vs.params.index);
    const index::Metric metric = MetricFor(vs.params.distance);
    if (kind == IndexKind::kFlat) {
      QUIVER_ASSIGN_OR_RETURN(auto flat, index::FlatIndex::Create(vs.params.size, metric));
      sp.index = std::move(flat);
    } else {
      index::HnswOptions options;
      options.m = vs.hnsw.m;
      options.ef_construction = vs.hnsw.ef_construct;
      QUIVER_ASSIGN_OR_RETURN(auto hnsw, index::HnswIndex::Create(vs.params.size, metric, options));
      sp.index = std::move(hnsw);
    }
    sp.threshold_points =
        std::max<size_t>(1, size_t{vs.hnsw.full_scan_threshold_kb} * 1024 / (vs.params.size * 4));
    seg->indexes_.push_back(std::move(sp));
  }
  seg->spaces_ = std::move(spaces);
  return seg;
}

void Segment::ReserveRows(size_t rows) {
  for (Space& sp : indexes_) {
    if (auto* flat = dynamic_cast<index::FlatIndex*>(sp.index.get())) flat->Reserve(rows);
  }
}

uint32_t Segment::SlotFor(const PointId& id) {
  auto it = ids_.lower_bound(id);
  if (it != ids_.end() && states_[*it].id == id) return *it;
  PointState st;
  st.id = id;
  st.rows.assign(spaces_.size(), kNoRow);
  st.sparse_rows.assign(sparse_spaces_.size(), kNoRow);
  const auto slot = static_cast<uint32_t>(states_.size());
  states_.push_back(std::move(st));
  ids_.insert(it, slot);
  return slot;
}

const PointState* Segment::Find(const PointId& id) const {
  auto it = ids_.find(id);
  return it == ids_.end() || IsRemoved(*it) ? nullptr : &states_[*it];
}

std::optional<uint32_t> Segment::FindSlot(const PointId& id) const {
  auto it = ids_.find(id);
  if (it == ids_.end() || IsRemoved(*it)) return std::nullopt;
  return *it;
}

void Segment::Remove(uint32_t slot) {
  if (slot >= states_.size() || IsRemoved(slot)) return;
  if (removed_.size() < states_.size()) removed_.resize(states_.size(), 0);
  removed_[slot] = 1;
  ++removed_count_;
  const PointState& st = states_[slot];
  if (!st.deleted) {
    if (!payload_index_.empty()) payload_index_.Erase(slot, st.payload);
    --live_;
  }
  for (size_t s = 0; s < st.rows.size(); ++s) {
    if (st.rows[s] != kNoRow) (void)indexes_[s].index->Remove(st.rows[s]);
  }
  for (size_t s = 0; s < st.sparse_rows.size(); ++s) {
    if (st.sparse_rows[s] != kNoRow) sparse_[s].index->Remove(st.sparse_rows[s]);
  }
}

MovedPoint Segment::Extract(uint32_t slot) const {
  MovedPoint out;
  out.state = states_[slot];
  out.vectors.resize(spaces_.size());
  for (size_t s = 0; s < spaces_.size(); ++s) {
    const uint32_t row = out.state.rows[s];
    if (row != kNoRow && !out.state.deleted) {
      const index::VectorIndex& idx = *indexes_[s].index;
      const float* v = idx.Vector(row);
      out.vectors[s].assign(v, v + idx.stride());
    }
    out.state.rows[s] = kNoRow;
  }
  out.sparse.resize(sparse_spaces_.size());
  for (size_t s = 0; s < sparse_spaces_.size(); ++s) {
    if (auto v = StoredSparse(out.state, s)) out.sparse[s] = v->ToVector();
    out.state.sparse_rows[s] = kNoRow;
  }
  return out;
}

void Segment::Adopt(const MovedPoint& point) {
  const uint32_t slot = SlotFor(point.state.id);
  PointState& st = states_[slot];
  st = point.state;
  st.rows.assign(spaces_.size(), kNoRow);
  for (size_t s = 0; s < spaces_.size() && s < point.vectors.size(); ++s) {
    if (point.vectors[s].empty() || st.deleted) continue;
    Space& sp = indexes_[s];
    const uint32_t row = static_cast<uint32_t>(sp.index->size());
    if (!sp.index->AddPrepared(point.vectors[s].data(), 1, nullptr).ok()) continue;
    st.rows[s] = row;
    if (sp.row_slot.size() <= row) sp.row_slot.resize(row + 1, kNoRow);
    sp.row_slot[row] = slot;
  }
  st.sparse_rows.assign(sparse_spaces_.size(), kNoRow);
  for (size_t s = 0; s < sparse_spaces_.size() && s < point.sparse.size(); ++s) {
    if (!point.sparse[s] || st.deleted) continue;
    const SparseVector& v = *point.sparse[s];
    AddSparseRow(slot, st, s, index::SparseView{v.indices, v.values});
  }
  if (!st.deleted) {
    ++live_;
    if (!payload_index_.empty()) payload_index_.Insert(slot, st.payload);
  }
}

const float* Segment::StoredVector(const PointState& st, size_t space) const {
  if (st.deleted || space >= st.rows.size() || st.rows[space] == kNoRow) return nullptr;
  return indexes_[space].index->Vector(st.rows[space]);
}

std::optional<index::SparseView> Segment::StoredSparse(const PointState& st, size_t space) const {
  if (st.deleted || space >= st.sparse_rows.size() || st.sparse_rows[space] == kNoRow) return std::nullopt;
  return sparse_[space].index->Vector(st.sparse_rows[space]);
}

void Segment::AddSparseRow(uint32_t slot, PointState& st, size_t space, index::SparseView v) {
  Sparse& sp = sparse_[space];
  const uint32_t row = sp.index->Add(v);
  st.sparse_rows[space] = row;
  if (sp.row_slot.size() <= row) sp.row_slot.resize(row + 1, kNoRow);
  sp.row_slot[row] = slot;
}

void Segment::RemoveRows(PointState& st) {
  for (size_t s = 0; s < st.rows.size(); ++s) {
    if (st.rows[s] == kNoRow) continue;
    (void)indexes_[s].index->Remove(st.rows[s]);
    st.rows[s] = kNoRow;
  }
  for (size_t s = 0; s < st.sparse_rows.size(); ++s) {
    if (st.sparse_rows[s] == kNoRow) continue;
    sparse_[s].index->Remove(st.sparse_rows[s]);
    st.sparse_rows[s] = kNoRow;
  }
}

Result<uint32_t> Segment::AddStoredForm(Space& sp, const std::vector<float>& values) {
  std::vector<float> row(sp.index->stride(), 0.0f);
  std::copy(values.begin(), values.begin() + std::min<size_t>(values.size(), row.size()), row.begin());
  const uint32_t r = static_cast<uint32_t>(sp.index->size());
  QUIVER_RETURN_IF_ERROR(sp.index->AddPrepared(row.data(), 1, nullptr));
  return r;
}

void Segment::ClearForFeed(uint32_t slot) {
  PointState& st = states_[slot];
  if (IsRemoved(slot)) return;
  if (!st.deleted) {
    if (!payload_index_.empty()) payload_index_.Erase(slot, st.payload);
    --live_;
  }
  RemoveRows(st);
  PointState fresh;
  fresh.id = st.id;
  fresh.rows.assign(spaces_.size(), kNoRow);
  fresh.sparse_rows.assign(sparse_spaces_.size(), kNoRow);
  st = std::move(fresh);
}

void Segment::AddRows(uint32_t slot, PointState& st, const Op& op) {
  for (const auto& [name, values] : op.vectors) {
    for (size_t s = 0; s < spaces_.size(); ++s) {
      if (spaces_[s].name != name) continue;
      Space& sp = indexes_[s];
      Result<uint32_t> row = op.stored_form ? AddStoredForm(sp, values) : sp.index->Add(values.data());
      if (!row.ok())
        break;  // validated by the collection; a failure here leaves the point without this vector
      st.rows[s] = *row;
      if (sp.row_slot.size() <= *row) sp.row_slot.resize(*row + 1, kNoRow);
      sp.row_slot[*row] = slot;
      break;
    }
  }
  for (const auto& [name, v] : op.sparse) {
    for (size_t s = 0; s < sparse_spaces_.size(); ++s) {
      if (sparse_spaces_[s].name != name) continue;
      AddSparseRow(slot, st, s, index::SparseView{v.indices, v.values});
      break;
    }
  }
}

void Segment::Apply(const Op& op) {
  const uint32_t slot = SlotFor(op.id);
  PointState& st = states_[slot];
  const bool was_live = !st.deleted;
  const bool indexed = !payload_index_.empty();
  // Take the point out of the payload indexes while its registers change; put it back if it is live after.
  if (was_live && indexed) payload_index_.Erase(slot, st.payload);

  const Stamp& s = op.stamp;
  switch (op.kind) {
    case OpKind::kUpsert:
      if (s > st.alive) {
        st.alive = s;
        st.deleted = false;
      }
      if (s > st.vectors_stamp) {
        st.vectors_stamp = s;
        RemoveRows(st);
        if (!st.deleted) AddRows(slot, st, op);
      }
      st.ResetPayload(s);
      for (const auto& kv : op.payload) st.WriteKey(kv.key(), s, &kv.value());
      break;
    case OpKind::kDelete:
      if (s > st.alive) {
        st.alive = s;
        st.deleted = true;
      }
      if (s > st.vectors_stamp) {
        st.vectors_stamp = s;
        RemoveRows(st);
      }
      st.ResetPayload(s);
      break;
    case OpKind::kSetPayload:
      for (const auto& kv : op.payload) st.WriteKey(kv.key(), s, &kv.value());
      break;
    case OpKind::kOverwritePayload:
      st.ResetPayload(s);
      for (const auto& kv : op.payload) st.WriteKey(kv.key(), s, &kv.value());
      break;
    case OpKind::kDeletePayloadKeys:
      for (const std::string& key : op.keys) st.WriteKey(key, s, nullptr);
      break;
    case OpKind::kClearPayload:
      st.ResetPayload(s);
      break;
  }

  const bool is_live = !st.deleted;
  if (is_live && indexed) payload_index_.Insert(slot, st.payload);
  if (was_live != is_live) {
    if (is_live) {
      ++live_;
    } else {
      --live_;
    }
  }
}

size_t Segment::indexed_vectors() const {
  size_t n = 0;
  for (const Space& sp : indexes_) {
    if (sp.index->kind() == index::IndexKind::kHnsw) n += sp.index->live_size();
  }
  return n;
}

size_t Segment::EstimateMatches(size_t space, const payload::Filter& filter) const {
  const Space& sp = indexes_[space];
  const size_t rows = sp.row_slot.size();
  const size_t live = sp.index->live_size();
  if (live == 0) return 0;
  // A deterministic sample of evenly spaced rows, taken in bit-reversed order so that every prefix of it is
  // spread over all the rows too (payloads often follow the order of insertion: a date, a batch); it stops
  // once it has seen enough matches, which a filter most rows match does after a quarter or less of it.
  size_t seen = 0, hits = 0;
  const double step = std::max(1.0, double(rows) / double(kEstimateSample));
  for (size_t i = 0; i < kEstimateSample && hits < kEstimateEnoughMatches; ++i) {
    size_t reversed = 0;
    for (size_t b = 0; b < kEstimateSampleBits; ++b) reversed |= ((i >> b) & 1) << (kEstimateSampleBits - 1 - b);
    const size_t r = static_cast<size_t>(double(reversed) * step);
    if (r >= rows) continue;
    const uint32_t slot = sp.row_slot[r];
    if (slot == kNoRow || sp.index->IsDeleted(static_cast<uint32_t>(r))) continue;
    const PointState& st = states_[slot];
    ++seen;
    hits += payload::Matches(filter, st.id, st.payload) ? 1 : 0;
  }
  if (seen == 0) return live;
  // Round up so a filter seen to match rarely is not estimated at zero.
  return (hits * live + seen - 1) / seen;
}

void Segment::Quantize(bool force) {
  for (size_t s = 0; s < indexes_.size(); ++s) {
    if (!spaces_[s].quantization) continue;
    auto* hnsw = dynamic_cast<index::HnswIndex*>(indexes_[s].index.get());
    if (hnsw == nullptr) continue;
    const size_t rows = hnsw->size();
    if (!force && (rows < kQuantizeMinRows || rows < 2 * indexes_[s].quantized_rows)) continue;
    hnsw->Quantize(static_cast<float>(spaces_[s].quantization->quantile));
    indexes_[s].quantized_rows = std::max<size_t>(rows, 1);
  }
}

void Segment::AdoptStoredQuantization() {
  for (size_t s = 0; s < indexes_.size(); ++s) {
    auto* hnsw = dynamic_cast<index::HnswIndex*>(indexes_[s].index.get());
    if (hnsw == nullptr) continue;
    const index::ScalarQuantizer* stored = hnsw->quantizer();
    const auto& wanted = spaces_[s].quantization;
    if (!wanted) {
      // Written before the collection's quantization was turned off.
      hnsw->ClearQuantization();
      indexes_[s].quantized_rows = 0;
    } else if (stored && stored->quantile() == static_cast<float>(wanted->quantile)) {
      indexes_[s].quantized_rows = std::max<size_t>(stored->trained_rows(), 1);
    } else {
      // Written without codes (layout version 1, or before quantization was turned on) or with another
      // quantile.
      hnsw->Quantize(static_cast<float>(wanted->quantile));
      indexes_[s].quantized_rows = std::max<size_t>(hnsw->size(), 1);
    }
  }
}

void Segment::UpdateSpaces(const std::vector<VectorSpace>& spaces) {
  for (size_t s = 0; s < spaces_.size() && s < spaces.size(); ++s) {
    const VectorSpace& next = spaces[s];
    Space& sp = indexes_[s];
    sp.threshold_points =
        std::max<size_t>(1, size_t{next.hnsw.full_scan_threshold_kb} * 1024 / (next.params.size * 4));
    const bool changed = spaces_[s].quantization.has_value() != next.quantization.has_value() ||
                         (next.quantization && spaces_[s].quantization->quantile != next.quantization->quantile);
    spaces_[s].hnsw = next.hnsw;
    spaces_[s].quantization = next.quantization;
    auto* hnsw = dynamic_cast<index::HnswIndex*>(sp.index.get());
    if (!changed || hnsw == nullptr) continue;
    hnsw->ClearQuantization();
    sp.quantized_rows = 0;
    if (next.quantization && hnsw->size() > 0) {
      hnsw->Quantize(static_cast<float>(next.quantization->quantile));
      sp.quantized_rows = hnsw->size();
    }
  }
}

Status Segment::Search(size_t space, const float* query, size_t k, size_t ef, bool exact,
                       const QuantizationSearchParams& quantization, const payload::Filter* filter,
                       std::vector<SlotHit>* out, SearchPlan* plan) const {
  out->clear();
  const Space& sp = indexes_[space];
  const size_t live = sp.index->live_size();
  if (live == 0 || k == 0) return Status::OK();
  const bool small = live <= sp.threshold_points;
  std::vector<index::Neighbor> found;
  SearchPlan chosen;
  auto params = [&](size_t kk, size_t beam, bool exact_scan) {
    index::SearchParams p{kk, beam, exact_scan};
    p.ignore_quantization = quantization.ignore;
    p.rescore = quantization.rescore;
    p.oversampling = quantization.oversampling;
    return p;
  };

  if (filter == nullptr) {
    chosen = exact || small ? SearchPlan::kExactAll : SearchPlan::kGraph;
    QUIVER_RETURN_IF_ERROR(
        sp.index->Search(query, params(k, ef, chosen == SearchPlan::kExactAll), nullptr, &found));
  } else {
    // Rows of deleted and removed points are already deleted in the index; only the filter is left to check.
    auto admit = [&](uint32_t row) {
      const PointState& st = states_[sp.row_slot[row]];
      return payload::Matches(*filter, st.id, st.payload);
    };
    index::RowPredicate allow(admit);
    // The indexes' estimate lists no slots; candidates are listed only when they bound the filter to few.
    const payload::CardinalityEstimate indexed = payload_index_.Estimate(*filter, live);
    std::optional<std::vector<uint32_t>> candidates;
    if (indexed.bounded && indexed.max_candidates <= sp.threshold_points) {
      candidates = payload_index_.Candidates(*filter, sp.threshold_points);
    }
    if (candidates) {
      // Few candidates: check each and measure exactly.
      chosen = SearchPlan::kExactCandidates;
      std::vector<uint32_t> rows;
      rows.reserve(candidates->size());
      for (uint32_t slot : *candidates) {
        const PointState& st = states_[slot];
        if (st.deleted || IsRemoved(slot) || st.rows[space] == kNoRow) continue;
        if (payload::Matches(*filter, st.id, st.payload)) rows.push_back(st.rows[space]);
      }
      QUIVER_RETURN_IF_ERROR(sp.index->SearchRows(query, rows, k, &found));
    } else {
      const size_t estimate = indexed.bounded ? indexed.expected : EstimateMatches(space, *filter);
      // The walk's beam holds only matching rows, and it explores every row closer than its worst match: a
      // beam of ef matches reaches about ef / selectivity rows deep, the cost that makes naive filtered walks
      // slow. A beam of ef * min(1, 4 * selectivity) matches keeps recall at the depth of an unfiltered beam
      // of a few times ef (measured in tests/engine/db/filtered_search_test.cc and bench/filter_bench.cc).
      const double selectivity = std::clamp(double(estimate) / double(live), 1e-3, 1.0);
      const size_t filtered_ef =
          std::max<size_t>(2 * k, static_cast<size_t>(std::ceil(double(ef) * std::min(1.0, selectivity * 4.0))));
      bool answered = false;
      if (exact || small || estimate <= sp.threshold_points) {
        chosen = SearchPlan::kExactFiltered;
        QUIVER_RETURN_IF_ERROR(sp.index->Search(query, params(k, ef, true), &allow, &found));
        answered = true;
      } else if (selectivity >= kGraphThenFilterSelectivity) {
        // Most points match: an unfiltered walk as deep as the filtered one would go (a beam of m /
        // selectivity rows holds about m matches), checking the filter only on the rows it returns, not on
        // every row it meets; at least kGraphThenFilterMargin * k matches expected.
        const double matches =
            std::max(double(ef) * std::min(1.0, selectivity * 4.0), kGraphThenFilterMargin * double(k));
        size_t beam = static_cast<size_t>(std::ceil(matches / selectivity));
        const size_t max_beam = beam * kGraphThenFilterMaxWiden;
        // The matches in a beam vary around their expected count (at 10% in bench/filter_bench.cc, about one
        // query in twenty found 7 to 9 of its 10). A walk short of k goes on, wider by the share it lacks
        // (the same walk: only the rows the wider beam adds are measured), up to kGraphThenFilterMaxWiden
        // times its first beam. A first beam with fewer than half of k is where matches are far rarer than
        // the estimate: the filtered walk answers it, as it does a walk still short at the widest beam.
        //
        // The filter's verdicts on the rows of the last beam shown, in its order: a wider beam holds most of
        // them again, among rows the continued walk found, and a merge by (distance, row) finds their
        // verdicts.
        std::vector<std::pair<index::Neighbor, bool>> checked, next_checked;
        auto check_beam = [&](std::span<const index::Neighbor> walked, size_t need) {
          size_t kept = 0, j = 0;
          next_checked.clear();
          for (size_t i = 0; i < walked.size() && kept < need; ++i) {
            while (j < checked.size() && checked[j].first < walked[i]) ++j;
            const bool ok = j < checked.size() && checked[j].first == walked[i] ? checked[j].second
                                                                                : admit(walked[i].row);
            next_checked.emplace_back(walked[i], ok);
            kept += ok;
          }
          checked.swap(next_checked);
          return kept;
        };
        bool first = true;
        auto widen = [&](std::span<const index::Neighbor> walked) -> size_t {
          const size_t kept = check_beam(walked, k);
          answered = kept == k;
          const bool rare = first && 2 * kept < k;
          first = false;
          if (answered || rare || walked.size() < beam) return 0;
          const double wider =
              double(beam) * kGraphThenFilterWiden * double(k) / double(std::max<size_t>(kept, 1));
          const size_t next = std::max(beam + beam / 4, static_cast<size_t>(std::ceil(wider)));
          if (next > max_beam) return 0;
          beam = next;
          return next;
        };
        QUIVER_RETURN_IF_ERROR(sp.index->SearchWidening(query, params(k, beam, false), widen, &found));
        if (answered) {
          // The first k matches of the last beam (a quantized index's rescoring may have reordered it).
          check_beam(found, k);
          found.clear();
          for (const auto& [nb, ok] : checked) {
            if (ok) found.push_back(nb);
          }
          chosen = SearchPlan::kGraphThenFilter;
        }
      }
      if (!answered) {
        chosen = SearchPlan::kFilteredGraph;
        QUIVER_RETURN_IF_ERROR(sp.index->Search(query, params(k, filtered_ef, false), &allow, &found));
      }
    }
  }
  out->reserve(found.size());
  for (const index::Neighbor& nb : found) out->push_back(SlotHit{sp.row_slot[nb.row], nb.distance});
  if (plan) *plan = chosen;
  return Status::OK();
}

Status Segment::SearchExactBatch(size_t space, const float* queries, size_t nq, size_t k,
                                 std::vector<SlotHit>* out) const {
  for (size_t q = 0; q < nq; ++q) out[q].clear();
  const Space& sp = indexes_[space];
  if (sp.index->live_size() == 0 || k == 0) return Status::OK();
  std::vector<std::vector<index::Neighbor>> found(nq);
  QUIVER_RETURN_IF_ERROR(sp.index->SearchExactBatch(queries, nq, k, found.data()));
  for (size_t q = 0; q < nq; ++q) {
    out[q].reserve(found[q].size());
    for (const index::Neighbor& nb : found[q]) out[q].push_back(SlotHit{sp.row_slot[nb.row], nb.distance});
  }
  return Status::OK();
}

size_t Segment::SparseLiveRows(size_t space) const { return sparse_[space].index->live_size(); }

uint32_t Segment::SparseDocumentFrequency(size_t space, uint32_t index) const {
  return sparse_[space].index->DocumentFrequency(index);
}

Status Segment::SearchSparse(size_t space, index::SparseView query, size_t k, std::optional<float> threshold,
                             const payload::Filter* filter, std::vector<SlotHit>* out, SearchPlan* plan) const {
  out->clear();
  const Sparse& sp = sparse_[space];
  if (k == 0 || sp.index->live_size() == 0 || query.indices.empty()) return Status::OK();
  // The k best seen so far as a heap with the worst on top: lower score, or equal score and larger id.
  struct Hit {
    float score;
    uint32_t slot;
  };
  auto worse = [&](const Hit& a, const Hit& b) {
    if (a.score != b.score) return a.score < b.score;
    return states_[b.slot].id < states_[a.slot].id;
  };
  auto better_first = [&](const Hit& a, const Hit& b) { return worse(b, a); };
  std::vector<Hit> heap;
  heap.reserve(std::min<size_t>(k, 1024));
  // Pushes a candidate; `admit` (the filter) is asked only for candidates good enough to enter.
  auto offer = [&](uint32_t slot, float score, auto&& admit) {
    if (threshold && !(score >= *threshold)) return;
    const Hit h{score, slot};
    if (heap.size() == k && !worse(heap.front(), h)) return;
    if (!admit(slot)) return;
    if (heap.size() == k) {
      std::pop_heap(heap.begin(), heap.end(), better_first);
      heap.back() = h;
    } else {
      heap.push_back(h);
    }
    std::push_heap(heap.begin(), heap.end(), better_first);
  };
  auto matches = [&](uint32_t slot) {
    const PointState& st = states_[slot];
    return payload::Matches(*filter, st.id, st.payload);
  };
  SearchPlan chosen = filter ? SearchPlan::kSparseFiltered : SearchPlan::kSparse;
  std::optional<std::vector<uint32_t>> candidates;
  if (filter) {
    const size_t limit = sparse_spaces_[space].params.full_scan_threshold.value_or(kDefaultSparseFullScanThreshold);
    const payload::CardinalityEstimate indexed = payload_index_.Estimate(*filter, live_);
    if (indexed.bounded && indexed.max_candidates <= limit) candidates = payload_index_.Candidates(*filter, limit);
  }
  if (candidates) {
    // Few points pass the filter: score their vectors directly.
    chosen = SearchPlan::kExactCandidates;
    for (uint32_t slot : *candidates) {
      const PointState& st = states_[slot];
      if (st.deleted || IsRemoved(slot) || st.sparse_rows[space] == kNoRow) continue;
      if (!matches(slot)) continue;
      if (auto score = index::SparseDot(query, sp.index->Vector(st.sparse_rows[space]))) {
        offer(slot, *score, [](uint32_t) { return true; });
      }
    }
  } else if (filter) {
    sp.index->Score(query, [&](uint32_t row, float score) { offer(sp.row_slot[row], score, matches); });
  } else {
    sp.index->Score(query, [&](uint32_t row, float score) {
      offer(sp.row_slot[row], score, [](uint32_t) { return true; });
    });
  }
  std::sort_heap(heap.begin(), heap.end(), better_first);
  out->reserve(heap.size());
  for (const Hit& h : heap) out->push_back(SlotHit{h.slot, -h.score});
  if (plan) *plan = chosen;
  return Status::OK();
}

size_t Segment::Count(const payload::Filter* filter) const {
  if (filter == nullptr) return live_;
  if (auto candidates = payload_index_.Candidates(*filter)) {
    size_t n = 0;
    for (uint32_t slot : *candidates) {
      const PointState& st = states_[slot];
      n += !st.deleted && !IsRemoved(slot) && payload::Matches(*filter, st.id, st.payload) ? 1 : 0;
    }
    return n;
  }
  size_t n = 0;
  for (uint32_t slot = 0; slot < states_.size(); ++slot) {
    const PointState& st = states_[slot];
    n += !st.deleted && !IsRemoved(slot) && payload::Matches(*filter, st.id, st.payload) ? 1 : 0;
  }
  return n;
}

std::vector<uint32_t> Segment::Select(const payload::Filter& filter) const {
  std::vector<uint32_t> out;
  if (auto candidates = payload_index_.Candidates(filter)) {
    for (uint32_t slot : *candidates) {
      const PointState& st = states_[slot];
      if (!st.deleted && !IsRemoved(slot) && payload::Matches(filter, st.id, st.payload)) out.push_back(slot);
    }
    std::sort(out.begin(), out.end(), [&](uint32_t a, uint32_t b) { return states_[a].id < states_[b].id; });
    return out;
  }
  ScanInOrder(std::nullopt, &filter, [&](uint32_t slot) {
    out.push_back(slot);
    return true;
  });
  return out;
}

Status Segment::CreatePayloadIndex(std::string_view field, payload::FieldIndexType type) {
  return payload_index_.CreateField(field, type, [&](payload::PayloadIndex::PointVisitor visit) {
    for (uint32_t slot = 0; slot < states_.size(); ++slot) {
      if (!states_[slot].deleted && !IsRemoved(slot)) visit(slot, states_[slot].payload);
    }
  });
}

Status Segment::DeletePayloadIndex(std::string_view field) { return payload_index_.DropField(field); }

void Segment::Digest(std::vector<std::pair<PointId, std::string>>* out) const {
  for (uint32_t slot : ids_) {
    if (IsRemoved(slot)) continue;
    const PointState& st = states_[slot];
    const PointId& id = st.id;
    std::string d;
    d.append(id.ToString());
    d.push_back('|');
    d.append(st.alive.ToString());
    d.append(st.deleted ? "|D|" : "|L|");
    d.append(st.vectors_stamp.ToString());
    d.push_back('|');
    d.append(st.payload_reset.ToString());
    d.push_back('|');
    for (const KeyStamp& ks : st.key_stamps) {
      d.append(ks.key);
      d.push_back('@');
      d.append(ks.stamp.ToString());
      d.push_back(',');
    }
    d.push_back('|');
    d.append(payload::CanonicalJson(boost::json::value(st.payload)));
    for (size_t s = 0; s < spaces_.size(); ++s) {
      const float* v = StoredVector(st, s);
      d.push_back('|');
      if (v) d.append(reinterpret_cast<const char*>(v), spaces_[s].params.size * sizeof(float));
    }
    for (size_t s = 0; s < sparse_spaces_.size(); ++s) {
      d.push_back('|');
      if (auto v = StoredSparse(st, s)) {
        d.push_back('S');
        d.append(reinterpret_cast<const char*>(v->indices.data()), v->indices.size() * sizeof(uint32_t));
        d.append(reinterpret_cast<const char*>(v->values.data()), v->values.size() * sizeof(float));
      }
    }
    out->emplace_back(id, std::move(d));
  }
}

Result<std::unique_ptr<Segment>> Segment::FromParts(std::vector<VectorSpace> spaces,
                                                    std::vector<SparseSpace> sparse_spaces,
                                                    PointStates states,
                                                    std::vector<std::unique_ptr<index::VectorIndex>> indexes,
                                                    std::vector<std::unique_ptr<index::SparseIndex>> sparse_indexes,
                                                    const std::string& what) {
  auto bad = [&](const std::string& why) { return Status::Corruption(what + ": " + why); };
  if (indexes.size() != spaces.size()) return bad("index count does not match the vector spaces");
  if (sparse_indexes.size() != sparse_spaces.size()) {
    return bad("sparse index count does not match the sparse vector spaces");
  }
  std::unique_ptr<Segment> seg(new Segment());
  seg->spaces_ = std::move(spaces);
  seg->sparse_spaces_ = std::move(sparse_spaces);
  for (auto& si : sparse_indexes) {
    Sparse sp;
    sp.index = std::move(si);
    sp.row_slot.assign(sp.index->size(), kNoRow);
    seg->sparse_.push_back(std::move(sp));
  }
  for (size_t s = 0; s < indexes.size(); ++s) {
    const VectorSpace& vs = seg->spaces_[s];
    if (indexes[s]->dim() != vs.params.size)
      return bad("index " + std::to_string(s) + " has the wrong dimension");
    Space sp;
    sp.index = std::move(indexes[s]);
    sp.row_slot.assign(sp.index->size(), kNoRow);
    sp.threshold_points =
        std::max<size_t>(1, size_t{vs.hnsw.full_scan_threshold_kb} * 1024 / (vs.params.size * 4));
    seg->indexes_.push_back(std::move(sp));
  }
  seg->states_ = std::move(states);
  for (uint32_t slot = 0; slot < seg->states_.size(); ++slot) {
    PointState& st = seg->states_[slot];
    if (!seg->ids_.insert(slot).second) return bad("point " + st.id.ToString() + " appears twice");
    if (st.rows.size() != seg->spaces_.size())
      return bad("point " + st.id.ToString() + " has the wrong row count");
    for (size_t s = 0; s < st.rows.size(); ++s) {
      const uint32_t row = st.rows[s];
      if (row == kNoRow) continue;
      Space& sp = seg->indexes_[s];
      if (st.deleted || row >= sp.row_slot.size() || sp.row_slot[row] != kNoRow || sp.index->IsDeleted(row)) {
        return bad("point " + st.id.ToString() + " has an invalid row " + std::to_string(row));
      }
      sp.row_slot[row] = slot;
    }
    if (st.sparse_rows.size() != seg->sparse_spaces_.size()) {
      return bad("point " + st.id.ToString() + " has the wrong sparse row count");
    }
    for (size_t s = 0; s < st.sparse_rows.size(); ++s) {
      const uint32_t row = st.sparse_rows[s];
      if (row == kNoRow) continue;
      Sparse& sp = seg->sparse_[s];
      if (st.deleted || row >= sp.row_slot.size() || sp.row_slot[row] != kNoRow || sp.index->IsDeleted(row)) {
        return bad("point " + st.id.ToString() + " has an invalid sparse row " + std::to_string(row));
      }
      sp.row_slot[row] = slot;
    }
    if (!st.deleted) ++seg->live_;
  }
  for (size_t s = 0; s < seg->sparse_.size(); ++s) {
    const Sparse& sp = seg->sparse_[s];
    for (uint32_t row = 0; row < sp.row_slot.size(); ++row) {
      if (sp.row_slot[row] == kNoRow && !sp.index->IsDeleted(row)) {
        return bad("row " + std::to_string(row) + " of sparse vector space " + std::to_string(s) +
                   " belongs to no point");
      }
    }
  }
  // Every live row belongs to a point: an index row without one would be searchable but unreachable.
  for (size_t s = 0; s < seg->indexes_.size(); ++s) {
    const Space& sp = seg->indexes_[s];
    for (uint32_t row = 0; row < sp.row_slot.size(); ++row) {
      if (sp.row_slot[row] == kNoRow && !sp.index->IsDeleted(row)) {
        return bad("row " + std::to_string(row) + " of vector space " + std::to_string(s) +
                   " belongs to no point");
      }
    }
  }
  seg->AdoptStoredQuantization();
  return seg;
}

Status Segment::IndexPayloadFields(
    const std::vector<std::pair<std::string, payload::FieldIndexType>>& fields) {
  QUIVER_RETURN_IF_ERROR(payload_index_.KeepOnly(fields));
  for (const auto& [field, type] : fields) QUIVER_RETURN_IF_ERROR(CreatePayloadIndex(field, type));
  return Status::OK();
}

Status Segment::CheckPayloadIndex() const {
  if (payload_index_.empty()) return Status::OK();
  std::vector<uint32_t> identity(states_.size());
  for (uint32_t i = 0; i < identity.size(); ++i) identity[i] = i;
  payload::PayloadIndex fresh;
  const auto fields = payload_index_.Fields();
  for (const auto& [field, type] : fields) {
    QUIVER_RETURN_IF_ERROR(fresh.CreateField(field, type, [&](payload::PayloadIndex::PointVisitor visit) {
      for (uint32_t slot = 0; slot < states_.size(); ++slot) {
        if (!states_[slot].deleted && !IsRemoved(slot)) visit(slot, states_[slot].payload);
      }
    }));
  }
  const std::string want = fresh.Encode(identity), have = payload_index_.Encode(identity);
  if (want == have) return Status::OK();
  // Name the first field that differs.
  auto one_field = [&](const std::string& bytes, const std::pair<std::string, payload::FieldIndexType>& f) {
    payload::PayloadIndex copy;
    (void)copy.Decode({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()},
                      static_cast<uint32_t>(states_.size()), "payload index");
    (void)copy.KeepOnly({f});
    return copy.Encode(identity);
  };
  for (const auto& f : fields) {
    if (one_field(want, f) != one_field(have, f)) {
      return Status::Corruption("payload index of field '" + f.first + "' (" +
                                std::string(payload::FieldIndexTypeName(f.second)) +
                                ") does not match the payloads");
    }
  }
  return Status::Corruption("payload index does not match the payloads");
}

Status Segment::LoadPayloadIndex(std::span<const uint8_t> bytes, const std::string& what,
                                 size_t base_offset) {
  return payload_index_.Decode(bytes, static_cast<uint32_t>(states_.size()), what, base_offset);
}

size_t Segment::MemoryUsage() const {
  size_t bytes = payload_index_.MemoryUsage() + states_.capacity() * sizeof(PointState) +
                 ids_.size() * 48;
  for (const Space& sp : indexes_)
    bytes += sp.index->MemoryUsage() + sp.row_slot.capacity() * sizeof(uint32_t);
  for (const Sparse& sp : sparse_) bytes += sp.index->MemoryUsage() + sp.row_slot.capacity() * sizeof(uint32_t);
  return bytes;
}

Status CheckSegmentsDisjoint(std::span<const Segment* const> segments, std::span<const std::string> names) {
  // A k-way merge of the segments' id maps (each in id order), smallest id on top of the heap.
  struct Cursor {
    IdOrder::const_iterator it, end;
    size_t segment;
  };
  auto skip_removed = [&](Cursor& c) {
    while (c.it != c.end && segments[c.segment]->IsRemoved(*c.it)) ++c.it;
  };
  auto id_of = [&](const Cursor& c) -> const PointId& { return segments[c.segment]->state(*c.it).id; };
  auto after = [&](const Cursor& a, const Cursor& b) { return id_of(b) < id_of(a); };
  std::vector<Cursor> heap;
  for (size_t s = 0; s < segments.size(); ++s) {
    Cursor c{segments[s]->id_order().begin(), segments[s]->id_order().end(), s};
    skip_removed(c);
    if (c.it != c.end) heap.push_back(c);
  }
  std::make_heap(heap.begin(), heap.end(), after);
  const PointId* previous = nullptr;
  size_t previous_segment = 0;
  while (!heap.empty()) {
    std::pop_heap(heap.begin(), heap.end(), after);
    Cursor& c = heap.back();
    if (previous != nullptr && *previous == id_of(c)) {
      return Status::Corruption(names[c.segment] + ": point " + previous->ToString() + " is also in " +
                                names[previous_segment]);
    }
    previous = &id_of(c);
    previous_segment = c.segment;
    ++c.it;
    skip_removed(c);
    if (c.it == c.end) {
      heap.pop_back();
    } else {
      std::push_heap(heap.begin(), heap.end(), after);
    }
  }
  return Status::OK();
}

}  // namespace quiver::db
