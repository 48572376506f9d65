// How many jobs the server works on at once, as the dashboard sets it: a `parallel` switch and a
// `concurrency` from 1 to kMaxConcurrency. Parallel off means one job at a time; the value is
// kept so that turning it on again restores it.
//
// Set at start from --fetchers, then by PUT /api/v1/settings and by any submission that sends
// `parallel` or `concurrency` (the latest wins). Each change is applied to the engine
// (Engine::set_max_active_jobs) at once; jobs already running finish.
//
// Thread-safety: all members may be called from any thread once bind() returned; changes are
// applied to the engine in the order they are made. bind() is called once, before the HTTP
// server starts. Ownership: borrows the engine, which outlives the server.
#pragma once

#include <mutex>
#include <optional>

#include <nlohmann/json.hpp>

#include "pipeline/engine.h"
#include "server/api_error.h"

namespace aimara::server {

// The most jobs a server works on at once (the slider's maximum); `aimara serve` starts this many
// fetcher threads.
inline constexpr int kMaxConcurrency = 10;

class WorkLimit {
 public:
  struct Value {
    bool parallel = true;
    int concurrency = 2;  // 1..kMaxConcurrency
    // What the engine is held to: concurrency when parallel, else 1.
    int max_active_jobs() const { return parallel ? concurrency : 1; }
  };

  // `engine` may be nullptr (--workers 0): the value is kept and reported, nothing applies it.
  void bind(pipeline::Engine* engine, Value initial);
  Value get() const;
  // Changes what is given (nullopt keeps it) and applies the result. invalid_request (400) when
  // the concurrency is outside 1..kMaxConcurrency; nothing changes then.
  std::expected<Value, ApiError> update(std::optional<bool> parallel,
                                        std::optional<int> concurrency);

 private:
  mutable std::mutex mu_;
  pipeline::Engine* engine_ = nullptr;  // guarded by mu_ (set once)
  Value value_;                         // guarded by mu_
};

// {"parallel", "concurrency", "max_active_jobs"} of a value, as GET /api/v1/settings has them.
nlohmann::json work_limit_json(const WorkLimit::Value& value);

}  // namespace aimara::server
