#include "server/metrics.h"

#include <fmt/format.h>

#include "server/api_error.h"
#include "server/events_hub.h"

namespace aimara::server {

namespace {

void gauge(std::string& out, std::string_view name, std::string_view type, std::string_view help,
           double value) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n{} {}\n", name, help, name, type, name, value);
}

}  // namespace

Result<std::string> render_metrics(ServerContext& ctx) {
  auto counts = ctx.store->counts_by_state();
  if (!counts) return std::unexpected(counts.error());
  std::string out;
  out += "# HELP aimara_jobs Jobs in the store by state.\n# TYPE aimara_jobs gauge\n";
  for (jobs::JobState s : jobs::kAllJobStates) {
    int64_t n = 0;
    for (const auto& c : *counts) {
      if (c.state == s) n = c.jobs;
    }
    out += fmt::format("aimara_jobs{{state=\"{}\"}} {}\n", jobs::state_name(s), n);
  }
  const double audio_s =
      ctx.engine ? static_cast<double>(ctx.engine->audio_ms_transcribed()) / 1000.0 : 0.0;
  const double asr_s = ctx.engine ? ctx.engine->asr_seconds() : 0.0;
  gauge(out, "aimara_audio_seconds_transcribed_total", "counter",
        "Seconds of audio this process transcribed.", audio_s);
  gauge(out, "aimara_asr_seconds_total", "counter", "ASR worker seconds spent transcribing.",
        asr_s);
  gauge(out, "aimara_realtime_factor", "gauge",
        "Audio seconds transcribed per ASR worker second (0 before any).",
        asr_s > 0.0 ? audio_s / asr_s : 0.0);
  gauge(out, "aimara_active_jobs", "gauge", "Jobs this process's engine holds now.",
        ctx.engine ? ctx.engine->active_jobs() : 0);
  gauge(out, "aimara_queued_chunks", "gauge", "Chunks waiting for an ASR worker.",
        ctx.engine ? static_cast<double>(ctx.engine->queued_chunks()) : 0.0);
  gauge(out, "aimara_asr_workers", "gauge", "ASR workers of this process.", ctx.workers);
  gauge(out, "aimara_event_stream_clients", "gauge", "Open event streams.",
        ctx.hub ? ctx.hub->clients() : 0);
  gauge(out, "aimara_events_published_total", "counter", "Job events fanned out to clients.",
        ctx.hub ? static_cast<double>(ctx.hub->events_published()) : 0.0);
  gauge(out, "aimara_http_requests_total", "counter", "HTTP requests answered.",
        static_cast<double>(ctx.requests.load()));
  gauge(out, "aimara_uptime_seconds", "gauge", "Seconds since the server started.",
        std::chrono::duration<double>(std::chrono::steady_clock::now() - ctx.started).count());
  return out;
}

void register_metrics_route(httplib::Server& http, ServerContext& ctx) {
  http.Get("/metrics", guarded(Handler([&ctx](const httplib::Request&, httplib::Response& res) {
             auto text = render_metrics(ctx);
             if (!text) return send_error(res, from_error(text.error()));
             res.status = 200;
             res.set_content(*text, "text/plain; version=0.0.4; charset=utf-8");
           })));
}

}  // namespace aimara::server
