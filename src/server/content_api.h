// What the jobs produced: transcripts, entity mentions and full-text search (docs/api.md).
//
//   GET /api/v1/jobs/{id}/transcript?format=txt|json|srt|vtt   (output/writers.h renders it)
//   GET /api/v1/jobs/{id}/entities
//   GET /api/v1/search?q=...&job_id=&limit=&offset=
//
// Read-only over the store. Thread-safety: as jobs_api.h.
#pragma once

#include <string>
#include <string_view>

#include "server/api_error.h"
#include "server/server_context.h"

namespace aimara::server {

void register_content_api(httplib::Server& http, ServerContext& ctx);

// "txt" -> text/plain, "json" -> application/json, "srt" -> application/x-subrip,
// "vtt" -> text/vtt (each with charset=utf-8 where text).
std::string_view transcript_content_type(std::string_view format);

// '&', '<', '>', '"' as entities: a snippet may be put into HTML as it is.
std::string html_escape(std::string_view text);

}  // namespace aimara::server
