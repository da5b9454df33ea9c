// CollectionCore::Salvage: the repair of a stored collection whose files are damaged (docs/reliability.md,
// "Damage and repair"). Derived data (HNSW graphs, payload indexes) is rebuilt from the vectors and payloads;
// whatever else checks out is kept; the rest is reported as lost, naming its file.
#include <algorithm>
#include <map>
#include <tuple>

#include "db/collection_core.h"
#include "db/feed_record.h"
#include "db/op_codec.h"
#include "db/segment_file.h"
#include "storage/wal_format.h"
#include "storage/wal_reader.h"

namespace quiver::db {

namespace {

std::span<const uint8_t> Bytes(const std::string& s) { return {reinterpret_cast<const uint8_t*>(s.data()), s.size()}; }

// The order in which two copies of one point are kept: the one with the newer registers.
auto Newness(const PointState& st) { return std::tie(st.alive, st.vectors_stamp, st.payload_reset); }

struct Loaded {
  SegmentEntry entry;
  std::unique_ptr<Segment> segment;
  bool rewrite = false;  // salvaged or changed: written to a new file
};

}  // namespace

Result<CollectionEntry> CollectionCore::Salvage(const CollectionEntry& entry, HybridClock* clock, uint64_t replica,
                                                DatabaseFiles* files, RepairReport* report) {
  QUIVER_RETURN_IF_ERROR(ValidateConfig(entry.config));
  // A core that opens no files: its vector spaces and op checks.
  std::unique_ptr<CollectionCore> core(new CollectionCore(entry.name, entry.config, clock, replica));
  core->id_ = entry.id;
  storage::Storage& st = files->storage();
  const uint32_t id = entry.id;

  // Segments: strict first; then with derived sections rebuilt; else lost.
  std::vector<Loaded> loaded;
  for (const SegmentEntry& se : entry.segments) {
    const std::string name = SegmentFileName(id, se.file);
    auto bytes = st.ReadFile(name);
    if (!bytes.ok()) {
      report->lost.push_back(name + ": " + std::to_string(se.slots) + " points lost (" + bytes.status().ToString() + ")");
      continue;
    }
    Loaded l;
    l.entry = se;
    auto strict = DecodeSegment(Bytes(*bytes), core->spaces_, core->sparse_spaces_, nullptr, name);
    if (strict.ok()) {
      l.segment = std::move(*strict);
    } else {
      std::vector<std::string> rebuilt;
      auto salvaged = DecodeSegment(Bytes(*bytes), core->spaces_, core->sparse_spaces_, nullptr, name,
                                    SectionChecks::kAll, &rebuilt);
      if (!salvaged.ok()) {
        report->lost.push_back(name + ": " + std::to_string(se.slots) + " points lost (" +
                               std::string(salvaged.status().message()) + ")");
        continue;
      }
      l.segment = std::move(*salvaged);
      l.rewrite = true;
      // Damage only where nothing is read (padding): the file is written again.
      if (rebuilt.empty()) rebuilt.push_back(name + ": rewritten (" + std::string(strict.status().message()) + ")");
      for (std::string& r : rebuilt) report->rebuilt.push_back(std::move(r));
    }
    if (se.deletions != 0) {
      const std::string del_name = DeletionFileName(id, se.deletions);
      auto del = st.ReadFile(del_name);
      Result<std::vector<uint32_t>> removed = del.ok() ? DecodeDeletions(Bytes(*del), l.segment->slot_count(), del_name)
                                                       : Result<std::vector<uint32_t>>(del.status());
      if (removed.ok()) {
        for (uint32_t slot : *removed) l.segment->Remove(slot);
      } else {
        // Without its deletion file the segment's moved or compacted points would be present twice or come
        // back; copies held elsewhere are resolved below, the rest is reported.
        report->lost.push_back(del_name + ": damaged (" + std::string(removed.status().message()) + "); points " +
                               name + " had removed may be visible again unless a newer copy exists");
        l.rewrite = true;
      }
    }
    loaded.push_back(std::move(l));
  }

  // A point present in two segments keeps its newer copy.
  std::map<PointId, std::pair<size_t, uint32_t>> owner;
  for (size_t i = 0; i < loaded.size(); ++i) {
    Segment& seg = *loaded[i].segment;
    for (uint32_t slot = 0; slot < seg.slot_count(); ++slot) {
      if (seg.IsRemoved(slot)) continue;
      const PointState& state = seg.state(slot);
      auto [it, fresh] = owner.emplace(state.id, std::make_pair(i, slot));
      if (fresh) continue;
      auto& [oi, oslot] = it->second;
      Segment& other = *loaded[oi].segment;
      if (Newness(other.state(oslot)) < Newness(state)) {
        other.Remove(oslot);
        loaded[oi].rewrite = true;
        it->second = {i, slot};
      } else {
        seg.Remove(slot);
        loaded[i].rewrite = true;
      }
    }
  }

  CollectionEntry out = entry;
  out.segments.clear();
  for (Loaded& l : loaded) {
    if (!l.rewrite) {
      out.segments.push_back(l.entry);
      continue;
    }
    const uint64_t number = files->NewFileNumber();
    QUIVER_RETURN_IF_ERROR(st.WriteFileAtomic(SegmentFileName(id, number), EncodeSegment(*l.segment)));
    out.segments.push_back(SegmentEntry{number, 0, l.segment->present_count()});
  }

  // Logs: each keeps its records up to the first one that does not check out.
  QUIVER_ASSIGN_OR_RETURN(std::vector<std::string> names, st.List());
  std::vector<std::pair<uint64_t, std::string>> logs;
  for (const std::string& name : names) {
    ParsedFileName p = ParseFileName(name);
    if (p.kind == ParsedFileName::Kind::kWal && p.collection == id && p.number >= entry.wal_start) {
      logs.emplace_back(p.number, name);
    }
  }
  std::sort(logs.begin(), logs.end());
  for (size_t i = 0; i < logs.size(); ++i) {
    // Plain names, not a structured binding: Emscripten's clang 14 cannot capture those in the lambda below.
    const uint64_t number = logs[i].first;
    const std::string& name = logs[i].second;
    QUIVER_ASSIGN_OR_RETURN(std::string bytes, st.ReadFile(name));
    uint64_t cut = bytes.size();
    std::string why;
    storage::WalTail tail;
    const Status stop = Status::Corruption("stop");
    Status s = storage::ReadWalRecords(
        Bytes(bytes), name, number, /*newest=*/true,
        [&](storage::WalRecordType type, std::string_view payload, uint64_t offset) -> Status {
          std::vector<Op> ops;
          if (type == storage::WalRecordType::kSync) {
            auto record = DecodeFeedRecord(payload, name, offset + storage::kWalRecordHeaderSize);
            if (record.ok()) ops = std::move(record->second.ops);
            else why = std::string(record.status().message());
          } else {
            auto batch = DecodeOpBatch(payload, name, offset + storage::kWalRecordHeaderSize);
            if (batch.ok()) ops = std::move(batch->ops);
            else why = std::string(batch.status().message());
          }
          for (const Op& op : ops) {
            if (Status c = core->CheckOp(op); !c.ok() && why.empty()) why = std::string(c.message());
          }
          if (why.empty()) return Status::OK();
          cut = offset;
          return stop;
        },
        &tail);
    if (cut == bytes.size() && tail.torn) {
      cut = tail.valid_bytes;
      why = tail.reason;
    } else if (!s.ok() && cut == bytes.size()) {
      cut = 0;
      why = std::string(s.message());
    }
    if (cut == bytes.size()) continue;
    report->lost.push_back(name + ": " + std::to_string(bytes.size() - cut) + " bytes from offset " +
                           std::to_string(cut) + " dropped, with the writes they held (" + why + ")");
    if (cut < storage::kWalFileHeaderSize) {
      QUIVER_RETURN_IF_ERROR(st.Remove(name));
    } else {
      QUIVER_RETURN_IF_ERROR(st.Truncate(name, cut));
    }
  }
  QUIVER_RETURN_IF_ERROR(st.SyncDir());
  return out;
}

}  // namespace quiver::db
