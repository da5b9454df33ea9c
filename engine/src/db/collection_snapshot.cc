// CollectionCore: snapshots (docs/formats.md, "Snapshot"): writing one, reading one, and filling a new
// collection from it.
#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstring>

#include "base/coding.h"
#include "base/section_file.h"
#include "db/collection_core.h"
#include "db/config_json.h"
#include "db/op_codec.h"
#include "db/segment_file.h"
#include "index/flat_index.h"
#include "index/hnsw_index.h"
#include "index/sparse_index.h"
#include "index/vector_store.h"
#include "payload/json_parse.h"
#include "payload/json_util.h"
#include "simd/distance.h"
#include "storage/wal_reader.h"

namespace quiver::db {

// Snapshot: see docs/formats.md, "Snapshot". Deterministic: canonical JSON, points in id order, stored
// vectors.
Result<std::string> CollectionCore::CreateSnapshot() const {
  std::shared_lock lock(mu_);
  std::vector<std::pair<PointId, MovedPoint>> points;
  for (const Segment* seg : SegmentsLocked()) {
    for (uint32_t slot : seg->id_order()) {
      if (!seg->IsRemoved(slot)) points.emplace_back(seg->state(slot).id, seg->Extract(slot));
    }
  }
  lock.unlock();
  std::sort(points.begin(), points.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  boost::json::object meta;
  // The lowest format that holds the collection: format 1 bytes for a collection without sparse vectors.
  meta["format"] = sparse_spaces_.empty() ? 1 : 2;
  meta["name"] = name_;
  meta["config"] = ConfigToJson(config_);
  boost::json::array indexes;
  for (const auto& [field, type] : payload_fields_) {
    indexes.push_back(boost::json::array{field, std::string(payload::FieldIndexTypeName(type))});
  }
  meta["payload_indexes"] = std::move(indexes);
  meta["points"] = points.size();
  std::string body;
  for (const auto& [id, mp] : points) {
    const PointState& st = mp.state;
    PutFixed8(&body, id.is_uuid() ? 1 : 0);
    if (id.is_uuid()) {
      body.append(reinterpret_cast<const char*>(id.uuid().data()), 16);
    } else {
      PutFixed64(&body, id.number());
    }
    for (const Stamp* s : {&st.alive, &st.vectors_stamp, &st.payload_reset}) {
      PutFixed64(&body, s->hlc);
      PutFixed64(&body, s->replica);
    }
    PutFixed8(&body, st.deleted ? 1 : 0);
    PutVarint64(&body, st.key_stamps.size());
    for (const KeyStamp& ks : st.key_stamps) {
      PutLengthPrefixed(&body, ks.key);
      PutFixed64(&body, ks.stamp.hlc);
      PutFixed64(&body, ks.stamp.replica);
    }
    PutLengthPrefixed(&body, payload::CanonicalJson(boost::json::value(st.payload)));
    for (size_t s = 0; s < spaces_.size(); ++s) {
      const std::vector<float>& v = mp.vectors[s];
      PutFixed8(&body, v.empty() ? 0 : 1);
      if (!v.empty())
        body.append(reinterpret_cast<const char*>(v.data()), spaces_[s].params.size * sizeof(float));
    }
    for (size_t s = 0; s < sparse_spaces_.size(); ++s) {
      const std::optional<SparseVector>& v = mp.sparse[s];
      PutFixed8(&body, v ? 1 : 0);
      if (!v) continue;
      PutVarint64(&body, v->indices.size());
      body.append(reinterpret_cast<const char*>(v->indices.data()), v->indices.size() * sizeof(uint32_t));
      body.append(reinterpret_cast<const char*>(v->values.data()), v->values.size() * sizeof(float));
    }
  }
  SectionFileWriter w(FileKind::kSnapshot);
  w.Add(SectionTag("SNAP"), payload::CanonicalJson(boost::json::value(meta)));
  w.Add(SectionTag("PNTS"), body);
  return w.Finish();
}

Status CollectionCore::LoadSnapshotPoints(std::vector<MovedPoint> points) {
  std::unique_lock lock(mu_);
  QUIVER_RETURN_IF_ERROR(WritableLocked());
  for (MovedPoint& mp : points) {
    // Stored vectors carry the index's padding.
    for (size_t s = 0; s < spaces_.size(); ++s) {
      if (!mp.vectors[s].empty()) mp.vectors[s].resize(write_->vector_index(s).stride(), 0.0f);
    }
    clock_->Observe(std::max({mp.state.alive.hlc, mp.state.vectors_stamp.hlc, mp.state.payload_reset.hlc}));
    for (const KeyStamp& ks : mp.state.key_stamps) clock_->Observe(ks.stamp.hlc);
    write_->Adopt(mp);
  }
  if (stored()) {
    QUIVER_RETURN_IF_ERROR(SealLocked());
    if (files_->options().auto_optimize) ScheduleOptimize();
  }
  return Status::OK();
}

Result<SnapshotContents> DecodeSnapshot(std::span<const uint8_t> bytes, const std::string& what) {
  QUIVER_ASSIGN_OR_RETURN(auto reader, SectionFileReader::Open(bytes, FileKind::kSnapshot, what));
  QUIVER_ASSIGN_OR_RETURN(auto meta_bytes, reader.Get(SectionTag("SNAP")));
  QUIVER_ASSIGN_OR_RETURN(auto body, reader.Get(SectionTag("PNTS")));
  auto corrupt = [&](const std::string& why) { return Status::Corruption(what + ": " + why); };
  boost::json::error_code ec;
  boost::json::value mv = payload::ParseJson(
      std::string_view(reinterpret_cast<const char*>(meta_bytes.data()), meta_bytes.size()), ec);
  if (ec || !mv.is_object()) return corrupt("snapshot header is not a JSON object");
  const boost::json::object& meta = mv.get_object();
  SnapshotContents out;
  auto format = meta.find("format");
  if (format == meta.end() || !format->value().is_int64() || format->value().get_int64() < 1 ||
      format->value().get_int64() > 2) {
    return corrupt("unsupported snapshot format");
  }
  const int64_t version = format->value().get_int64();
  auto name = meta.find("name");
  if (name == meta.end() || !name->value().is_string()) return corrupt("snapshot has no collection name");
  out.name = std::string(name->value().get_string());
  auto config = meta.find("config");
  if (config == meta.end()) return corrupt("snapshot has no configuration");
  auto parsed = ConfigFromJson(config->value(), "config");
  if (!parsed.ok()) return corrupt(std::string(parsed.status().message()));
  out.config = std::move(*parsed);
  if (version < 2 && !out.config.sparse_vectors.empty()) {
    return corrupt("a format 1 snapshot cannot hold sparse vectors");
  }
  const size_t nsparse = out.config.sparse_vectors.size();
  auto indexes = meta.find("payload_indexes");
  if (indexes == meta.end() || !indexes->value().is_array())
    return corrupt("snapshot has no payload index list");
  for (const auto& iv : indexes->value().get_array()) {
    const boost::json::array* pair = iv.if_array();
    if (!pair || pair->size() != 2 || !(*pair)[0].is_string() || !(*pair)[1].is_string()) {
      return corrupt("bad payload index entry");
    }
    out.payload_indexes.emplace_back(std::string((*pair)[0].get_string()),
                                     std::string((*pair)[1].get_string()));
  }
  auto count_it = meta.find("points");
  if (count_it == meta.end() || !count_it->value().is_int64() || count_it->value().get_int64() < 0) {
    return corrupt("snapshot has no point count");
  }
  const uint64_t count = static_cast<uint64_t>(count_it->value().get_int64());
  std::vector<uint32_t> dims;
  for (const auto& [vname, params] : out.config.vectors) dims.push_back(params.size);

  ByteReader r(body, what + " PNTS", reader.OffsetOf(SectionTag("PNTS")));
  if (count > r.remaining()) return r.Error("point count exceeds the section");
  out.points.reserve(count);
  PointId previous;
  for (uint64_t i = 0; i < count; ++i) {
    MovedPoint mp;
    PointState& st = mp.state;
    uint8_t tag = 0;
    QUIVER_RETURN_IF_ERROR(r.ReadU8(&tag, "point id kind"));
    if (tag == 0) {
      uint64_t n = 0;
      QUIVER_RETURN_IF_ERROR(r.ReadU64(&n, "point id"));
      st.id = PointId::Number(n);
    } else if (tag == 1) {
      std::span<const uint8_t> u;
      QUIVER_RETURN_IF_ERROR(r.ReadBytes(16, &u, "point id"));
      PointId::UuidBytes b;
      std::memcpy(b.data(), u.data(), 16);
      st.id = PointId::Uuid(b);
    } else {
      return r.Error("unknown point id kind " + std::to_string(tag));
    }
    if (i > 0 && !(previous < st.id)) return r.Error("points out of order");
    previous = st.id;
    for (Stamp* s : {&st.alive, &st.vectors_stamp, &st.payload_reset}) {
      QUIVER_RETURN_IF_ERROR(r.ReadU64(&s->hlc, "stamp"));
      QUIVER_RETURN_IF_ERROR(r.ReadU64(&s->replica, "stamp"));
    }
    uint8_t deleted = 0;
    QUIVER_RETURN_IF_ERROR(r.ReadU8(&deleted, "deleted flag"));
    if (deleted > 1) return r.Error("bad deleted flag");
    st.deleted = deleted == 1;
    uint64_t nkeys = 0;
    QUIVER_RETURN_IF_ERROR(r.ReadVarint64(&nkeys, "key count"));
    if (nkeys > r.remaining()) return r.Error("key count exceeds the section");
    for (uint64_t k = 0; k < nkeys; ++k) {
      std::string_view key;
      KeyStamp ks;
      QUIVER_RETURN_IF_ERROR(r.ReadLengthPrefixed(&key, "key"));
      QUIVER_RETURN_IF_ERROR(r.ReadU64(&ks.stamp.hlc, "key stamp"));
      QUIVER_RETURN_IF_ERROR(r.ReadU64(&ks.stamp.replica, "key stamp"));
      ks.key = std::string(key);
      st.key_stamps.push_back(std::move(ks));
    }
    std::string_view text;
    QUIVER_RETURN_IF_ERROR(r.ReadLengthPrefixed(&text, "payload"));
    boost::json::value pv = payload::ParseJson(text, ec, payload::kMaxPayloadDepth);
    if (ec || !pv.is_object())
      return r.Error("payload of point " + st.id.ToString() + " is not a JSON object");
    if (payload::HasNonFinite(pv)) {
      return r.Error("payload of point " + st.id.ToString() + " holds a number out of range");
    }
    st.payload = std::move(pv.get_object());
    mp.vectors.resize(dims.size());
    st.rows.assign(dims.size(), kNoRow);
    for (size_t s = 0; s < dims.size(); ++s) {
      uint8_t has = 0;
      QUIVER_RETURN_IF_ERROR(r.ReadU8(&has, "vector flag"));
      if (has > 1) return r.Error("bad vector flag");
      if (!has) continue;
      std::span<const uint8_t> raw;
      QUIVER_RETURN_IF_ERROR(r.ReadBytes(size_t{dims[s]} * sizeof(float), &raw, "vector"));
      mp.vectors[s].resize(dims[s]);
      std::memcpy(mp.vectors[s].data(), raw.data(), raw.size());
      Status fin = index::CheckFinite(mp.vectors[s].data(), dims[s]);
      if (!fin.ok()) return r.Error("point " + st.id.ToString() + ": " + std::string(fin.message()));
    }
    mp.sparse.resize(nsparse);
    st.sparse_rows.assign(nsparse, kNoRow);
    for (size_t s = 0; s < nsparse; ++s) {
      uint8_t has = 0;
      QUIVER_RETURN_IF_ERROR(r.ReadU8(&has, "sparse vector flag"));
      if (has > 1) return r.Error("bad sparse vector flag");
      if (!has) continue;
      uint64_t n = 0;
      QUIVER_RETURN_IF_ERROR(r.ReadVarint64(&n, "sparse vector length"));
      if (n > r.remaining() / 8) return r.Error("sparse vector length exceeds the section");
      SparseVector v;
      v.indices.resize(n);
      v.values.resize(n);
      std::span<const uint8_t> raw;
      QUIVER_RETURN_IF_ERROR(r.ReadBytes(n * sizeof(uint32_t), &raw, "sparse indices"));
      if (n) std::memcpy(v.indices.data(), raw.data(), raw.size());
      QUIVER_RETURN_IF_ERROR(r.ReadBytes(n * sizeof(float), &raw, "sparse values"));
      if (n) std::memcpy(v.values.data(), raw.data(), raw.size());
      Status ok = index::CheckSparse(v.indices, v.values);
      if (!ok.ok()) return r.Error("point " + st.id.ToString() + ": sparse vector: " + std::string(ok.message()));
      mp.sparse[s] = std::move(v);
    }
    out.points.push_back(std::move(mp));
  }
  if (!r.empty()) return r.Error("unexpected bytes after the last point");
  return out;
}

}  // namespace quiver::db
