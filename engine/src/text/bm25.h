// Bm25: Qdrant's "qdrant/bm25" model without a model file. Text becomes a sparse vector: tokens hashed to
// indices, documents weighted by BM25's term frequency part, queries by weight 1 per distinct token. The
// inverse document frequency part comes at search time from the sparse vector's IDF modifier, so document
// score = sum over shared tokens of idf * tf * (k + 1) / (tf + k * (1 - b + b * doc_len / avg_len)).
//
// Text processing follows Qdrant's Bm25Config: split into tokens (word: runs of letters, digits and marks;
// whitespace: runs of non-space), then per token ASCII folding (when asked), lower-casing, dropping stop words,
// stemming, and dropping tokens shorter than min_token_len or longer than max_token_len code points. A token's
// index is |(int32) MurmurHash3_x86_32(token bytes, seed 0)| as an unsigned 32-bit number (Qdrant's
// compute_token_id). doc_len counts the tokens kept, repeats included. Two distinct tokens of one document with
// the same index (a hash collision) keep the larger weight.
//
// Thread safety: a Bm25 is used by one thread at a time (its stemmer keeps state).
#ifndef QUIVER_TEXT_BM25_H_
#define QUIVER_TEXT_BM25_H_

#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "quiver/status.h"
#include "quiver/types.h"
#include "text/stemmer.h"

namespace quiver::text {

// Qdrant's Bm25Config, defaults included.
struct Bm25Options {
  double k = 1.2;          // term frequency saturation, >= 0
  double b = 0.75;         // length normalisation, 0..1
  double avg_len = 256.0;  // expected average document length in tokens, > 0
  enum class Tokenizer : uint8_t { kWord, kWhitespace };
  Tokenizer tokenizer = Tokenizer::kWord;
  // Default stop words and stemmer; "none" turns both off.
  std::string language = "english";
  bool lowercase = true;
  bool ascii_folding = false;
  // Stop words: unset takes the language's list; set lists the languages whose lists are merged with `custom`.
  std::optional<std::vector<std::string>> stopword_languages;
  std::vector<std::string> custom_stopwords;
  // Stemmer: unset takes the language's Snowball stemmer (none for "none"); set names a Snowball language.
  std::optional<std::string> stemmer_language;
  std::optional<size_t> min_token_len;
  std::optional<size_t> max_token_len;
};

// Which side of BM25 a text embeds as.
enum class Bm25Side : uint8_t { kDocument, kQuery };

class Bm25 {
 public:
  // Checks the options. InvalidArgument for values out of range or an unknown language; NotSupported for a
  // language whose stop words Quiver does not have (unless "stopwords" is given).
  static Result<std::unique_ptr<Bm25>> Create(const Bm25Options& options);

  // The processed tokens of `text`, in order, repeats kept.
  std::vector<std::string> Tokens(std::string_view text);
  // The sparse vector of `text` (indices increasing): tf weights for a document, 1 per distinct token for a
  // query. Text without tokens gives an empty vector.
  SparseVector Embed(std::string_view text, Bm25Side side);
  // Qdrant's token index.
  static uint32_t TokenIndex(std::string_view token);

 private:
  explicit Bm25(const Bm25Options& options) : options_(options) {}
  void AddToken(std::string_view raw, std::vector<std::string>* out);

  Bm25Options options_;
  std::set<std::string, std::less<>> stopwords_;
  std::unique_ptr<Stemmer> stemmer_;
};

}  // namespace quiver::text

#endif  // QUIVER_TEXT_BM25_H_
