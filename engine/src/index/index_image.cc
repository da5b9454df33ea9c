#include "index/index_image.h"

#include <cmath>
#include <cstring>

#include "base/coding.h"
#include "index/flat_index.h"
#include "index/hnsw_index.h"

namespace quiver::index {

std::string EncodeIndexMeta(const IndexMeta& meta) {
  std::string out;
  PutFixed32(&out, meta.version);
  PutFixed8(&out, static_cast<uint8_t>(meta.kind));
  PutFixed8(&out, static_cast<uint8_t>(meta.metric));
  PutFixed16(&out, 0);
  PutFixed32(&out, meta.dim);
  PutFixed32(&out, meta.stride);
  PutFixed64(&out, meta.rows);
  PutFixed64(&out, meta.deleted);
  PutFixed32(&out, meta.m);
  PutFixed32(&out, meta.m0);
  PutFixed32(&out, meta.ef_construction);
  PutFixed32(&out, static_cast<uint32_t>(meta.max_level));
  PutFixed32(&out, meta.entry_point);
  PutFixed32(&out, 0);
  PutFixed64(&out, meta.seed);
  return out;
}

Result<IndexMeta> DecodeIndexMeta(const SectionFileReader& reader, IndexKind expected_kind) {
  QUIVER_ASSIGN_OR_RETURN(auto bytes, reader.Get(kTagMeta));
  const std::string what = reader.name() + " META";
  ByteReader r(bytes, what, reader.OffsetOf(kTagMeta));
  if (bytes.size() != kIndexMetaSize) {
    return r.Error("section is " + std::to_string(bytes.size()) + " bytes, expected " +
                   std::to_string(kIndexMetaSize));
  }
  IndexMeta m;
  uint32_t version = 0, max_level = 0, reserved32 = 0;
  uint8_t kind = 0, metric = 0;
  uint16_t reserved16 = 0;
  QUIVER_RETURN_IF_ERROR(r.ReadU32(&version, "layout version"));
  if (version != kIndexLayoutVersionPlain && version != kIndexLayoutVersion) {
    return r.Error("unsupported index layout version " + std::to_string(version));
  }
  m.version = version;
  QUIVER_RETURN_IF_ERROR(r.ReadU8(&kind, "kind"));
  if (kind != static_cast<uint8_t>(expected_kind)) return r.Error("index kind " + std::to_string(kind) + " unexpected");
  QUIVER_RETURN_IF_ERROR(r.ReadU8(&metric, "metric"));
  if (metric > kMaxMetric) return r.Error("unknown metric " + std::to_string(metric));
  QUIVER_RETURN_IF_ERROR(r.ReadU16(&reserved16, "reserved"));
  QUIVER_RETURN_IF_ERROR(r.ReadU32(&m.dim, "dim"));
  QUIVER_RETURN_IF_ERROR(r.ReadU32(&m.stride, "stride"));
  QUIVER_RETURN_IF_ERROR(r.ReadU64(&m.rows, "rows"));
  QUIVER_RETURN_IF_ERROR(r.ReadU64(&m.deleted, "deleted"));
  QUIVER_RETURN_IF_ERROR(r.ReadU32(&m.m, "m"));
  QUIVER_RETURN_IF_ERROR(r.ReadU32(&m.m0, "m0"));
  QUIVER_RETURN_IF_ERROR(r.ReadU32(&m.ef_construction, "ef_construction"));
  QUIVER_RETURN_IF_ERROR(r.ReadU32(&max_level, "max_level"));
  QUIVER_RETURN_IF_ERROR(r.ReadU32(&m.entry_point, "entry_point"));
  QUIVER_RETURN_IF_ERROR(r.ReadU32(&reserved32, "reserved"));
  QUIVER_RETURN_IF_ERROR(r.ReadU64(&m.seed, "seed"));
  m.kind = static_cast<IndexKind>(kind);
  m.metric = static_cast<Metric>(metric);
  m.max_level = static_cast<int32_t>(max_level);
  ByteReader at_start(bytes, what, reader.OffsetOf(kTagMeta));
  if (m.dim < 1 || m.dim > kMaxDimension) return at_start.Error("dimension " + std::to_string(m.dim) + " out of range");
  if (m.stride != StrideFor(m.dim)) return at_start.Error("stride " + std::to_string(m.stride) + " does not fit dim");
  if (m.rows >= UINT32_MAX) return at_start.Error("row count " + std::to_string(m.rows) + " out of range");
  if (m.deleted > m.rows) return at_start.Error("more deleted rows than rows");
  return m;
}

void WriteVectorsAndDeleted(const VectorStore& store, const DeletedSet& deleted, SectionFileWriter* w) {
  ByteChunks vectors;
  for (std::span<const float> run : store.Runs()) {
    vectors.AppendRef(std::string_view(reinterpret_cast<const char*>(run.data()), run.size_bytes()));
  }
  w->Add(kTagVectors, std::move(vectors));
  std::vector<uint64_t> words((store.size() + 63) / 64, 0);
  std::copy_n(deleted.words().begin(), std::min(words.size(), deleted.words().size()), words.begin());
  w->Add(kTagDeleted, words.data(), words.size() * sizeof(uint64_t));
}

Status ReadVectorsAndDeleted(const SectionFileReader& reader, const IndexMeta& meta, VectorStore* store,
                             DeletedSet* deleted, std::shared_ptr<const void> keepalive) {
  QUIVER_ASSIGN_OR_RETURN(auto vecs, reader.Get(kTagVectors));
  ByteReader vr(vecs, reader.name() + " VECS", reader.OffsetOf(kTagVectors));
  const uint64_t row_bytes = uint64_t{meta.stride} * sizeof(float);
  if (vecs.size() % row_bytes != 0 || vecs.size() / row_bytes != meta.rows) {
    return vr.Error("section holds " + std::to_string(vecs.size()) + " bytes, expected " +
                    std::to_string(meta.rows) + " rows of " + std::to_string(row_bytes));
  }
  auto check_row = [&](const float* row, uint64_t r) -> Status {
    for (uint32_t j = 0; j < meta.stride; ++j) {
      const bool bad = j < meta.dim ? !std::isfinite(row[j]) : row[j] != 0.0f;
      if (bad) {
        ByteReader at(vecs, reader.name() + " VECS", reader.OffsetOf(kTagVectors));
        (void)at.Skip((r * meta.stride + j) * sizeof(float), "row");
        return at.Error(std::string(j < meta.dim ? "non-finite value" : "non-zero padding") + " in row " +
                        std::to_string(r));
      }
    }
    return Status::OK();
  };
  if (keepalive && reinterpret_cast<uintptr_t>(vecs.data()) % kCacheLine == 0) {
    // In place: check the rows where they are and point the store at them.
    const float* rows = reinterpret_cast<const float*>(vecs.data());
    for (uint64_t r = 0; r < meta.rows; ++r) QUIVER_RETURN_IF_ERROR(check_row(rows + r * meta.stride, r));
    store->AdoptExternal(rows, meta.rows, std::move(keepalive));
  } else if (meta.rows > 0) {
    // Copy in chunks (the image may not be float-aligned), checking each copy.
    store->Reserve(meta.rows);
    std::vector<float> tmp;
    constexpr uint64_t kChunkRows = 1024;
    for (uint64_t first = 0; first < meta.rows; first += kChunkRows) {
      uint64_t n = std::min(kChunkRows, meta.rows - first);
      tmp.resize(n * meta.stride);
      std::memcpy(tmp.data(), vecs.data() + first * row_bytes, n * row_bytes);
      for (uint64_t i = 0; i < n; ++i) QUIVER_RETURN_IF_ERROR(check_row(tmp.data() + i * meta.stride, first + i));
      store->AppendPrepared(tmp.data(), n);
    }
  }

  QUIVER_ASSIGN_OR_RETURN(auto dels, reader.Get(kTagDeleted));
  ByteReader dr(dels, reader.name() + " DELS", reader.OffsetOf(kTagDeleted));
  const uint64_t words = (meta.rows + 63) / 64;
  if (dels.size() != words * 8) {
    return dr.Error("section holds " + std::to_string(dels.size()) + " bytes, expected " + std::to_string(words * 8));
  }
  std::vector<uint64_t> bits(words);
  if (words) std::memcpy(bits.data(), dels.data(), words * 8);
  if (meta.rows % 64 != 0 && words > 0 && (bits.back() >> (meta.rows % 64)) != 0) {
    return dr.Error("deletion bits set past the last row");
  }
  deleted->Assign(std::move(bits));
  if (deleted->count() != meta.deleted) {
    return dr.Error("deletion bitmap counts " + std::to_string(deleted->count()) + " rows, META says " +
                    std::to_string(meta.deleted));
  }
  return Status::OK();
}

Result<std::unique_ptr<VectorIndex>> LoadIndex(std::span<const uint8_t> bytes, std::shared_ptr<const void> keepalive,
                                               SectionChecks checks) {
  if (bytes.size() >= kSectionHeaderSize) {
    uint32_t kind = DecodeFixed32(bytes.data() + 12);
    if (kind == static_cast<uint32_t>(FileKind::kFlatIndex)) {
      QUIVER_ASSIGN_OR_RETURN(auto flat, FlatIndex::Deserialize(bytes, std::move(keepalive), checks));
      return std::unique_ptr<VectorIndex>(std::move(flat));
    }
  }
  QUIVER_ASSIGN_OR_RETURN(auto hnsw, HnswIndex::Deserialize(bytes, std::move(keepalive), checks));
  return std::unique_ptr<VectorIndex>(std::move(hnsw));
}

}  // namespace quiver::index
