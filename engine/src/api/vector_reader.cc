#include "api/vector_reader.h"

#include <boost/json/serialize.hpp>

#include "index/sparse_index.h"
#include "payload/json_read.h"

namespace quiver::api {

namespace json = boost::json;
using payload::BadField;
using payload::CheckKeys;
using payload::Element;
using payload::Find;
using payload::Member;

bool IsSparseVector(const json::value& v) {
  const json::object* o = v.if_object();
  return o && (o->contains("indices") || o->contains("values"));
}

bool IsDocument(const json::value& v) {
  const json::object* o = v.if_object();
  return o && (o->contains("text") || o->contains("model"));
}

bool IsBareSparseVector(const json::value& v) {
  const json::object* o = v.if_object();
  if (!o || o->size() != 2) return false;
  const json::value* i = o->if_contains("indices");
  const json::value* x = o->if_contains("values");
  return i && x && i->is_array() && x->is_array();
}

bool IsBareDocument(const json::value& v) {
  const json::object* o = v.if_object();
  if (!o) return false;
  const json::value* t = o->if_contains("text");
  return t && t->is_string();
}

Result<SparseVector> ReadSparseVector(const json::value& v, std::string_view path) {
  QUIVER_ASSIGN_OR_RETURN(const json::object* o, payload::ReadObject(v, path));
  QUIVER_RETURN_IF_ERROR(CheckKeys(*o, {"indices", "values"}, path));
  const json::value* indices = Find(*o, "indices");
  const json::value* values = Find(*o, "values");
  if (!indices || !values) return BadField(path, "a sparse vector needs 'indices' and 'values'");
  SparseVector out;
  const std::string ip = Member(path, "indices");
  QUIVER_ASSIGN_OR_RETURN(const json::array* ia, payload::ReadArray(*indices, ip));
  out.indices.reserve(ia->size());
  for (size_t i = 0; i < ia->size(); ++i) {
    QUIVER_ASSIGN_OR_RETURN(uint64_t index, payload::ReadUint((*ia)[i], Element(ip, i), 0, UINT32_MAX));
    out.indices.push_back(static_cast<uint32_t>(index));
  }
  QUIVER_ASSIGN_OR_RETURN(out.values, payload::ReadVector(*values, Member(path, "values")));
  Status s = index::NormalizeSparse(&out);
  if (!s.ok()) return BadField(path, s.message());
  return out;
}

Result<text::Bm25Options> ReadBm25Options(const json::value* v, std::string_view path) {
  text::Bm25Options o;
  if (v == nullptr || v->is_null()) return o;
  QUIVER_ASSIGN_OR_RETURN(const json::object* obj, payload::ReadObject(*v, path));
  QUIVER_RETURN_IF_ERROR(CheckKeys(*obj, {"k", "b", "avg_len", "tokenizer", "language", "lowercase", "ascii_folding",
                                          "stopwords", "stemmer", "min_token_len", "max_token_len"},
                                   path));
  auto number = [&](std::string_view key, double* out) -> Status {
    if (const json::value* x = Find(*obj, key)) {
      QUIVER_ASSIGN_OR_RETURN(*out, payload::ReadNumber(*x, Member(path, key)));
    }
    return Status::OK();
  };
  QUIVER_RETURN_IF_ERROR(number("k", &o.k));
  QUIVER_RETURN_IF_ERROR(number("b", &o.b));
  QUIVER_RETURN_IF_ERROR(number("avg_len", &o.avg_len));
  if (!(o.k >= 0)) return BadField(Member(path, "k"), "expected a number >= 0");
  if (!(o.b >= 0 && o.b <= 1)) return BadField(Member(path, "b"), "expected a number from 0 to 1");
  if (!(o.avg_len > 0)) return BadField(Member(path, "avg_len"), "expected a number > 0");
  if (const json::value* t = Find(*obj, "tokenizer")) {
    const std::string tp = Member(path, "tokenizer");
    QUIVER_ASSIGN_OR_RETURN(std::string tokenizer, payload::ReadString(*t, tp));
    if (tokenizer == "word") {
      o.tokenizer = text::Bm25Options::Tokenizer::kWord;
    } else if (tokenizer == "whitespace") {
      o.tokenizer = text::Bm25Options::Tokenizer::kWhitespace;
    } else if (tokenizer == "prefix" || tokenizer == "multilingual") {
      return Status::NotSupported(tp + ": the '" + tokenizer + "' tokenizer is not supported for BM25 documents; "
                                       "use \"word\" or \"whitespace\"");
    } else {
      return BadField(tp, "expected \"word\", \"whitespace\", \"prefix\" or \"multilingual\"");
    }
  }
  if (const json::value* l = Find(*obj, "language")) {
    QUIVER_ASSIGN_OR_RETURN(o.language, payload::ReadString(*l, Member(path, "language")));
  }
  if (const json::value* l = Find(*obj, "lowercase")) {
    QUIVER_ASSIGN_OR_RETURN(o.lowercase, payload::ReadBool(*l, Member(path, "lowercase")));
  }
  if (const json::value* a = Find(*obj, "ascii_folding")) {
    QUIVER_ASSIGN_OR_RETURN(o.ascii_folding, payload::ReadBool(*a, Member(path, "ascii_folding")));
  }
  if (const json::value* s = Find(*obj, "stopwords")) {
    // A language name, or {"languages": [...], "custom": [...]}.
    const std::string sp = Member(path, "stopwords");
    std::vector<std::string> languages;
    if (s->is_string()) {
      languages.emplace_back(s->get_string());
    } else {
      QUIVER_ASSIGN_OR_RETURN(const json::object* so, payload::ReadObject(*s, sp));
      QUIVER_RETURN_IF_ERROR(CheckKeys(*so, {"languages", "custom"}, sp));
      if (const json::value* ls = Find(*so, "languages")) {
        QUIVER_ASSIGN_OR_RETURN(languages, payload::ReadStrings(*ls, Member(sp, "languages")));
      }
      if (const json::value* cs = Find(*so, "custom")) {
        QUIVER_ASSIGN_OR_RETURN(o.custom_stopwords, payload::ReadStrings(*cs, Member(sp, "custom")));
      }
    }
    o.stopword_languages = std::move(languages);
  }
  if (const json::value* s = Find(*obj, "stemmer")) {
    // {"type": "snowball", "language": ...}
    const std::string sp = Member(path, "stemmer");
    QUIVER_ASSIGN_OR_RETURN(const json::object* so, payload::ReadObject(*s, sp));
    QUIVER_RETURN_IF_ERROR(CheckKeys(*so, {"type", "language"}, sp));
    const json::value* type = Find(*so, "type");
    const json::value* language = Find(*so, "language");
    if (!type || !type->is_string() || type->get_string() != "snowball") {
      return BadField(Member(sp, "type"), "expected \"snowball\"");
    }
    if (!language) return BadField(sp, "missing 'language'");
    QUIVER_ASSIGN_OR_RETURN(std::string l, payload::ReadString(*language, Member(sp, "language")));
    if (!text::Stemmer::Supports(l)) {
      return BadField(Member(sp, "language"), "no Snowball stemmer for '" + l + "'");
    }
    o.stemmer_language = std::move(l);
  }
  for (auto [key, out] : {std::pair<std::string_view, std::optional<size_t>*>{"min_token_len", &o.min_token_len},
                          {"max_token_len", &o.max_token_len}}) {
    if (const json::value* x = Find(*obj, key)) {
      QUIVER_ASSIGN_OR_RETURN(uint64_t n, payload::ReadUint(*x, Member(path, key), 0, 1u << 20));
      *out = static_cast<size_t>(n);
    }
  }
  return o;
}

Result<SparseVector> VectorReader::ReadDocument(const json::value& v, std::string_view path, text::Bm25Side side) {
  QUIVER_ASSIGN_OR_RETURN(const json::object* o, payload::ReadObject(v, path));
  QUIVER_RETURN_IF_ERROR(CheckKeys(*o, {"text", "model", "options"}, path));
  const json::value* text = Find(*o, "text");
  const json::value* model = Find(*o, "model");
  if (!text) return BadField(path, "a document needs 'text'");
  if (!model) return BadField(path, "a document needs 'model' (\"qdrant/bm25\")");
  QUIVER_ASSIGN_OR_RETURN(std::string text_value, payload::ReadString(*text, Member(path, "text")));
  QUIVER_ASSIGN_OR_RETURN(std::string model_name, payload::ReadString(*model, Member(path, "model")));
  std::string lower = model_name;
  for (char& c : lower) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  if (lower != "qdrant/bm25") {
    return Status::NotSupported(Member(path, "model") + ": Quiver embeds documents only with \"qdrant/bm25\", not '" +
                                model_name + "'");
  }
  const json::value* options = Find(*o, "options");
  std::string key = options ? json::serialize(*options) : std::string();
  auto it = models_.find(key);
  if (it == models_.end()) {
    const std::string op = Member(path, "options");
    QUIVER_ASSIGN_OR_RETURN(text::Bm25Options parsed, ReadBm25Options(options, op));
    auto model_or = text::Bm25::Create(parsed);
    if (!model_or.ok()) return model_or.status().WithContext(op);
    it = models_.emplace(std::move(key), std::move(*model_or)).first;
  }
  return it->second->Embed(text_value, side);
}

}  // namespace quiver::api
