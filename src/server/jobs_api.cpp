#include "server/jobs_api.h"

#include <chrono>

#include <fmt/format.h>

#include "asr/whisper_engine.h"
#include "media/platform.h"
#include "server/job_json.h"

namespace aimara::server {

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Checks the options and writes the language as its code ("Spanish" -> "es").
std::expected<void, ApiError> check_options(SubmitOptions& o) {
  if (!o.language.empty()) {
    auto code = asr::parse_language(o.language);
    if (!code) return std::unexpected(api_error(400, "invalid_request", code.error().message));
    o.language = *code;
  }
  if (o.concurrency && (*o.concurrency < 1 || *o.concurrency > kMaxConcurrency)) {
    return std::unexpected(api_error(
        400, "invalid_request", fmt::format("'concurrency' is from 1 to {}", kMaxConcurrency)));
  }
  if (o.model.size() > 200) {
    return std::unexpected(api_error(400, "invalid_request", "'model' is too long"));
  }
  return {};
}

std::expected<int64_t, ApiError> parse_int_text(const std::string& name, const std::string& v) {
  try {
    size_t used = 0;
    const long long n = std::stoll(v, &used);
    if (used == v.size()) return n;
  } catch (const std::exception&) {
  }
  return std::unexpected(api_error(400, "invalid_request", "'" + name + "' must be an integer"));
}

nlohmann::json enqueued_json(const store::Enqueued& e, const std::string& url) {
  return {{"id", e.id}, {"created", e.created}, {"state", jobs::state_name(e.state)}, {"url", url}};
}

void send_accepted(httplib::Response& res, nlohmann::json entries) {
  nlohmann::json ids = nlohmann::json::array();
  for (const auto& e : entries) ids.push_back(e["id"]);
  send_json(res, 202, {{"jobs", std::move(entries)}, {"ids", std::move(ids)}});
}

void post_jobs(ServerContext& ctx, const httplib::Request& req, httplib::Response& res,
               const httplib::ContentReader& reader) {
  if (req.is_multipart_form_data()) {
    auto form = receive_upload(req, reader, ctx.upload_dir, ctx.options.max_upload_bytes);
    if (!form) return send_error(res, form.error());
    if (!form->has_file()) {
      return send_error(res, api_error(400, "invalid_request", "the form has no 'file' part"));
    }
    if (form->bytes() == 0) {
      return send_error(res,
                        api_error(422, "media_invalid",
                                  "the file '" + form->client_name() + "' is empty (0 bytes)"));
    }
    auto options = submit_options_from_form(*form);
    if (!options) return send_error(res, options.error());
    if (auto m = choose_model(ctx, *options); !m) return send_error(res, m.error());
    auto entry = enqueue_upload(ctx, *form, *options);
    if (!entry) return send_error(res, entry.error());
    return send_accepted(res, nlohmann::json::array({*entry}));
  }
  auto body = read_small_body(req, reader, ctx.options.max_json_bytes);
  if (!body) return send_error(res, body.error());
  auto json = parse_json_object(*body);
  if (!json) return send_error(res, api_error(400, "invalid_request", json.error().message));
  std::vector<std::string> urls;
  if (json->contains("url")) {
    if (!(*json)["url"].is_string()) {
      return send_error(res, api_error(400, "invalid_request", "'url' must be a string"));
    }
    urls.push_back((*json)["url"].get<std::string>());
  }
  if (json->contains("urls")) {
    const auto& list = (*json)["urls"];
    if (!list.is_array()) {
      return send_error(res, api_error(400, "invalid_request", "'urls' must be an array"));
    }
    for (const auto& u : list) {
      if (!u.is_string()) {
        return send_error(res, api_error(400, "invalid_request", "'urls' holds strings"));
      }
      urls.push_back(u.get<std::string>());
    }
  }
  if (urls.empty()) {
    return send_error(res, api_error(400, "invalid_request", "give 'url' or 'urls'"));
  }
  if (urls.size() > 1000) {
    return send_error(res, api_error(400, "invalid_request", "at most 1000 URLs per request"));
  }
  auto options = submit_options_from_json(*json);
  if (!options) return send_error(res, options.error());
  if (auto m = choose_model(ctx, *options); !m) return send_error(res, m.error());
  auto entries = enqueue_urls(ctx, urls, *options);
  if (!entries) return send_error(res, entries.error());
  send_accepted(res, std::move(*entries));
}

void get_jobs(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  store::JobFilter f;
  auto limit = query_int(req, "limit", 50, 1, 500);
  auto offset = query_int(req, "offset", 0, 0, 1'000'000'000);
  if (!limit) return send_error(res, limit.error());
  if (!offset) return send_error(res, offset.error());
  f.limit = static_cast<int>(*limit);
  f.offset = static_cast<int>(*offset);
  if (req.has_param("state")) {
    const std::string list = req.get_param_value("state");
    size_t pos = 0;
    while (pos <= list.size()) {
      size_t comma = list.find(',', pos);
      if (comma == std::string::npos) comma = list.size();
      const std::string name = list.substr(pos, comma - pos);
      if (!name.empty()) {
        auto s = jobs::parse_state(name);
        if (!s) {
          return send_error(res, api_error(400, "invalid_request", "unknown state '" + name + "'"));
        }
        f.states.push_back(*s);
      }
      pos = comma + 1;
    }
  }
  if (req.has_param("parent_id")) {
    auto p = query_int(req, "parent_id", 0, 1, INT64_MAX);
    if (!p) return send_error(res, p.error());
    f.parent_id = *p;
  }
  f.top_level_only =
      req.get_param_value("top_level") == "1" || req.get_param_value("top_level") == "true";
  const std::string order = req.has_param("order") ? req.get_param_value("order") : "newest";
  if (order != "newest" && order != "oldest") {
    return send_error(res, api_error(400, "invalid_request", "'order' is newest or oldest"));
  }
  f.newest_first = order == "newest";
  auto list = ctx.store->list_jobs(f);
  if (!list) return send_error(res, from_error(list.error()));
  auto counts = ctx.store->counts_by_state();
  if (!counts) return send_error(res, from_error(counts.error()));
  const int64_t now = now_ms();
  nlohmann::json jobs = nlohmann::json::array();
  for (const auto& j : *list) jobs.push_back(job_json(j, now));
  nlohmann::json c = nlohmann::json::object();
  int64_t total = 0;
  for (jobs::JobState s : jobs::kAllJobStates) c[std::string(jobs::state_name(s))] = 0;
  for (const auto& sc : *counts) {
    c[std::string(jobs::state_name(sc.state))] = sc.jobs;
    total += sc.jobs;
  }
  send_json(res, 200,
            {{"jobs", std::move(jobs)},
             {"limit", f.limit},
             {"offset", f.offset},
             {"counts", std::move(c)},
             {"total", total}});
}

void get_job(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto id = path_id(req);
  if (!id) return send_error(res, id.error());
  auto job = ctx.store->get_job(*id);
  if (!job) return send_error(res, from_error(job.error()));
  nlohmann::json j = job_json(*job, now_ms());
  auto log = ctx.store->job_log(*id);
  if (!log) return send_error(res, from_error(log.error()));
  nlohmann::json timings = nlohmann::json::array();
  for (const auto& e : *log) timings.push_back(timing_json(*job, e));
  j["timings"] = std::move(timings);
  auto chunks = ctx.store->chunks(*id);
  if (!chunks) return send_error(res, from_error(chunks.error()));
  int done = 0;
  for (const auto& c : *chunks) done += c.state == store::ChunkState::kDone ? 1 : 0;
  j["chunks"] = {{"total", chunks->size()}, {"done", done}};
  if (job->kind == jobs::JobKind::kPlaylist) {
    auto kids = ctx.store->children(*id);
    if (!kids) return send_error(res, from_error(kids.error()));
    int completed = 0;
    for (const auto& k : *kids) completed += k.state == jobs::JobState::kCompleted ? 1 : 0;
    j["children"] = {{"total", kids->size()}, {"completed", completed}};
  }
  send_json(res, 200, j);
}

void change_job(ServerContext& ctx, const httplib::Request& req, httplib::Response& res,
                bool cancel) {
  auto id = path_id(req);
  if (!id) return send_error(res, id.error());
  auto job = ctx.store->get_job(*id);
  if (!job) return send_error(res, from_error(job.error()));
  auto r = cancel ? ctx.store->cancel(*id) : ctx.store->retry(*id);
  if (!r) {
    if (r.error().code == ErrorCode::kInvalidArgument) {
      return send_error(res, api_error(409, "conflict", r.error().message));
    }
    return send_error(res, from_error(r.error()));
  }
  auto now = ctx.store->get_job(*id);
  if (!now) return send_error(res, from_error(now.error()));
  send_json(res, 200, job_json(*now, now_ms()));
}

void apply_work_limit(ServerContext& ctx, const SubmitOptions& options) {
  if (!options.parallel && !options.concurrency) return;
  // Checked already (1..kMaxConcurrency), so this cannot be refused.
  (void)ctx.work_limit.update(options.parallel, options.concurrency);
}

}  // namespace

std::expected<void, ApiError> choose_model(const ServerContext& ctx, SubmitOptions& options) {
  if (auto ok = ctx.model.check(options.model); !ok) return ok;
  if (!options.model.empty()) options.model = ctx.model.name();  // one spelling in the store
  return {};
}

nlohmann::json SubmitOptions::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  if (!language.empty()) j["language"] = language;
  if (!model.empty()) j["model"] = model;
  if (parallel) j["parallel"] = *parallel;
  if (concurrency) j["concurrency"] = *concurrency;
  return j;
}

std::expected<SubmitOptions, ApiError> submit_options_from_json(const nlohmann::json& body) {
  SubmitOptions o;
  auto str = [&](const char* key, std::string& out) -> std::expected<void, ApiError> {
    if (!body.contains(key) || body[key].is_null()) return {};
    if (!body[key].is_string()) {
      return std::unexpected(
          api_error(400, "invalid_request", fmt::format("'{}' must be a string", key)));
    }
    out = body[key].get<std::string>();
    return {};
  };
  if (auto r = str("language", o.language); !r) return std::unexpected(r.error());
  if (auto r = str("model", o.model); !r) return std::unexpected(r.error());
  if (body.contains("priority")) {
    if (!body["priority"].is_number_integer()) {
      return std::unexpected(api_error(400, "invalid_request", "'priority' must be an integer"));
    }
    o.priority = body["priority"].get<int64_t>();
  }
  if (body.contains("parallel") && !body["parallel"].is_null()) {
    if (!body["parallel"].is_boolean()) {
      return std::unexpected(api_error(400, "invalid_request", "'parallel' must be true or false"));
    }
    o.parallel = body["parallel"].get<bool>();
  }
  if (body.contains("concurrency") && !body["concurrency"].is_null()) {
    if (!body["concurrency"].is_number_integer()) {
      return std::unexpected(api_error(400, "invalid_request", "'concurrency' must be an integer"));
    }
    const auto c = body["concurrency"].get<int64_t>();
    o.concurrency = static_cast<int>(std::clamp<int64_t>(c, -1, 1000));
  }
  if (auto r = check_options(o); !r) return std::unexpected(r.error());
  return o;
}

std::expected<SubmitOptions, ApiError> submit_options_from_form(const Upload& form) {
  SubmitOptions o;
  o.language = form.field("language").value_or("");
  o.model = form.field("model").value_or("");
  if (auto p = form.field("priority")) {
    auto n = parse_int_text("priority", *p);
    if (!n) return std::unexpected(n.error());
    o.priority = *n;
  }
  if (auto p = form.field("parallel")) o.parallel = *p == "true" || *p == "1" || *p == "on";
  if (auto c = form.field("concurrency")) {
    auto n = parse_int_text("concurrency", *c);
    if (!n) return std::unexpected(n.error());
    o.concurrency = static_cast<int>(std::clamp<int64_t>(*n, -1, 1000));
  }
  if (auto r = check_options(o); !r) return std::unexpected(r.error());
  return o;
}

std::expected<nlohmann::json, ApiError> enqueue_urls(ServerContext& ctx,
                                                     const std::vector<std::string>& urls,
                                                     const SubmitOptions& options) {
  for (const auto& url : urls) {
    if (auto ok = check_url(url, ctx.url_policy); !ok) {
      ApiError e = ok.error();
      e.message = url + ": " + e.message;
      return std::unexpected(e);
    }
  }
  apply_work_limit(ctx, options);
  nlohmann::json out = nlohmann::json::array();
  for (const auto& url : urls) {
    store::NewJob nj;
    nj.source = url;
    const auto link = media::detect_platform(url);
    nj.kind = (link.kind == media::LinkKind::kPlaylist || link.kind == media::LinkKind::kChannel)
                  ? jobs::JobKind::kPlaylist
                  : jobs::JobKind::kMedia;
    nj.media.platform = std::string(media::platform_name(link.platform));
    nj.media.webpage_url = url;
    // The same identity `aimara run` gives its inputs: the same URL is one live job.
    nj.media.extractor = "input";
    nj.media.video_id = url;
    nj.priority = options.priority;
    nj.max_attempts = ctx.options.run.max_attempts;
    nj.options = options.to_json();
    // A playlist, channel or feed sent again is expanded again: new entries are picked up.
    auto e = ctx.store->enqueue_input(nj);
    if (!e) return std::unexpected(from_error(e.error()));
    out.push_back(enqueued_json(*e, url));
  }
  return out;
}

std::expected<nlohmann::json, ApiError> enqueue_upload(ServerContext& ctx, Upload& upload,
                                                       const SubmitOptions& options) {
  apply_work_limit(ctx, options);
  store::NewJob nj;
  nj.source = std::filesystem::absolute(upload.file()).lexically_normal().string();
  nj.kind = jobs::JobKind::kMedia;
  nj.media.platform = "local";
  // The name the client gave, accents and all (the file on disk has an ASCII-only name).
  nj.media.title = std::filesystem::path(upload.client_name()).stem().string();
  if (nj.media.title.empty()) nj.media.title = upload.client_name();
  nj.media.extractor = "upload";
  nj.media.video_id = nj.source;  // a fresh random folder: every upload is its own job
  nj.priority = options.priority;
  nj.max_attempts = ctx.options.run.max_attempts;
  nj.options = options.to_json();
  nj.options["upload"] = upload.client_name();
  auto e = ctx.store->enqueue(nj);
  if (!e) return std::unexpected(from_error(e.error()));
  upload.keep();
  return enqueued_json(*e, "");
}

void register_jobs_api(httplib::Server& http, ServerContext& ctx) {
  http.Post("/api/v1/jobs",
            guarded(ReaderHandler([&ctx](const httplib::Request& req, httplib::Response& res,
                                         const httplib::ContentReader& reader) {
              post_jobs(ctx, req, res, reader);
            })));
  http.Get("/api/v1/jobs",
           guarded(Handler([&ctx](const httplib::Request& req, httplib::Response& res) {
             get_jobs(ctx, req, res);
           })));
  http.Get("/api/v1/jobs/:id",
           guarded(Handler([&ctx](const httplib::Request& req, httplib::Response& res) {
             get_job(ctx, req, res);
           })));
  http.Post("/api/v1/jobs/:id/cancel",
            guarded(Handler([&ctx](const httplib::Request& req, httplib::Response& res) {
              change_job(ctx, req, res, true);
            })));
  http.Post("/api/v1/jobs/:id/retry",
            guarded(Handler([&ctx](const httplib::Request& req, httplib::Response& res) {
              change_job(ctx, req, res, false);
            })));
}

}  // namespace aimara::server
