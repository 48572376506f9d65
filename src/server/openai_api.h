// POST /v1/audio/transcriptions: OpenAI's audio transcription API, request and responses as
// OpenAI documents them, so OpenAI's own clients work against aimara unchanged.
//
// Request (multipart/form-data): file (required), model (required: "whisper-1" or a name of the
// loaded model, served_model.h; any other is refused, 400 model_not_found), language, prompt, response_format (json | text | srt | verbose_json | vtt),
// temperature (0..1), timestamp_granularities[] (segment, word; verbose_json only).
// Responses: json {"text"}; text/srt/vtt as text/plain; verbose_json {"task", "language" (the
// full lowercase name, "english"), "duration" (s), "text", "segments": [{"id", "seek", "start",
// "end", "text", "tokens", "temperature", "avg_logprob", "compression_ratio",
// "no_speech_prob"}], "words": [{"word", "start", "end"}] (when asked)}.
// Errors: OpenAI's envelope {"error": {"message", "type", "param", "code"}}, 4xx for requests
// the client can fix.
//
// The upload is streamed to disk (uploads.h) and transcribed by Engine::transcribe_file on the
// engine's shared ASR pool; the HTTP thread only waits.
//
// Thread-safety: as jobs_api.h.
#pragma once

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "asr/transcript.h"
#include "server/api_error.h"
#include "server/server_context.h"

namespace aimara::server {

void register_openai_api(httplib::Server& http, ServerContext& ctx);

// OpenAI's error envelope.
nlohmann::json openai_error_json(std::string_view message, std::string_view type,
                                 std::string_view param, std::string_view code);

// The verbose_json body of a transcript (words only when `words`).
nlohmann::json openai_verbose_json(const asr::Transcript& t, bool words, bool segments);

}  // namespace aimara::server
