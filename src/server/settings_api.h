// What the server runs with, and the settings a client may change (docs/api.md):
//
//   GET /api/v1/settings          the model, language, limits and the work limit
//   PUT /api/v1/settings          {"parallel": bool, "concurrency": 1..10} (either or both)
//   POST /api/v1/settings         the same, for clients that cannot send PUT
//
// A change applies to the engine at once (work_limit.h) and is answered with the settings as
// GET returns them. Anything else in the body is refused (400 invalid_request): the model and
// language are fixed when the server starts.
//
// Thread-safety: as jobs_api.h.
#pragma once

#include <nlohmann/json.hpp>

#include "server/api_error.h"
#include "server/server_context.h"

namespace aimara::server {

void register_settings_api(httplib::Server& http, ServerContext& ctx);

// The body of GET /api/v1/settings.
nlohmann::json settings_json(const ServerContext& ctx);

}  // namespace aimara::server
