#include "server/transcribe_api.h"

#include <thread>

#include "output/writers.h"
#include "server/content_api.h"
#include "server/job_json.h"
#include "server/jobs_api.h"
#include "server/uploads.h"

namespace aimara::server {

namespace {

int sync_limit(const ServerContext& ctx) { return std::max(1, ctx.options.http_threads / 4); }

std::expected<output::Format, ApiError> parse_format(const std::string& f) {
  if (f.empty() || f == "json") return output::Format::kJson;
  if (f == "txt" || f == "text") return output::Format::kTxt;
  if (f == "srt") return output::Format::kSrt;
  if (f == "vtt") return output::Format::kVtt;
  return std::unexpected(
      api_error(400, "invalid_request", "'format' is one of txt, json, srt, vtt"));
}

void send_transcript(httplib::Response& res, const asr::Transcript& t, output::Format f) {
  res.status = 200;
  res.set_content(output::render(t, f),
                  std::string(transcript_content_type(output::format_extension(f))));
}

void transcribe_url(ServerContext& ctx, httplib::Response& res, const std::string& url,
                    const SubmitOptions& options, output::Format format) {
  auto entries = enqueue_urls(ctx, {url}, options);
  if (!entries) return send_error(res, entries.error());
  const int64_t id = (*entries)[0]["id"].get<int64_t>();
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::seconds(ctx.options.sync_timeout_s);
  for (;;) {
    auto job = ctx.store->get_job(id);
    if (!job) return send_error(res, from_error(job.error()));
    if (job->state == jobs::JobState::kCompleted) {
      auto segments = ctx.store->segments(id);
      if (!segments) return send_error(res, from_error(segments.error()));
      return send_transcript(res, transcript_from_store(*job, *segments), format);
    }
    if (job->state == jobs::JobState::kDead || job->state == jobs::JobState::kCancelled) {
      if (job->last_error) {
        auto code = job->last_error->code;
        ApiError e{
            502, code,
            "job " + std::to_string(id) + ": " + public_message(*job, job->last_error->message)};
        if (code.starts_with("media_")) e.status = 422;
        if (code == "invalid_argument") e.status = 400;
        return send_error(res, e);
      }
      return send_error(res,
                        api_error(409, "conflict", "job " + std::to_string(id) + " was cancelled"));
    }
    if (ctx.stopping || std::chrono::steady_clock::now() >= deadline) {
      return send_error(res, api_error(504, "timeout",
                                       "job " + std::to_string(id) +
                                           " is not finished yet; follow it at /api/v1/jobs/" +
                                           std::to_string(id)));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

void post_transcribe(ServerContext& ctx, const httplib::Request& req, httplib::Response& res,
                     const httplib::ContentReader& reader) {
  if (ctx.engine == nullptr) {
    drain_body(req, reader);
    return send_error(res,
                      api_error(503, "unavailable", "this server runs no workers (--workers 0)"));
  }
  SyncSlot slot(ctx);
  if (!slot) {
    drain_body(req, reader);
    return send_error(res, api_error(503, "unavailable",
                                     "too many synchronous transcriptions at once; use "
                                     "POST /api/v1/jobs or try again"));
  }
  if (req.is_multipart_form_data()) {
    auto form = receive_upload(req, reader, ctx.upload_dir, ctx.options.max_upload_bytes);
    if (!form) return send_error(res, form.error());
    auto format = parse_format(form->field("format").value_or("json"));
    if (!format) return send_error(res, format.error());
    if (!form->has_file()) {
      return send_error(res, api_error(400, "invalid_request", "the form has no 'file' part"));
    }
    auto options = submit_options_from_form(*form);
    if (!options) return send_error(res, options.error());
    if (auto m = choose_model(ctx, *options); !m) return send_error(res, m.error());
    asr::TranscribeOptions asr = ctx.options.run.asr;
    if (!options->language.empty()) asr.language = options->language;
    auto t = ctx.engine->transcribe_file(form->file(), asr);
    if (!t) {
      ApiError e = from_error(t.error());
      e.message = hide_path(std::move(e.message), form->file().string(), form->client_name());
      return send_error(res, e);
    }
    return send_transcript(res, *t, *format);
  }
  auto body = read_small_body(req, reader, ctx.options.max_json_bytes);
  if (!body) return send_error(res, body.error());
  auto json = parse_json_object(*body);
  if (!json) return send_error(res, api_error(400, "invalid_request", json.error().message));
  std::string url;
  for (const char* key : {"youtube_url", "url"}) {
    if (json->contains(key) && (*json)[key].is_string()) url = (*json)[key].get<std::string>();
  }
  if (url.empty()) {
    return send_error(
        res, api_error(400, "invalid_request", "give 'youtube_url' or 'url' (or upload a 'file')"));
  }
  auto format = parse_format(json->value("format", "json"));
  if (!format) return send_error(res, format.error());
  auto options = submit_options_from_json(*json);
  if (!options) return send_error(res, options.error());
  if (auto m = choose_model(ctx, *options); !m) return send_error(res, m.error());
  transcribe_url(ctx, res, url, *options, *format);
}

}  // namespace

SyncSlot::SyncSlot(ServerContext& ctx) : ctx_(ctx) {
  int n = ctx_.sync_in_flight.load();
  do {
    if (n >= sync_limit(ctx_)) return;
  } while (!ctx_.sync_in_flight.compare_exchange_weak(n, n + 1));
  held_ = true;
}

SyncSlot::~SyncSlot() {
  if (held_) --ctx_.sync_in_flight;
}

void register_transcribe_api(httplib::Server& http, ServerContext& ctx) {
  http.Post("/api/v1/transcribe",
            guarded(ReaderHandler([&ctx](const httplib::Request& req, httplib::Response& res,
                                         const httplib::ContentReader& reader) {
              post_transcribe(ctx, req, res, reader);
            })));
}

}  // namespace aimara::server
