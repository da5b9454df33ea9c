// Executor: how the engine is given threads. The engine starts no threads of its own; a binding that wants
// parallel work (a multi-threaded index build, say) passes an Executor, and without one everything runs on the
// calling thread.
//
// Thread safety: an Executor must accept ParallelFor from one thread at a time; the tasks it runs may run
// concurrently with each other.
#ifndef QUIVER_EXECUTOR_H_
#define QUIVER_EXECUTOR_H_

#include <cstddef>
#include <functional>

#include "quiver/function_ref.h"

namespace quiver {

class Executor {
 public:
  virtual ~Executor() = default;

  // How many tasks can run at once, counting the caller's thread (at least 1).
  virtual size_t Parallelism() const = 0;

  // Runs task(i) for every i in [0, n), in any order and on any of the executor's threads (the caller's
  // included), and returns when all have finished. Tasks must not throw.
  virtual void ParallelFor(size_t n, FunctionRef<void(size_t)> task) = 0;

  // Runs `task` later on one of the executor's threads and returns at once; false if this executor cannot run
  // work in the background (then the caller runs it itself). The default cannot.
  virtual bool Submit(std::function<void()> task) { return false; }
};

// Runs everything on the calling thread, in order.
class InlineExecutor final : public Executor {
 public:
  size_t Parallelism() const override { return 1; }
  void ParallelFor(size_t n, FunctionRef<void(size_t)> task) override {
    for (size_t i = 0; i < n; ++i) task(i);
  }
};

}  // namespace quiver

#endif  // QUIVER_EXECUTOR_H_
