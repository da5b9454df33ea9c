// Reading the vectors of a Qdrant body that are not plain float arrays: sparse vectors ({"indices", "values"})
// and documents ({"text", "model": "qdrant/bm25", "options"}) that Quiver embeds itself into BM25 sparse
// vectors (text/bm25.h). Errors name the part by path.
//
// Thread safety: a VectorReader is used by one thread at a time (it keeps the BM25 models it built, so a batch of
// documents with the same options builds one).
#ifndef QUIVER_API_VECTOR_READER_H_
#define QUIVER_API_VECTOR_READER_H_

#include <boost/json/value.hpp>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "quiver/status.h"
#include "quiver/types.h"
#include "text/bm25.h"

namespace quiver::api {

// Where one vector goes (a named vector's value): true for an object shaped like a sparse vector (it has
// "indices" or "values") or a document to embed (it has "text" or "model").
bool IsSparseVector(const boost::json::value& v);
bool IsDocument(const boost::json::value& v);
// Where named vectors could also go (a point's "vector"), as Qdrant reads it: a map of named vectors first, so
// only {"indices": [...], "values": [...]} is a sparse vector and only an object whose "text" is a string a
// document.
bool IsBareSparseVector(const boost::json::value& v);
bool IsBareDocument(const boost::json::value& v);

// {"indices": [u32...], "values": [finite numbers...]}: sorted by index; InvalidArgument names a duplicate
// index, a value that is not a finite float, an index outside 0..2^32-1, or lengths that differ.
Result<SparseVector> ReadSparseVector(const boost::json::value& v, std::string_view path);

// Qdrant's Bm25Config ({"k", "b", "avg_len", "tokenizer", "language", "lowercase", "ascii_folding",
// "stopwords", "stemmer", "min_token_len", "max_token_len"}); null or missing: the defaults.
Result<text::Bm25Options> ReadBm25Options(const boost::json::value* v, std::string_view path);

class VectorReader {
 public:
  // A document embedded as a BM25 sparse vector, as a document (upserts) or a query (searches). NotSupported
  // for a model other than "qdrant/bm25" (Quiver runs no other model).
  Result<SparseVector> ReadDocument(const boost::json::value& v, std::string_view path, text::Bm25Side side);

 private:
  std::map<std::string, std::unique_ptr<text::Bm25>> models_;  // by the options' JSON text
};

}  // namespace quiver::api

#endif  // QUIVER_API_VECTOR_READER_H_
