// GET /api/v1/jobs/{id}/media: a job's media file for the dashboard's player (docs/api.md).
//
// Served only when the media is on this server: an upload (under the server's upload dir) or a
// job whose source is a local file (platform "local"), while that file exists. Anything else
// (URL jobs, playlists and folders, a file that is gone) is 404 media_unavailable; an unknown
// job is 404 not_found.
//
// The path comes from the store only, never from the request. An upload's file must lie inside
// the upload dir once every link is resolved; a local job's file is the one the job names (the
// file its transcript was made from). Only regular files are served.
//
// The reply streams the file from an open descriptor (no whole-file read, no mmap: a file cut
// short while it is sent ends the reply instead of the process) with a Content-Type from its
// extension (audio/mpeg, audio/wav, video/mp4, ...; application/octet-stream otherwise) and
// httplib's Range handling: 206 with Content-Range for one range, 416 for a bad one. An <audio>
// element cannot send headers, so with a token configured this path also takes
// ?access_token= (http_server.h).
//
// Thread-safety: as jobs_api.h; each reply owns its descriptor.
#pragma once

#include <filesystem>
#include <string_view>

#include "jobs/job.h"
#include "server/api_error.h"
#include "server/server_context.h"

namespace aimara::server {

void register_media_api(httplib::Server& http, ServerContext& ctx);

// The local media file of `job` as described above, or 404 media_unavailable.
std::expected<std::filesystem::path, ApiError> local_media_path(const ServerContext& ctx,
                                                                const jobs::Job& job);

// "x.mp3" -> "audio/mpeg"; application/octet-stream for an unknown extension.
std::string_view media_content_type(const std::filesystem::path& file);

// True for /api/v1/jobs/{digits}/media.
bool is_media_path(std::string_view path);

}  // namespace aimara::server
