#include "db/segment_seqs.h"

#include "base/coding.h"
#include "base/section_file.h"

namespace quiver::db {

static_assert(kTagRegisterSeqs == SectionTag("SSEQ"));

std::string EncodeRegisterSeqs(const Segment& segment, const std::vector<uint32_t>& slots) {
  std::string out;
  bool any = false;
  for (uint32_t slot : slots) {
    const PointState& st = segment.state(slot);
    PutVarint64(&out, st.life_seq);
    PutVarint64(&out, st.reset_seq);
    any |= st.life_seq != 0 || st.reset_seq != 0;
    for (const KeyStamp& ks : st.key_stamps) {
      PutVarint64(&out, ks.seq);
      any |= ks.seq != 0;
    }
  }
  if (!any) out.clear();
  return out;
}

Status DecodeRegisterSeqs(std::span<const uint8_t> bytes, const std::string& what, size_t base_offset,
                          PointStates* states) {
  ByteReader r(bytes, what + " SSEQ", base_offset);
  for (PointState& st : *states) {
    QUIVER_RETURN_IF_ERROR(r.ReadVarint64(&st.life_seq, "deleted register seq"));
    QUIVER_RETURN_IF_ERROR(r.ReadVarint64(&st.reset_seq, "payload reset seq"));
    for (KeyStamp& ks : st.key_stamps) QUIVER_RETURN_IF_ERROR(r.ReadVarint64(&ks.seq, "key register seq"));
  }
  if (!r.empty()) return r.Error("unexpected bytes after the last point");
  return Status::OK();
}

}  // namespace quiver::db
