// Point readers for `quiver import` (and the query files of `quiver bench`): JSONL, CSV, .fvecs and .npy,
// read in batches so files larger than memory stream through. Every reader names the record (line or row) and
// what is wrong with it on bad input.
//
// Thread safety: one reader per thread.
#ifndef QUIVER_CLI_READERS_H_
#define QUIVER_CLI_READERS_H_

#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "quiver/collection.h"
#include "quiver/status.h"
#include "quiver/types.h"

namespace quiver::cli {

// A batch of points: dense rows (ids, row-major vectors of `dim`, optional payloads) or, for JSONL, whole
// points (which may carry named vectors).
struct Batch {
  std::vector<PointId> ids;
  std::vector<float> vectors;
  std::vector<std::string> payloads;  // empty or one per id
  uint32_t dim = 0;
  std::vector<PointInput> points;
  // JSONL: the lines as one Qdrant upsert body {"points": [line, line, ...]}, handed to the request layer whole
  // (so each payload is parsed once), with where each point starts in it and its line number.
  std::string jsonl;
  std::vector<size_t> jsonl_starts;
  std::vector<size_t> jsonl_lines;
  std::string source;  // the file, for messages
  size_t size() const {
    if (!jsonl_lines.empty()) return jsonl_lines.size();
    return points.empty() ? ids.size() : points.size();
  }
  void Clear() {
    ids.clear();
    vectors.clear();
    payloads.clear();
    points.clear();
    jsonl.clear();
    jsonl_starts.clear();
    jsonl_lines.clear();
  }
  // Keeps the first n points.
  void Truncate(size_t n);
  // Writes the points: JSONL through the request layer, the others through the C++ API. A failure names the
  // file and line for JSONL.
  Status Write(Collection& collection, const std::string& vector_name) const;
};

class Reader {
 public:
  virtual ~Reader() = default;
  // Fills `batch` (cleared first) with up to `max` points. Returns false at the end of the input.
  virtual Result<bool> Next(size_t max, Batch* batch) = 0;
  // Points in the input when known up front (fvecs, npy), else 0.
  virtual size_t total() const { return 0; }
  // Fraction of the input consumed, 0..1 (by bytes), or -1 when unknown (stdin).
  virtual double fraction() const = 0;
  // Vector dimensions when known up front, else 0.
  virtual uint32_t dim() const { return 0; }
};

struct ReaderOptions {
  std::string format;       // "jsonl", "csv", "fvecs", "npy"; empty: from the extension
  uint64_t id_start = 0;    // ids of formats without ids: id_start + row
  std::string vector_name;  // csv: the vector name the points get ("" unnamed)
};

// Opens `path` ("-" for stdin, which needs options.format).
Result<std::unique_ptr<Reader>> OpenReader(const std::string& path, const ReaderOptions& options);

}  // namespace quiver::cli

#endif  // QUIVER_CLI_READERS_H_
