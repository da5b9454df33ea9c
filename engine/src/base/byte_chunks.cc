#include "base/byte_chunks.h"

#include "base/crc32c.h"

namespace quiver {
namespace {

// Below this a referenced piece is copied instead (a write call per piece costs more than the copy).
constexpr size_t kMinReference = 64 * 1024;

}  // namespace

void ByteChunks::Append(std::string_view bytes) {
  if (bytes.empty()) return;
  if (pieces_.empty() || pieces_.back().ref != nullptr) {
    owned_.emplace_back();
    pieces_.push_back(Piece{nullptr, 0, owned_.size() - 1});
  }
  Piece& last = pieces_.back();
  owned_[last.owned].append(bytes);
  last.size += bytes.size();
  size_ += bytes.size();
}

void ByteChunks::AppendRef(std::string_view bytes) {
  if (bytes.size() < kMinReference) return Append(bytes);
  pieces_.push_back(Piece{bytes.data(), bytes.size(), 0});
  size_ += bytes.size();
}

void ByteChunks::Append(ByteChunks&& other) {
  for (const Piece& p : other.pieces_) {
    if (p.ref) {
      pieces_.push_back(p);
      size_ += p.size;
    } else {
      owned_.push_back(std::move(other.owned_[p.owned]));
      pieces_.push_back(Piece{nullptr, p.size, owned_.size() - 1});
      size_ += p.size;
    }
  }
  other.pieces_.clear();
  other.owned_.clear();
  other.size_ = 0;
}

std::vector<std::string_view> ByteChunks::Views() const {
  std::vector<std::string_view> out;
  out.reserve(pieces_.size());
  for (const Piece& p : pieces_) out.emplace_back(p.ref ? p.ref : owned_[p.owned].data(), p.size);
  return out;
}

std::string ByteChunks::Flatten() const {
  std::string out;
  out.reserve(size_);
  for (std::string_view v : Views()) out.append(v);
  return out;
}

uint32_t ByteChunks::Crc(uint32_t crc) const {
  for (std::string_view v : Views()) crc = crc32c::Extend(crc, v.data(), v.size());
  return crc;
}

}  // namespace quiver
