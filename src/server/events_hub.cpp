#include "server/events_hub.h"

#include <algorithm>
#include <charconv>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "server/api_error.h"
#include "server/job_json.h"

namespace aimara::server {

namespace {

constexpr int kFeedPage = 500;
constexpr size_t kMaxBatch = 256;
constexpr auto kKeepAlive = std::chrono::seconds(15);
constexpr auto kWaitSlice = std::chrono::milliseconds(1000);

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string event_type(std::optional<jobs::JobState> before, jobs::JobState now, bool progressed) {
  if (!before) return "job.created";
  if (*before != now) {
    switch (now) {
      case jobs::JobState::kCompleted:
        return "job.completed";
      case jobs::JobState::kFailed:
      case jobs::JobState::kDead:
        return "job.failed";
      case jobs::JobState::kCancelled:
        return "job.cancelled";
      default:
        return "job.stage";
    }
  }
  return progressed ? "job.progress" : "job.updated";
}

}  // namespace

std::string format_event(const ServerEvent& e) {
  return fmt::format("id: {}\nevent: {}\ndata: {}\n\n", e.id, e.type, e.data);
}

EventsHub::EventsHub(std::shared_ptr<store::Store> store, Options options)
    : store_(std::move(store)), options_(options) {}

EventsHub::~EventsHub() { stop(); }

Result<void> EventsHub::start() {
  // Everything that exists now is the starting point: no events for it.
  for (;;) {
    auto page = store_->jobs_changed_since(feed_seq_, 1000);
    if (!page) return std::unexpected(page.error());
    if (page->empty()) break;
    for (const auto& c : *page) {
      seen_[c.job.id] = Seen{c.job.state, c.job.progress};
      feed_seq_ = std::max(feed_seq_, c.seq);
    }
  }
  {
    std::lock_guard lock(mu_);
    newest_id_ = feed_seq_;
  }
  poller_ = std::jthread([this](std::stop_token st) { poll_loop(st); });
  return {};
}

void EventsHub::stop() {
  stopping_ = true;
  { std::lock_guard lock(mu_); }
  cv_.notify_all();
  if (poller_.joinable()) {
    poller_.request_stop();
    poller_.join();
  }
}

void EventsHub::poll_loop(std::stop_token stop) {
  std::mutex sleep_mu;
  std::condition_variable_any sleep_cv;
  while (!stop.stop_requested()) {
    try {
      for (;;) {
        auto page = store_->jobs_changed_since(feed_seq_, kFeedPage);
        if (!page) {
          spdlog::warn("events: cannot read the change feed: {}", page.error().to_string());
          break;
        }
        if (page->empty()) break;
        publish_changes(*page);
        if (page->size() < static_cast<size_t>(kFeedPage)) break;
      }
    } catch (const std::exception& e) {
      spdlog::error("events: {}", e.what());
    }
    std::unique_lock lock(sleep_mu);
    sleep_cv.wait_for(lock, stop, std::chrono::milliseconds(options_.poll_ms),
                      [] { return false; });
  }
}

void EventsHub::publish_changes(const std::vector<store::JobChange>& changes) {
  std::vector<ServerEvent> events;
  const int64_t now = now_ms();
  for (const auto& c : changes) {
    feed_seq_ = std::max(feed_seq_, c.seq);
    auto it = seen_.find(c.job.id);
    std::optional<jobs::JobState> before;
    bool progressed = false;
    if (it != seen_.end()) {
      before = it->second.state;
      progressed = it->second.progress != c.job.progress;
    }
    seen_[c.job.id] = Seen{c.job.state, c.job.progress};
    events.push_back(ServerEvent{
        c.seq, event_type(before, c.job.state, progressed),
        job_json(c.job, now).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)});
  }
  if (events.empty()) return;
  {
    std::lock_guard lock(mu_);
    for (auto& e : events) {
      newest_id_ = std::max(newest_id_, e.id);
      history_.push_back(std::move(e));
      if (history_.size() > options_.history) history_.pop_front();
    }
  }
  published_ += static_cast<int64_t>(events.size());
  cv_.notify_all();
}

std::unique_ptr<EventsHub::Client> EventsHub::connect(std::optional<int64_t> last_event_id) {
  if (stopping_) return nullptr;
  int n = clients_.load();
  do {
    if (n >= options_.max_clients) return nullptr;
  } while (!clients_.compare_exchange_weak(n, n + 1));
  std::lock_guard lock(mu_);
  int64_t cursor = newest_id_;
  if (last_event_id && *last_event_id >= 0 && *last_event_id <= newest_id_) cursor = *last_event_id;
  return std::unique_ptr<Client>(new Client(*this, cursor));
}

EventsHub::Client::~Client() { --hub_.clients_; }

std::vector<ServerEvent> EventsHub::Client::next(std::chrono::milliseconds timeout) {
  std::unique_lock lock(hub_.mu_);
  hub_.cv_.wait_for(lock, timeout,
                    [this] { return hub_.stopping_.load() || hub_.newest_id_ > cursor_; });
  std::vector<ServerEvent> out;
  if (hub_.stopping_) return out;
  // History is in id order: skip what this client has seen.
  auto it = std::upper_bound(hub_.history_.begin(), hub_.history_.end(), cursor_,
                             [](int64_t c, const ServerEvent& e) { return c < e.id; });
  for (; it != hub_.history_.end() && out.size() < kMaxBatch; ++it) out.push_back(*it);
  if (!out.empty()) {
    cursor_ = out.back().id;
  } else {
    cursor_ = std::max(cursor_, hub_.newest_id_);
  }
  return out;
}

void register_events_route(httplib::Server& http, ServerContext& ctx) {
  http.Get("/api/v1/events",
           guarded(Handler([&ctx](const httplib::Request& req, httplib::Response& res) {
             std::optional<int64_t> last;
             const std::string header = req.has_header("Last-Event-ID")
                                            ? req.get_header_value("Last-Event-ID")
                                            : req.get_param_value("last_event_id");
             if (!header.empty()) {
               int64_t v = 0;
               auto [p, ec] = std::from_chars(header.data(), header.data() + header.size(), v);
               if (ec == std::errc() && p == header.data() + header.size()) last = v;
             }
             std::shared_ptr<EventsHub::Client> client = ctx.hub->connect(last);
             if (!client) {
               return send_error(
                   res, api_error(503, "too_many_clients",
                                  ctx.hub->stopped()
                                      ? "the server is shutting down"
                                      : "too many event streams are open; try again later"));
             }
             res.set_header("Cache-Control", "no-cache");
             res.set_header("X-Accel-Buffering", "no");
             auto last_write = std::make_shared<std::chrono::steady_clock::time_point>(
                 std::chrono::steady_clock::now());
             auto greeted = std::make_shared<bool>(false);
             EventsHub* hub = ctx.hub;
             res.set_chunked_content_provider(
                 "text/event-stream",
                 [client, hub, last_write, greeted](size_t, httplib::DataSink& sink) {
                   if (!*greeted) {
                     *greeted = true;
                     const std::string hello = "retry: 3000\n: connected\n\n";
                     return sink.write(hello.data(), hello.size());
                   }
                   auto events = client->next(kWaitSlice);
                   if (hub->stopped()) return false;
                   std::string out;
                   for (const auto& e : events) out += format_event(e);
                   const auto now = std::chrono::steady_clock::now();
                   if (out.empty()) {
                     if (now - *last_write < kKeepAlive) return sink.is_writable();
                     out = ": keep-alive\n\n";
                   }
                   *last_write = now;
                   return sink.write(out.data(), out.size());
                 });
           })));
}

}  // namespace aimara::server
