#include "db/hlc.h"

#include <catch2/catch.hpp>

namespace quiver::db {
namespace {

TEST_CASE("hlc: values increase, follow the wall clock, and never go back", "[db][hlc]") {
  uint64_t wall = 1000;
  HybridClock clock([&] { return wall; });
  uint64_t a = clock.Now();
  CHECK(HlcMillis(a) == 1000);
  CHECK(HlcCounter(a) == 0);
  uint64_t b = clock.Now();
  CHECK(b == a + 1);  // same millisecond: the counter moves
  wall = 2000;
  uint64_t c = clock.Now();
  CHECK(HlcMillis(c) == 2000);
  CHECK(HlcCounter(c) == 0);
  wall = 500;  // the wall clock jumps back
  uint64_t d = clock.Now();
  CHECK(d > c);
  CHECK(HlcMillis(d) == 2000);
}

TEST_CASE("hlc: counter overflow borrows the next millisecond", "[db][hlc]") {
  HybridClock clock([] { return uint64_t{7}; });
  uint64_t last = 0;
  for (int i = 0; i < 70000; ++i) {
    uint64_t v = clock.Now();
    REQUIRE(v > last);
    last = v;
  }
  CHECK(HlcMillis(last) == 8);
}

TEST_CASE("hlc: observing a later value moves the clock past it", "[db][hlc]") {
  HybridClock clock([] { return uint64_t{10}; });
  clock.Observe(MakeHlc(50, 3));
  uint64_t v = clock.Now();
  CHECK(v == MakeHlc(50, 4));
  clock.Observe(MakeHlc(20, 0));  // older: ignored
  CHECK(clock.Now() == MakeHlc(50, 5));
}

TEST_CASE("stamps order by clock value, then replica", "[db][hlc]") {
  Stamp a{MakeHlc(5, 0), 2}, b{MakeHlc(5, 0), 3}, c{MakeHlc(5, 1), 1};
  CHECK(a < b);
  CHECK(b < c);
  CHECK(Stamp{} < a);
  CHECK(Stamp{}.zero());
}

}  // namespace
}  // namespace quiver::db
