// BM25 text processing: MurmurHash3 against published values, Qdrant's token index, Unicode lower-casing and
// ASCII folding, tokenizers, stop words, the Snowball stemmer (checked against libstemmer called directly), and
// document and query weights against the BM25 formula computed here.
#include <libstemmer.h>

#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <string>

#include "text/bm25.h"
#include "text/murmur3.h"
#include "text/unicode.h"

namespace quiver::text {
namespace {

std::unique_ptr<Bm25> Make(Bm25Options o = {}) {
  auto b = Bm25::Create(o);
  INFO(b.status().ToString());
  REQUIRE(b.ok());
  return std::move(*b);
}

Bm25Options NoLanguage() {
  Bm25Options o;
  o.language = "none";
  return o;
}

std::string StemDirect(const std::string& word, const char* language = "english") {
  sb_stemmer* s = sb_stemmer_new(language, "UTF_8");
  REQUIRE(s != nullptr);
  const sb_symbol* out = sb_stemmer_stem(s, reinterpret_cast<const sb_symbol*>(word.data()), int(word.size()));
  std::string stem(reinterpret_cast<const char*>(out), size_t(sb_stemmer_length(s)));
  sb_stemmer_delete(s);
  return stem;
}

TEST_CASE("murmur3: published values and Qdrant's token index", "[text]") {
  CHECK(Murmur3_32("", 0) == 0u);
  CHECK(Murmur3_32("", 1) == 0x514E28B7u);
  CHECK(Murmur3_32("test", 0) == 0xBA6BD213u);
  CHECK(Murmur3_32("The quick brown fox jumps over the lazy dog", 0) == 0x2E4FF723u);
  // |(int32) h|: values with the top bit set are negated.
  CHECK(Bm25::TokenIndex("test") == 0u - 0xBA6BD213u);
  CHECK(Bm25::TokenIndex("The quick brown fox jumps over the lazy dog") == 0x2E4FF723u);
}

TEST_CASE("unicode: lower-casing, folding and word characters", "[text]") {
  CHECK(Lowercase("HeLLo ÀÉÎ ĞÜŞ") == "hello àéî ğüş");
  CHECK(Lowercase("İ") == "i\xCC\x87");
  CHECK(Lowercase("ΣΑΣ Σ") == "σας σ");
  CHECK(Lowercase("ПРИВЕТ") == "привет");
  CHECK(FoldToAscii("ação Straße Æsir ﬁne Øre") == "acao Strasse AEsir fine Ore");
  CHECK(FoldToAscii("日本") == "日本");
  CHECK(IsWordChar(U'é'));
  CHECK(IsWordChar(U'日'));
  CHECK(IsWordChar(U'٣'));   // Arabic-Indic digit
  CHECK(!IsWordChar(U'—'));  // em dash
  CHECK(!IsWordChar(U'\u00A0'));
  CHECK(IsSpace(U'\u00A0'));
  CHECK(IsSpace(U'\u3000'));
  CHECK(CountCodePoints("añb") == 3);
}

TEST_CASE("bm25: tokenizers, stop words, stemming and options", "[text]") {
  auto plain = Make(NoLanguage());
  CHECK(plain->Tokens("Hello, world! Привет, мир! don't") ==
        std::vector<std::string>{"hello", "world", "привет", "мир", "don", "t"});

  Bm25Options ws = NoLanguage();
  ws.tokenizer = Bm25Options::Tokenizer::kWhitespace;
  CHECK(Make(ws)->Tokens(" foo-bar\tBaz\u00A0qux ") == std::vector<std::string>{"foo-bar", "baz", "qux"});

  auto english = Make();
  CHECK(english->Tokens("The runners are running quickly through the generously watered fields") ==
        std::vector<std::string>{"runner", "run", "quick", "generous", "water", "field"});
  for (const char* w : {"caresses", "ponies", "consistency", "happiness", "fishing", "arguing", "national"}) {
    CHECK(english->Tokens(w) == std::vector<std::string>{StemDirect(w)});
  }

  Bm25Options keep_case = NoLanguage();
  keep_case.lowercase = false;
  CHECK(Make(keep_case)->Tokens("Hello World") == std::vector<std::string>{"Hello", "World"});

  Bm25Options fold = NoLanguage();
  fold.ascii_folding = true;
  CHECK(Make(fold)->Tokens("Ação Über") == std::vector<std::string>{"acao", "uber"});

  Bm25Options custom;
  custom.stopword_languages = std::vector<std::string>{};
  custom.custom_stopwords = {"Quiver"};
  CHECK(Make(custom)->Tokens("the quiver holds arrows") == std::vector<std::string>{"the", "hold", "arrow"});

  Bm25Options lengths = NoLanguage();
  lengths.min_token_len = 3;
  lengths.max_token_len = 5;
  CHECK(Make(lengths)->Tokens("a to tea teacup teacups") == std::vector<std::string>{"tea"});
  CHECK(Make(lengths)->Tokens("a ab abc abcde abcdef") == std::vector<std::string>{"abc", "abcde"});

  Bm25Options stem_only = NoLanguage();
  stem_only.stemmer_language = "english";
  CHECK(Make(stem_only)->Tokens("the dogs") == std::vector<std::string>{"the", "dog"});

  Bm25Options bad;
  bad.language = "klingon";
  CHECK(Bm25::Create(bad).status().IsInvalidArgument());
  Bm25Options french;
  french.language = "french";
  CHECK(Bm25::Create(french).status().code() == StatusCode::kNotSupported);  // no French stop word list here
  french.stopword_languages = std::vector<std::string>{};
  CHECK(Make(french)->Tokens("chevaux") == std::vector<std::string>{StemDirect("chevaux", "french")});
}

TEST_CASE("bm25: document and query weights follow the formula", "[text]") {
  Bm25Options o;
  o.k = 1.5;
  o.b = 0.6;
  o.avg_len = 7;
  auto bm25 = Make(o);
  const std::string text = "Cats chase mice; mice chase cheese. The cat sleeps.";
  // Tokens: cat chase mice mice chase chees cat sleep -> 8 tokens.
  const auto tokens = bm25->Tokens(text);
  REQUIRE(tokens.size() == 8);
  std::map<std::string, int> counts;
  for (const auto& t : tokens) ++counts[t];
  const SparseVector doc = bm25->Embed(text, Bm25Side::kDocument);
  REQUIRE(doc.indices.size() == counts.size());
  for (size_t i = 1; i < doc.indices.size(); ++i) CHECK(doc.indices[i - 1] < doc.indices[i]);
  for (const auto& [token, count] : counts) {
    const double tf = count * (o.k + 1) / (count + o.k * (1 - o.b + o.b * 8.0 / o.avg_len));
    const uint32_t index = Bm25::TokenIndex(token);
    auto it = std::find(doc.indices.begin(), doc.indices.end(), index);
    REQUIRE(it != doc.indices.end());
    CHECK(doc.values[size_t(it - doc.indices.begin())] == Approx(tf).epsilon(1e-6));
  }
  const SparseVector query = bm25->Embed("cheese for the cat and the cats", Bm25Side::kQuery);
  CHECK(query.indices.size() == 2);
  CHECK(query.values == std::vector<float>{1.0f, 1.0f});
  CHECK(bm25->Embed("the and of", Bm25Side::kDocument).indices.empty());
}

}  // namespace
}  // namespace quiver::text
