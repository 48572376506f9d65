// A bounded multi-producer multi-consumer queue: the joint between pipeline stages.
//
// push() blocks while the queue is full (backpressure: a fast producer never grows memory),
// pop() blocks while it is empty. close() wakes everyone: pushes then fail, pops drain what is
// left and then return nullopt. Both take an optional stop_token and give up when it fires.
// Thread-safety: all members are safe to call from any thread.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <stop_token>

namespace aimara {

template <typename T>
class BoundedQueue {
 public:
  explicit BoundedQueue(size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {}

  // False when the queue was closed or `stop` fired before there was room.
  bool push(T value, std::stop_token stop = {}) {
    std::unique_lock lock(mu_);
    std::condition_variable_any& cv = not_full_;
    if (!cv.wait(lock, stop, [&] { return closed_ || items_.size() < capacity_; })) return false;
    if (closed_) return false;
    items_.push_back(std::move(value));
    not_empty_.notify_one();
    return true;
  }

  // nullopt when closed and drained, or when `stop` fired.
  std::optional<T> pop(std::stop_token stop = {}) {
    std::unique_lock lock(mu_);
    if (!not_empty_.wait(lock, stop, [&] { return closed_ || !items_.empty(); })) {
      return std::nullopt;
    }
    if (items_.empty()) return std::nullopt;
    T v = std::move(items_.front());
    items_.pop_front();
    not_full_.notify_one();
    return v;
  }

  void close() {
    std::lock_guard lock(mu_);
    closed_ = true;
    not_full_.notify_all();
    not_empty_.notify_all();
  }

  size_t size() const {
    std::lock_guard lock(mu_);
    return items_.size();
  }
  size_t capacity() const { return capacity_; }

 private:
  const size_t capacity_;
  mutable std::mutex mu_;
  std::condition_variable_any not_full_;
  std::condition_variable_any not_empty_;
  std::deque<T> items_;  // guarded by mu_
  bool closed_ = false;  // guarded by mu_
};

}  // namespace aimara
