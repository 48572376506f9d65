// A persistent pool of ASR workers over one shared model.
//
// N threads, each owning a WhisperWorker (its own whisper_state), take tasks from one bounded
// queue. Tasks from many files or jobs interleave, so no core waits while one item is still
// being decoded or downloaded. submit() blocks while the queue is full (backpressure).
// A task is a closure run on a worker thread; it must not throw (exceptions are caught, logged
// and the task is counted as failed, but the closure owns reporting its own outcome).
// Thread-safety: submit() and size() from any thread; the destructor stops and joins.
#pragma once

#include <functional>
#include <memory>
#include <stop_token>
#include <thread>
#include <vector>

#include "asr/whisper_engine.h"
#include "core/bounded_queue.h"

namespace aimara::asr {

class WorkerPool {
 public:
  using Task = std::function<void(WhisperWorker& worker, std::stop_token stop)>;

  // Creates `workers` states up front (so an out-of-memory shows at start, not mid-run).
  static Result<std::unique_ptr<WorkerPool>> create(std::shared_ptr<WhisperModel> model,
                                                    int workers, size_t queue_capacity = 0);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  // False when the pool is shutting down or `stop` fired while waiting for room.
  bool submit(Task task, std::stop_token stop = {});
  // Stops taking tasks, lets queued ones finish, joins the threads.
  void drain();
  // Asks running tasks to stop (their stop_token fires) and drops queued ones.
  void cancel();

  int size() const { return static_cast<int>(workers_.size()); }
  size_t queued() const { return queue_.size(); }

 private:
  WorkerPool(std::vector<std::unique_ptr<WhisperWorker>> workers, size_t capacity);
  void run(size_t index, std::stop_token stop);

  std::vector<std::unique_ptr<WhisperWorker>> workers_;
  BoundedQueue<Task> queue_;
  std::vector<std::jthread> threads_;
};

// Workers x threads that fill `cores` (ARCHITECTURE: two 1-thread states beat one 2-thread
// state by ~7% on 2 cores). Either value may be given (> 0) and the other is derived.
struct PoolShape {
  int workers;
  int threads;
};
PoolShape choose_pool_shape(int cores, int workers, int threads);

}  // namespace aimara::asr
