// HnswIndex::Serialize and HnswIndex::Deserialize: the HNSW index image (docs/formats.md, "Index image").
#include <cstring>

#include "base/coding.h"
#include "index/hnsw_index.h"
#include "index/index_image.h"

namespace quiver::index {

ByteChunks HnswIndex::SerializeChunks() const {
  IndexMeta meta;
  meta.kind = IndexKind::kHnsw;
  meta.metric = metric();
  meta.dim = dim();
  meta.stride = stride();
  meta.rows = size();
  meta.deleted = deleted_.count();
  meta.m = m_;
  meta.m0 = m0_;
  meta.ef_construction = options_.ef_construction;
  meta.max_level = max_level_;
  meta.entry_point = entry_point_;
  meta.seed = options_.seed;
  if (quantizer_) meta.version = kIndexLayoutVersion;
  SectionFileWriter w(FileKind::kHnswIndex);
  w.Add(kTagMeta, EncodeIndexMeta(meta));
  WriteVectorsAndDeleted(store_, deleted_, &w);
  w.Add(kTagLevels, levels_.data(), levels_.size());
  w.AddRef(kTagLinks0, links0_.data(), links0_.size() * sizeof(uint32_t));
  // Upper blocks in row order; offsets are implied by the levels.
  std::string upper;
  for (uint32_t r = 0; r < size(); ++r) {
    if (levels_[r] == 0) continue;
    upper.append(reinterpret_cast<const char*>(upper_links_.data() + upper_offset_[r]),
                 static_cast<size_t>(levels_[r]) * (1 + m_) * sizeof(uint32_t));
  }
  w.Add(kTagLinksUpper, upper);
  if (quantizer_) quantizer_->Write(&w);
  return w.FinishChunks();
}

Result<std::unique_ptr<HnswIndex>> HnswIndex::Deserialize(std::span<const uint8_t> bytes,
                                                          std::shared_ptr<const void> keepalive,
                                                          SectionChecks checks) {
  QUIVER_ASSIGN_OR_RETURN(auto reader,
                          SectionFileReader::Open(bytes, FileKind::kHnswIndex, "HNSW index image", checks));
  QUIVER_ASSIGN_OR_RETURN(IndexMeta meta, DecodeIndexMeta(reader, IndexKind::kHnsw));
  auto meta_error = [&](const std::string& why) {
    return Status::Corruption(reader.name() + " META: " + why + " at offset " +
                              std::to_string(reader.OffsetOf(kTagMeta)));
  };
  if (meta.m < kMinHnswM || meta.m > kMaxHnswM) return meta_error("m " + std::to_string(meta.m) + " out of range");
  if (meta.m0 != 2 * meta.m) return meta_error("m0 " + std::to_string(meta.m0) + " is not 2 * m");
  if (meta.ef_construction < 1) return meta_error("ef_construction is 0");
  if (meta.rows == 0 ? meta.max_level != -1 : (meta.max_level < 0 || meta.max_level > kMaxHnswLevel)) {
    return meta_error("top level " + std::to_string(meta.max_level) + " does not fit " +
                      std::to_string(meta.rows) + " rows");
  }

  HnswOptions options{meta.m, meta.ef_construction, meta.seed};
  std::unique_ptr<HnswIndex> index(new HnswIndex(meta.dim, meta.metric, options));
  QUIVER_RETURN_IF_ERROR(ReadVectorsAndDeleted(reader, meta, &index->store_, &index->deleted_, keepalive));
  const size_t rows = meta.rows;

  QUIVER_ASSIGN_OR_RETURN(auto levels, reader.Get(kTagLevels));
  ByteReader lr(levels, reader.name() + " LVLS", reader.OffsetOf(kTagLevels));
  if (levels.size() != rows) return lr.Error("section holds " + std::to_string(levels.size()) + " levels for " + std::to_string(rows) + " rows");
  index->levels_.assign(levels.begin(), levels.end());
  index->upper_offset_.assign(rows, UINT32_MAX);
  uint64_t upper_words = 0;
  for (size_t r = 0; r < rows; ++r) {
    if (index->levels_[r] > meta.max_level) {
      (void)lr.Skip(r, "levels");
      return lr.Error("row " + std::to_string(r) + " has level " + std::to_string(index->levels_[r]) +
                      " above the top level");
    }
    if (index->levels_[r] > 0) {
      index->upper_offset_[r] = static_cast<uint32_t>(upper_words);
      upper_words += uint64_t{index->levels_[r]} * (1 + meta.m);
      if (upper_words >= UINT32_MAX) return lr.Error("upper levels too large");
    }
  }

  QUIVER_ASSIGN_OR_RETURN(auto links0, reader.Get(kTagLinks0));
  ByteReader l0(links0, reader.name() + " LNK0", reader.OffsetOf(kTagLinks0));
  const uint64_t links0_bytes = uint64_t{rows} * (1 + meta.m0) * sizeof(uint32_t);
  if (links0.size() != links0_bytes) {
    return l0.Error("section holds " + std::to_string(links0.size()) + " bytes, expected " + std::to_string(links0_bytes));
  }
  index->links0_.Resize(rows * (1 + meta.m0));
  if (rows) std::memcpy(index->links0_.data(), links0.data(), links0_bytes);

  QUIVER_ASSIGN_OR_RETURN(auto upper, reader.Get(kTagLinksUpper));
  ByteReader lu(upper, reader.name() + " LNKU", reader.OffsetOf(kTagLinksUpper));
  if (upper.size() != upper_words * sizeof(uint32_t)) {
    return lu.Error("section holds " + std::to_string(upper.size()) + " bytes, levels imply " +
                    std::to_string(upper_words * sizeof(uint32_t)));
  }
  index->upper_links_.resize(upper_words);
  if (upper_words) std::memcpy(index->upper_links_.data(), upper.data(), upper.size());

  index->max_level_ = meta.max_level;
  index->entry_point_ = meta.entry_point;
  QUIVER_RETURN_IF_ERROR(index->CheckInvariants().WithContext(reader.name()));
  // Version 2 is version 1 with the quantizer's sections, and only with them.
  const bool quantized = meta.version == kIndexLayoutVersion;
  for (uint32_t tag : {kTagQuantizer, kTagCodes}) {
    if (reader.Has(tag) != quantized) {
      return Status::Corruption(reader.name() + ": section " + SectionTagName(tag) + " is " +
                                (quantized ? "missing from" : "present in") + " a layout version " +
                                std::to_string(meta.version) + " image");
    }
  }
  if (!quantized && reader.Has(kTagCodeNorms)) {
    return Status::Corruption(reader.name() + ": section SQN2 is present in a layout version 1 image");
  }
  if (quantized) {
    QUIVER_ASSIGN_OR_RETURN(ScalarQuantizer q,
                            ScalarQuantizer::Read(reader, index->store_, std::move(keepalive)));
    index->quantizer_.emplace(std::move(q));
  }
  return index;
}

}  // namespace quiver::index
