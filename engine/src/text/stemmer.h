// Stemmer: a Snowball stemming algorithm (libstemmer's C code, Snowball 2.2) reducing UTF-8 words to their
// stems, as Qdrant's "stemmer": {"type": "snowball", "language": ...}. The native build links Debian's
// libstemmer; the WASM build compiles the same Snowball release's generated C (docs/formats.md has the route),
// so both stem identically.
//
// Thread safety: a Stemmer is used by one thread at a time (libstemmer keeps per-stemmer state).
#ifndef QUIVER_TEXT_STEMMER_H_
#define QUIVER_TEXT_STEMMER_H_

#include <memory>
#include <string_view>

#include "quiver/status.h"

struct sb_stemmer;

namespace quiver::text {

class Stemmer {
 public:
  // The Snowball languages Qdrant names (SnowballLanguage): arabic, armenian, danish, dutch, english, finnish,
  // french, german, greek, hungarian, italian, norwegian, portuguese, romanian, russian, spanish, swedish,
  // tamil, turkish.
  static bool Supports(std::string_view language);
  // InvalidArgument for a language Supports() refuses.
  static Result<std::unique_ptr<Stemmer>> Create(std::string_view language);
  ~Stemmer();
  Stemmer(const Stemmer&) = delete;
  Stemmer& operator=(const Stemmer&) = delete;

  // The stem of a (lower-cased) word; valid until the next call.
  std::string_view Stem(std::string_view word);

 private:
  explicit Stemmer(sb_stemmer* s) : stemmer_(s) {}
  sb_stemmer* stemmer_;
};

}  // namespace quiver::text

#endif  // QUIVER_TEXT_STEMMER_H_
