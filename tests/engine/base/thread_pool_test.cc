#include "quiver/thread_pool.h"

#include <atomic>
#include <catch2/catch.hpp>
#include <vector>

namespace quiver {
namespace {

TEST_CASE("thread pool: every task runs exactly once, repeatedly", "[base][thread_pool]") {
  ThreadPool pool(4);
  CHECK(pool.Parallelism() == 4);
  for (int round = 0; round < 50; ++round) {
    const size_t n = 1 + round * 37;
    std::vector<std::atomic<int>> hits(n);
    pool.ParallelFor(n, [&](size_t i) { hits[i].fetch_add(1); });
    for (size_t i = 0; i < n; ++i) REQUIRE(hits[i].load() == 1);
  }
  pool.ParallelFor(0, [&](size_t) { FAIL("no task expected"); });
}

TEST_CASE("thread pool: Submit queues for a worker or declines, never runs inside the caller",
          "[base][thread_pool]") {
  {
    // One thread means no workers: nothing can run in the background, so Submit says so (issue 13: a task run
    // inline took the lock its caller held, "Resource deadlock avoided").
    ThreadPool pool(1);
    CHECK(pool.Parallelism() == 1);
    bool ran = false;
    CHECK_FALSE(pool.Submit([&] { ran = true; }));
    CHECK_FALSE(ran);
  }
  // With workers, Submit queues and returns; every task runs by the time the pool is destroyed.
  std::atomic<int> ran{0};
  {
    ThreadPool pool(2);
    for (int i = 0; i < 20; ++i) CHECK(pool.Submit([&] { ran.fetch_add(1); }));
  }
  CHECK(ran.load() == 20);
}

TEST_CASE("inline executor runs in order on the caller", "[base][thread_pool]") {
  InlineExecutor ex;
  std::vector<size_t> order;
  ex.ParallelFor(5, [&](size_t i) { order.push_back(i); });
  CHECK(order == std::vector<size_t>{0, 1, 2, 3, 4});
}

}  // namespace
}  // namespace quiver
