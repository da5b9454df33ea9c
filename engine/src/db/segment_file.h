// Segment files and deletion files (docs/formats.md, "Segment file" and "Deletion file").
//
// A segment file is a section container of kind 3 holding one segment's points whole: ids, registers, key stamps,
// payloads, each vector space's row per point, and each space's index image (vectors and, for HNSW, the graph),
// so opening a database loads indexes instead of rebuilding them. Removed slots are not written; a segment's
// later removals live in its deletion file.
//
// Thread safety: the functions are pure; the segment passed to WriteSegment must not change meanwhile.
#ifndef QUIVER_DB_SEGMENT_FILE_H_
#define QUIVER_DB_SEGMENT_FILE_H_

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "base/byte_chunks.h"
#include "base/section_file.h"
#include "db/segment.h"

namespace quiver::db {

// The newest segment format: 2 adds sparse vectors. Writers use version 1 for collections without them.
inline constexpr uint32_t kSegmentFormatVersion = 2;

// The file image of a segment. Removed slots are skipped. Without `with_feed_seqs` the register seqs are left
// out (a sync snapshot: the receiver's seqs are its own).
ByteChunks EncodeSegment(const Segment& segment, bool with_feed_seqs = true);

// Loads a segment image (version 1 or 2). `spaces` and `sparse_spaces` are the collection's vector spaces,
// which the file must match. With a `keepalive` owning `bytes` (a mapped file), vectors are used in place.
// `what` names the file in errors. `checks`: SectionChecks::kSkipSectionCrcs for bytes already checked whole (a
// sync snapshot segment whose SHA-256 matched the manifest's); every structural check still runs. The index
// images nested in the file are never checksummed twice: their section's checksum covers them.
// With `rebuilt` (repair), derived sections whose checksums do not match are rebuilt instead of failing the
// load: a damaged index image becomes a flat index over its vectors (when its META, VECS and DELS are intact), a
// damaged payload index is rebuilt from the payloads; each is described in `rebuilt`. Damage to anything else
// (ids, registers, payloads, rows, sparse vectors, seqs) is Corruption, as without it.
Result<std::unique_ptr<Segment>> DecodeSegment(std::span<const uint8_t> bytes, const std::vector<VectorSpace>& spaces,
                                               const std::vector<SparseSpace>& sparse_spaces,
                                               std::shared_ptr<const void> keepalive, const std::string& what,
                                               SectionChecks checks = SectionChecks::kAll,
                                               std::vector<std::string>* rebuilt = nullptr);

// A deletion file: the removed slots of a segment with `slot_count` slots.
std::string EncodeDeletions(const Segment& segment);
// The same for `removed` (one byte per slot, shorter means the rest are present) of a segment of slot_count.
std::string EncodeDeletions(size_t slot_count, const std::vector<uint8_t>& removed);
// Returns the removed slots; Corruption if the file does not fit a segment of `slot_count` slots.
Result<std::vector<uint32_t>> DecodeDeletions(std::span<const uint8_t> bytes, size_t slot_count,
                                              const std::string& what);

}  // namespace quiver::db

#endif  // QUIVER_DB_SEGMENT_FILE_H_
