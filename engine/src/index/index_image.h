// The parts of an index image (docs/formats.md, "Index image") that flat and HNSW indexes share: the META
// section and the VECS and DELS sections. Private to engine/src/index.
#ifndef QUIVER_INDEX_INDEX_IMAGE_H_
#define QUIVER_INDEX_INDEX_IMAGE_H_

#include <cstdint>
#include <span>
#include <string>

#include "base/section_file.h"
#include "index/deleted_set.h"
#include "index/vector_index.h"
#include "index/vector_store.h"

namespace quiver::index {

// Version 2 adds the scalar quantizer's sections (SQPR, SQCD, SQN2); an image without them is written as
// version 1, which every earlier reader reads.
inline constexpr uint32_t kIndexLayoutVersion = 2;
inline constexpr uint32_t kIndexLayoutVersionPlain = 1;
inline constexpr size_t kIndexMetaSize = 64;
inline constexpr size_t kQuantizerParamsSize = 32;
inline constexpr uint32_t kTagMeta = SectionTag("META");
inline constexpr uint32_t kTagVectors = SectionTag("VECS");
inline constexpr uint32_t kTagDeleted = SectionTag("DELS");
inline constexpr uint32_t kTagLevels = SectionTag("LVLS");
inline constexpr uint32_t kTagLinks0 = SectionTag("LNK0");
inline constexpr uint32_t kTagLinksUpper = SectionTag("LNKU");
inline constexpr uint32_t kTagQuantizer = SectionTag("SQPR");
inline constexpr uint32_t kTagCodes = SectionTag("SQCD");
inline constexpr uint32_t kTagCodeNorms = SectionTag("SQN2");

struct IndexMeta {
  uint32_t version = kIndexLayoutVersionPlain;
  IndexKind kind = IndexKind::kFlat;
  Metric metric = Metric::kL2;
  uint32_t dim = 0;
  uint32_t stride = 0;
  uint64_t rows = 0;
  uint64_t deleted = 0;
  // HNSW only; zero for flat.
  uint32_t m = 0;
  uint32_t m0 = 0;
  uint32_t ef_construction = 0;
  int32_t max_level = -1;
  uint32_t entry_point = 0;
  uint64_t seed = 0;
};

std::string EncodeIndexMeta(const IndexMeta& meta);
// Decodes and checks the version (1 or 2), kind, metric, dim and stride. `reader` labels errors.
Result<IndexMeta> DecodeIndexMeta(const SectionFileReader& reader, IndexKind expected_kind);

// Writes the VECS and DELS sections.
void WriteVectorsAndDeleted(const VectorStore& store, const DeletedSet& deleted, SectionFileWriter* w);
// Reads VECS into `store` (which must be empty and match meta) and DELS into `deleted`, checking sizes, that
// every value is finite, that padding is zero, and that deletion bits stay within meta.rows. With a `keepalive`
// for the image's bytes and VECS 64-byte aligned in memory, the store uses the rows in place instead of copying.
Status ReadVectorsAndDeleted(const SectionFileReader& reader, const IndexMeta& meta, VectorStore* store,
                             DeletedSet* deleted, std::shared_ptr<const void> keepalive = nullptr);

}  // namespace quiver::index

#endif  // QUIVER_INDEX_INDEX_IMAGE_H_
