#include "asr/worker_pool.h"

#include <algorithm>

#include <spdlog/spdlog.h>

namespace aimara::asr {

Result<std::unique_ptr<WorkerPool>> WorkerPool::create(std::shared_ptr<WhisperModel> model,
                                                       int workers, size_t queue_capacity) {
  workers = std::max(1, workers);
  std::vector<std::unique_ptr<WhisperWorker>> ws;
  for (int i = 0; i < workers; ++i) {
    auto w = model->new_worker();
    if (!w) return std::unexpected(w.error());
    ws.push_back(std::move(*w));
  }
  size_t cap = queue_capacity > 0 ? queue_capacity : static_cast<size_t>(workers) * 2;
  return std::unique_ptr<WorkerPool>(new WorkerPool(std::move(ws), cap));
}

WorkerPool::WorkerPool(std::vector<std::unique_ptr<WhisperWorker>> workers, size_t capacity)
    : workers_(std::move(workers)), queue_(capacity) {
  for (size_t i = 0; i < workers_.size(); ++i) {
    threads_.emplace_back([this, i](std::stop_token stop) { run(i, stop); });
  }
}

WorkerPool::~WorkerPool() { drain(); }

bool WorkerPool::submit(Task task, std::stop_token stop) { return queue_.push(std::move(task), stop); }

void WorkerPool::drain() {
  queue_.close();
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

void WorkerPool::cancel() {
  queue_.close();
  for (auto& t : threads_) t.request_stop();
  drain();
}

void WorkerPool::run(size_t index, std::stop_token stop) {
  while (auto task = queue_.pop()) {
    if (stop.stop_requested()) continue;  // drop what is left after cancel()
    try {
      (*task)(*workers_[index], stop);
    } catch (const std::exception& e) {
      spdlog::error("ASR worker {}: task failed: {}", index, e.what());
    }
  }
}

PoolShape choose_pool_shape(int cores, int workers, int threads) {
  cores = std::max(1, cores);
  if (workers > 0 && threads > 0) return {workers, threads};
  if (workers > 0) return {workers, std::max(1, cores / workers)};
  if (threads > 0) return {std::max(1, cores / threads), threads};
  // Measured on 2 cores: one thread per state is best; beyond 4 states per machine the memory of
  // states grows while throughput flattens, so larger machines use 2-4 threads per state.
  if (cores <= 4) return {cores, 1};
  int t = cores >= 16 ? 4 : 2;
  return {cores / t, t};
}

}  // namespace aimara::asr
