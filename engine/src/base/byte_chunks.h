// ByteChunks: the bytes of a file as a list of pieces, written out one after another without first being
// copied into one buffer. Small pieces (headers, tables) are owned; large ones (vectors, graph links) are
// referenced where they already live. Segment files are built this way, so sealing a segment copies its vectors
// once, into the file, instead of three times through intermediate strings.
//
// Thread safety: a value used by one thread at a time. Referenced memory must stay valid and unchanged until the
// chunks are written (or flattened).
#ifndef QUIVER_BASE_BYTE_CHUNKS_H_
#define QUIVER_BASE_BYTE_CHUNKS_H_

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace quiver {

class ByteChunks {
 public:
  // Copies `bytes` (coalescing with the previous owned piece).
  void Append(std::string_view bytes);
  // References `bytes`; large pieces only (smaller ones are copied, which is cheaper than a separate write).
  void AppendRef(std::string_view bytes);
  void Append(ByteChunks&& other);
  uint64_t size() const { return size_; }
  // The pieces in order; valid until the next change.
  std::vector<std::string_view> Views() const;
  std::string Flatten() const;
  // crc32c of all the bytes, extending `crc`.
  uint32_t Crc(uint32_t crc = 0) const;

 private:
  struct Piece {
    const char* ref = nullptr;  // null: owned_[owned]
    size_t size = 0;
    size_t owned = 0;
  };
  std::deque<std::string> owned_;
  std::vector<Piece> pieces_;
  uint64_t size_ = 0;
};

}  // namespace quiver

#endif  // QUIVER_BASE_BYTE_CHUNKS_H_
