#include "base/chunked_vector.h"

#include <catch2/catch.hpp>
#include <string>
#include <vector>

namespace quiver {
namespace {

TEST_CASE("ChunkedVector: indexes like a vector across chunks and never moves a full chunk", "[base][chunked_vector]") {
  ChunkedVector<std::string, 3> v;  // chunks of 8
  CHECK(v.empty());
  v.push_back("first");
  CHECK(v.capacity() == 1);  // a small table stays small
  for (int i = 1; i < 8; ++i) v.push_back(std::to_string(i));
  const std::string* first = &v[0];
  for (int i = 8; i < 50; ++i) v.push_back(std::to_string(i));
  CHECK(v.size() == 50);
  CHECK(v.capacity() == 56);
  CHECK(&v[0] == first);  // growing added chunks; the full first chunk stayed where it was
  CHECK(v[0] == "first");
  CHECK(v[8] == "8");
  CHECK(v[49] == "49");
  CHECK(v.back() == "49");

  std::vector<std::string> seen;
  for (const std::string& s : v) seen.push_back(s);
  REQUIRE(seen.size() == 50);
  CHECK(seen[17] == "17");

  v.resize(5);  // drops the rest
  CHECK(v.size() == 5);
  CHECK(v[4] == "4");
  v.resize(12);  // value-initialised, not the dropped strings
  CHECK(v[5].empty());
  CHECK(v[11].empty());

  ChunkedVector<std::string, 3> moved = std::move(v);
  CHECK(moved.size() == 12);
  CHECK(&moved[0] == first);
  CHECK(v.size() == 0);  // NOLINT(bugprone-use-after-move): a moved-from vector is empty

  ChunkedVector<int> sized(3000);
  CHECK(sized.size() == 3000);
  CHECK(sized[2999] == 0);
}

}  // namespace
}  // namespace quiver
