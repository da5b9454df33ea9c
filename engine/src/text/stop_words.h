// Stop word lists by language, for BM25 tokenization (Qdrant's "stopwords"). English is NLTK's list of 179
// words, the one Qdrant uses; other languages have no list here yet.
//
// Thread safety: constant data.
#ifndef QUIVER_TEXT_STOP_WORDS_H_
#define QUIVER_TEXT_STOP_WORDS_H_

#include <optional>
#include <span>
#include <string_view>

namespace quiver::text {

// The stop words of a language by Qdrant's name ("english"), lower-cased; nullopt when Quiver has no list for it.
std::optional<std::span<const std::string_view>> StopWords(std::string_view language);

}  // namespace quiver::text

#endif  // QUIVER_TEXT_STOP_WORDS_H_
