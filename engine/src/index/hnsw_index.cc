#include "index/hnsw_index.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "base/random.h"
#include "index/flat_index.h"
#include "index/scalar_quantizer.h"
#include "index/top_k.h"

namespace quiver::index {
namespace {

constexpr uint32_t kNoUpper = UINT32_MAX;
constexpr uint32_t kMaxLinks = 2 * kMaxHnswM;
// How many vectors ahead of the ones being measured the search loop prefetches, and how many cache lines of each
// (the hardware prefetcher follows the rest). Tuned on Fashion-MNIST and the 384-d set against hnswlib.
constexpr uint32_t kPrefetchAhead = 4;
constexpr uint32_t kPrefetchLines = 4;

// What a search measures distances with: the float vectors, or the int8 codes of a quantized index. Both give
// distances by row, four at a time, and the address to prefetch for a row.
struct FloatQuery {
  const VectorStore* store;
  const float* q;
  uint32_t lines;  // cache lines per row worth prefetching
  float Dist(uint32_t row) const { return store->Distance(q, store->Row(row)); }
  void DistX4(const uint32_t* rows, float* out) const {
    const float* r[4] = {store->Row(rows[0]), store->Row(rows[1]), store->Row(rows[2]), store->Row(rows[3])};
    store->DistanceX4(q, r, out);
  }
  const void* Address(uint32_t row) const { return store->Row(row); }
};

struct CodeQuery {
  const ScalarQuantizer* sq;
  const int8_t* q;
  ScalarQuantizer::QueryTerms terms;
  uint32_t lines;
  float Dist(uint32_t row) const { return sq->Distance(q, terms, row); }
  void DistX4(const uint32_t* rows, float* out) const { sq->DistanceX4(q, terms, rows, out); }
  const void* Address(uint32_t row) const { return sq->Codes(row); }
};

inline void Prefetch(const void* p, uint32_t lines) {
#if defined(__GNUC__)
  const char* c = static_cast<const char*>(p);
  for (uint32_t i = 0; i < lines; ++i) __builtin_prefetch(c + i * kCacheLine, 0, 3);
#else
  (void)p;
  (void)lines;
#endif
}

uint32_t LinesFor(size_t bytes) { return std::min<uint32_t>(kPrefetchLines, (bytes + kCacheLine - 1) / kCacheLine); }

FloatQuery FloatSpace(const VectorStore& store, const float* q) {
  return FloatQuery{&store, q, LinesFor(store.stride() * sizeof(float))};
}

// Distances from q to n scattered rows (row_of(i)), four at a time while the next ones are prefetched; calls
// fn(i, distance) for each. This is what a search waits on: more reads in flight, fewer stalls.
template <class Q, class RowOf, class Fn>
inline void MeasureRows(const Q& q, size_t n, RowOf row_of, Fn fn) {
  for (size_t i = 0; i < n && i < kPrefetchAhead; ++i) Prefetch(q.Address(row_of(i)), q.lines);
  size_t i = 0;
  float d4[4];
  for (; i + 4 <= n; i += 4) {
    for (size_t j = i + kPrefetchAhead; j < std::min(n, i + 4 + kPrefetchAhead); ++j) {
      Prefetch(q.Address(row_of(j)), q.lines);
    }
    const uint32_t rows[4] = {row_of(i), row_of(i + 1), row_of(i + 2), row_of(i + 3)};
    q.DistX4(rows, d4);
    for (size_t j = 0; j < 4; ++j) fn(i + j, d4[j]);
  }
  for (; i < n; ++i) fn(i, q.Dist(row_of(i)));
}

}  // namespace

// Per-search scratch state, pooled so steady-state searches do not allocate.
struct HnswIndex::SearchContext {
  std::vector<uint16_t> visited;
  uint16_t epoch = 0;
  MinQueue candidates;
  TopK results;
  AlignedArray<float> query;
  AlignedArray<int8_t> query_codes;
  std::vector<Neighbor> found;
  std::vector<Neighbor> selected;
  std::vector<Neighbor> scratch;
  std::vector<Neighbor> kept;
  std::vector<Neighbor> seen;  // every row a widening walk measured (SearchLevel with kKeepSeen)

  // Returns a fresh mark for a search over `rows` rows; marks from earlier searches never equal it.
  uint16_t NextEpoch(size_t rows) {
    if (visited.size() < rows) visited.resize(std::max(rows, visited.size() + visited.size() / 2), 0);
    if (++epoch == 0) {
      std::fill(visited.begin(), visited.end(), 0);
      epoch = 1;
    }
    return epoch;
  }
};

// Borrows a context from the pool for the lifetime of the lease.
class HnswIndex::ContextLease {
 public:
  explicit ContextLease(const HnswIndex& index) : index_(index) {
    std::lock_guard<std::mutex> lock(index_.pool_mu_);
    if (!index_.pool_.empty()) {
      ctx_ = std::move(index_.pool_.back());
      index_.pool_.pop_back();
    }
    if (!ctx_) ctx_ = std::make_unique<SearchContext>();
  }
  ~ContextLease() {
    std::lock_guard<std::mutex> lock(index_.pool_mu_);
    index_.pool_.push_back(std::move(ctx_));
  }
  SearchContext& operator*() { return *ctx_; }

 private:
  const HnswIndex& index_;
  std::unique_ptr<SearchContext> ctx_;
};

HnswIndex::HnswIndex(uint32_t dim, Metric metric, const HnswOptions& options)
    : options_(options),
      m_(options.m),
      m0_(2 * options.m),
      level_mult_(1.0 / std::log(static_cast<double>(options.m))),
      store_(dim, metric) {}

HnswIndex::~HnswIndex() = default;

Result<std::unique_ptr<HnswIndex>> HnswIndex::Create(uint32_t dim, Metric metric, const HnswOptions& options) {
  if (dim < 1 || dim > kMaxDimension) {
    return Status::InvalidArgument("vector size " + std::to_string(dim) + " is out of range 1.." +
                                   std::to_string(kMaxDimension));
  }
  if (options.m < kMinHnswM || options.m > kMaxHnswM) {
    return Status::InvalidArgument("hnsw m " + std::to_string(options.m) + " is out of range " +
                                   std::to_string(kMinHnswM) + ".." + std::to_string(kMaxHnswM));
  }
  if (options.ef_construction < 1) return Status::InvalidArgument("hnsw ef_construct must be at least 1");
  return std::unique_ptr<HnswIndex>(new HnswIndex(dim, metric, options));
}

int HnswIndex::DrawLevel(uint32_t row) const {
  double u = ToUnitInterval(Mix64(options_.seed ^ Mix64(row)));
  double level = -std::log(u) * level_mult_;
  return level >= kMaxHnswLevel ? kMaxHnswLevel : static_cast<int>(level);
}

std::span<const uint32_t> HnswIndex::Links(uint32_t row, int level) const {
  const uint32_t* block = LinkBlock(row, level);
  return {block + 1, block[0]};
}

size_t HnswIndex::MemoryUsage() const {
  return store_.MemoryUsage() + deleted_.MemoryUsage() + links0_.bytes() + levels_.capacity() +
         upper_offset_.capacity() * sizeof(uint32_t) + upper_links_.capacity() * sizeof(uint32_t) +
         (quantizer_ ? quantizer_->MemoryUsage() : 0);
}

void HnswIndex::PrepareRows(size_t first) {
  const size_t rows = store_.size();
  links0_.Resize(rows * (1 + m0_));
  levels_.resize(rows);
  upper_offset_.resize(rows, kNoUpper);
  size_t upper = upper_links_.size();
  for (size_t r = first; r < rows; ++r) {
    int level = DrawLevel(static_cast<uint32_t>(r));
    levels_[r] = static_cast<uint8_t>(level);
    if (level > 0) {
      upper_offset_[r] = static_cast<uint32_t>(upper);
      upper += static_cast<size_t>(level) * (1 + m_);
    }
  }
  upper_links_.resize(upper, 0);
  if (quantizer_) quantizer_->Append(store_);
}

template <bool kLocked>
uint32_t HnswIndex::ReadLinks(uint32_t row, int level, uint32_t* buf) const {
  const uint32_t* block = LinkBlock(row, level);
  if constexpr (kLocked) {
    std::lock_guard<std::mutex> lock(row_locks_[row]);
    uint32_t n = block[0];
    std::memcpy(buf, block + 1, n * sizeof(uint32_t));
    return n;
  } else {
    uint32_t n = block[0];
    std::memcpy(buf, block + 1, n * sizeof(uint32_t));
    return n;
  }
}

template <bool kLocked, class Q>
void HnswIndex::Descend(const Q& q, int top, int stop, uint32_t* ep, float* ep_dist) const {
  uint32_t buf[kMaxLinks];
  for (int level = top; level > stop; --level) {
    bool changed = true;
    while (changed) {
      changed = false;
      uint32_t n;
      const uint32_t* links;
      if constexpr (kLocked) {
        n = ReadLinks<true>(*ep, level, buf);
        links = buf;
      } else {
        const uint32_t* block = LinkBlock(*ep, level);
        n = block[0];
        links = block + 1;
      }
      for (uint32_t i = 0; i < n; ++i) {
        float d = q.Dist(links[i]);
        if (d < *ep_dist) {
          *ep_dist = d;
          *ep = links[i];
          changed = true;
        }
      }
    }
  }
}

template <bool kLocked, bool kFiltered, bool kKeepSeen, class Q>
void HnswIndex::SearchLevel(const Q& q, uint32_t ep, float ep_dist, int level, size_t ef,
                            const RowPredicate* allow, SearchContext& ctx) const {
  const uint16_t mark = ctx.NextEpoch(store_.size());
  ctx.candidates.Clear();
  ctx.results.Reset(ef);
  ctx.visited[ep] = mark;
  ctx.candidates.Push(ep, ep_dist);
  if (!kFiltered || (!(!deleted_.empty() && deleted_.Contains(ep)) && (allow == nullptr || (*allow)(ep)))) {
    ctx.results.Push(ep, ep_dist);
  }
  if constexpr (kKeepSeen) {
    ctx.seen.clear();
    ctx.seen.push_back(Neighbor{ep, ep_dist});
  }
  ExpandLevel<kLocked, kFiltered, kKeepSeen>(q, level, allow, ctx);
}

template <bool kLocked, bool kFiltered, bool kKeepSeen, class Q>
void HnswIndex::ExpandLevel(const Q& q, int level, const RowPredicate* allow, SearchContext& ctx) const {
  const uint16_t mark = ctx.epoch;
  uint16_t* visited = ctx.visited.data();
  MinQueue& candidates = ctx.candidates;
  TopK& results = ctx.results;

  const bool any_deleted = !deleted_.empty();
  auto admit = [&](uint32_t row) {
    if constexpr (!kFiltered) {
      return true;
    } else {
      return !(any_deleted && deleted_.Contains(row)) && (allow == nullptr || (*allow)(row));
    }
  };

  uint32_t buf[kMaxLinks];
  uint32_t fresh[kMaxLinks];
  while (!candidates.empty()) {
    const Neighbor current = candidates.top();
    if (current.distance > results.bound()) break;
    candidates.Pop();

    uint32_t n;
    const uint32_t* links;
    if constexpr (kLocked) {
      n = ReadLinks<true>(current.row, level, buf);
      links = buf;
    } else {
      const uint32_t* block = LinkBlock(current.row, level);
      n = block[0];
      links = block + 1;
    }

    uint32_t nf = 0;
    for (uint32_t i = 0; i < n; ++i) {
      const uint32_t nb = links[i];
      if (visited[nb] != mark) {
        visited[nb] = mark;
        fresh[nf++] = nb;
      }
    }
    auto consider = [&](uint32_t nb, float d) {
      if constexpr (kKeepSeen) ctx.seen.push_back(Neighbor{nb, d});
      if (d < results.bound()) {
        candidates.Push(nb, d);
        if (admit(nb)) results.Push(nb, d);
      }
    };
    MeasureRows(
        q, nf, [&](size_t i) { return fresh[i]; }, [&](size_t i, float d) { consider(fresh[i], d); });
    if (!candidates.empty()) {
#if defined(__GNUC__)
      __builtin_prefetch(LinkBlock(candidates.top().row, level));
#endif
    }
  }
}

template <bool kFiltered, class Q>
void HnswIndex::WidenLevel(const Q& q, size_t ef, SearchContext& ctx) const {
  // Every row measured closer than the narrower beam's final bound was expanded (a row is left out of the
  // candidates only when it is no closer than the bound then, and the bound only shrinks). So the wider beam
  // is the best `ef` rows measured, and its candidates are the rows measured at or beyond the old bound; some
  // of those were expanded while the bound was still wider, and expanding them again measures nothing new.
  const float old_bound = ctx.results.bound();
  ctx.results.Reset(ef);
  const bool any_deleted = !deleted_.empty();
  for (const Neighbor& s : ctx.seen) {
    if (!kFiltered || !(any_deleted && deleted_.Contains(s.row))) ctx.results.Push(s.row, s.distance);
  }
  const float bound = ctx.results.bound();
  ctx.candidates.Clear();
  for (const Neighbor& s : ctx.seen) {
    if (s.distance >= old_bound && s.distance <= bound) ctx.candidates.Push(s.row, s.distance);
  }
  ExpandLevel<false, kFiltered, true>(q, 0, nullptr, ctx);
}

void HnswIndex::SelectNeighbors(const std::vector<Neighbor>& cands, uint32_t max_links,
                                std::vector<Neighbor>* out) const {
  out->clear();
  if (cands.size() <= max_links) {
    out->assign(cands.begin(), cands.end());
    return;
  }
  for (const Neighbor& c : cands) {
    if (out->size() >= max_links) break;
    const float* cv = store_.Row(c.row);
    bool keep = true;
    for (const Neighbor& s : *out) {
      if (store_.Distance(cv, store_.Row(s.row)) < c.distance) {
        keep = false;
        break;
      }
    }
    if (keep) out->push_back(c);
  }
}

template <bool kLocked>
void HnswIndex::AddLink(uint32_t from, uint32_t to, int level, SearchContext& ctx) {
  const uint32_t cap = level == 0 ? m0_ : m_;
  std::unique_lock<std::mutex> lock;
  if constexpr (kLocked) lock = std::unique_lock<std::mutex>(row_locks_[from]);
  uint32_t* block = LinkBlock(from, level);
  const uint32_t n = block[0];
  for (uint32_t i = 0; i < n; ++i) {
    if (block[1 + i] == to) return;
  }
  if (n < cap) {
    block[1 + n] = to;
    block[0] = n + 1;
    return;
  }
  // Full: keep the best `cap` of the current links plus the new one, by the same heuristic.
  const float* base = store_.Row(from);
  std::vector<Neighbor>& cands = ctx.scratch;
  cands.clear();
  for (uint32_t i = 0; i < n; ++i) cands.push_back({block[1 + i], store_.Distance(base, store_.Row(block[1 + i]))});
  cands.push_back({to, store_.Distance(base, store_.Row(to))});
  std::sort(cands.begin(), cands.end());
  std::vector<Neighbor>& kept = ctx.kept;
  SelectNeighbors(cands, cap, &kept);
  block[0] = static_cast<uint32_t>(kept.size());
  for (size_t i = 0; i < kept.size(); ++i) block[1 + i] = kept[i].row;
}

template <bool kLocked>
void HnswIndex::Insert(uint32_t row, SearchContext& ctx) {
  const float* q = store_.Row(row);
  const int level = levels_[row];

  // A row that will become the new top holds the entry lock for its whole insertion, so no other row sees a
  // half-linked entry point.
  std::unique_lock<std::mutex> entry_lock;
  if constexpr (kLocked) entry_lock = std::unique_lock<std::mutex>(entry_mu_);
  const int top = max_level_;
  uint32_t ep = entry_point_;
  if (top < 0) {
    entry_point_ = row;
    max_level_ = level;
    return;
  }
  if constexpr (kLocked) {
    if (level <= top) entry_lock.unlock();
  }

  const FloatQuery fq = FloatSpace(store_, q);
  float ep_dist = fq.Dist(ep);
  Descend<kLocked>(fq, top, level, &ep, &ep_dist);

  for (int lc = std::min(level, top); lc >= 0; --lc) {
    SearchLevel<kLocked, false>(fq, ep, ep_dist, lc, options_.ef_construction, nullptr, ctx);
    ctx.results.Extract(&ctx.found);
    ep = ctx.found.front().row;
    ep_dist = ctx.found.front().distance;
    SelectNeighbors(ctx.found, m_, &ctx.selected);
    {
      std::unique_lock<std::mutex> lock;
      if constexpr (kLocked) lock = std::unique_lock<std::mutex>(row_locks_[row]);
      uint32_t* block = LinkBlock(row, lc);
      block[0] = static_cast<uint32_t>(ctx.selected.size());
      for (size_t i = 0; i < ctx.selected.size(); ++i) block[1 + i] = ctx.selected[i].row;
    }
    for (const Neighbor& s : ctx.selected) AddLink<kLocked>(s.row, row, lc, ctx);
  }

  if (level > top) {
    entry_point_ = row;
    max_level_ = level;
  }
}

Result<uint32_t> HnswIndex::Add(const float* vector) {
  QUIVER_RETURN_IF_ERROR(AddBatch(vector, 1, nullptr));
  return static_cast<uint32_t>(store_.size() - 1);
}

Status HnswIndex::AddBatch(const float* vectors, size_t n, Executor* executor) {
  for (size_t i = 0; i < n; ++i) {
    Status s = CheckFinite(vectors + i * dim(), dim());
    if (!s.ok()) return n == 1 ? s : s.WithContext("batch item " + std::to_string(i));
  }
  if (store_.size() + n >= UINT32_MAX) return Status::ResourceExhausted("an index holds at most 2^32 - 2 vectors");
  const size_t first = store_.size();
  // No Reserve: the store grows a chunk at a time by itself, and an exact reservation per batch would copy the
  // last chunk at every batch.
  for (size_t i = 0; i < n; ++i) QUIVER_RETURN_IF_ERROR(store_.Append(vectors + i * dim()).status());
  PrepareRows(first);
  LinkRows(first, executor);
  return Status::OK();
}

Status HnswIndex::AddPrepared(const float* rows, size_t n, Executor* executor) {
  if (store_.size() + n >= UINT32_MAX) return Status::ResourceExhausted("an index holds at most 2^32 - 2 vectors");
  const size_t first = store_.size();
  store_.AppendPrepared(rows, n);
  PrepareRows(first);
  LinkRows(first, executor);
  return Status::OK();
}

void HnswIndex::LinkRows(size_t first, Executor* executor) {
  const size_t n = store_.size() - first;
  const size_t threads = executor ? executor->Parallelism() : 1;
  if (threads <= 1 || n < 256) {
    ContextLease ctx(*this);
    for (size_t r = first; r < first + n; ++r) Insert<false>(static_cast<uint32_t>(r), *ctx);
    return;
  }

  // Seed the graph serially so concurrent inserts start from a connected core, then link the rest in chunks.
  size_t serial = std::min<size_t>(n, first == 0 ? 64 : 0);
  {
    ContextLease ctx(*this);
    for (size_t r = first; r < first + serial; ++r) Insert<false>(static_cast<uint32_t>(r), *ctx);
  }
  row_locks_.reset(new std::mutex[store_.size()]);
  constexpr size_t kChunk = 32;
  const size_t begin = first + serial, end = first + n;
  const size_t chunks = (end - begin + kChunk - 1) / kChunk;
  executor->ParallelFor(chunks, [&](size_t c) {
    ContextLease ctx(*this);
    const size_t lo = begin + c * kChunk, hi = std::min(end, lo + kChunk);
    for (size_t r = lo; r < hi; ++r) Insert<true>(static_cast<uint32_t>(r), *ctx);
  });
  row_locks_.reset();
}

Status HnswIndex::Remove(uint32_t row) {
  if (row >= store_.size()) return Status::NotFound("row " + std::to_string(row) + " does not exist");
  deleted_.Insert(row);
  return Status::OK();
}

template <class Walk>
void HnswIndex::WalkCodesOrFloats(const SearchParams& params, const float* q, size_t keep, size_t* beam,
                                  SearchContext& ctx, Walk&& walk) const {
  if (quantizer_ && !params.ignore_quantization) {
    // Walk the codes with a beam of at least k * oversampling, then (unless told not to) measure what it
    // found with the float vectors and order the best `keep`.
    const double wanted = std::ceil(double(params.k) * std::max(1.0, params.oversampling));
    *beam = std::max(*beam, static_cast<size_t>(std::min(wanted, 1e9)));
    ctx.query_codes.Resize(quantizer_->code_stride());
    const ScalarQuantizer::QueryTerms terms = quantizer_->EncodeQuery(q, ctx.query_codes.data());
    walk(CodeQuery{&*quantizer_, ctx.query_codes.data(), terms, LinesFor(quantizer_->code_stride())});
    if (params.rescore) {
      std::vector<Neighbor>& f = ctx.found;
      MeasureRows(
          FloatSpace(store_, q), f.size(), [&](size_t i) { return f[i].row; },
          [&](size_t i, float d) { f[i].distance = d; });
      keep = std::min(keep, f.size());
      std::partial_sort(f.begin(), f.begin() + keep, f.end());
    }
  } else {
    walk(FloatSpace(store_, q));
  }
}

Status HnswIndex::Search(const float* query, const SearchParams& params, const RowPredicate* allow,
                         std::vector<Neighbor>* out) const {
  out->clear();
  if (params.k == 0) return Status::InvalidArgument("k must be at least 1");
  ContextLease lease(*this);
  SearchContext& ctx = *lease;
  ctx.query.Resize(stride());
  float* q = ctx.query.data();
  QUIVER_RETURN_IF_ERROR(store_.Prepare(query, q).WithContext("query"));

  if (params.exact) {
    ExactSearch(store_, deleted_, q, params.k, allow, out);
    return Status::OK();
  }
  if (max_level_ < 0) return Status::OK();

  size_t ef = std::max(params.k, params.ef ? params.ef : size_t{64});
  auto walk = [&](const auto& query_space) {
    uint32_t ep = entry_point_;
    float ep_dist = query_space.Dist(ep);
    Descend<false>(query_space, max_level_, 0, &ep, &ep_dist);
    if (allow == nullptr && deleted_.empty()) {
      SearchLevel<false, false>(query_space, ep, ep_dist, 0, ef, nullptr, ctx);
    } else {
      SearchLevel<false, true>(query_space, ep, ep_dist, 0, ef, allow, ctx);
    }
    ctx.results.Extract(&ctx.found);
  };
  WalkCodesOrFloats(params, q, params.k, &ef, ctx, walk);
  const size_t k = std::min(params.k, ctx.found.size());
  out->assign(ctx.found.begin(), ctx.found.begin() + k);
  return Status::OK();
}

Status HnswIndex::SearchWidening(const float* query, const SearchParams& params, Widen widen,
                                 std::vector<Neighbor>* out) const {
  if (params.exact || max_level_ < 0) return VectorIndex::SearchWidening(query, params, widen, out);
  out->clear();
  if (params.k == 0) return Status::InvalidArgument("k must be at least 1");
  ContextLease lease(*this);
  SearchContext& ctx = *lease;
  ctx.query.Resize(stride());
  float* q = ctx.query.data();
  QUIVER_RETURN_IF_ERROR(store_.Prepare(query, q).WithContext("query"));

  size_t beam = std::max(params.k, params.ef ? params.ef : size_t{64});
  auto walk = [&](const auto& query_space) {
    uint32_t ep = entry_point_;
    float ep_dist = query_space.Dist(ep);
    Descend<false>(query_space, max_level_, 0, &ep, &ep_dist);
    auto run = [&](auto filtered) {
      constexpr bool kFiltered = decltype(filtered)::value;
      SearchLevel<false, kFiltered, true>(query_space, ep, ep_dist, 0, beam, nullptr, ctx);
      for (;;) {
        const std::vector<Neighbor>& items = ctx.results.items();
        ctx.found.assign(items.begin(), items.end());
        std::sort(ctx.found.begin(), ctx.found.end());
        const size_t next = widen(std::span<const Neighbor>(ctx.found));
        if (next <= beam) break;
        beam = next;
        WidenLevel<kFiltered>(query_space, beam, ctx);
      }
    };
    if (deleted_.empty()) {
      run(std::false_type{});
    } else {
      run(std::true_type{});
    }
  };
  WalkCodesOrFloats(params, q, SIZE_MAX, &beam, ctx, walk);
  out->assign(ctx.found.begin(), ctx.found.end());
  return Status::OK();
}

Status HnswIndex::SearchRows(const float* query, std::span<const uint32_t> rows, size_t k,
                             std::vector<Neighbor>* out) const {
  out->clear();
  if (k == 0) return Status::InvalidArgument("k must be at least 1");
  ContextLease lease(*this);
  SearchContext& ctx = *lease;
  ctx.query.Resize(stride());
  QUIVER_RETURN_IF_ERROR(store_.Prepare(query, ctx.query.data()).WithContext("query"));
  ExactSearchRows(store_, deleted_, ctx.query.data(), rows, k, out);
  return Status::OK();
}

Status HnswIndex::SearchExactBatch(const float* queries, size_t nq, size_t k, std::vector<Neighbor>* outs) const {
  return ExactSearchBatch(store_, deleted_, queries, nq, k, outs);
}

Status HnswIndex::CheckInvariants() const {
  const size_t rows = store_.size();
  auto bad = [](const std::string& why) { return Status::Corruption("HNSW graph: " + why); };
  if (levels_.size() != rows || upper_offset_.size() != rows || links0_.size() != rows * (1 + m0_)) {
    return bad("link arrays do not match the row count");
  }
  if (rows == 0) return max_level_ == -1 ? Status::OK() : bad("empty graph with a top level");
  if (entry_point_ >= rows) return bad("entry point " + std::to_string(entry_point_) + " out of range");
  if (levels_[entry_point_] != max_level_) return bad("entry point is not on the top level");
  std::vector<uint32_t> seen_mark(rows, UINT32_MAX);
  uint32_t stamp = 0;
  for (uint32_t r = 0; r < rows; ++r) {
    if (levels_[r] > max_level_) return bad("row " + std::to_string(r) + " is above the top level");
    for (int level = 0; level <= levels_[r]; ++level) {
      const uint32_t cap = level == 0 ? m0_ : m_;
      const uint32_t* block = LinkBlock(r, level);
      if (block[0] > cap) {
        return bad("row " + std::to_string(r) + " has " + std::to_string(block[0]) + " links on level " +
                   std::to_string(level) + ", at most " + std::to_string(cap) + " allowed");
      }
      ++stamp;
      for (uint32_t i = 0; i < block[0]; ++i) {
        const uint32_t nb = block[1 + i];
        const std::string where = "row " + std::to_string(r) + " level " + std::to_string(level) + ": ";
        if (nb >= rows) return bad(where + "neighbour " + std::to_string(nb) + " out of range");
        if (nb == r) return bad(where + "links to itself");
        if (levels_[nb] < level) return bad(where + "neighbour " + std::to_string(nb) + " is not on this level");
        if (seen_mark[nb] == stamp) return bad(where + "neighbour " + std::to_string(nb) + " listed twice");
        seen_mark[nb] = stamp;
      }
    }
  }
  return Status::OK();
}

}  // namespace quiver::index
