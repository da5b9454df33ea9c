#include "db/feed_record.h"

#include <boost/json/serialize.hpp>
#include <cstring>

#include "base/coding.h"
#include "db/op_codec.h"
#include "payload/json_parse.h"
#include "payload/json_util.h"

namespace quiver::db {

void EncodeFeedRecord(uint64_t sequence, const FeedWrite& write, std::string* out) {
  PutFixed8(out, kFeedRecordVersion);
  PutFixed8(out, 0);  // flags
  PutVarint64(out, write.meta.size());
  for (const auto& [key, value] : write.meta) {
    PutLengthPrefixed(out, key);
    PutFixed8(out, value ? 1 : 0);
    if (value) PutLengthPrefixed(out, boost::json::serialize(*value));
  }
  PutVarint64(out, write.reset_points.size());
  for (const PointId& id : write.reset_points) {
    if (id.is_uuid()) {
      PutFixed8(out, 1);
      out->append(reinterpret_cast<const char*>(id.uuid().data()), 16);
    } else {
      PutFixed8(out, 0);
      PutFixed64(out, id.number());
    }
  }
  EncodeOpBatch(sequence, write.ops, out);
}

Result<std::pair<uint64_t, FeedWrite>> DecodeFeedRecord(std::string_view bytes, std::string_view what,
                                                        uint64_t base_offset) {
  ByteReader r(bytes, std::string(what) + " sync record", base_offset);
  uint8_t version = 0, flags = 0;
  QUIVER_RETURN_IF_ERROR(r.ReadU8(&version, "version"));
  if (version != kFeedRecordVersion) return r.Error("unsupported sync record version " + std::to_string(version));
  QUIVER_RETURN_IF_ERROR(r.ReadU8(&flags, "flags"));
  if (flags != 0) return r.Error("unknown sync record flags " + std::to_string(flags));
  FeedWrite write;
  uint64_t count = 0;
  QUIVER_RETURN_IF_ERROR(r.ReadVarint64(&count, "metadata count"));
  if (count > r.remaining()) return r.Error("metadata count exceeds the record");
  for (uint64_t i = 0; i < count; ++i) {
    std::string_view key;
    uint8_t has = 0;
    QUIVER_RETURN_IF_ERROR(r.ReadLengthPrefixed(&key, "metadata key"));
    QUIVER_RETURN_IF_ERROR(r.ReadU8(&has, "metadata kind"));
    if (has > 1) return r.Error("bad metadata kind " + std::to_string(has));
    std::optional<boost::json::value> value;
    if (has) {
      std::string_view text;
      QUIVER_RETURN_IF_ERROR(r.ReadLengthPrefixed(&text, "metadata value"));
      boost::json::error_code ec;
      boost::json::value v = payload::ParseJson(text, ec, payload::kMaxPayloadDepth);
      if (ec) return r.Error("metadata value of '" + std::string(key) + "' is not JSON");
      if (payload::HasNonFinite(v)) {
        return r.Error("metadata value of '" + std::string(key) + "' holds a number out of range");
      }
      value = std::move(v);
    }
    write.meta.emplace_back(std::string(key), std::move(value));
  }
  QUIVER_RETURN_IF_ERROR(r.ReadVarint64(&count, "reset count"));
  if (count > r.remaining()) return r.Error("reset count exceeds the record");
  for (uint64_t i = 0; i < count; ++i) {
    uint8_t kind = 0;
    QUIVER_RETURN_IF_ERROR(r.ReadU8(&kind, "point id kind"));
    if (kind == 0) {
      uint64_t n = 0;
      QUIVER_RETURN_IF_ERROR(r.ReadU64(&n, "point id"));
      write.reset_points.push_back(PointId::Number(n));
    } else if (kind == 1) {
      std::span<const uint8_t> u;
      QUIVER_RETURN_IF_ERROR(r.ReadBytes(16, &u, "point id"));
      PointId::UuidBytes b;
      std::memcpy(b.data(), u.data(), 16);
      write.reset_points.push_back(PointId::Uuid(b));
    } else {
      return r.Error("unknown point id kind " + std::to_string(kind));
    }
  }
  const size_t at = r.position();
  QUIVER_ASSIGN_OR_RETURN(OpBatch batch, DecodeOpBatch(bytes.substr(at), what, base_offset + at));
  for (Op& op : batch.ops) op.stored_form = op.kind == OpKind::kUpsert;
  write.ops = std::move(batch.ops);
  return std::make_pair(batch.sequence, std::move(write));
}

}  // namespace quiver::db
