// POST /api/v1/transcribe: the synchronous form (docs/api.md), as the original service had it.
//
// JSON {"youtube_url" | "url", "language", "format"}: the URL goes through the job queue (the
// same URL checks as POST /api/v1/jobs) and the request waits until the job is completed, dead
// or cancelled, or --sync-timeout-s passed (504 timeout; the job goes on). Multipart with a
// `file` part: the upload is transcribed on the engine's shared ASR pool
// (Engine::transcribe_file). Either way the HTTP thread only waits: inference runs on the
// engine's workers. At most a quarter of the HTTP threads wait at once (503 unavailable beyond),
// so waiting requests never starve the rest of the API.
//
// Thread-safety: as jobs_api.h.
#pragma once

#include "server/api_error.h"
#include "server/server_context.h"

namespace aimara::server {

void register_transcribe_api(httplib::Server& http, ServerContext& ctx);

// Holds one of the server's synchronous slots while alive (shared with openai_api.h); empty
// (false) when all are taken.
class SyncSlot {
 public:
  explicit SyncSlot(ServerContext& ctx);
  ~SyncSlot();
  SyncSlot(const SyncSlot&) = delete;
  SyncSlot& operator=(const SyncSlot&) = delete;
  explicit operator bool() const { return held_; }

 private:
  ServerContext& ctx_;
  bool held_ = false;
};

}  // namespace aimara::server
