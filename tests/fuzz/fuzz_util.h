// Shared pieces of the libFuzzer targets (tests/fuzz/README.md): the configuration the seed corpora were made
// with, checksum repair so mutations reach past the crc32c checks, a small archive format for a whole database
// folder, and consistency checks that abort (a finding) when an answer contradicts itself.
//
// Thread safety: the functions are reentrant; a target runs one input at a time.
#ifndef QUIVER_TESTS_FUZZ_FUZZ_UTIL_H_
#define QUIVER_TESTS_FUZZ_FUZZ_UTIL_H_

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "db/segment.h"
#include "payload/payload_index.h"
#include "quiver/collection.h"
#include "quiver/database.h"
#include "quiver/types.h"

// A broken invariant: report it and abort, which libFuzzer records as a crash with the input.
#define FUZZ_CHECK(cond)                                                                              \
  do {                                                                                                \
    if (!(cond)) {                                                                                    \
      std::fprintf(stderr, "FUZZ_CHECK failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);             \
      std::abort();                                                                                   \
    }                                                                                                 \
  } while (0)

// A Status or Result that must be OK; reports its message otherwise.
#define FUZZ_CHECK_OK(expr)                                                                           \
  do {                                                                                                \
    const ::quiver::Status _fuzz_s = ::quiver::fuzz::StatusOf(expr);                                  \
    if (!_fuzz_s.ok()) {                                                                              \
      std::fprintf(stderr, "FUZZ_CHECK_OK failed: %s: %s (%s:%d)\n", #expr, _fuzz_s.ToString().c_str(), \
                   __FILE__, __LINE__);                                                               \
      std::abort();                                                                                   \
    }                                                                                                 \
  } while (0)

namespace quiver::fuzz {

inline Status StatusOf(const Status& s) { return s; }
template <typename T>
Status StatusOf(const Result<T>& r) {
  return r.status();
}

// Mode bits many targets read from the input's first byte.
inline constexpr uint8_t kFixChecksums = 1;  // recompute crc32c fields after mutation, so content is reached

// The collection the generated seeds hold: the golden workload's shape, smaller. "text": 8-d Cosine, HNSW
// (m 4); "image": 4-d Euclid, flat.
CollectionConfig SeedConfig();
// Its vector spaces as CollectionCore numbers them (by name).
std::vector<db::VectorSpace> SeedSpaces();
// Its payload indexes.
std::vector<std::pair<std::string, payload::FieldIndexType>> SeedPayloadFields();
// Deterministic options: fixed replica id and a fake clock that starts at 2026-01-01.
DatabaseOptions SeedOptions();

// Best effort: rewrites every checksum of a section container (section crcs, table crc, footer crc) that lies
// within bounds, so the container's other checks and the decoder behind it see the mutated bytes. Leaves
// anything it cannot locate as it is.
void FixSectionFileChecksums(std::string* bytes);
// Best effort, likewise for a write-ahead log file: the header crc and each record's crc while the record
// lengths stay within the file.
void FixWalChecksums(std::string* bytes);
// By file name: section containers (MANIFEST-*, *.qvs, *.qvd) and logs (*.log).
void FixChecksumsByName(std::string_view name, std::string* bytes);

// A folder as one input: per file u8 name length, name, u32 size, bytes. Unpacking stops at the first
// incomplete entry.
std::string PackFiles(const std::vector<std::pair<std::string, std::string>>& files);
std::vector<std::pair<std::string, std::string>> UnpackFiles(std::string_view bytes);

// Reads a collection every way (count, scroll in pages, exact and graph search per vector space, a few filters)
// and aborts when the answers disagree with each other. Errors are allowed (a damaged collection may refuse to
// answer); crashes and contradictions are not. With `check_filters`, filtered counts must also equal the
// filter evaluated on the scrolled payloads.
void ExerciseCollection(const Collection& collection, bool check_filters);

}  // namespace quiver::fuzz

#endif  // QUIVER_TESTS_FUZZ_FUZZ_UTIL_H_
