// ThreadPool: an Executor backed by a fixed set of threads. Native builds only (the default WASM build has no
// threads). Bindings create it; the engine never does.
//
// Thread safety: ParallelFor may be called from one thread at a time; the destructor joins the workers.
#ifndef QUIVER_THREAD_POOL_H_
#define QUIVER_THREAD_POOL_H_

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <cstddef>
#include <mutex>
#include <thread>
#include <vector>

#include "quiver/executor.h"

namespace quiver {

class ThreadPool final : public Executor {
 public:
  // threads == 0 means one per hardware thread. The caller's thread works too, so `threads` - 1 are started.
  explicit ThreadPool(size_t threads = 0);
  ~ThreadPool() override;
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  size_t Parallelism() const override { return workers_.size() + 1; }
  // Callers are served one at a time; a task may itself call ParallelFor.
  void ParallelFor(size_t n, FunctionRef<void(size_t)> task) override;
  // Queues a background task for a worker thread. A pool of one thread has no workers and returns false, as
  // an Executor that cannot run work in the background does (the caller then runs it itself, when it is safe
  // to). Tasks still queued when the pool is destroyed run before the destructor returns.
  bool Submit(std::function<void()> task) override;

 private:
  struct Job {
    FunctionRef<void(size_t)>* task = nullptr;
    size_t n = 0;
    std::atomic<size_t> next{0};
    std::atomic<size_t> done{0};
  };

  void WorkerLoop();
  static void Drain(Job* job);

  std::vector<std::thread> workers_;
  std::mutex parallel_mu_;  // one ParallelFor at a time
  std::mutex mu_;
  std::deque<std::function<void()>> tasks_;  // guarded by mu_
  std::condition_variable work_cv_;
  std::condition_variable done_cv_;
  Job* job_ = nullptr;        // guarded by mu_
  uint64_t generation_ = 0;   // guarded by mu_; bumps per job
  size_t active_ = 0;         // workers inside the current job, guarded by mu_
  bool stop_ = false;         // guarded by mu_
};

}  // namespace quiver

#endif  // QUIVER_THREAD_POOL_H_
