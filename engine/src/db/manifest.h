// The manifest: the one file that says what a database is made of (docs/formats.md, "Manifest and CURRENT").
// It lists the collections (id, name, configuration, payload indexes), each collection's live segment files and
// their deletion files, the first write-ahead log file whose records are not yet in segments, and the replica's
// id and clock. A new manifest is written whole under a new number and synced; then CURRENT, a one-line text file
// naming it, is replaced by rename. Whatever a crash interrupts, CURRENT names a complete manifest.
//
// Thread safety: the functions are pure.
#ifndef QUIVER_DB_MANIFEST_H_
#define QUIVER_DB_MANIFEST_H_

#include <cstdint>
#include <map>
#include <span>
#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "quiver/types.h"

namespace quiver::db {

// Format 2 adds each collection's change feed ("feed") and allows sync records (type 2) in the logs it
// covers; it is always written, so a build that knows only format 1 refuses the folder instead of cutting the
// logs at their first sync record. Format 1 manifests are read (their collections' feeds start at seq 0).
inline constexpr uint32_t kManifestFormatVersion = 2;
inline constexpr uint32_t kManifestFormatVersionNoFeed = 1;

struct SegmentEntry {
  uint64_t file = 0;        // segment file number
  uint64_t deletions = 0;   // deletion file number, 0 for none
  uint64_t slots = 0;       // slots in the segment file (checked against the file)
};

// A collection's change feed as of `wal_start` (collection_feed.cc; docs/formats.md, "Manifest"): the seq
// allocated last by the batches the segments hold, the purge watermark, commit-time checkpoints and the sync
// metadata. Log records from wal_start on carry the rest.
struct FeedEntry {
  uint64_t seq = 0;        // the last seq allocated before wal_start
  uint64_t min_valid = 0;  // min_valid_cursor: tombstones with seqs up to this were purged
  std::vector<std::pair<uint64_t, uint64_t>> checkpoints;  // (seq, unix ms): every seq <= seq committed by ms
  boost::json::object meta;  // sync metadata (engine/sync), key -> JSON value
  bool empty() const { return seq == 0 && min_valid == 0 && checkpoints.empty() && meta.empty(); }
};

struct CollectionEntry {
  uint32_t id = 0;
  std::string name;
  CollectionConfig config;
  std::vector<std::pair<std::string, std::string>> payload_indexes;  // (field, type)
  uint64_t wal_start = 0;       // log files numbered >= this are replayed at open
  uint64_t next_sequence = 1;   // the next batch sequence number to log
  std::vector<SegmentEntry> segments;  // oldest first
  FeedEntry feed;
};

struct Manifest {
  uint64_t replica_id = 0;
  uint64_t clock = 0;           // the clock's last value when written; reopening never goes below it
  uint64_t next_file = 1;       // next unused file number (all kinds share one counter)
  uint32_t next_collection = 1;
  std::vector<CollectionEntry> collections;
  std::map<std::string, std::string> aliases;
  boost::json::object sync;  // database-level sync metadata (engine/sync): replica bindings, collection tombstones
};

std::string EncodeManifest(const Manifest& manifest);
Result<Manifest> DecodeManifest(std::span<const uint8_t> bytes, const std::string& what);

// File names.
std::string ManifestFileName(uint64_t number);
std::string WalFileName(uint32_t collection, uint64_t number);
std::string SegmentFileName(uint32_t collection, uint64_t number);
std::string DeletionFileName(uint32_t collection, uint64_t number);
inline constexpr const char* kCurrentFileName = "CURRENT";
inline constexpr const char* kLockFileName = "LOCK";

// What a database file name is: kind and numbers, or kUnknown.
struct ParsedFileName {
  enum class Kind { kUnknown, kManifest, kWal, kSegment, kDeletions, kTemp } kind = Kind::kUnknown;
  uint32_t collection = 0;
  uint64_t number = 0;
};
ParsedFileName ParseFileName(std::string_view name);

}  // namespace quiver::db

#endif  // QUIVER_DB_MANIFEST_H_
