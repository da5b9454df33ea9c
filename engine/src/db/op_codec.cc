#include "db/op_codec.h"

#include <boost/json/serialize.hpp>
#include <cstring>

#include "base/coding.h"
#include "index/sparse_index.h"
#include "index/vector_store.h"
#include "payload/json_parse.h"
#include "payload/json_util.h"

namespace quiver::db {
namespace {

constexpr uint8_t kIdNumber = 0;
constexpr uint8_t kIdUuid = 1;

void PutId(std::string* out, const PointId& id) {
  if (id.is_uuid()) {
    PutFixed8(out, kIdUuid);
    out->append(reinterpret_cast<const char*>(id.uuid().data()), 16);
  } else {
    PutFixed8(out, kIdNumber);
    PutFixed64(out, id.number());
  }
}

}  // namespace

void EncodeOpBatch(uint64_t sequence, std::span<const Op> ops, std::string* out) {
  // The lowest version that holds the batch: version 1 bytes unless an op carries sparse vectors.
  bool sparse = false;
  for (const Op& op : ops) sparse |= !op.sparse.empty();
  const uint8_t version = sparse ? kOpBatchVersion : 1;
  PutFixed8(out, version);
  PutFixed64(out, sequence);
  PutVarint64(out, ops.size());
  for (const Op& op : ops) {
    PutFixed8(out, static_cast<uint8_t>(op.kind));
    PutId(out, op.id);
    PutFixed64(out, op.stamp.hlc);
    PutFixed64(out, op.stamp.replica);
    switch (op.kind) {
      case OpKind::kUpsert:
        PutVarint64(out, op.vectors.size());
        for (const auto& [name, values] : op.vectors) {
          PutLengthPrefixed(out, name);
          PutVarint64(out, values.size());
          out->append(reinterpret_cast<const char*>(values.data()), values.size() * sizeof(float));
        }
        if (version >= 2) {
          PutVarint64(out, op.sparse.size());
          for (const auto& [name, v] : op.sparse) {
            PutLengthPrefixed(out, name);
            PutVarint64(out, v.indices.size());
            out->append(reinterpret_cast<const char*>(v.indices.data()), v.indices.size() * sizeof(uint32_t));
            out->append(reinterpret_cast<const char*>(v.values.data()), v.values.size() * sizeof(float));
          }
        }
        PutLengthPrefixed(out, boost::json::serialize(op.payload));
        break;
      case OpKind::kSetPayload:
      case OpKind::kOverwritePayload:
        PutLengthPrefixed(out, boost::json::serialize(op.payload));
        break;
      case OpKind::kDeletePayloadKeys:
        PutVarint64(out, op.keys.size());
        for (const std::string& k : op.keys) PutLengthPrefixed(out, k);
        break;
      case OpKind::kDelete:
      case OpKind::kClearPayload:
        break;
    }
  }
}

Result<OpBatch> DecodeOpBatch(std::string_view bytes, std::string_view what, uint64_t base_offset) {
  ByteReader r(bytes, std::string(what) + " op batch", base_offset);
  OpBatch batch;
  uint8_t version = 0;
  QUIVER_RETURN_IF_ERROR(r.ReadU8(&version, "version"));
  if (version < 1 || version > kOpBatchVersion) {
    return r.Error("unsupported op batch version " + std::to_string(version));
  }
  QUIVER_RETURN_IF_ERROR(r.ReadU64(&batch.sequence, "sequence"));
  uint64_t count = 0;
  QUIVER_RETURN_IF_ERROR(r.ReadVarint64(&count, "op count"));
  if (count > r.remaining()) return r.Error("op count " + std::to_string(count) + " exceeds the batch size");
  batch.ops.reserve(count);
  auto read_payload = [&](boost::json::object* out) -> Status {
    std::string_view text;
    QUIVER_RETURN_IF_ERROR(r.ReadLengthPrefixed(&text, "payload"));
    boost::json::error_code ec;
    boost::json::value v = payload::ParseJson(text, ec, payload::kMaxPayloadDepth);
    if (ec || !v.is_object()) return r.Error("payload is not a JSON object");
    if (payload::HasNonFinite(v)) return r.Error("payload holds a number out of range");
    *out = std::move(v.get_object());
    return Status::OK();
  };
  for (uint64_t i = 0; i < count; ++i) {
    Op op;
    uint8_t kind = 0, id_tag = 0;
    QUIVER_RETURN_IF_ERROR(r.ReadU8(&kind, "op kind"));
    if (kind < 1 || kind > 6) return r.Error("unknown op kind " + std::to_string(kind));
    op.kind = static_cast<OpKind>(kind);
    QUIVER_RETURN_IF_ERROR(r.ReadU8(&id_tag, "point id kind"));
    if (id_tag == kIdNumber) {
      uint64_t n = 0;
      QUIVER_RETURN_IF_ERROR(r.ReadU64(&n, "point id"));
      op.id = PointId::Number(n);
    } else if (id_tag == kIdUuid) {
      std::span<const uint8_t> u;
      QUIVER_RETURN_IF_ERROR(r.ReadBytes(16, &u, "point id"));
      PointId::UuidBytes b;
      std::memcpy(b.data(), u.data(), 16);
      op.id = PointId::Uuid(b);
    } else {
      return r.Error("unknown point id kind " + std::to_string(id_tag));
    }
    QUIVER_RETURN_IF_ERROR(r.ReadU64(&op.stamp.hlc, "stamp"));
    QUIVER_RETURN_IF_ERROR(r.ReadU64(&op.stamp.replica, "stamp replica"));
    switch (op.kind) {
      case OpKind::kUpsert: {
        uint64_t nvec = 0;
        QUIVER_RETURN_IF_ERROR(r.ReadVarint64(&nvec, "vector count"));
        if (nvec > 1024) return r.Error("too many vectors in one point");
        for (uint64_t v = 0; v < nvec; ++v) {
          std::string_view name;
          uint64_t dim = 0;
          QUIVER_RETURN_IF_ERROR(r.ReadLengthPrefixed(&name, "vector name"));
          QUIVER_RETURN_IF_ERROR(r.ReadVarint64(&dim, "vector size"));
          if (dim > index::kMaxDimension)
            return r.Error("vector size " + std::to_string(dim) + " out of range");
          std::span<const uint8_t> raw;
          QUIVER_RETURN_IF_ERROR(r.ReadBytes(dim * sizeof(float), &raw, "vector"));
          std::vector<float> values(dim);
          if (!raw.empty()) std::memcpy(values.data(), raw.data(), raw.size());
          op.vectors.emplace_back(std::string(name), std::move(values));
        }
        uint64_t nsparse = 0;
        if (version >= 2) QUIVER_RETURN_IF_ERROR(r.ReadVarint64(&nsparse, "sparse vector count"));
        if (nsparse > 1024) return r.Error("too many sparse vectors in one point");
        for (uint64_t v = 0; v < nsparse; ++v) {
          std::string_view name;
          uint64_t count = 0;
          QUIVER_RETURN_IF_ERROR(r.ReadLengthPrefixed(&name, "sparse vector name"));
          QUIVER_RETURN_IF_ERROR(r.ReadVarint64(&count, "sparse vector length"));
          if (count > r.remaining() / 8) return r.Error("sparse vector length " + std::to_string(count) + " out of range");
          SparseVector sv;
          sv.indices.resize(count);
          sv.values.resize(count);
          std::span<const uint8_t> raw;
          QUIVER_RETURN_IF_ERROR(r.ReadBytes(count * sizeof(uint32_t), &raw, "sparse indices"));
          if (count) std::memcpy(sv.indices.data(), raw.data(), raw.size());
          QUIVER_RETURN_IF_ERROR(r.ReadBytes(count * sizeof(float), &raw, "sparse values"));
          if (count) std::memcpy(sv.values.data(), raw.data(), raw.size());
          Status ok = index::CheckSparse(sv.indices, sv.values);
          if (!ok.ok()) return r.Error("sparse vector '" + std::string(name) + "': " + std::string(ok.message()));
          op.sparse.emplace_back(std::string(name), std::move(sv));
        }
        QUIVER_RETURN_IF_ERROR(read_payload(&op.payload));
        break;
      }
      case OpKind::kSetPayload:
      case OpKind::kOverwritePayload:
        QUIVER_RETURN_IF_ERROR(read_payload(&op.payload));
        break;
      case OpKind::kDeletePayloadKeys: {
        uint64_t nkeys = 0;
        QUIVER_RETURN_IF_ERROR(r.ReadVarint64(&nkeys, "key count"));
        if (nkeys > r.remaining()) return r.Error("key count exceeds the batch size");
        for (uint64_t k = 0; k < nkeys; ++k) {
          std::string_view key;
          QUIVER_RETURN_IF_ERROR(r.ReadLengthPrefixed(&key, "key"));
          op.keys.emplace_back(key);
        }
        break;
      }
      case OpKind::kDelete:
      case OpKind::kClearPayload:
        break;
    }
    batch.ops.push_back(std::move(op));
  }
  if (!r.empty()) return r.Error(std::to_string(r.remaining()) + " unexpected bytes after the last op");
  return batch;
}

}  // namespace quiver::db
