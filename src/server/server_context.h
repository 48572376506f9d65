// What every route of the server shares: the store, the engine (when this process runs workers),
// the events hub, the options and the counters /metrics reports.
//
// Thread-safety: ServerContext is built before the server starts and not changed after, apart
// from the atomic counters and the work limit (thread-safe itself, work_limit.h); the store,
// engine and hub are thread-safe themselves. Ownership: the context borrows the engine and hub
// from serve() (serve.h), which outlives the HTTP server.
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>

#include "pipeline/engine.h"
#include "server/serve_options.h"
#include "server/served_model.h"
#include "server/url_guard.h"
#include "server/work_limit.h"
#include "store/store.h"

namespace aimara::server {

class EventsHub;

struct ServerContext {
  ServeOptions options;
  std::shared_ptr<store::Store> store;
  pipeline::Engine* engine = nullptr;  // nullptr: no in-process workers (--workers 0)
  EventsHub* hub = nullptr;
  UrlPolicy url_policy;
  std::filesystem::path upload_dir;  // <data dir>/uploads
  int workers = 0;                   // ASR workers of the engine (0 without one)
  ServedModel model;                 // the one model jobs run with
  WorkLimit work_limit;              // jobs worked on at once (parallel, concurrency)
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  std::atomic<int64_t> requests{0};
  std::atomic<int> sync_in_flight{0};  // synchronous transcriptions waiting now (SyncSlot)
  std::atomic<bool> stopping{false};
};

}  // namespace aimara::server
