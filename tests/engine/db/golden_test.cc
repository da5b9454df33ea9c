// Format version 1 golden files (tests/data/golden/v1, made by tests/tools/golden_gen.cc): this build, natively
// and in WASM, must read the folder to the same state the golden workload produces in memory, and must write the
// same snapshot bytes.
#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "db/database_core.h"
#include "engine/db/golden_workload.h"
#include "storage/storage_memory.h"

namespace quiver {
namespace {

std::string ReadHostFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  REQUIRE(in.good());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_CASE("golden v1: the stored folder reads back to the workload's state", "[db][golden]") {
  const std::string dir = std::string(QUIVER_TEST_DATA_DIR) + "/golden/v1";
  storage::MemoryStorage st;
  for (const char* name : {"CURRENT", "MANIFEST-20", "seg-1-14.qvs", "seg-1-17.qvs", "del-1-18.qvd", "wal-1-16.log"}) {
    st.SetContents(name, ReadHostFile(dir + "/db/" + name));
  }
  DatabaseOptions o = testing::GoldenOptions();
  o.path = "golden";
  o.replica_id = 0;  // take the folder's
  auto stored = db::DatabaseCore::OpenStorage(o, &st);
  INFO(stored.status().ToString());
  REQUIRE(stored.ok());
  CHECK((*stored)->replica_id() == 0x51564552);
  CHECK((*stored)->ListAliases() == std::vector<std::pair<std::string, std::string>>{{"main", "docs"}});
  auto golden = *(*stored)->GetCollection("main");

  DatabaseOptions mo = testing::GoldenOptions();
  auto memory = *Database::Open(mo);
  REQUIRE(testing::RunGoldenWorkload(*memory).ok());
  auto reference = *memory->GetCollection("docs");

  CHECK(golden->core().StateDigest() == reference->core().StateDigest());
  CHECK(golden->Info().points_count == 117);
  CollectionStats stats = golden->Stats();
  CHECK(stats.segments == 3);  // the merged segment, the one sealed after it, the write segment

  const std::string snapshot = ReadHostFile(dir + "/docs.snapshot");
  CHECK(*golden->CreateSnapshot() == snapshot);
  CHECK(*reference->CreateSnapshot() == snapshot);

  // The indexes loaded from the files answer searches like exact scans do.
  SearchRequest req;
  req.vector_name = "text";
  req.vector = {1, -2, 3, -4, 5, -1, 2, 0};
  req.limit = 5;
  req.filter = R"({"must":[{"key":"year","range":{"gte":1995}}]})";
  auto a = golden->Search(req);
  req.exact = true;
  auto b = golden->Search(req);
  REQUIRE(a.ok());
  REQUIRE(b.ok());
  REQUIRE(a->size() == 5);
  for (size_t i = 0; i < 5; ++i) CHECK((*a)[i].id == (*b)[i].id);
}

// Format version 2 (sparse vectors, tests/data/golden/v2): version-2 segments, a version-2 log record and a
// format-2 snapshot read back to the state the workload produces in memory; the snapshot bytes are the same;
// sparse searches over the loaded files equal those of the in-memory reference.
TEST_CASE("golden v2: sparse vectors in the stored folder read back to the workload's state", "[db][golden]") {
  const std::string dir = std::string(QUIVER_TEST_DATA_DIR) + "/golden/v2";
  storage::MemoryStorage st;
  for (const char* name : {"CURRENT", "MANIFEST-18", "seg-1-12.qvs", "seg-1-15.qvs", "del-1-16.qvd", "wal-1-14.log"}) {
    st.SetContents(name, ReadHostFile(dir + "/db/" + name));
  }
  DatabaseOptions o = testing::GoldenOptions();
  o.path = "golden";
  o.replica_id = 0;
  auto stored = db::DatabaseCore::OpenStorage(o, &st);
  INFO(stored.status().ToString());
  REQUIRE(stored.ok());
  auto golden = *(*stored)->GetCollection("hybrid");

  auto memory = *Database::Open(testing::GoldenOptions());
  REQUIRE(testing::RunGoldenWorkloadV2(*memory).ok());
  auto reference = *memory->GetCollection("hybrid");
  CHECK(golden->core().StateDigest() == reference->core().StateDigest());
  CHECK(golden->Stats().segments == 3);
  CHECK(golden->Info().config.sparse_vectors.at("text").modifier == SparseModifier::kIdf);

  const std::string snapshot = ReadHostFile(dir + "/hybrid.snapshot");
  CHECK(snapshot.find(R"("format":2)") != std::string::npos);
  CHECK(*golden->CreateSnapshot() == snapshot);
  CHECK(*reference->CreateSnapshot() == snapshot);
  REQUIRE((*stored)->RestoreSnapshot("restored", snapshot).ok());
  CHECK((*(*stored)->GetCollection("restored"))->core().StateDigest() == reference->core().StateDigest());

  for (const std::string name : {"text", "tags"}) {
    SearchRequest req;
    req.vector_name = name;
    req.sparse_vector = name == "text" ? SparseVector{{1, 10, 77, 120, 180}, {1, 2, 0.5f, 1, 3}}
                                       : SparseVector{{0, 3, 4000000000u}, {1, 1, 2}};
    req.limit = 8;
    req.filter = R"({"must_not":[{"key":"kind","match":{"value":"odd"}}]})";
    auto a = golden->Search(req);
    auto b = reference->Search(req);
    REQUIRE(a.ok());
    REQUIRE(b.ok());
    REQUIRE(!a->empty());
    REQUIRE(a->size() == b->size());
    for (size_t i = 0; i < a->size(); ++i) {
      CHECK((*a)[i].id == (*b)[i].id);
      CHECK((*a)[i].score == (*b)[i].score);
    }
  }
}

}  // namespace
}  // namespace quiver
