#include "db/segment_file.h"

#include <boost/json/serialize.hpp>
#include <algorithm>
#include <cstring>

#include "base/coding.h"
#include "base/section_file.h"
#include "db/segment_seqs.h"
#include "index/flat_index.h"
#include "index/vector_index.h"
#include "payload/field_index.h"
#include "payload/json_parse.h"
#include "payload/json_util.h"

namespace quiver::db {
namespace {

constexpr uint32_t kTagMeta = SectionTag("SMTA");
constexpr uint32_t kTagIds = SectionTag("SIDS");
constexpr uint32_t kTagRegisters = SectionTag("SREG");
constexpr uint32_t kTagKeys = SectionTag("SKEY");
constexpr uint32_t kTagPayloads = SectionTag("SPAY");
constexpr uint32_t kTagRows = SectionTag("SROW");
constexpr uint32_t kTagSparseRows = SectionTag("SSRO");
constexpr uint32_t kTagPayloadIndex = SectionTag("SPIX");
// The version of the value parsers (datetimes, UUIDs) the stored payload indexes were built with. A segment
// without it, or with another version, has its payload indexes rebuilt from the payloads when it is opened.
constexpr uint32_t kTagPayloadParsers = SectionTag("SPIV");
constexpr uint32_t kPayloadParsersVersion = 2;
constexpr uint32_t kTagDelMeta = SectionTag("DMTA");
constexpr uint32_t kTagDelBits = SectionTag("DBIT");
constexpr size_t kIdBytes = 24;
constexpr size_t kRegisterBytes = 56;

// "IX00", "IX01", ...: the index image of space i; "SX00", ...: the sparse index of sparse space i.
uint32_t NumberedTag(char a, char b, size_t space) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  return static_cast<uint32_t>(a) | static_cast<uint32_t>(b) << 8 |
         static_cast<uint32_t>(kHex[(space >> 4) & 15]) << 16 | static_cast<uint32_t>(kHex[space & 15]) << 24;
}
uint32_t IndexTag(size_t space) { return NumberedTag('I', 'X', space); }
uint32_t SparseTag(size_t space) { return NumberedTag('S', 'X', space); }

void PutStamp(std::string* out, const Stamp& s) {
  PutFixed64(out, s.hlc);
  PutFixed64(out, s.replica);
}

}  // namespace

ByteChunks EncodeSegment(const Segment& segment, bool with_feed_seqs) {
  std::vector<uint32_t> slots;
  for (uint32_t slot = 0; slot < segment.slot_count(); ++slot) {
    if (!segment.IsRemoved(slot)) slots.push_back(slot);
  }
  const auto& spaces = segment.spaces();
  const auto& sparse_spaces = segment.sparse_spaces();
  // The lowest version that holds the segment: version 1 bytes for a collection without sparse vectors.
  const uint32_t version = sparse_spaces.empty() ? 1 : kSegmentFormatVersion;
  std::string meta, ids, regs, keys, payloads, rows, sparse_rows;
  PutFixed32(&meta, version);
  PutFixed32(&meta, static_cast<uint32_t>(slots.size()));
  PutFixed32(&meta, static_cast<uint32_t>(spaces.size()));
  for (const VectorSpace& vs : spaces) {
    PutLengthPrefixed(&meta, vs.name);
    PutFixed32(&meta, vs.params.size);
    PutFixed8(&meta, static_cast<uint8_t>(vs.params.distance));
    PutFixed8(&meta, static_cast<uint8_t>(segment.vector_index(&vs - spaces.data()).kind()));
  }
  if (version >= 2) {
    PutFixed32(&meta, static_cast<uint32_t>(sparse_spaces.size()));
    for (const SparseSpace& ss : sparse_spaces) {
      PutLengthPrefixed(&meta, ss.name);
      PutFixed8(&meta, static_cast<uint8_t>(ss.params.modifier));
    }
  }
  for (uint32_t slot : slots) {
    const PointState& st = segment.state(slot);
    const size_t id_at = ids.size();
    ids.append(kIdBytes, '\0');
    ids[id_at] = st.id.is_uuid() ? 1 : 0;
    if (st.id.is_uuid()) {
      std::memcpy(&ids[id_at + 8], st.id.uuid().data(), 16);
    } else {
      EncodeFixed64(&ids[id_at + 8], st.id.number());
    }
    PutStamp(&regs, st.alive);
    PutStamp(&regs, st.vectors_stamp);
    PutStamp(&regs, st.payload_reset);
    PutFixed8(&regs, st.deleted ? 1 : 0);
    regs.append(7, '\0');
    PutVarint64(&keys, st.key_stamps.size());
    for (const KeyStamp& ks : st.key_stamps) {
      PutLengthPrefixed(&keys, ks.key);
      PutStamp(&keys, ks.stamp);
    }
    PutLengthPrefixed(&payloads, boost::json::serialize(st.payload));
    for (uint32_t row : st.rows) PutFixed32(&rows, row);
    for (uint32_t row : st.sparse_rows) PutFixed32(&sparse_rows, row);
  }
  SectionFileWriter w(FileKind::kSegment);
  w.Add(kTagMeta, meta);
  w.Add(kTagIds, ids);
  w.Add(kTagRegisters, regs);
  w.Add(kTagKeys, keys);
  w.Add(kTagPayloads, payloads);
  w.Add(kTagRows, rows);
  for (size_t s = 0; s < spaces.size(); ++s) w.Add(IndexTag(s), segment.vector_index(s).SerializeChunks());
  if (version >= 2) {
    w.Add(kTagSparseRows, sparse_rows);
    for (size_t s = 0; s < sparse_spaces.size(); ++s) w.Add(SparseTag(s), segment.sparse_index(s).Serialize());
  }
  if (!segment.payload_index().empty()) {
    std::vector<uint32_t> remap(segment.slot_count(), payload::kDroppedSlot);
    for (uint32_t i = 0; i < slots.size(); ++i) remap[slots[i]] = i;
    w.Add(kTagPayloadIndex, segment.payload_index().Encode(remap));
    std::string parsers;
    PutFixed32(&parsers, kPayloadParsersVersion);
    w.Add(kTagPayloadParsers, parsers);
  }
  if (with_feed_seqs) {
    if (std::string seqs = EncodeRegisterSeqs(segment, slots); !seqs.empty()) w.Add(kTagRegisterSeqs, seqs);
  }
  return w.FinishChunks();
}

Result<std::unique_ptr<Segment>> DecodeSegment(std::span<const uint8_t> bytes,
                                               const std::vector<VectorSpace>& spaces,
                                               const std::vector<SparseSpace>& sparse_spaces,
                                               std::shared_ptr<const void> keepalive,
                                               const std::string& what, SectionChecks checks,
                                               std::vector<std::string>* rebuilt) {
  std::vector<uint32_t> damaged;
  auto opened = rebuilt ? SectionFileReader::OpenDamaged(bytes, FileKind::kSegment, what, &damaged)
                        : SectionFileReader::Open(bytes, FileKind::kSegment, what, checks);
  if (!opened.ok()) return opened.status();
  SectionFileReader reader = std::move(*opened);
  auto is_damaged = [&](uint32_t tag) { return std::find(damaged.begin(), damaged.end(), tag) != damaged.end(); };
  for (uint32_t tag : damaged) {
    bool derived = tag == kTagPayloadIndex || tag == kTagPayloadParsers;
    for (size_t s = 0; s < spaces.size(); ++s) derived |= tag == IndexTag(s);
    if (!derived) {
      return Status::Corruption(what + ": section " + SectionTagName(tag) + " checksum mismatch (its points are lost)");
    }
  }
  auto section = [&](uint32_t tag) -> Result<ByteReader> {
    QUIVER_ASSIGN_OR_RETURN(auto b, reader.Get(tag));
    return ByteReader(b, what + " " + SectionTagName(tag), reader.OffsetOf(tag));
  };

  QUIVER_ASSIGN_OR_RETURN(ByteReader m, section(kTagMeta));
  uint32_t version = 0, slots = 0, nspaces = 0;
  QUIVER_RETURN_IF_ERROR(m.ReadU32(&version, "version"));
  if (version < 1 || version > kSegmentFormatVersion)
    return m.Error("unsupported segment format version " + std::to_string(version));
  QUIVER_RETURN_IF_ERROR(m.ReadU32(&slots, "slot count"));
  QUIVER_RETURN_IF_ERROR(m.ReadU32(&nspaces, "space count"));
  if (nspaces != spaces.size())
    return m.Error("segment has " + std::to_string(nspaces) + " vector spaces, the collection " +
                   std::to_string(spaces.size()));
  for (const VectorSpace& vs : spaces) {
    std::string_view name;
    uint32_t dim = 0;
    uint8_t distance = 0, kind = 0;
    QUIVER_RETURN_IF_ERROR(m.ReadLengthPrefixed(&name, "vector name"));
    QUIVER_RETURN_IF_ERROR(m.ReadU32(&dim, "vector size"));
    QUIVER_RETURN_IF_ERROR(m.ReadU8(&distance, "distance"));
    QUIVER_RETURN_IF_ERROR(m.ReadU8(&kind, "index kind"));
    if (name != vs.name || dim != vs.params.size || distance != static_cast<uint8_t>(vs.params.distance)) {
      return m.Error("vector space '" + std::string(name) +
                     "' does not match the collection's configuration");
    }
    if (kind > 1) return m.Error("unknown index kind " + std::to_string(kind));
  }
  uint32_t nsparse = 0;
  if (version >= 2) QUIVER_RETURN_IF_ERROR(m.ReadU32(&nsparse, "sparse space count"));
  if (nsparse != sparse_spaces.size()) {
    return m.Error("segment has " + std::to_string(nsparse) + " sparse vector spaces, the collection " +
                   std::to_string(sparse_spaces.size()));
  }
  for (const SparseSpace& ss : sparse_spaces) {
    std::string_view name;
    uint8_t modifier = 0;
    QUIVER_RETURN_IF_ERROR(m.ReadLengthPrefixed(&name, "sparse vector name"));
    QUIVER_RETURN_IF_ERROR(m.ReadU8(&modifier, "modifier"));
    if (name != ss.name) {
      return m.Error("sparse vector space '" + std::string(name) + "' does not match the collection's configuration");
    }
    if (modifier > 1) return m.Error("unknown sparse modifier " + std::to_string(modifier));
  }
  if (!m.empty()) return m.Error("unexpected bytes after the vector spaces");

  QUIVER_ASSIGN_OR_RETURN(ByteReader ids, section(kTagIds));
  QUIVER_ASSIGN_OR_RETURN(ByteReader regs, section(kTagRegisters));
  QUIVER_ASSIGN_OR_RETURN(ByteReader keys, section(kTagKeys));
  QUIVER_ASSIGN_OR_RETURN(ByteReader payloads, section(kTagPayloads));
  QUIVER_ASSIGN_OR_RETURN(ByteReader rows, section(kTagRows));
  if (ids.remaining() != uint64_t{slots} * kIdBytes)
    return ids.Error("size does not match " + std::to_string(slots) + " points");
  if (regs.remaining() != uint64_t{slots} * kRegisterBytes)
    return regs.Error("size does not match " + std::to_string(slots) + " points");
  if (rows.remaining() != uint64_t{slots} * spaces.size() * 4)
    return rows.Error("size does not match " + std::to_string(slots) + " points");
  std::optional<ByteReader> sparse_rows;
  if (version >= 2) {
    QUIVER_ASSIGN_OR_RETURN(sparse_rows, section(kTagSparseRows));
    if (sparse_rows->remaining() != uint64_t{slots} * sparse_spaces.size() * 4)
      return sparse_rows->Error("size does not match " + std::to_string(slots) + " points");
  }

  PointStates states(slots);
  for (uint32_t slot = 0; slot < slots; ++slot) {
    PointState& st = states[slot];
    std::span<const uint8_t> id;
    QUIVER_RETURN_IF_ERROR(ids.ReadBytes(kIdBytes, &id, "point id"));
    if (id[0] == 0) {
      st.id = PointId::Number(DecodeFixed64(id.data() + 8));
    } else if (id[0] == 1) {
      PointId::UuidBytes u;
      std::memcpy(u.data(), id.data() + 8, 16);
      st.id = PointId::Uuid(u);
    } else {
      return ids.Error("unknown point id kind " + std::to_string(id[0]));
    }
    uint8_t deleted = 0;
    QUIVER_RETURN_IF_ERROR(regs.ReadU64(&st.alive.hlc, "alive stamp"));
    QUIVER_RETURN_IF_ERROR(regs.ReadU64(&st.alive.replica, "alive stamp"));
    QUIVER_RETURN_IF_ERROR(regs.ReadU64(&st.vectors_stamp.hlc, "vectors stamp"));
    QUIVER_RETURN_IF_ERROR(regs.ReadU64(&st.vectors_stamp.replica, "vectors stamp"));
    QUIVER_RETURN_IF_ERROR(regs.ReadU64(&st.payload_reset.hlc, "payload reset stamp"));
    QUIVER_RETURN_IF_ERROR(regs.ReadU64(&st.payload_reset.replica, "payload reset stamp"));
    QUIVER_RETURN_IF_ERROR(regs.ReadU8(&deleted, "deleted flag"));
    QUIVER_RETURN_IF_ERROR(regs.Skip(7, "padding"));
    if (deleted > 1) return regs.Error("bad deleted flag");
    st.deleted = deleted == 1;

    uint64_t nkeys = 0;
    QUIVER_RETURN_IF_ERROR(keys.ReadVarint64(&nkeys, "key count"));
    if (nkeys > keys.remaining()) return keys.Error("key count exceeds the section");
    for (uint64_t k = 0; k < nkeys; ++k) {
      std::string_view key;
      KeyStamp ks;
      QUIVER_RETURN_IF_ERROR(keys.ReadLengthPrefixed(&key, "key"));
      QUIVER_RETURN_IF_ERROR(keys.ReadU64(&ks.stamp.hlc, "key stamp"));
      QUIVER_RETURN_IF_ERROR(keys.ReadU64(&ks.stamp.replica, "key stamp"));
      ks.key = std::string(key);
      if (!st.key_stamps.empty() && !(st.key_stamps.back().key < ks.key))
        return keys.Error("keys out of order");
      st.key_stamps.push_back(std::move(ks));
    }

    std::string_view text;
    QUIVER_RETURN_IF_ERROR(payloads.ReadLengthPrefixed(&text, "payload"));
    boost::json::error_code ec;
    boost::json::value v = payload::ParseJson(text, ec, payload::kMaxPayloadDepth);
    if (ec || !v.is_object())
      return payloads.Error("payload of point " + st.id.ToString() + " is not a JSON object");
    if (payload::HasNonFinite(v))
      return payloads.Error("payload of point " + st.id.ToString() + " holds a number out of range");
    st.payload = std::move(v.get_object());

    st.rows.resize(spaces.size());
    for (size_t s = 0; s < spaces.size(); ++s) QUIVER_RETURN_IF_ERROR(rows.ReadU32(&st.rows[s], "row"));
    st.sparse_rows.resize(sparse_spaces.size());
    for (size_t s = 0; s < sparse_spaces.size(); ++s) {
      QUIVER_RETURN_IF_ERROR(sparse_rows->ReadU32(&st.sparse_rows[s], "sparse row"));
    }
  }
  if (!keys.empty()) return keys.Error("unexpected bytes after the last point");
  if (!payloads.empty()) return payloads.Error("unexpected bytes after the last point");
  if (reader.Has(kTagRegisterSeqs)) {
    QUIVER_ASSIGN_OR_RETURN(auto seqs, reader.Get(kTagRegisterSeqs));
    QUIVER_RETURN_IF_ERROR(DecodeRegisterSeqs(seqs, what, reader.OffsetOf(kTagRegisterSeqs), &states));
  }

  std::vector<std::unique_ptr<index::VectorIndex>> indexes;
  for (size_t s = 0; s < spaces.size(); ++s) {
    if (is_damaged(IndexTag(s))) {
      QUIVER_ASSIGN_OR_RETURN(auto image, reader.Raw(IndexTag(s)));
      const std::string name = what + " " + SectionTagName(IndexTag(s));
      QUIVER_ASSIGN_OR_RETURN(auto flat, index::FlatIndex::Salvage(image, name));
      rebuilt->push_back(name + ": index of vector space '" + spaces[s].name +
                         "' damaged; rebuilt from its intact vectors");
      indexes.push_back(std::move(flat));
      continue;
    }
    QUIVER_ASSIGN_OR_RETURN(auto image, reader.Get(IndexTag(s)));
    auto index = index::LoadIndex(image, keepalive, SectionChecks::kSkipSectionCrcs);
    if (!index.ok()) return index.status().WithContext(what + " index of vector space " + std::to_string(s));
    indexes.push_back(std::move(*index));
  }
  std::vector<std::unique_ptr<index::SparseIndex>> sparse_indexes;
  for (size_t s = 0; s < sparse_spaces.size(); ++s) {
    QUIVER_ASSIGN_OR_RETURN(auto image, reader.Get(SparseTag(s)));
    QUIVER_ASSIGN_OR_RETURN(auto index, index::SparseIndex::Load(image, what + " " + SectionTagName(SparseTag(s)),
                                                                 reader.OffsetOf(SparseTag(s))));
    sparse_indexes.push_back(std::move(index));
  }
  QUIVER_ASSIGN_OR_RETURN(auto segment,
                          Segment::FromParts(spaces, sparse_spaces, std::move(states), std::move(indexes),
                                             std::move(sparse_indexes), what));
  bool current_parsers = false;
  if (is_damaged(kTagPayloadIndex) || is_damaged(kTagPayloadParsers)) {
    rebuilt->push_back(what + ": payload indexes damaged; rebuilt from the payloads");
  } else if (reader.Has(kTagPayloadParsers)) {
    QUIVER_ASSIGN_OR_RETURN(auto version, reader.Get(kTagPayloadParsers));
    current_parsers = version.size() == 4 && DecodeFixed32(version.data()) == kPayloadParsersVersion;
  }
  if (reader.Has(kTagPayloadIndex) && current_parsers) {
    QUIVER_ASSIGN_OR_RETURN(auto image, reader.Get(kTagPayloadIndex));
    QUIVER_RETURN_IF_ERROR(
        segment->LoadPayloadIndex(image, what + " SPIX", reader.OffsetOf(kTagPayloadIndex)));
  }
  return segment;
}

std::string EncodeDeletions(const Segment& segment) {
  return EncodeDeletions(segment.slot_count(), segment.removed());
}

std::string EncodeDeletions(size_t slot_count, const std::vector<uint8_t>& removed) {
  std::string meta, bits;
  PutFixed32(&meta, static_cast<uint32_t>(slot_count));
  std::vector<uint64_t> words((slot_count + 63) / 64, 0);
  for (uint32_t slot = 0; slot < slot_count && slot < removed.size(); ++slot) {
    if (removed[slot]) words[slot / 64] |= uint64_t{1} << (slot % 64);
  }
  bits.append(reinterpret_cast<const char*>(words.data()), words.size() * 8);
  SectionFileWriter w(FileKind::kDeletions);
  w.Add(kTagDelMeta, meta);
  w.Add(kTagDelBits, bits);
  return w.Finish();
}

Result<std::vector<uint32_t>> DecodeDeletions(std::span<const uint8_t> bytes, size_t slot_count,
                                              const std::string& what) {
  QUIVER_ASSIGN_OR_RETURN(auto reader, SectionFileReader::Open(bytes, FileKind::kDeletions, what));
  QUIVER_ASSIGN_OR_RETURN(auto meta, reader.Get(kTagDelMeta));
  QUIVER_ASSIGN_OR_RETURN(auto bits, reader.Get(kTagDelBits));
  ByteReader m(meta, what + " DMTA", reader.OffsetOf(kTagDelMeta));
  uint32_t slots = 0;
  QUIVER_RETURN_IF_ERROR(m.ReadU32(&slots, "slot count"));
  if (slots != slot_count || !m.empty()) {
    return m.Error("deletion file is for " + std::to_string(slots) + " slots, the segment has " +
                   std::to_string(slot_count));
  }
  ByteReader b(bits, what + " DBIT", reader.OffsetOf(kTagDelBits));
  if (bits.size() != (slot_count + 63) / 64 * 8) return b.Error("bitmap size does not match the slot count");
  std::vector<uint32_t> out;
  for (size_t w = 0; w < bits.size() / 8; ++w) {
    const uint64_t word = DecodeFixed64(bits.data() + w * 8);
    for (int bit = 0; bit < 64; ++bit) {
      if (!(word >> bit & 1)) continue;
      const size_t slot = w * 64 + bit;
      if (slot >= slot_count) return b.Error("bit set past the last slot");
      out.push_back(static_cast<uint32_t>(slot));
    }
  }
  return out;
}

}  // namespace quiver::db
