// Sparse vectors and BM25 documents through the request layer (Qdrant's JSON): the configuration round trip,
// points with sparse vectors and documents (points and batch forms), NamedSparseVector searches, printing, BM25
// scores against a reference BM25 computed here (its own tokenizer, libstemmer called directly, tf, idf, k, b,
// avg_len), and errors that name the part, leaving the collection unchanged.
#include <libstemmer.h>

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cmath>
#include <map>
#include <set>
#include <string>

#include "engine/db/db_test_util.h"
#include "quiver/api.h"

namespace quiver {
namespace {

using api::Operation;

std::string Run(Database& db, Operation op, std::string_view collection, std::string_view body) {
  auto r = api::Call(db, op, {collection, {}, {}}, body);
  if (!r.ok()) return "error " + std::string(StatusCodeName(r.status().code())) + ": " + std::string(r.status().message());
  return api::Print(*r, {.omit_version = true});
}

boost::json::value Json(const std::string& text) { return boost::json::parse(text); }

TEST_CASE("sparse api: the configuration round-trips in Qdrant's shape", "[api][sparse]") {
  auto db = testing::OpenTestDatabase();
  REQUIRE(Run(*db, Operation::kCreateCollection, "c",
              R"({"vectors":{"dense":{"size":2,"distance":"Dot"}},"sparse_vectors":{"text":{"index":)"
              R"({"on_disk":true,"full_scan_threshold":100,"datatype":"float32"},"modifier":"idf"},"raw":{},"m":{"modifier":"none"}}})") ==
          "true");
  auto info = Json(Run(*db, Operation::kGetCollection, "c", ""));
  CHECK(info.at("config").at("params").at("sparse_vectors") ==
        Json(R"({"m":{},"raw":{},"text":{"index":{"full_scan_threshold":100,"on_disk":true},"modifier":"idf"}})"));
  CHECK(info.at("config").at("params").at("vectors") == Json(R"({"dense":{"size":2,"distance":"Dot"}})"));
  // Sparse vectors only: no "vectors" at all.
  REQUIRE(Run(*db, Operation::kCreateCollection, "s", R"({"sparse_vectors":{"bm25":{"modifier":"idf"}}})") == "true");
  info = Json(Run(*db, Operation::kGetCollection, "s", ""));
  CHECK(info.at("config").at("params").at("vectors") == Json("{}"));
  CHECK(info.at("config").at("params").at("sparse_vectors") == Json(R"({"bm25":{"modifier":"idf"}})"));
  // The configuration text the engine prints reads back to the same configuration.
  auto config = api::ParseCollectionConfig(api::PrintCollectionConfig((*db->GetCollection("c"))->Info().config));
  REQUIRE(config.ok());
  CHECK(config->sparse_vectors.size() == 3);
  CHECK(config->sparse_vectors.at("text").modifier == SparseModifier::kIdf);
  CHECK(config->sparse_vectors.at("text").full_scan_threshold == 100u);

  for (const auto& [body, error] : std::vector<std::pair<std::string, std::string>>{
           {R"({"sparse_vectors":{"text":{"modifier":"bm25"}}})",
            "error invalid argument: create_collection.sparse_vectors.text.modifier: expected \"none\" or \"idf\""},
           {R"({"sparse_vectors":{"text":{"index":{"full_scan":1}}}})",
            "error invalid argument: create_collection.sparse_vectors.text.index: unknown field 'full_scan'"},
           {R"({"vectors":{"text":{"size":2,"distance":"Dot"}},"sparse_vectors":{"text":{}}})",
            "error invalid argument: create_collection: sparse_vectors.text: the name is already taken by a dense vector"},
           {R"({"sparse_vectors":{"a b":{}}})", "error invalid argument: create_collection: sparse_vectors.a b: sparse vector names"},
           {R"({"sparse_vectors":{}})", "error invalid argument: create_collection: missing 'vectors'"},
       }) {
    INFO(body);
    CHECK(Run(*db, Operation::kCreateCollection, "x", body).rfind(error, 0) == 0);
  }
}

TEST_CASE("sparse api: points, searches and printing", "[api][sparse]") {
  auto db = testing::OpenTestDatabase();
  REQUIRE(Run(*db, Operation::kCreateCollection, "c",
              R"({"vectors":{"dense":{"size":2,"distance":"Dot"}},"sparse_vectors":{"text":{}}})") == "true");
  REQUIRE(Run(*db, Operation::kUpsertPoints, "c",
              R"({"points":[{"id":1,"vector":{"dense":[1,0],"text":{"indices":[7,2],"values":[0.5,2]}},"payload":{"k":"a"}},)"
              R"({"id":2,"vector":{"text":{"indices":[2],"values":[1]}}},{"id":3,"vector":{"dense":[0,1]}},)"
              R"({"id":4,"vector":{"text":{"indices":[],"values":[]}}}]})")
              .find("completed") != std::string::npos);
  CHECK(Run(*db, Operation::kGetPoints, "c", R"({"ids":[1,2,3,4],"with_vector":true,"with_payload":false})") ==
        R"([{"id":1,"vector":{"dense":[1,0],"text":{"indices":[2,7],"values":[2,0.5]}}},)"
        R"({"id":2,"vector":{"text":{"indices":[2],"values":[1]}}},{"id":3,"vector":{"dense":[0,1]}},)"
        R"({"id":4,"vector":{"text":{"indices":[],"values":[]}}}])");
  CHECK(Run(*db, Operation::kGetPoints, "c", R"({"ids":[1],"with_vector":["text"],"with_payload":false})") ==
        R"([{"id":1,"vector":{"text":{"indices":[2,7],"values":[2,0.5]}}}])");
  // Qdrant's NamedSparseVector search: scores are dot products over shared indices.
  CHECK(Run(*db, Operation::kSearchPoints, "c",
            R"({"vector":{"name":"text","vector":{"indices":[7,2,99],"values":[2,1,5]}},"limit":5,"with_payload":true})") ==
        R"([{"id":1,"score":3,"payload":{"k":"a"}},{"id":2,"score":1,"payload":{}}])");
  CHECK(Run(*db, Operation::kSearchPoints, "c",
            R"({"vector":{"name":"text","vector":{"indices":[2],"values":[1]}},"limit":5,"offset":1,)"
            R"("filter":{"must_not":[{"key":"k","match":{"value":"z"}}]},"score_threshold":0.5})") ==
        R"([{"id":2,"score":1}])");
  CHECK(Run(*db, Operation::kSearchBatch, "c",
            R"({"searches":[{"vector":{"name":"text","vector":{"indices":[7],"values":[1]}},"limit":1},)"
            R"({"vector":{"name":"dense","vector":[1,1]},"limit":1}]})") ==
        R"([[{"id":1,"score":0.5}],[{"id":1,"score":1}]])");
  CHECK(Run(*db, Operation::kScrollPoints, "c", R"({"limit":1,"with_vector":["text"],"with_payload":false})") ==
        R"({"points":[{"id":1,"vector":{"text":{"indices":[2,7],"values":[2,0.5]}}}],"next_page_offset":2})");
}

TEST_CASE("sparse api: bad input names the part and stores nothing", "[api][sparse]") {
  auto db = testing::OpenTestDatabase();
  REQUIRE(Run(*db, Operation::kCreateCollection, "c",
              R"({"vectors":{"dense":{"size":2,"distance":"Dot"}},"sparse_vectors":{"text":{}}})") == "true");
  REQUIRE(Run(*db, Operation::kUpsertPoints, "c", R"({"points":[{"id":1,"vector":{"text":{"indices":[1],"values":[1]}}}]})")
              .find("completed") != std::string::npos);
  auto c = *db->GetCollection("c");
  const std::string before = c->core().StateDigest();
  const std::string ok = R"({"id":9,"vector":{"text":{"indices":[1],"values":[1]}}},)";
  for (const auto& [body, error] : std::vector<std::pair<std::string, std::string>>{
           {R"({"points":[)" + ok + R"({"id":2,"vector":{"text":{"indices":[3,1,3],"values":[1,2,3]}}}]})",
            "error invalid argument: upsert.points[1].vector.text: duplicate index 3"},
           {R"({"points":[)" + ok + R"({"id":2,"vector":{"text":{"indices":[1],"values":[1e39]}}}]})",
            "error invalid argument: upsert.points[1].vector.text.values[0]: the number does not fit a finite float"},
           {R"({"points":[)" + ok + R"({"id":2,"vector":{"text":{"indices":[1,2],"values":[1]}}}]})",
            "error invalid argument: upsert.points[1].vector.text: indices and values have different lengths (2 and 1)"},
           {R"({"points":[)" + ok + R"({"id":2,"vector":{"text":{"indices":[4294967296],"values":[1]}}}]})",
            "error invalid argument: upsert.points[1].vector.text.indices[0]: expected an integer from 0 to 4294967295"},
           {R"({"points":[)" + ok + R"({"id":2,"vector":{"text":{"indices":[-1],"values":[1]}}}]})",
            "error invalid argument: upsert.points[1].vector.text.indices[0]"},
           {R"({"points":[)" + ok + R"({"id":2,"vector":{"text":{"indices":[1]}}}]})",
            "error invalid argument: upsert.points[1].vector.text: a sparse vector needs 'indices' and 'values'"},
           {R"({"points":[)" + ok + R"({"id":2,"vector":{"text":{"indices":[1],"values":[1],"weights":[]}}}]})",
            "error invalid argument: upsert.points[1].vector.text: unknown field 'weights'"},
           {R"({"points":[)" + ok + R"({"id":2,"vector":{"nope":{"indices":[1],"values":[1]}}}]})",
            "error invalid argument: points[1]: point 2: collection c has no sparse vector named 'nope'"},
           {R"({"points":[)" + ok + R"({"id":2,"vector":{"dense":{"indices":[1],"values":[1]}}}]})",
            "error invalid argument: points[1]: point 2: vector 'dense' of collection c is dense"},
           {R"({"points":[)" + ok + R"({"id":2,"vector":{"text":[1,2]}}]})",
            "error invalid argument: points[1]: point 2: vector 'text' is a sparse vector"},
           {R"({"points":[)" + ok + R"({"id":2,"vector":{"indices":[1],"values":[1]}}]})",
            "error invalid argument: upsert.points[1].vector: a sparse vector has a name"},
           {R"({"points":[)" + ok + R"({"id":2,"vector":{"text":{"text":"hi","model":"bert"}}}]})",
            "error not supported: upsert.points[1].vector.text.model: Quiver embeds documents only with \"qdrant/bm25\""},
           {R"({"points":[)" + ok + R"({"id":2,"vector":{"text":{"image":"cat.png","model":"clip"}}}]})",
            "error not supported: upsert.points[1].vector.text: images and other inference objects"},
           {R"({"points":[)" + ok + R"({"id":2,"vector":{"text":"hello"}}]})",
            "error invalid argument: upsert.points[1].vector: a document embeds into a sparse vector, which has a name"},
           {R"({"points":[)" + ok + R"({"id":2,"vector":{"text":"hello","model":"qdrant/bm25"}}]})",
            "error invalid argument: upsert.points[1].vector: a document embeds into a sparse vector, which has a name"},
           {R"({"points":[)" + ok + R"({"id":2,"vector":{"text":{"text":"hi","model":"qdrant/bm25","options":{"b":2}}}}]})",
            "error invalid argument: upsert.points[1].vector.text.options.b: expected a number from 0 to 1"},
           {R"({"points":[)" + ok + R"({"id":2,"vector":{"text":{"text":"hi","model":"qdrant/bm25","options":{"language":"klingon"}}}}]})",
            "error invalid argument: upsert.points[1].vector.text.options: language: unknown language 'klingon'"},
           {R"({"points":[)" + ok + R"({"id":2,"vector":{"text":{"text":"hi","model":"qdrant/bm25","options":{"tokenizer":"multilingual"}}}}]})",
            "error not supported: upsert.points[1].vector.text.options.tokenizer"},
           {R"({"points":[)" + ok + R"({"id":2,"vector":{"text":{"text":"hi","model":"qdrant/bm25","options":{"stemmer":{"type":"snowball","language":"latin"}}}}}]})",
            "error invalid argument: upsert.points[1].vector.text.options.stemmer.language: no Snowball stemmer for 'latin'"},
           {R"({"points":[)" + ok + R"({"id":2,"vector":{"text":{"text":"hi","model":"qdrant/bm25","options":{"tokenizer":"letters"}}}}]})",
            "error invalid argument: upsert.points[1].vector.text.options.tokenizer: expected \"word\", \"whitespace\", \"prefix\" or \"multilingual\""},
           {R"({"points":[)" + ok + R"({"id":2,"vector":{"text":{"text":"hi","model":"qdrant/bm25","options":{"stemmer":{"type":"porter","language":"english"}}}}}]})",
            "error invalid argument: upsert.points[1].vector.text.options.stemmer.type: expected \"snowball\""},
           {R"({"points":[)" + ok + R"({"id":2,"vector":{"text":{"text":"hi","model":"qdrant/bm25","options":{"stopwords":{"languages":["english","klingon"]}}}}}]})",
            "error invalid argument: upsert.points[1].vector.text.options: stopwords: unknown language 'klingon'"},
           {R"({"points":[)" + ok + R"({"id":2,"vector":{"text":{"text":"hi","model":"qdrant/bm25","options":{"avg_len":0}}}}]})",
            "error invalid argument: upsert.points[1].vector.text.options.avg_len: expected a number > 0"},
           {R"({"batch":{"ids":[1,2],"vectors":{"text":[{"indices":[1],"values":[1]},{"indices":[1,1],"values":[1,1]}]}}})",
            "error invalid argument: upsert.batch.vectors.text[1]: duplicate index 1"},
           {R"({"batch":{"ids":[1],"vectors":[{"text":"a","model":"qdrant/bm25"}]}})",
            "error invalid argument: upsert.batch.vectors[0]: a document embeds into a sparse vector, which has a name"},
       }) {
    INFO(body);
    const std::string got = Run(*db, Operation::kUpsertPoints, "c", body);
    CHECK(got.rfind(error, 0) == 0);
    CHECK(c->core().StateDigest() == before);
  }
  for (const auto& [body, error] : std::vector<std::pair<std::string, std::string>>{
           {R"({"vector":{"name":"text","vector":{"indices":[1,1],"values":[1,1]}}})",
            "error invalid argument: search.vector.vector: duplicate index 1"},
           {R"({"vector":{"name":"nope","vector":{"indices":[1],"values":[1]}}})",
            "error invalid argument: collection c has no sparse vector named 'nope'"},
           {R"({"vector":{"name":"text","vector":[1,2]}})", "error invalid argument: vector 'text' is a sparse vector"},
           {R"({"vector":{"name":"text","vector":{"indices":[1],"values":[1]}},"with_vector":["nope"]})",
            "error invalid argument: collection c has no vector named 'nope'"},
       }) {
    INFO(body);
    CHECK(Run(*db, Operation::kSearchPoints, "c", body).rfind(error, 0) == 0);
  }
  CHECK(Run(*db, Operation::kRecommendPoints, "c", R"({"positive":[1],"using":"text","limit":1})") ==
        "error invalid argument: vector 'text' of collection c is a sparse vector; this operation takes a "
        "dense vector");
}

// ---- BM25 against a reference written here ----

const std::set<std::string>& ReferenceStopWords() {
  static const std::set<std::string> words = {
      "i", "me", "my", "myself", "we", "our", "ours", "ourselves", "you", "you're", "you've", "you'll", "you'd",
      "your", "yours", "yourself", "yourselves", "he", "him", "his", "himself", "she", "she's", "her", "hers",
      "herself", "it", "it's", "its", "itself", "they", "them", "their", "theirs", "themselves", "what", "which",
      "who", "whom", "this", "that", "that'll", "these", "those", "am", "is", "are", "was", "were", "be", "been",
      "being", "have", "has", "had", "having", "do", "does", "did", "doing", "a", "an", "the", "and", "but", "if",
      "or", "because", "as", "until", "while", "of", "at", "by", "for", "with", "about", "against", "between",
      "into", "through", "during", "before", "after", "above", "below", "to", "from", "up", "down", "in", "out",
      "on", "off", "over", "under", "again", "further", "then", "once", "here", "there", "when", "where", "why",
      "how", "all", "any", "both", "each", "few", "more", "most", "other", "some", "such", "no", "nor", "not",
      "only", "own", "same", "so", "than", "too", "very", "s", "t", "can", "will", "just", "don", "should", "now",
      "d", "ll", "m", "o", "re", "ve", "y", "ain", "aren", "couldn", "didn", "doesn", "hadn", "hasn", "haven",
      "isn", "ma", "mightn", "mustn", "needn", "shan", "shouldn", "wasn", "weren", "won", "wouldn"};
  return words;
}

// ASCII words, lower-cased, stop words dropped, stemmed by libstemmer's English stemmer.
std::vector<std::string> ReferenceTokens(const std::string& text) {
  sb_stemmer* stemmer = sb_stemmer_new("english", "UTF_8");
  std::vector<std::string> out;
  std::string word;
  auto flush = [&] {
    if (word.empty()) return;
    if (!ReferenceStopWords().count(word)) {
      const sb_symbol* s = sb_stemmer_stem(stemmer, reinterpret_cast<const sb_symbol*>(word.data()), int(word.size()));
      out.emplace_back(reinterpret_cast<const char*>(s), size_t(sb_stemmer_length(stemmer)));
    }
    word.clear();
  };
  for (char ch : text) {
    if (std::isalnum(static_cast<unsigned char>(ch))) {
      word.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(ch))));
    } else {
      flush();
    }
  }
  flush();
  sb_stemmer_delete(stemmer);
  return out;
}

// BM25 of every document for the query: sum over distinct query terms in the document of
// idf(term) * tf * (k + 1) / (tf + k * (1 - b + b * len / avg_len)).
std::map<uint64_t, double> ReferenceBm25(const std::vector<std::string>& docs, const std::string& query, double k,
                                         double b, double avg_len) {
  std::vector<std::map<std::string, int>> counts(docs.size());
  std::vector<size_t> lengths(docs.size());
  std::map<std::string, int> df;
  for (size_t d = 0; d < docs.size(); ++d) {
    const auto tokens = ReferenceTokens(docs[d]);
    lengths[d] = tokens.size();
    for (const auto& t : tokens) ++counts[d][t];
    for (const auto& [t, n] : counts[d]) ++df[t];
  }
  const auto q = ReferenceTokens(query);
  const std::set<std::string> terms(q.begin(), q.end());
  std::map<uint64_t, double> out;
  const double n_all = double(docs.size());
  for (size_t d = 0; d < docs.size(); ++d) {
    double score = 0;
    bool shared = false;
    for (const auto& t : terms) {
      auto it = counts[d].find(t);
      if (it == counts[d].end()) continue;
      shared = true;
      const double n = df[t];
      const double idf = std::log((n_all - n + 0.5) / (n + 0.5) + 1.0);
      const double tf = it->second;
      score += idf * tf * (k + 1) / (tf + k * (1 - b + b * double(lengths[d]) / avg_len));
    }
    if (shared) out[d] = score;
  }
  return out;
}

TEST_CASE("sparse api: BM25 documents score as the reference BM25", "[api][sparse][bm25]") {
  const char* subjects[] = {"The library", "A quick parser", "This compiler", "Our network daemon", "The editor",
                            "A small tool", "The database server", "Running services"};
  const char* verbs[] = {"parses", "compiles", "indexes", "searches", "serves", "edits", "runs", "monitors"};
  const char* objects[] = {"JSON documents", "source files", "network packets", "text files", "vector indexes",
                           "log messages", "configuration files", "search queries"};
  const char* extras[] = {"quickly", "for developers", "with plugins and scripts", "over HTTP", "in parallel",
                          "on embedded devices", "", "using less memory than other tools"};
  std::vector<std::string> docs;
  for (int i = 0; i < 64; ++i) {
    docs.push_back(std::string(subjects[i % 8]) + " " + verbs[(i * 3) % 8] + " " + objects[(i * 5 + i / 8) % 8] + " " +
                   extras[(i * 7 + i / 3) % 8] + (i % 5 == 0 ? ". It runs and runs." : "."));
  }
  auto db = testing::OpenTestDatabase();
  REQUIRE(Run(*db, Operation::kCreateCollection, "c", R"({"sparse_vectors":{"bm25":{"modifier":"idf"}}})") == "true");
  const std::string options = R"({"k":1.4,"b":0.7,"avg_len":6.5})";
  // Half as points, half as a batch.
  std::string points = R"({"points":[)", batch_ids, batch_docs;
  for (size_t i = 0; i < docs.size(); ++i) {
    boost::json::object doc{{"text", docs[i]}, {"model", "qdrant/bm25"}, {"options", Json(options)}};
    if (i < 32) {
      if (i) points += ",";
      points += R"({"id":)" + std::to_string(i) + R"(,"vector":{"bm25":)" + boost::json::serialize(doc) + "}}";
    } else {
      batch_ids += (batch_ids.empty() ? "" : ",") + std::to_string(i);
      batch_docs += (batch_docs.empty() ? "" : ",") + boost::json::serialize(doc);
    }
  }
  REQUIRE(Run(*db, Operation::kUpsertPoints, "c", points + "]}").find("completed") != std::string::npos);
  REQUIRE(Run(*db, Operation::kUpsertPoints, "c",
              R"({"batch":{"ids":[)" + batch_ids + R"(],"vectors":{"bm25":[)" + batch_docs + "]}}}")
              .find("completed") != std::string::npos);
  for (const std::string query : {"running network services", "parse JSON files quickly", "editor plugins",
                                  "memory of the tools", "zebra"}) {
    const auto want = ReferenceBm25(docs, query, 1.4, 0.7, 6.5);
    boost::json::object q{{"text", query}, {"model", "qdrant/bm25"}, {"options", Json(options)}};
    const std::string body = R"({"vector":{"name":"bm25","vector":)" + boost::json::serialize(q) + R"(},"limit":100})";
    auto got = Json(Run(*db, Operation::kSearchPoints, "c", body));
    INFO(query);
    REQUIRE(got.is_array());
    REQUIRE(got.as_array().size() == want.size());
    double previous = INFINITY;
    for (const auto& hit : got.as_array()) {
      const uint64_t id = hit.at("id").to_number<uint64_t>();
      const double score = hit.at("score").to_number<double>();
      REQUIRE(want.count(id));
      CHECK(score == Approx(want.at(id)).epsilon(1e-5));
      CHECK(score <= previous);
      previous = score;
    }
  }
}

}  // namespace
}  // namespace quiver
