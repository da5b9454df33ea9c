#include "quiver/thread_pool.h"

#include <algorithm>

namespace quiver {

ThreadPool::ThreadPool(size_t threads) {
  if (threads == 0) threads = std::max<size_t>(1, std::thread::hardware_concurrency());
  for (size_t i = 1; i < threads; ++i) workers_.emplace_back([this] { WorkerLoop(); });
}

ThreadPool::~ThreadPool() {
  // Drain queued background tasks first.
  for (;;) {
    std::function<void()> task;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (tasks_.empty()) break;
      task = std::move(tasks_.front());
      tasks_.pop_front();
    }
    task();
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

void ThreadPool::Drain(Job* job) {
  for (;;) {
    size_t i = job->next.fetch_add(1, std::memory_order_relaxed);
    if (i >= job->n) return;
    (*job->task)(i);
    job->done.fetch_add(1, std::memory_order_acq_rel);
  }
}

bool ThreadPool::Submit(std::function<void()> task) {
  // Without workers nothing runs in the background. Running the task here instead would run it inside the
  // caller, which may hold locks the task takes (the engine schedules merges while holding its write lock).
  if (workers_.empty()) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back(std::move(task));
  }
  work_cv_.notify_one();
  return true;
}

void ThreadPool::WorkerLoop() {
  uint64_t seen = 0;
  for (;;) {
    Job* job;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] { return stop_ || (job_ != nullptr && generation_ != seen) || !tasks_.empty(); });
      if (stop_) return;
      if (!(job_ != nullptr && generation_ != seen)) {
        std::function<void()> task = std::move(tasks_.front());
        tasks_.pop_front();
        lock.unlock();
        task();
        continue;
      }
      seen = generation_;
      job = job_;
      ++active_;
    }
    Drain(job);
    {
      std::lock_guard<std::mutex> lock(mu_);
      --active_;
    }
    done_cv_.notify_all();
  }
}

void ThreadPool::ParallelFor(size_t n, FunctionRef<void(size_t)> task) {
  if (n == 0) return;
  if (workers_.empty() || n == 1) {
    for (size_t i = 0; i < n; ++i) task(i);
    return;
  }
  std::lock_guard<std::mutex> serial(parallel_mu_);
  Job job;
  job.task = &task;
  job.n = n;
  {
    std::lock_guard<std::mutex> lock(mu_);
    job_ = &job;
    ++generation_;
  }
  work_cv_.notify_all();
  Drain(&job);
  std::unique_lock<std::mutex> lock(mu_);
  // Wait until every task finished and no worker still holds a pointer to this stack frame's job.
  done_cv_.wait(lock, [&] { return job.done.load(std::memory_order_acquire) == n && active_ == 0; });
  job_ = nullptr;
}

}  // namespace quiver
