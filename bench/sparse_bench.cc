// BM25 and sparse search benchmark on real text every Debian machine has: the package lists apt keeps in
// /var/lib/apt/lists. Each document is a package's name and its Description (the synopsis line, plus the long
// description when the lists carry one), read with apt's own decompressor:
//
//   for every file /var/lib/apt/lists/*_Packages* in byte order of its name (.lz4, .gz, .xz or plain):
//     /usr/lib/apt/apt-helper cat-file FILE
//   a paragraph's "Package:" and "Description:" fields (continuation lines kept, " ." as an empty line);
//   the first paragraph of each package name wins; documents sorted by package name; text = name + "\n" +
//   description.
//
// Measured, in one process, repeated --reps times (median reported):
//   - BM25 embedding alone (text::Bm25, documents/s) and indexing through the request layer (upsert_points
//     bodies of Documents, 1,000 per call: parse, tokenize, stem, hash, store, index; documents/s);
//   - sparse search (CollectionCore::SearchSparse, IDF modifier, top 10) against a brute-force scan of the same
//     vectors (every document's dot product with the IDF-weighted query, same top-10 rule), interleaved per
//     repetition, with the ratio; every query's results must be identical (ids and score bits);
//   - the same searches as Qdrant bodies with a Document query through the request layer (parse, embed, search).
//
//   sparse_bench [--queries 1000] [--reps 3] [--limit 0 (all documents)]
#include <algorithm>
#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "db/collection_core.h"
#include "index/sparse_index.h"
#include "quiver/api.h"
#include "quiver/database.h"
#include "text/bm25.h"

namespace quiver::bench {
namespace {

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

std::string Arg(int argc, char** argv, const std::string& key, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == "--" + key) return argv[i + 1];
  }
  return fallback;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct Document {
  std::string package;
  std::string text;
};

// The documents of apt's package lists (see the top of the file).
std::vector<Document> LoadAptDocuments(std::vector<std::string>* files) {
  const std::string dir = "/var/lib/apt/lists";
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    const size_t at = name.find("_Packages");
    if (at == std::string::npos || name.find("diff_Index") != std::string::npos) continue;
    const std::string rest = name.substr(at + 9);
    if (rest.empty() || rest == ".lz4" || rest == ".gz" || rest == ".xz" || rest == ".zst") files->push_back(e.path());
  }
  std::sort(files->begin(), files->end());
  std::map<std::string, std::string> by_package;
  for (const std::string& file : *files) {
    FILE* in = popen(("/usr/lib/apt/apt-helper cat-file '" + file + "'").c_str(), "r");
    if (!in) continue;
    std::string package, description, line;
    bool in_description = false;
    auto flush = [&] {
      if (!package.empty() && !description.empty()) by_package.emplace(package, description);
      package.clear();
      description.clear();
      in_description = false;
    };
    char buf[1 << 16];
    while (fgets(buf, sizeof(buf), in)) {
      line = buf;
      while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
      if (line.empty()) {
        flush();
      } else if (line[0] == ' ' || line[0] == '\t') {
        if (in_description) description += "\n" + (line == " ." ? std::string() : line.substr(1));
      } else {
        in_description = false;
        if (line.rfind("Package: ", 0) == 0) {
          package = line.substr(9);
        } else if (line.rfind("Description: ", 0) == 0) {
          description = line.substr(13);
          in_description = true;
        }
      }
    }
    flush();
    pclose(in);
  }
  std::vector<Document> docs;
  docs.reserve(by_package.size());
  for (auto& [p, d] : by_package) docs.push_back(Document{p, p + "\n" + d});
  return docs;
}

struct Hit {
  uint64_t id;
  float score;
  bool operator==(const Hit&) const = default;
};

// Brute force over every document's vector: the IDF-weighted query's dot product (increasing index order, single
// precision, as the engine defines it), the best `k` by score and then id.
class BruteForce {
 public:
  explicit BruteForce(const std::vector<SparseVector>& docs) : docs_(docs) {
    for (const SparseVector& v : docs) {
      for (uint32_t i : v.indices) ++df_[i];
    }
  }
  std::vector<Hit> Search(SparseVector q, size_t k) const {
    for (size_t i = 0; i < q.indices.size(); ++i) {
      auto it = df_.find(q.indices[i]);
      q.values[i] *= static_cast<float>(index::SparseIdf(docs_.size(), it == df_.end() ? 0 : it->second));
    }
    std::vector<Hit> all;
    const index::SparseView qv{q.indices, q.values};
    for (size_t d = 0; d < docs_.size(); ++d) {
      if (auto s = index::SparseDot(qv, index::SparseView{docs_[d].indices, docs_[d].values})) {
        all.push_back(Hit{d, *s});
      }
    }
    auto better = [](const Hit& a, const Hit& b) { return a.score != b.score ? a.score > b.score : a.id < b.id; };
    const size_t n = std::min(k, all.size());
    std::partial_sort(all.begin(), all.begin() + n, all.end(), better);
    all.resize(n);
    return all;
  }

 private:
  const std::vector<SparseVector>& docs_;
  std::unordered_map<uint32_t, uint32_t> df_;
};

int Run(int argc, char** argv) {
  const size_t nq = std::stoul(Arg(argc, argv, "queries", "1000"));
  const size_t reps = std::stoul(Arg(argc, argv, "reps", "3"));
  const size_t limit_docs = std::stoul(Arg(argc, argv, "limit", "0"));
  const size_t k = 10;
  std::vector<std::string> files;
  std::vector<Document> docs = LoadAptDocuments(&files);
  if (limit_docs && docs.size() > limit_docs) docs.resize(limit_docs);
  if (docs.empty()) {
    std::fprintf(stderr, "sparse_bench: no documents in /var/lib/apt/lists (run apt-get update)\n");
    return 1;
  }
  size_t bytes = 0;
  for (const Document& d : docs) bytes += d.text.size();
  std::printf("documents: %zu (%.1f MB of text) from", docs.size(), double(bytes) / 1e6);
  for (const std::string& f : files) std::printf(" %s", std::filesystem::path(f).filename().c_str());
  std::printf("\n");

  // Qdrant's defaults except avg_len, set to the corpus's mean length in tokens.
  text::Bm25Options options;
  auto bm25 = *text::Bm25::Create(options);
  size_t tokens = 0;
  for (const Document& d : docs) tokens += bm25->Tokens(d.text).size();
  options.avg_len = std::max(1.0, double(tokens) / double(docs.size()));
  bm25 = *text::Bm25::Create(options);
  std::printf("mean document length: %.2f tokens (avg_len)\n", options.avg_len);
  char avg[64];
  std::snprintf(avg, sizeof(avg), "%.17g", options.avg_len);
  const std::string options_json = std::string(R"({"avg_len":)") + avg + "}";

  // Embedding alone.
  std::vector<SparseVector> vectors(docs.size());
  std::vector<double> embed_rate;
  for (size_t r = 0; r < reps; ++r) {
    auto fresh = *text::Bm25::Create(options);
    const double t0 = Now();
    for (size_t i = 0; i < docs.size(); ++i) vectors[i] = fresh->Embed(docs[i].text, text::Bm25Side::kDocument);
    embed_rate.push_back(double(docs.size()) / (Now() - t0));
  }
  size_t entries = 0;
  for (const SparseVector& v : vectors) entries += v.indices.size();

  // Indexing through the request layer: bodies made beforehand, 1,000 documents per call.
  std::vector<std::string> bodies;
  for (size_t start = 0; start < docs.size(); start += 1000) {
    boost::json::array points;
    for (size_t i = start; i < std::min(docs.size(), start + 1000); ++i) {
      boost::json::object doc{{"text", docs[i].text}, {"model", "qdrant/bm25"},
                              {"options", boost::json::parse(options_json)}};
      points.push_back(boost::json::object{{"id", i}, {"vector", boost::json::object{{"bm25", doc}}}});
    }
    bodies.push_back(boost::json::serialize(boost::json::object{{"points", points}}));
  }
  const std::string config = R"({"sparse_vectors":{"bm25":{"modifier":"idf"}}})";
  std::vector<double> index_rate;
  std::unique_ptr<Database> db;
  for (size_t r = 0; r < reps; ++r) {
    db = *Database::Open();
    if (!api::Call(*db, api::Operation::kCreateCollection, {.collection = "apt"}, config).ok()) return 1;
    const double t0 = Now();
    for (const std::string& body : bodies) {
      auto w = api::Call(*db, api::Operation::kUpsertPoints, {.collection = "apt"}, body);
      if (!w.ok()) {
        std::fprintf(stderr, "sparse_bench: %s\n", w.status().ToString().c_str());
        return 1;
      }
    }
    index_rate.push_back(double(docs.size()) / (Now() - t0));
  }
  auto collection = *db->GetCollection("apt");
  db::CollectionCore& core = collection->core();

  // Queries: the first three words of the description of documents spread over the set.
  std::vector<std::string> query_texts;
  std::vector<SparseVector> queries;
  for (size_t q = 0; q < nq; ++q) {
    const Document& d = docs[(q * 7919 + 13) % docs.size()];
    std::string synopsis = d.text.substr(d.package.size() + 1);
    synopsis = synopsis.substr(0, synopsis.find('\n'));
    std::string words;
    size_t taken = 0, pos = 0;
    while (taken < 3 && pos < synopsis.size()) {
      const size_t end = std::min(synopsis.find(' ', pos), synopsis.size());
      if (end > pos) {
        words += (taken ? " " : "") + synopsis.substr(pos, end - pos);
        ++taken;
      }
      pos = end + 1;
    }
    query_texts.push_back(words);
    queries.push_back(bm25->Embed(words, text::Bm25Side::kQuery));
  }
  std::vector<std::string> query_bodies;
  for (const std::string& t : query_texts) {
    boost::json::object doc{{"text", t}, {"model", "qdrant/bm25"}, {"options", boost::json::parse(options_json)}};
    query_bodies.push_back(boost::json::serialize(
        boost::json::object{{"vector", boost::json::object{{"name", "bm25"}, {"vector", doc}}}, {"limit", k}}));
  }

  BruteForce brute(vectors);
  std::vector<double> engine_qps, brute_qps, ratio, api_qps;
  size_t identical = 0, candidates = 0;
  std::vector<std::vector<Hit>> engine_hits(nq), brute_hits(nq);
  for (size_t r = 0; r < reps; ++r) {
    double t0 = Now();
    for (size_t q = 0; q < nq; ++q) {
      auto res = core.SearchSparse("bm25", queries[q], nullptr, k, 0, std::nullopt, PayloadSelector::None(),
                                   VectorSelector::None());
      engine_hits[q].clear();
      for (const ScoredPoint& p : *res) engine_hits[q].push_back(Hit{p.id.number(), p.score});
    }
    const double engine_s = Now() - t0;
    t0 = Now();
    for (size_t q = 0; q < nq; ++q) brute_hits[q] = brute.Search(queries[q], k);
    const double brute_s = Now() - t0;
    t0 = Now();
    for (size_t q = 0; q < nq; ++q) {
      auto res = api::Call(*collection, api::Operation::kSearchPoints, {}, query_bodies[q]);
      if (!res.ok()) return 1;
    }
    const double api_s = Now() - t0;
    engine_qps.push_back(double(nq) / engine_s);
    brute_qps.push_back(double(nq) / brute_s);
    api_qps.push_back(double(nq) / api_s);
    ratio.push_back(brute_s / engine_s);
    if (r == 0) {
      for (size_t q = 0; q < nq; ++q) {
        identical += engine_hits[q] == brute_hits[q] ? 1 : 0;
        candidates += engine_hits[q].size();
      }
    }
  }
  std::printf("stored entries: %zu (%.2f per document); queries: %zu (%.2f results each)\n", entries,
              double(entries) / double(docs.size()), nq, double(candidates) / double(nq));
  std::printf("\n| measure | median of %zu | runs |\n|---|---|---|\n", reps);
  auto row = [&](const char* what, const std::vector<double>& v, const char* unit) {
    std::printf("| %s | %.0f %s |", what, Median(v), unit);
    for (double x : v) std::printf(" %.0f", x);
    std::printf(" |\n");
  };
  row("BM25 embedding only (text -> sparse vector)", embed_rate, "docs/s");
  row("BM25 indexing through upsert_points (Documents, 1,000 per call)", index_rate, "docs/s");
  row("sparse search, top 10 (SearchSparse, IDF)", engine_qps, "QPS");
  row("brute-force scan of the same vectors, top 10", brute_qps, "QPS");
  row("search_points with a Document query (parse + embed + search)", api_qps, "QPS");
  std::printf("| sparse search / brute force | %.1fx |", Median(ratio));
  for (double x : ratio) std::printf(" %.1fx", x);
  std::printf(" |\n");
  std::printf("\nidentical results (ids and scores, top 10): %zu of %zu queries\n", identical, nq);
  return identical == nq ? 0 : 1;
}

}  // namespace
}  // namespace quiver::bench

int main(int argc, char** argv) { return quiver::bench::Run(argc, argv); }
