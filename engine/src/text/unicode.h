// The Unicode a BM25 tokenizer needs, from tables generated into unicode_tables.inc (scripts/
// gen_unicode_tables.py records the Unicode version): UTF-8 decoding, which code points belong to words and which
// are white space, simple lower-casing, and folding of accented Latin letters to ASCII. The same tables serve the
// native and the WASM build, so both split and fold text identically.
//
// Thread safety: pure functions over constant tables.
#ifndef QUIVER_TEXT_UNICODE_H_
#define QUIVER_TEXT_UNICODE_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace quiver::text {

// Decodes the code point at s[*pos] and advances *pos past it. A malformed sequence decodes as U+FFFD and
// advances by one byte.
char32_t DecodeUtf8(std::string_view s, size_t* pos);
void AppendUtf8(char32_t cp, std::string* out);
// `s` with every malformed byte replaced by U+FFFD (as DecodeUtf8 reads it), so that it can go into JSON text,
// whose parsers refuse invalid UTF-8. Well-formed input comes back unchanged.
std::string ValidUtf8(std::string_view s);
// Code points counted in a UTF-8 string.
size_t CountCodePoints(std::string_view s);

// A word character: an ASCII letter or digit, or a code point of general category L (letter), N (number) or M
// (mark) -- Rust's char::is_alphanumeric, which Qdrant's word tokenizer splits on, with marks kept inside words.
bool IsWordChar(char32_t cp);
// Unicode White_Space (what Qdrant's whitespace tokenizer splits on).
bool IsSpace(char32_t cp);
// Lower-cases a UTF-8 string code point by code point (simple case mapping; U+0130 becomes "i" followed by
// U+0307 and a final capital sigma becomes U+03C2, as Rust's str::to_lowercase does).
std::string Lowercase(std::string_view s);
// Replaces accented Latin letters, Latin ligatures and fullwidth ASCII by their ASCII spelling ("ação" ->
// "acao", "Æ" -> "AE", "ß" -> "ss"), the Latin part of Lucene's ASCIIFoldingFilter that Qdrant follows; other
// code points are kept.
std::string FoldToAscii(std::string_view s);

}  // namespace quiver::text

#endif  // QUIVER_TEXT_UNICODE_H_
