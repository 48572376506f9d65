// Live job events for every event-stream client, from ONE reader of the store.
//
// The hub's poller thread reads the store's change feed (Store::jobs_changed_since) every
// `poll_ms`, turns each changed job into one event and appends it to a bounded history (the last
// `history` events). Clients never touch the store: each one waits on the hub for events past
// its cursor. So a thousand dashboards cost one query per poll, not a thousand.
//
// An event's id is the store's change number of that job change, so ids grow across restarts
// and a reconnecting client (Last-Event-ID) gets what it missed while that is still in the
// history. Types: job.created (a job the hub had not seen), job.stage (state changed),
// job.progress, job.completed, job.failed (failed or dead), job.cancelled, job.updated (other
// fields, e.g. the title became known). data is the job object of job_json.h.
//
// register_events_route() serves GET /api/v1/events as text/event-stream; each stream holds one
// HTTP thread while it is open (httplib's model), so the server sizes its pool for
// max_clients streams plus the API's own threads, and refuses streams beyond max_clients
// (503 too_many_clients) so the API is never starved.
//
// Thread-safety: all members may be called from any thread. stop() wakes every waiting client;
// the destructor stops.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "jobs/job.h"
#include "server/httplib_config.h"
#include "server/server_context.h"
#include "store/store.h"

namespace aimara::server {

struct ServerEvent {
  int64_t id = 0;
  std::string type;  // "job.stage"
  std::string data;  // the job object, JSON on one line
};

// "id: 7\nevent: job.stage\ndata: {...}\n\n"
std::string format_event(const ServerEvent& event);

class EventsHub {
 public:
  struct Options {
    int poll_ms = 250;
    size_t history = 4096;
    int max_clients = 256;
  };

  EventsHub(std::shared_ptr<store::Store> store, Options options);
  ~EventsHub();
  EventsHub(const EventsHub&) = delete;
  EventsHub& operator=(const EventsHub&) = delete;

  // Reads the feed up to now (no events for what already exists) and starts the poller.
  Result<void> start();
  void stop();
  bool stopped() const { return stopping_.load(); }

  // A client's place in the stream. Destroying it frees the client's slot.
  class Client {
   public:
    ~Client();
    Client(const Client&) = delete;
    Client& operator=(const Client&) = delete;
    // Events after the cursor (at most 256), waiting up to `timeout` for the first one; empty on
    // timeout or when the hub stops.
    std::vector<ServerEvent> next(std::chrono::milliseconds timeout);

   private:
    friend class EventsHub;
    Client(EventsHub& hub, int64_t cursor) : hub_(hub), cursor_(cursor) {}
    EventsHub& hub_;
    int64_t cursor_;
  };

  // A new client starting after `last_event_id` (or at the newest event when nullopt or too
  // far ahead); nullptr when max_clients are connected or the hub is stopped.
  std::unique_ptr<Client> connect(std::optional<int64_t> last_event_id);
  int clients() const { return clients_.load(); }
  int64_t events_published() const { return published_.load(); }

  // Turns job changes into events (what the poller does with each feed page). Public for tests.
  void publish_changes(const std::vector<store::JobChange>& changes);

 private:
  struct Seen {
    jobs::JobState state;
    double progress;
  };
  void poll_loop(std::stop_token stop);

  std::shared_ptr<store::Store> store_;
  Options options_;
  std::atomic<bool> stopping_{false};
  std::atomic<int> clients_{0};
  std::atomic<int64_t> published_{0};
  int64_t feed_seq_ = 0;                    // poller thread only
  std::unordered_map<int64_t, Seen> seen_;  // poller thread only

  mutable std::mutex mu_;
  std::condition_variable cv_;       // a new event, or stopping
  std::deque<ServerEvent> history_;  // guarded by mu_
  int64_t newest_id_ = 0;            // guarded by mu_
  std::jthread poller_;
};

// GET /api/v1/events on `http`, fed by ctx.hub.
void register_events_route(httplib::Server& http, ServerContext& ctx);

}  // namespace aimara::server
