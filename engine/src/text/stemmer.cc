#include "text/stemmer.h"

#include <libstemmer.h>

#include <algorithm>
#include <climits>
#include <string>

namespace quiver::text {
namespace {

constexpr std::string_view kLanguages[] = {"arabic",    "armenian",   "danish",   "dutch",   "english",
                                           "finnish",   "french",     "german",   "greek",   "hungarian",
                                           "italian",   "norwegian",  "portuguese", "romanian", "russian",
                                           "spanish",   "swedish",    "tamil",    "turkish"};

}  // namespace

bool Stemmer::Supports(std::string_view language) {
  return std::find(std::begin(kLanguages), std::end(kLanguages), language) != std::end(kLanguages);
}

Result<std::unique_ptr<Stemmer>> Stemmer::Create(std::string_view language) {
  if (!Supports(language)) {
    return Status::InvalidArgument("no Snowball stemmer for language '" + std::string(language) + "'");
  }
  sb_stemmer* s = sb_stemmer_new(std::string(language).c_str(), "UTF_8");
  if (s == nullptr) return Status::Internal("the Snowball stemmer for '" + std::string(language) + "' is missing");
  return std::unique_ptr<Stemmer>(new Stemmer(s));
}

Stemmer::~Stemmer() { sb_stemmer_delete(stemmer_); }

std::string_view Stemmer::Stem(std::string_view word) {
  if (word.size() > INT_MAX) return word;
  const sb_symbol* out =
      sb_stemmer_stem(stemmer_, reinterpret_cast<const sb_symbol*>(word.data()), static_cast<int>(word.size()));
  if (out == nullptr) return word;  // out of memory: the word is its own stem
  return std::string_view(reinterpret_cast<const char*>(out), static_cast<size_t>(sb_stemmer_length(stemmer_)));
}

}  // namespace quiver::text
