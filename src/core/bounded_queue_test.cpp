#include "core/bounded_queue.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

namespace aimara {
namespace {

TEST(BoundedQueue, NeverHoldsMoreThanCapacity) {
  BoundedQueue<int> q(3);
  size_t max_seen = 0;
  std::jthread producer([&] {
    for (int i = 0; i < 1000; ++i) q.push(i);
    q.close();
  });
  long sum = 0;
  while (auto v = q.pop()) {
    max_seen = std::max(max_seen, q.size());
    sum += *v;
  }
  EXPECT_EQ(sum, 999L * 1000 / 2);
  EXPECT_LE(max_seen, 3u);
}

TEST(BoundedQueue, ManyProducersAndConsumersDeliverEachItemOnce) {
  BoundedQueue<int> q(4);
  std::atomic<long> sum{0};
  std::atomic<int> count{0};
  {
    std::vector<std::jthread> consumers;
    for (int c = 0; c < 3; ++c) {
      consumers.emplace_back([&] {
        while (auto v = q.pop()) {
          sum += *v;
          ++count;
        }
      });
    }
    std::vector<std::jthread> producers;
    for (int p = 0; p < 3; ++p) {
      producers.emplace_back([&, p] {
        for (int i = 0; i < 500; ++i) q.push(p * 500 + i);
      });
    }
    for (auto& t : producers) t.join();
    q.close();
  }
  EXPECT_EQ(count.load(), 1500);
  EXPECT_EQ(sum.load(), 1499L * 1500 / 2);
}

TEST(BoundedQueue, StopTokenUnblocksAFullPush) {
  BoundedQueue<int> q(1);
  ASSERT_TRUE(q.push(1));
  std::stop_source stop;
  std::jthread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    stop.request_stop();
  });
  EXPECT_FALSE(q.push(2, stop.get_token()));
}

TEST(BoundedQueue, ClosedQueueRefusesPushAndDrains) {
  BoundedQueue<int> q(2);
  q.push(7);
  q.close();
  EXPECT_FALSE(q.push(8));
  EXPECT_EQ(q.pop().value_or(-1), 7);
  EXPECT_FALSE(q.pop().has_value());
}

}  // namespace
}  // namespace aimara
