#include "text/bm25.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "text/murmur3.h"
#include "text/stop_words.h"
#include "text/unicode.h"

namespace quiver::text {
namespace {

// Qdrant's Language names (stop word lists) and Snowball languages.
constexpr std::string_view kLanguages[] = {
    "arabic",  "armenian",  "azerbaijani", "basque",    "bengali",   "catalan", "chinese",   "danish",
    "dutch",   "english",   "finnish",     "french",    "german",    "greek",   "hebrew",    "hinglish",
    "hungarian", "indonesian", "italian",  "japanese",  "kazakh",    "nepali",  "norwegian", "portuguese",
    "romanian", "russian",  "slovene",     "spanish",   "swedish",   "tajik",   "tamil",     "turkish"};

bool KnownLanguage(std::string_view language) {
  return std::find(std::begin(kLanguages), std::end(kLanguages), language) != std::end(kLanguages);
}

}  // namespace

Result<std::unique_ptr<Bm25>> Bm25::Create(const Bm25Options& options) {
  if (!(options.k >= 0) || !std::isfinite(options.k)) return Status::InvalidArgument("k: expected a number >= 0");
  if (!(options.b >= 0 && options.b <= 1)) return Status::InvalidArgument("b: expected a number from 0 to 1");
  if (!(options.avg_len > 0) || !std::isfinite(options.avg_len)) {
    return Status::InvalidArgument("avg_len: expected a number > 0");
  }
  std::unique_ptr<Bm25> bm25(new Bm25(options));
  const bool no_language = options.language == "none";
  if (!no_language && !KnownLanguage(options.language)) {
    return Status::InvalidArgument("language: unknown language '" + options.language +
                                   "' (a lower-case language name such as \"english\", or \"none\")");
  }
  auto add_language = [&](const std::string& language, const std::string& where) -> Status {
    auto words = StopWords(language);
    if (!words) {
      return Status::NotSupported(where + ": Quiver has no stop word list for '" + language +
                                  "' (only english); give \"stopwords\": {\"custom\": [...]} or {\"languages\": []}");
    }
    for (std::string_view w : *words) bm25->stopwords_.emplace(w);
    return Status::OK();
  };
  if (options.stopword_languages) {
    for (const std::string& language : *options.stopword_languages) {
      if (!KnownLanguage(language)) {
        return Status::InvalidArgument("stopwords: unknown language '" + language + "'");
      }
      QUIVER_RETURN_IF_ERROR(add_language(language, "stopwords"));
    }
    for (const std::string& w : options.custom_stopwords) {
      bm25->stopwords_.insert(options.lowercase ? Lowercase(w) : w);
    }
  } else if (!no_language) {
    QUIVER_RETURN_IF_ERROR(add_language(options.language, "language"));
  }
  if (options.stemmer_language) {
    auto s = Stemmer::Create(*options.stemmer_language);
    if (!s.ok()) return s.status().WithContext("stemmer.language");
    bm25->stemmer_ = std::move(*s);
  } else if (!no_language && Stemmer::Supports(options.language)) {
    QUIVER_ASSIGN_OR_RETURN(bm25->stemmer_, Stemmer::Create(options.language));
  }
  return bm25;
}

uint32_t Bm25::TokenIndex(std::string_view token) {
  const int32_t h = static_cast<int32_t>(Murmur3_32(token, 0));
  // |h| as an unsigned number: 2^31 for INT32_MIN.
  return h < 0 ? 0u - static_cast<uint32_t>(h) : static_cast<uint32_t>(h);
}

void Bm25::AddToken(std::string_view raw, std::vector<std::string>* out) {
  if (raw.empty()) return;
  std::string token = options_.ascii_folding ? FoldToAscii(raw) : std::string(raw);
  if (options_.lowercase) token = Lowercase(token);
  if (stopwords_.count(token)) return;
  if (stemmer_) token = std::string(stemmer_->Stem(token));
  if (options_.min_token_len || options_.max_token_len) {
    const size_t chars = CountCodePoints(token);
    if (options_.min_token_len && chars < *options_.min_token_len) return;
    if (options_.max_token_len && chars > *options_.max_token_len) return;
  }
  out->push_back(std::move(token));
}

std::vector<std::string> Bm25::Tokens(std::string_view text) {
  std::vector<std::string> out;
  const bool word = options_.tokenizer == Bm25Options::Tokenizer::kWord;
  size_t pos = 0, start = 0;
  bool in_token = false;
  while (pos < text.size()) {
    const size_t at = pos;
    const char32_t cp = DecodeUtf8(text, &pos);
    const bool inside = word ? IsWordChar(cp) : !IsSpace(cp);
    if (inside && !in_token) {
      start = at;
      in_token = true;
    } else if (!inside && in_token) {
      AddToken(text.substr(start, at - start), &out);
      in_token = false;
    }
  }
  if (in_token) AddToken(text.substr(start), &out);
  return out;
}

SparseVector Bm25::Embed(std::string_view text, Bm25Side side) {
  const std::vector<std::string> tokens = Tokens(text);
  std::map<uint32_t, float> weights;
  if (side == Bm25Side::kQuery) {
    for (const std::string& t : tokens) weights.emplace(TokenIndex(t), 1.0f);
  } else {
    std::map<std::string_view, uint32_t> counts;
    for (const std::string& t : tokens) ++counts[t];
    const double k = options_.k, b = options_.b;
    const double doc_len = static_cast<double>(tokens.size());
    const double norm = 1.0 - b + b * doc_len / options_.avg_len;
    for (const auto& [token, count] : counts) {
      const double n = static_cast<double>(count);
      const float tf = static_cast<float>(n * (k + 1.0) / std::fma(k, norm, n));
      auto [it, inserted] = weights.emplace(TokenIndex(token), tf);
      if (!inserted) it->second = std::max(it->second, tf);
    }
  }
  SparseVector v;
  v.indices.reserve(weights.size());
  v.values.reserve(weights.size());
  for (const auto& [index, w] : weights) {
    v.indices.push_back(index);
    v.values.push_back(w);
  }
  return v;
}

}  // namespace quiver::text
