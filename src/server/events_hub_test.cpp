#include "server/events_hub.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace aimara::server {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

class EventsHubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/aimara-hub-test-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    auto s = store::open_store("sqlite:" + (dir_ / "aimara.db").string());
    ASSERT_TRUE(s.has_value()) << s.error().to_string();
    store_ = std::move(*s);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  int64_t enqueue(const std::string& source) {
    store::NewJob nj;
    nj.source = source;
    nj.media.extractor = "input";
    nj.media.video_id = source;
    auto e = store_->enqueue(nj);
    EXPECT_TRUE(e.has_value());
    return e ? e->id : 0;
  }
  // Feeds the hub what the store changed since `seq` (what the poller does).
  void feed(EventsHub& hub, int64_t& seq) {
    auto page = store_->jobs_changed_since(seq, 100);
    ASSERT_TRUE(page.has_value());
    if (!page->empty()) seq = page->back().seq;
    hub.publish_changes(*page);
  }

  fs::path dir_;
  std::shared_ptr<store::Store> store_;
};

std::vector<std::string> types(const std::vector<ServerEvent>& events) {
  std::vector<std::string> out;
  for (const auto& e : events) out.push_back(e.type);
  return out;
}

TEST_F(EventsHubTest, EachChangeBecomesOneTypedEventForEveryClient) {
  const int64_t existing = enqueue("https://example.com/old.mp3");
  ASSERT_GT(existing, 0);
  EventsHub hub(store_, {.poll_ms = 60'000, .history = 100, .max_clients = 3});
  ASSERT_TRUE(hub.start().has_value());
  auto a = hub.connect(std::nullopt);
  auto b = hub.connect(std::nullopt);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(hub.clients(), 2);
  EXPECT_TRUE(a->next(10ms).empty()) << "what existed before start is no event";

  int64_t seq = 0;
  {
    auto page = store_->jobs_changed_since(0, 100);
    ASSERT_TRUE(page.has_value());
    seq = page->back().seq;
  }
  const int64_t id = enqueue("https://example.com/new.mp3");
  feed(hub, seq);
  auto claimed = store_->claim("w", 60'000);
  ASSERT_TRUE(claimed.has_value() && claimed->has_value());
  // Claims take the oldest job first: finish the old one, then work the new one.
  ASSERT_TRUE(store_->complete((*claimed)->lease).has_value());
  feed(hub, seq);
  auto second = store_->claim("w", 60'000);
  ASSERT_TRUE(second.has_value() && second->has_value());
  const auto lease = (*second)->lease;
  ASSERT_EQ(lease.job_id, id);
  feed(hub, seq);
  ASSERT_TRUE(store_->set_progress(lease, 0.5).has_value());
  feed(hub, seq);
  ASSERT_TRUE(store_->complete(lease).has_value());
  feed(hub, seq);

  const auto got = a->next(10ms);
  EXPECT_EQ(types(got), (std::vector<std::string>{"job.created", "job.completed", "job.stage",
                                                  "job.progress", "job.completed"}));
  EXPECT_EQ(types(b->next(10ms)), types(got)) << "every client sees the same events";
  for (size_t i = 1; i < got.size(); ++i) EXPECT_LT(got[i - 1].id, got[i].id);
  const auto data = nlohmann::json::parse(got.back().data);
  EXPECT_EQ(data["id"], id);
  EXPECT_EQ(data["state"], "completed");
  EXPECT_EQ(
      format_event(got.back())
          .rfind("id: " + std::to_string(got.back().id) + "\nevent: job.completed\ndata: {", 0),
      0u);

  // Reconnecting after the second event replays the rest.
  auto c = hub.connect(got[1].id);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->next(10ms).size(), got.size() - 2);
  // The client limit holds; a slot is freed when a client goes.
  EXPECT_EQ(hub.connect(std::nullopt), nullptr);
  c.reset();
  EXPECT_NE(hub.connect(std::nullopt), nullptr);
}

TEST_F(EventsHubTest, PollerPublishesAndStopWakesWaiters) {
  EventsHub hub(store_, {.poll_ms = 20, .history = 100, .max_clients = 10});
  ASSERT_TRUE(hub.start().has_value());
  auto client = hub.connect(std::nullopt);
  ASSERT_TRUE(client);
  const int64_t id = enqueue("https://example.com/a.mp3");
  const auto events = client->next(5s);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].type, "job.created");
  EXPECT_EQ(nlohmann::json::parse(events[0].data)["id"], id);

  std::thread stopper([&] {
    std::this_thread::sleep_for(100ms);
    hub.stop();
  });
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_TRUE(client->next(10s).empty());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 5s) << "stop() wakes a waiting client";
  stopper.join();
  EXPECT_TRUE(hub.stopped());
  EXPECT_EQ(hub.connect(std::nullopt), nullptr);
}

}  // namespace
}  // namespace aimara::server
