// The jobs API (docs/api.md): submit URLs or uploads, list and inspect jobs, cancel and retry.
// (A job's media for the dashboard's player: media_api.h; the settings: settings_api.h.)
//
//   POST /api/v1/jobs                 JSON {url | urls, language, model, priority, parallel,
//                                     concurrency} or multipart with a `file` -> 202 with ids
//   GET  /api/v1/jobs                 state, parent_id, top_level, limit, offset, order
//   GET  /api/v1/jobs/{id}            the job with its timings, chunks and children
//   POST /api/v1/jobs/{id}/cancel     -> the job
//   POST /api/v1/jobs/{id}/retry      -> the job
//
// The handlers only parse, check and write to the store: the engine's threads pick the jobs up.
// enqueue_urls / enqueue_upload are shared with the synchronous endpoint (transcribe_api.h).
// A submission's `model` must name the loaded model (served_model.h: 400 model_unavailable);
// its `parallel` / `concurrency`, when sent, become the server's work limit (work_limit.h).
//
// Thread-safety: the handlers run on many HTTP threads at once; they share only the context.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/api_error.h"
#include "server/server_context.h"
#include "server/uploads.h"

namespace aimara::server {

void register_jobs_api(httplib::Server& http, ServerContext& ctx);

// Job options as a client may send them (JSON body or form fields), checked.
struct SubmitOptions {
  std::string language;  // empty: the server's
  std::string model;     // empty, or the loaded model (choose_model)
  int64_t priority = 0;
  std::optional<bool> parallel;
  std::optional<int> concurrency;  // 1..10
  nlohmann::json to_json() const;
};
std::expected<SubmitOptions, ApiError> submit_options_from_json(const nlohmann::json& body);
std::expected<SubmitOptions, ApiError> submit_options_from_form(const Upload& form);

// Refuses a `model` other than the loaded one (400 model_unavailable); an accepted name is
// rewritten to the loaded model's name.
std::expected<void, ApiError> choose_model(const ServerContext& ctx, SubmitOptions& options);

// Checks every URL (url_guard.h) and only then enqueues them all; `parallel` / `concurrency`
// given in the options are applied to the work limit before anything is enqueued. Returns one entry per URL:
// {"id", "created", "state", "url"}.
std::expected<nlohmann::json, ApiError> enqueue_urls(ServerContext& ctx,
                                                     const std::vector<std::string>& urls,
                                                     const SubmitOptions& options);
// Enqueues a received upload as a local job (the upload is kept for the job), applying the work
// limit as above. One entry as above.
std::expected<nlohmann::json, ApiError> enqueue_upload(ServerContext& ctx, Upload& upload,
                                                       const SubmitOptions& options);

}  // namespace aimara::server
