// Op batches (db/op_codec.h), the payload of every log record and later of sync messages: any bytes decode to
// a batch or give Corruption; a decoded batch encodes to bytes that decode to the same batch; and applying it
// to a collection (the replay and replication path: check, then merge) either refuses it whole or leaves a
// collection that answers consistently, where applying it a second time changes nothing.
// The same bytes are also read as a change feed record (db/feed_record.h, the log record of type 2 that carries
// replicated ops with their sync metadata): Corruption, or a record whose encoding reads back to the same bytes.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "db/collection_core.h"
#include "db/feed_record.h"
#include "db/op_codec.h"
#include "fuzz_util.h"

using namespace quiver;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto record = db::DecodeFeedRecord(bytes, "fuzz.log", 20); record.ok()) {
    std::string encoded;
    db::EncodeFeedRecord(record->first, record->second, &encoded);
    auto again = db::DecodeFeedRecord(encoded, "re-encoded", 0);
    FUZZ_CHECK_OK(again);
    std::string encoded_again;
    db::EncodeFeedRecord(again->first, again->second, &encoded_again);
    FUZZ_CHECK(encoded_again == encoded);
  } else {
    FUZZ_CHECK(record.status().IsCorruption());
  }
  auto batch = db::DecodeOpBatch(bytes, "fuzz.log", 20);
  if (!batch.ok()) {
    FUZZ_CHECK(batch.status().IsCorruption());
    return 0;
  }
  std::string encoded;
  db::EncodeOpBatch(batch->sequence, batch->ops, &encoded);
  auto again = db::DecodeOpBatch(encoded, "re-encoded", 0);
  FUZZ_CHECK_OK(again);
  std::string encoded_again;
  db::EncodeOpBatch(again->sequence, again->ops, &encoded_again);
  FUZZ_CHECK(encoded_again == encoded);

  DatabaseOptions o = fuzz::SeedOptions();
  auto database = Database::Open(o);
  FUZZ_CHECK_OK(database);
  FUZZ_CHECK_OK((*database)->CreateCollection("c", fuzz::SeedConfig()));
  auto c = *(*database)->GetCollection("c");
  for (const auto& [field, type] : fuzz::SeedPayloadFields())
    FUZZ_CHECK_OK(c->CreatePayloadIndex(field, payload::FieldIndexTypeName(type)));
  Status applied = c->core().ApplyOps(batch->ops);
  if (!applied.ok()) {
    FUZZ_CHECK(c->Count("").ok() && *c->Count("") == 0);
    return 0;
  }
  const std::string digest = c->core().StateDigest();
  fuzz::ExerciseCollection(*c, /*check_filters=*/true);
  FUZZ_CHECK_OK(c->core().ApplyOps(batch->ops));
  FUZZ_CHECK(c->core().StateDigest() == digest);
  auto problems = c->Verify();
  FUZZ_CHECK(problems.ok() && problems->empty());
  return 0;
}
