// `aimara serve` server-sent events: one poller fans out to many clients, and hundreds of open
// streams do not starve the API. Loopback only; bounded client counts and durations.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <numeric>
#include <regex>

#include <gtest/gtest.h>

#include "server_test_util.h"

namespace aimara::testing {
namespace {

using Clock = std::chrono::steady_clock;

// A raw event-stream client: one socket, what it received so far.
class StreamClient {
 public:
  StreamClient(int port, const std::string& extra_headers = {},
               const std::string& path = "/api/v1/events") {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      ::close(fd_);
      fd_ = -1;
      return;
    }
    const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
                            "Accept: text/event-stream\r\n" + extra_headers + "\r\n";
    if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~StreamClient() {
    if (fd_ >= 0) ::close(fd_);
  }
  StreamClient(const StreamClient&) = delete;
  StreamClient& operator=(const StreamClient&) = delete;

  bool connected() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const std::string& received() const { return buf_; }
  // Reads what is available now (non-blocking).
  void pump() {
    if (fd_ < 0) return;
    char tmp[16384];
    for (;;) {
      const ssize_t n = ::recv(fd_, tmp, sizeof(tmp), MSG_DONTWAIT);
      if (n <= 0) break;
      buf_.append(tmp, static_cast<size_t>(n));
    }
  }
  // Reads until `needle` arrived or the time is up.
  bool wait_for(const std::string& needle, std::chrono::milliseconds timeout) {
    const auto deadline = Clock::now() + timeout;
    while (buf_.find(needle) == std::string::npos) {
      const auto left =
          std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0 || fd_ < 0) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(std::min<int64_t>(left.count(), 200))) > 0) pump();
    }
    return true;
  }

 private:
  int fd_ = -1;
  std::string buf_;
};

// Waits until every client received `needle`, reading all of them with one poll loop.
size_t wait_all(std::vector<std::unique_ptr<StreamClient>>& clients, const std::string& needle,
                std::chrono::milliseconds timeout, const std::string& or_needle = {}) {
  const auto deadline = Clock::now() + timeout;
  auto done = [&] {
    return static_cast<size_t>(std::count_if(clients.begin(), clients.end(), [&](const auto& c) {
      return c->received().find(needle) != std::string::npos ||
             (!or_needle.empty() && c->received().find(or_needle) != std::string::npos);
    }));
  };
  while (done() < clients.size() && Clock::now() < deadline) {
    std::vector<pollfd> fds;
    for (auto& c : clients) fds.push_back(pollfd{c->fd(), POLLIN, 0});
    if (::poll(fds.data(), fds.size(), 100) > 0) {
      for (size_t i = 0; i < fds.size(); ++i) {
        if (fds[i].revents & POLLIN) clients[i]->pump();
      }
    }
  }
  return done();
}

TEST(ServerEvents, JobLifecycleArrivesAsEvents) {
  ServerProcess server(test_server_args());
  ASSERT_GT(server.port(), 0);
  StreamClient stream(server.port());
  ASSERT_TRUE(stream.connected());
  ASSERT_TRUE(stream.wait_for(": connected", std::chrono::seconds(10))) << stream.received();
  EXPECT_NE(stream.received().find("Content-Type: text/event-stream"), std::string::npos);

  auto c = server.client();
  const int64_t id = submit_upload(*c, shared_file("media/jfk.wav").string());
  ASSERT_GT(id, 0);
  ASSERT_TRUE(stream.wait_for("event: job.completed", std::chrono::seconds(120)))
      << stream.received();
  const std::string& got = stream.received();
  const std::string id_field = "\"id\":" + std::to_string(id) + ",";
  EXPECT_NE(got.find("event: job.created"), std::string::npos) << got;
  // Changes closer together than one poll of the store arrive as one event with the latest
  // state (a micro model finishes this file in well under a second), so stage events between
  // created and completed are not asserted here.
  EXPECT_NE(got.find(id_field), std::string::npos) << got;
  // Event ids grow; every data line is one job object.
  std::regex ids(R"(\nid: (\d+)\n)");
  std::vector<int64_t> seen;
  for (auto it = std::sregex_iterator(got.begin(), got.end(), ids); it != std::sregex_iterator();
       ++it) {
    seen.push_back(std::stoll((*it)[1]));
  }
  ASSERT_GE(seen.size(), 2u);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  std::smatch data;
  ASSERT_TRUE(
      std::regex_search(got, data, std::regex(R"(event: job.completed\ndata: (\{[^\n]*\})\n)")));
  auto job = nlohmann::json::parse(data[1].str());
  EXPECT_EQ(job["id"], id);
  EXPECT_EQ(job["state"], "completed");
  for (const char* k : {"parent_id", "stage", "title", "platform", "duration_ms", "progress",
                        "eta_s", "worker", "url", "error", "created_at"}) {
    EXPECT_TRUE(job.contains(k)) << k;
  }

  // A client that reconnects with Last-Event-ID gets what it missed.
  StreamClient late(server.port(), "Last-Event-ID: " + std::to_string(seen.front()) + "\r\n");
  ASSERT_TRUE(late.wait_for("event: job.completed", std::chrono::seconds(10))) << late.received();
  EXPECT_EQ(late.received().find("\nid: " + std::to_string(seen.front()) + "\n"), std::string::npos)
      << "the event named by Last-Event-ID is not sent again";
}

TEST(ServerEvents, ManyStreamsDoNotStarveTheApi) {
  constexpr int kStreams = 220;
  ServerProcess server([] {
    auto a = test_server_args();
    a.insert(a.end(), {"--max-sse-clients", "240"});
    return a;
  }());
  ASSERT_GT(server.port(), 0);
  std::vector<std::unique_ptr<StreamClient>> clients;
  const auto opening = Clock::now();
  for (int i = 0; i < kStreams; ++i) {
    clients.push_back(std::make_unique<StreamClient>(server.port()));
    ASSERT_TRUE(clients.back()->connected()) << "stream " << i;
  }
  EXPECT_EQ(wait_all(clients, ": connected", std::chrono::seconds(30)), clients.size());
  const double open_s = std::chrono::duration<double>(Clock::now() - opening).count();

  // Every stream is held open; the API still answers promptly.
  auto c = server.client();
  auto metrics = c->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("aimara_event_stream_clients " + std::to_string(kStreams)),
            std::string::npos)
      << metrics->body;
  std::vector<double> ms;
  for (int i = 0; i < 20; ++i) {
    const auto t0 = Clock::now();
    auto r = (i % 2 == 0) ? server.client()->Get("/healthz") : c->Get("/api/v1/jobs?limit=5");
    ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    ASSERT_TRUE(r) << "request " << i;
    EXPECT_EQ(r->status, 200);
  }
  std::sort(ms.begin(), ms.end());
  const double median = ms[ms.size() / 2];
  const double worst = ms.back();
  std::printf(
      "[ figures ] %d streams open in %.2f s; API under load: median %.1f ms, max %.1f ms\n",
      kStreams, open_s, median, worst);
  EXPECT_LT(worst, 2000.0) << "an API call waited for a thread";

  // One job: every stream gets its events (one store poll fans out to all).
  const int64_t id = submit_upload(*c, shared_file("media/jfk.wav").string());
  ASSERT_GT(id, 0);
  const auto fan_t0 = Clock::now();
  EXPECT_EQ(wait_all(clients, "event: job.completed", std::chrono::seconds(120)), clients.size());
  std::printf("[ figures ] job.completed reached all %d streams %.2f s after submission\n",
              kStreams, std::chrono::duration<double>(Clock::now() - fan_t0).count());

  // Over the limit: refused, not queued behind the others.
  std::vector<std::unique_ptr<StreamClient>> extra;
  for (int i = 0; i < 25; ++i) extra.push_back(std::make_unique<StreamClient>(server.port()));
  // Headers and body may arrive apart: wait for the body of either answer.
  EXPECT_EQ(wait_all(extra, "too_many_clients", std::chrono::seconds(10), ": connected"),
            extra.size());
  const auto refused = std::count_if(extra.begin(), extra.end(), [](const auto& s) {
    return s->received().find("503") != std::string::npos &&
           s->received().find("too_many_clients") != std::string::npos;
  });
  // 240 allowed, 245 tried: at least 5 refused unless some of the first streams ended meanwhile
  // (a loaded machine may drop one; EventSource reconnects). Never more than the limit open.
  const auto still_open = std::count_if(clients.begin(), clients.end(), [](const auto& s) {
    char b;
    s->pump();
    return ::recv(s->fd(), &b, 1, MSG_DONTWAIT | MSG_PEEK) != 0;
  });
  EXPECT_GE(refused, 1);
  EXPECT_LE(still_open + (25 - refused), 240)
      << still_open << " first streams open, " << 25 - refused << " more accepted";
  EXPECT_GE(refused, 5 - (kStreams - still_open));

  // Closed streams free their slots.
  clients.clear();
  extra.clear();
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  std::string body;
  while (Clock::now() < deadline) {
    body = c->Get("/metrics")->body;
    if (body.find("aimara_event_stream_clients 0\n") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_NE(body.find("aimara_event_stream_clients 0\n"), std::string::npos);
}

TEST(ServerEvents, StreamsNeedTheTokenAndEndOnShutdown) {
  ServerProcess server([] {
    auto a = test_server_args();
    a.insert(a.end(), {"--token", "sse-token"});
    return a;
  }());
  ASSERT_GT(server.port(), 0);
  StreamClient anon(server.port());
  ASSERT_TRUE(anon.wait_for("\r\n\r\n", std::chrono::seconds(10)));
  EXPECT_NE(anon.received().find("401"), std::string::npos) << anon.received();
  // EventSource cannot send headers: the token may come as ?access_token=.
  std::vector<std::unique_ptr<StreamClient>> open;
  open.push_back(
      std::make_unique<StreamClient>(server.port(), "", "/api/v1/events?access_token=sse-token"));
  open.push_back(
      std::make_unique<StreamClient>(server.port(), "Authorization: Bearer sse-token\r\n"));
  for (int i = 0; i < 30; ++i)
    open.push_back(
        std::make_unique<StreamClient>(server.port(), "Authorization: Bearer sse-token\r\n"));
  EXPECT_EQ(wait_all(open, ": connected", std::chrono::seconds(10)), open.size());
  // Shutting down with streams open ends them and exits cleanly, promptly.
  const auto t0 = Clock::now();
  EXPECT_EQ(server.stop(), 0) << server.stderr_text();
  const double stop_s = std::chrono::duration<double>(Clock::now() - t0).count();
  EXPECT_LT(stop_s, 5.0);
  EXPECT_NE(server.stderr_text().find("aimara serve: stopping"), std::string::npos)
      << server.stderr_text();
  std::printf("[ figures ] stopped with %zu open streams in %.2f s\n", open.size(), stop_s);
  for (auto& c : open) {
    char b;
    c->pump();
    EXPECT_EQ(::recv(c->fd(), &b, 1, MSG_DONTWAIT), 0) << "the stream was closed";
  }
}

}  // namespace
}  // namespace aimara::testing
