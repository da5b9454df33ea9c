// Segment files (db/segment_file.h) and the payload index section inside them, decoded against the seed
// collection's vector spaces (fuzz_util.h, SeedSpaces) as opening a database does.
//
// Input: byte 0 holds mode bits (1: repair checksums after mutation, 2: load in place from a 64-byte aligned
// buffer, as a mapped file is); the rest is the file. Checks: a segment that loads can be indexed, counted,
// scanned and searched; every scanned slot is live; its image written again loads, and after that one
// normalisation (payload text is re-printed) is written identically.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "db/segment_file.h"
#include "fuzz_util.h"
#include "payload/filter.h"

using namespace quiver;

namespace {

void Exercise(const db::Segment& seg) {
  size_t scanned = 0;
  seg.ScanInOrder(std::nullopt, nullptr, [&](uint32_t slot) {
    FUZZ_CHECK(slot < seg.slot_count());
    FUZZ_CHECK(!seg.state(slot).deleted && !seg.IsRemoved(slot));
    ++scanned;
    return true;
  });
  FUZZ_CHECK(scanned == seg.live_count());
  FUZZ_CHECK(seg.Count(nullptr) == seg.live_count());
  auto filter = payload::ParseFilterText(R"({"should":[{"key":"city","match":{"value":"Oslo"}},
                                              {"key":"year","range":{"gt":2000}}]})");
  FUZZ_CHECK_OK(filter);
  (void)seg.Count(&*filter);
  (void)seg.Select(*filter);
  (void)seg.CheckPayloadIndex();
  for (size_t s = 0; s < seg.spaces().size(); ++s) {
    std::vector<float> query(seg.spaces()[s].params.size, 0.5f);
    std::vector<db::SlotHit> hits;
    for (bool exact : {false, true}) {
      for (const payload::Filter* f : {static_cast<const payload::Filter*>(nullptr), static_cast<const payload::Filter*>(&*filter)}) {
        if (!seg.Search(s, query.data(), 5, 16, exact, QuantizationSearchParams{}, f, &hits).ok()) continue;
        FUZZ_CHECK(hits.size() <= 5);
        for (const db::SlotHit& h : hits) {
          FUZZ_CHECK(h.slot < seg.slot_count());
          FUZZ_CHECK(!seg.state(h.slot).deleted && !seg.IsRemoved(h.slot));
        }
      }
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  const uint8_t mode = data[0];
  std::string bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  if (mode & fuzz::kFixChecksums) fuzz::FixSectionFileChecksums(&bytes);
  static const std::vector<db::VectorSpace> spaces = fuzz::SeedSpaces();
  static const std::vector<db::SparseSpace> sparse_spaces;  // the seed collection has no sparse vectors

  Result<std::unique_ptr<db::Segment>> seg = Status::Corruption("not loaded");
  if (mode & 2) {
    void* raw = std::aligned_alloc(64, (bytes.size() + 63) / 64 * 64 + 64);
    std::shared_ptr<void> owner(raw, std::free);
    std::memcpy(raw, bytes.data(), bytes.size());
    seg = db::DecodeSegment({static_cast<const uint8_t*>(raw), bytes.size()}, spaces, sparse_spaces, owner,
                            "seg-1-5.qvs");
  } else {
    seg = db::DecodeSegment({reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()}, spaces,
                            sparse_spaces, nullptr, "seg-1-5.qvs");
  }
  if (!seg.ok()) {
    FUZZ_CHECK(seg.status().IsCorruption());
    return 0;
  }
  Exercise(**seg);
  // A stored payload index whose checksums were forged may disagree with the payloads (verify reports that);
  // it must still be safe to use.
  FUZZ_CHECK_OK((*seg)->IndexPayloadFields(fuzz::SeedPayloadFields()));
  Exercise(**seg);

  const std::string image = db::EncodeSegment(**seg).Flatten();
  auto again = db::DecodeSegment({reinterpret_cast<const uint8_t*>(image.data()), image.size()}, spaces,
                                 sparse_spaces, nullptr, "re-encoded");
  FUZZ_CHECK_OK(again);
  const std::string image2 = db::EncodeSegment(**again).Flatten();
  auto third = db::DecodeSegment({reinterpret_cast<const uint8_t*>(image2.data()), image2.size()}, spaces,
                                 sparse_spaces, nullptr, "re-encoded twice");
  FUZZ_CHECK_OK(third);
  FUZZ_CHECK(db::EncodeSegment(**third).Flatten() == image2);
  return 0;
}
