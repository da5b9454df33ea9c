// Writes golden files of a format version: a database folder made by that version's golden workload, and a
// snapshot of its collection. Run once per format version:
//   build/native-release/tests/golden_gen tests/data/golden/v1 v1
//   build/native-release/tests/golden_gen tests/data/golden/v2 v2
#include <cstdio>
#include <fstream>
#include <string>

#include "engine/db/golden_workload.h"

int main(int argc, char** argv) {
  const std::string version = argc == 3 ? argv[2] : "";
  if (version != "v1" && version != "v2") {
    std::fprintf(stderr, "usage: golden_gen <empty folder> v1|v2\n");
    return 2;
  }
  quiver::DatabaseOptions o = quiver::testing::GoldenOptions();
  o.path = std::string(argv[1]) + "/db";
  auto db = quiver::Database::Open(o);
  if (!db.ok()) return std::fprintf(stderr, "%s\n", db.status().ToString().c_str()), 1;
  const std::string collection = version == "v1" ? "docs" : "hybrid";
  quiver::Status s = version == "v1" ? quiver::testing::RunGoldenWorkload(**db)
                                     : quiver::testing::RunGoldenWorkloadV2(**db);
  if (!s.ok()) return std::fprintf(stderr, "%s\n", s.ToString().c_str()), 1;
  auto snap = (*(*db)->GetCollection(collection))->CreateSnapshot();
  if (!snap.ok()) return 1;
  std::ofstream(std::string(argv[1]) + "/" + collection + ".snapshot", std::ios::binary) << *snap;
  return (*db)->Close().ok() ? 0 : 1;
}
