// Word tokens for full-text conditions (match text / text_any / phrase) and the text payload index.
//
// A token is a maximal run of word bytes: ASCII letters and digits, and every byte >= 0x80 (so UTF-8 letters
// of any script stay inside words). Everything else separates tokens. Tokens compare after ASCII
// lower-casing; other bytes compare as they are (no Unicode case folding or normalisation). The same rule
// serves evaluation with and without an index, so an index never changes a result.
//
// Thread safety: value types and pure functions.
#ifndef QUIVER_PAYLOAD_TEXT_TOKENS_H_
#define QUIVER_PAYLOAD_TEXT_TOKENS_H_

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace quiver::payload {

inline bool IsWordByte(char c) {
  const unsigned char u = static_cast<unsigned char>(c);
  return (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') || u >= 0x80;
}

inline char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }

// Walks the tokens of a text without allocating. Copyable, so a caller can remember a position.
class TokenCursor {
 public:
  explicit TokenCursor(std::string_view text) : text_(text) {}
  // Sets *token to the next token (as it appears in the text, not lower-cased); false at the end.
  bool Next(std::string_view* token) {
    while (pos_ < text_.size() && !IsWordByte(text_[pos_])) ++pos_;
    if (pos_ == text_.size()) return false;
    const size_t start = pos_;
    while (pos_ < text_.size() && IsWordByte(text_[pos_])) ++pos_;
    *token = text_.substr(start, pos_ - start);
    return true;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

// True when `token` lower-cased equals `lower` (which must already be lower-cased).
inline bool TokenEquals(std::string_view token, std::string_view lower) {
  if (token.size() != lower.size()) return false;
  for (size_t i = 0; i < token.size(); ++i) {
    if (AsciiLower(token[i]) != lower[i]) return false;
  }
  return true;
}

// The lower-cased tokens of `text`, in order, duplicates kept.
std::vector<std::string> Tokenize(std::string_view text);

}  // namespace quiver::payload

#endif  // QUIVER_PAYLOAD_TEXT_TOKENS_H_
