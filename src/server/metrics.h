// GET /metrics: Prometheus text exposition format (version 0.0.4).
//
//   aimara_jobs{state="..."}                 jobs in the store by state (every state, zeros too)
//   aimara_audio_seconds_transcribed_total   audio this process's engine transcribed
//   aimara_asr_seconds_total                 ASR worker seconds spent on it
//   aimara_realtime_factor                   audio seconds per ASR worker second
//   aimara_active_jobs                       jobs this engine holds now
//   aimara_queued_chunks                     chunks waiting for an ASR worker
//   aimara_event_stream_clients              open event streams
//   aimara_events_published_total            events the hub fanned out
//   aimara_http_requests_total               requests answered
//   aimara_uptime_seconds
//
// Thread-safety: reads the store and atomics only; safe from any thread.
#pragma once

#include <string>

#include "core/error.h"
#include "server/httplib_config.h"
#include "server/server_context.h"

namespace aimara::server {

Result<std::string> render_metrics(ServerContext& ctx);

void register_metrics_route(httplib::Server& http, ServerContext& ctx);

}  // namespace aimara::server
