// Writes the format-version-1 golden files: a database folder made by the golden workload, and a snapshot of
// its collection. Run once per format version:
//   build/native-release/tests/golden_gen tests/data/golden/v1
#include <cstdio>
#include <fstream>

#include "engine/db/golden_workload.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: golden_gen <empty folder>\n");
    return 2;
  }
  quiver::DatabaseOptions o = quiver::testing::GoldenOptions();
  o.path = std::string(argv[1]) + "/db";
  auto db = quiver::Database::Open(o);
  if (!db.ok()) return std::fprintf(stderr, "%s\n", db.status().ToString().c_str()), 1;
  quiver::Status s = quiver::testing::RunGoldenWorkload(**db);
  if (!s.ok()) return std::fprintf(stderr, "%s\n", s.ToString().c_str()), 1;
  auto snap = (*(*db)->GetCollection("docs"))->CreateSnapshot();
  if (!snap.ok()) return 1;
  std::ofstream(std::string(argv[1]) + "/docs.snapshot", std::ios::binary) << *snap;
  return (*db)->Close().ok() ? 0 : 1;
}
