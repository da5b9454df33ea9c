#include "base/small_u32_list.h"

#include <catch2/catch.hpp>
#include <utility>
#include <vector>

namespace quiver {
namespace {

std::vector<uint32_t> Items(const SmallU32List& l) { return std::vector<uint32_t>(l.begin(), l.end()); }

TEST_CASE("SmallU32List: two entries inline, more on the heap", "[base]") {
  SmallU32List l;
  CHECK(l.empty());
  CHECK(l.heap_bytes() == 0);
  l.assign(2, 7);
  CHECK(Items(l) == std::vector<uint32_t>{7, 7});
  CHECK(l.heap_bytes() == 0);
  l[1] = 9;
  CHECK(Items(l) == std::vector<uint32_t>{7, 9});
  l.resize(5, 1);  // past the inline room: the first two are kept
  CHECK(Items(l) == std::vector<uint32_t>{7, 9, 1, 1, 1});
  CHECK(l.heap_bytes() == 5 * sizeof(uint32_t));
  l.resize(1);  // back inline
  CHECK(Items(l) == std::vector<uint32_t>{7});
  CHECK(l.heap_bytes() == 0);
  l.assign(0, 3);
  CHECK(l.empty());
  CHECK(l.begin() == l.end());
}

TEST_CASE("SmallU32List: copies are deep, moves take the entries", "[base]") {
  for (size_t n : {size_t{1}, size_t{2}, size_t{3}, size_t{8}}) {
    SmallU32List a;
    a.assign(n, 0);
    for (size_t i = 0; i < n; ++i) a[i] = static_cast<uint32_t>(10 + i);
    const std::vector<uint32_t> want = Items(a);

    SmallU32List b = a;
    b[0] = 99;
    CHECK(Items(a) == want);
    CHECK(b[0] == 99);
    CHECK_FALSE(a == b);
    b = a;
    CHECK(a == b);

    SmallU32List c = std::move(b);
    CHECK(Items(c) == want);
    CHECK(b.empty());
    SmallU32List d;
    d.assign(5, 1);
    d = std::move(c);  // the old heap array is released (ASan would report a leak)
    CHECK(Items(d) == want);
    const SmallU32List& same = d;
    d = same;  // self-assignment keeps the entries
    CHECK(Items(d) == want);
  }
}

}  // namespace
}  // namespace quiver
