// The change feed's register seqs in a segment file: the optional section SSEQ (docs/formats.md, "Segment
// file"). A file without it opens with every seq 0 (before the feed began).
//
// Thread safety: pure functions.
#ifndef QUIVER_DB_SEGMENT_SEQS_H_
#define QUIVER_DB_SEGMENT_SEQS_H_

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "db/segment.h"

namespace quiver::db {

inline constexpr uint32_t kTagRegisterSeqs = 0x51455353;  // "SSEQ"

// The section for the given slots (in file order), or "" when every seq is 0.
std::string EncodeRegisterSeqs(const Segment& segment, const std::vector<uint32_t>& slots);
// Sets the seqs of `states` (the file's slots, key registers already read) from the section's bytes.
Status DecodeRegisterSeqs(std::span<const uint8_t> bytes, const std::string& what, size_t base_offset,
                          PointStates* states);

}  // namespace quiver::db

#endif  // QUIVER_DB_SEGMENT_SEQS_H_
