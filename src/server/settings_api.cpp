#include "server/settings_api.h"

#include <algorithm>

#include <fmt/format.h>

namespace aimara::server {

namespace {

void change_settings(ServerContext& ctx, const httplib::Request& req, httplib::Response& res,
                     const httplib::ContentReader& reader) {
  auto body = read_small_body(req, reader, ctx.options.max_json_bytes);
  if (!body) return send_error(res, body.error());
  auto json = parse_json_object(*body);
  if (!json) return send_error(res, api_error(400, "invalid_request", json.error().message));
  std::optional<bool> parallel;
  std::optional<int> concurrency;
  for (const auto& [key, value] : json->items()) {
    if (key == "parallel") {
      if (!value.is_boolean()) {
        return send_error(res,
                          api_error(400, "invalid_request", "'parallel' must be true or false"));
      }
      parallel = value.get<bool>();
    } else if (key == "concurrency") {
      if (!value.is_number_integer()) {
        return send_error(res, api_error(400, "invalid_request",
                                         fmt::format("'concurrency' is an integer from 1 to {}",
                                                     kMaxConcurrency)));
      }
      concurrency = static_cast<int>(std::clamp<int64_t>(value.get<int64_t>(), -1, 1000));
    } else {
      return send_error(res, api_error(400, "invalid_request",
                                       "'" + key +
                                           "' cannot be changed here; only 'parallel' and "
                                           "'concurrency' can"));
    }
  }
  if (!parallel && !concurrency) {
    return send_error(res,
                      api_error(400, "invalid_request", "give 'parallel' and/or 'concurrency'"));
  }
  auto changed = ctx.work_limit.update(parallel, concurrency);
  if (!changed) return send_error(res, changed.error());
  send_json(res, 200, settings_json(ctx));
}

}  // namespace

nlohmann::json settings_json(const ServerContext& ctx) {
  const auto& o = ctx.options;
  nlohmann::json j = {{"model", ctx.model.name()},
                      {"models", {ctx.model.name()}},
                      {"language", o.run.asr.language},
                      {"workers", ctx.workers},
                      {"engine", ctx.engine != nullptr},
                      {"max_upload_bytes", o.max_upload_bytes},
                      {"max_duration_s", static_cast<int64_t>(o.run.max_duration_h * 3600.0)},
                      {"allow_private_urls", o.allow_private_urls},
                      {"allowed_extractors", o.allowed_extractors},
                      {"max_sse_clients", o.max_sse_clients}};
  j.update(work_limit_json(ctx.work_limit.get()));
  return j;
}

void register_settings_api(httplib::Server& http, ServerContext& ctx) {
  http.Get("/api/v1/settings",
           guarded(Handler([&ctx](const httplib::Request&, httplib::Response& res) {
             send_json(res, 200, settings_json(ctx));
           })));
  const auto change = guarded(ReaderHandler(
      [&ctx](const httplib::Request& req, httplib::Response& res,
             const httplib::ContentReader& reader) { change_settings(ctx, req, res, reader); }));
  http.Put("/api/v1/settings", change);
  http.Post("/api/v1/settings", change);
}

}  // namespace aimara::server
