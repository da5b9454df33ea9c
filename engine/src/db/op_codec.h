// The binary encoding of a batch of ops (docs/formats.md, "Op batch"): the payload of a write-ahead log
// record, and later of sync messages. Decoding checks every length and value and reports Corruption with the
// offset.
#ifndef QUIVER_DB_OP_CODEC_H_
#define QUIVER_DB_OP_CODEC_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "db/op.h"
#include "quiver/status.h"

namespace quiver::db {

// The newest op batch version: 2 adds sparse vectors to upserts. A batch without sparse vectors is written as
// version 1, byte for byte as before.
inline constexpr uint8_t kOpBatchVersion = 2;

struct OpBatch {
  uint64_t sequence = 0;  // the collection's batch number, increasing by one per logged batch
  std::vector<Op> ops;
};

void EncodeOpBatch(uint64_t sequence, std::span<const Op> ops, std::string* out);
// `what` labels errors (a log file name). `base_offset` is where `bytes` starts in that file.
Result<OpBatch> DecodeOpBatch(std::string_view bytes, std::string_view what, uint64_t base_offset = 0);

}  // namespace quiver::db

#endif  // QUIVER_DB_OP_CODEC_H_
