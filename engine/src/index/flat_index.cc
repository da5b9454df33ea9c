#include "index/flat_index.h"

#include <algorithm>
#include <string>
#include <vector>

#include "base/coding.h"
#include "index/index_image.h"
#include "index/top_k.h"

namespace quiver::index {

void ExactSearch(const VectorStore& store, const DeletedSet& deleted, const float* prepared_query, size_t k,
                 const RowPredicate* allow, std::vector<Neighbor>* out) {
  TopK top;
  top.Reset(k);
  const size_t rows = store.size(), stride = store.stride();
  const bool any_deleted = !deleted.empty();
  // Chunk by chunk, rows one after another within each (the store's rows are consecutive within a chunk).
  for (size_t first = 0; first < rows; first += store.chunk_rows()) {
    const size_t end = std::min(rows, first + store.chunk_rows());
    const float* v = store.Row(static_cast<uint32_t>(first));
    for (size_t r = first; r < end; ++r, v += stride) {
      const uint32_t row = static_cast<uint32_t>(r);
      if ((any_deleted && deleted.Contains(row)) || (allow && !(*allow)(row))) continue;
      top.Push(row, store.Distance(prepared_query, v));
    }
  }
  top.Extract(out);
}

void ExactSearchRows(const VectorStore& store, const DeletedSet& deleted, const float* prepared_query,
                     std::span<const uint32_t> rows, size_t k, std::vector<Neighbor>* out) {
  TopK top;
  top.Reset(k);
  const size_t n = store.size();
  for (uint32_t row : rows) {
    if (row >= n || deleted.Contains(row)) continue;
    top.Push(row, store.Distance(prepared_query, store.Row(row)));
  }
  top.Extract(out);
}

Status ExactSearchBatch(const VectorStore& store, const DeletedSet& deleted, const float* queries, size_t nq,
                        size_t k, std::vector<Neighbor>* outs) {
  for (size_t q = 0; q < nq; ++q) outs[q].clear();
  if (k == 0) return Status::InvalidArgument("k must be at least 1");
  const size_t stride = store.stride();
  std::vector<float> prepared(nq * stride);
  for (size_t q = 0; q < nq; ++q) {
    QUIVER_RETURN_IF_ERROR(
        store.Prepare(queries + q * store.dim(), &prepared[q * stride]).WithContext("query " + std::to_string(q)));
  }
  std::vector<TopK> tops(nq);
  for (TopK& top : tops) top.Reset(k);
  // 128 KiB of rows per block: they stay in the core's L2 cache while every query measures them.
  const size_t block = std::max<size_t>(1, (size_t{128} << 10) / (stride * sizeof(float)));
  const size_t rows = store.size();
  const bool any_deleted = !deleted.empty();
  for (size_t first = 0, last = 0; first < rows; first = last) {
    // A block never crosses a chunk's end, so its rows are consecutive.
    const size_t chunk_end = (first / store.chunk_rows() + 1) * store.chunk_rows();
    last = std::min({rows, first + block, chunk_end});
    const float* base = store.Row(static_cast<uint32_t>(first));
    auto at = [&](size_t r) { return base + (r - first) * stride; };
    for (size_t q = 0; q < nq; ++q) {
      const float* query = &prepared[q * stride];
      TopK& top = tops[q];
      size_t r = first;
      for (; r + 4 <= last; r += 4) {  // four rows per kernel call: the query's loads are shared
        const float* four[4] = {at(r), at(r + 1), at(r + 2), at(r + 3)};
        float d[4];
        store.DistanceX4(query, four, d);
        for (size_t j = 0; j < 4; ++j) {
          const uint32_t row = static_cast<uint32_t>(r + j);
          if (!(any_deleted && deleted.Contains(row))) top.Push(row, d[j]);
        }
      }
      for (; r < last; ++r) {
        const uint32_t row = static_cast<uint32_t>(r);
        if (any_deleted && deleted.Contains(row)) continue;
        top.Push(row, store.Distance(query, at(r)));
      }
    }
  }
  for (size_t q = 0; q < nq; ++q) tops[q].Extract(&outs[q]);
  return Status::OK();
}

Result<std::unique_ptr<FlatIndex>> FlatIndex::Create(uint32_t dim, Metric metric) {
  if (dim < 1 || dim > kMaxDimension) {
    return Status::InvalidArgument("vector size " + std::to_string(dim) + " is out of range 1.." +
                                   std::to_string(kMaxDimension));
  }
  return std::unique_ptr<FlatIndex>(new FlatIndex(dim, metric));
}

Result<uint32_t> FlatIndex::Add(const float* vector) { return store_.Append(vector); }

Status FlatIndex::AddBatch(const float* vectors, size_t n, Executor*) {
  for (size_t i = 0; i < n; ++i) {
    Status s = CheckFinite(vectors + i * dim(), dim());
    if (!s.ok()) return s.WithContext("batch item " + std::to_string(i));
  }
  // No Reserve: the store grows a chunk at a time by itself (see HnswIndex::AddBatch).
  for (size_t i = 0; i < n; ++i) QUIVER_RETURN_IF_ERROR(store_.Append(vectors + i * dim()).status());
  return Status::OK();
}

Status FlatIndex::AddPrepared(const float* rows, size_t n, Executor*) {
  if (store_.size() + n >= UINT32_MAX) return Status::ResourceExhausted("an index holds at most 2^32 - 2 vectors");
  store_.AppendPrepared(rows, n);
  return Status::OK();
}

Status FlatIndex::Remove(uint32_t row) {
  if (row >= store_.size()) return Status::NotFound("row " + std::to_string(row) + " does not exist");
  deleted_.Insert(row);
  return Status::OK();
}

Status FlatIndex::Search(const float* query, const SearchParams& params, const RowPredicate* allow,
                         std::vector<Neighbor>* out) const {
  out->clear();
  if (params.k == 0) return Status::InvalidArgument("k must be at least 1");
  std::vector<float> q(stride());
  QUIVER_RETURN_IF_ERROR(store_.Prepare(query, q.data()).WithContext("query"));
  ExactSearch(store_, deleted_, q.data(), params.k, allow, out);
  return Status::OK();
}

Status FlatIndex::SearchRows(const float* query, std::span<const uint32_t> rows, size_t k,
                             std::vector<Neighbor>* out) const {
  out->clear();
  if (k == 0) return Status::InvalidArgument("k must be at least 1");
  std::vector<float> q(stride());
  QUIVER_RETURN_IF_ERROR(store_.Prepare(query, q.data()).WithContext("query"));
  ExactSearchRows(store_, deleted_, q.data(), rows, k, out);
  return Status::OK();
}

ByteChunks FlatIndex::SerializeChunks() const {
  IndexMeta meta;
  meta.kind = IndexKind::kFlat;
  meta.metric = metric();
  meta.dim = dim();
  meta.stride = stride();
  meta.rows = size();
  meta.deleted = deleted_.count();
  SectionFileWriter w(FileKind::kFlatIndex);
  w.Add(kTagMeta, EncodeIndexMeta(meta));
  WriteVectorsAndDeleted(store_, deleted_, &w);
  return w.FinishChunks();
}

Result<std::unique_ptr<FlatIndex>> FlatIndex::Deserialize(std::span<const uint8_t> bytes,
                                                          std::shared_ptr<const void> keepalive,
                                                          SectionChecks checks) {
  QUIVER_ASSIGN_OR_RETURN(auto reader,
                          SectionFileReader::Open(bytes, FileKind::kFlatIndex, "flat index image", checks));
  QUIVER_ASSIGN_OR_RETURN(IndexMeta meta, DecodeIndexMeta(reader, IndexKind::kFlat));
  if (meta.version != kIndexLayoutVersionPlain) {
    return Status::Corruption(reader.name() + " META: a flat index image is of layout version 1, not " +
                              std::to_string(meta.version));
  }
  std::unique_ptr<FlatIndex> index(new FlatIndex(meta.dim, meta.metric));
  QUIVER_RETURN_IF_ERROR(ReadVectorsAndDeleted(reader, meta, &index->store_, &index->deleted_, std::move(keepalive)));
  return index;
}

Result<std::unique_ptr<FlatIndex>> FlatIndex::Salvage(std::span<const uint8_t> bytes, const std::string& name) {
  if (bytes.size() < kSectionHeaderSize) return Status::Corruption(name + ": too short to be an index image");
  const uint32_t kind = DecodeFixed32(bytes.data() + 12);
  const bool flat = kind == static_cast<uint32_t>(FileKind::kFlatIndex);
  std::vector<uint32_t> damaged;
  QUIVER_ASSIGN_OR_RETURN(auto reader, SectionFileReader::OpenDamaged(
                                           bytes, flat ? FileKind::kFlatIndex : FileKind::kHnswIndex, name, &damaged));
  for (uint32_t tag : damaged) {
    if (tag == kTagMeta || tag == kTagVectors || tag == kTagDeleted) {
      return Status::Corruption(name + ": section " + SectionTagName(tag) + " checksum mismatch (the vectors are lost)");
    }
  }
  QUIVER_ASSIGN_OR_RETURN(IndexMeta meta, DecodeIndexMeta(reader, flat ? IndexKind::kFlat : IndexKind::kHnsw));
  std::unique_ptr<FlatIndex> index(new FlatIndex(meta.dim, meta.metric));
  QUIVER_RETURN_IF_ERROR(ReadVectorsAndDeleted(reader, meta, &index->store_, &index->deleted_));
  return index;
}

}  // namespace quiver::index
