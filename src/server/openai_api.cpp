#include "server/openai_api.h"

#include <algorithm>
#include <cmath>

#include <whisper.h>

#include "nlp/hallucination.h"
#include "output/writers.h"
#include "server/transcribe_api.h"
#include "server/uploads.h"

namespace aimara::server {

namespace {

struct OpenAiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;
  std::string code;
};

void send_openai_error(httplib::Response& res, const OpenAiError& e) {
  send_json(res, e.status, openai_error_json(e.message, e.type, e.param, e.code));
}

OpenAiError from_api_error(const ApiError& e, std::string param = {}) {
  OpenAiError o;
  o.status = e.status;
  o.message = e.message;
  o.param = std::move(param);
  o.code = e.code;
  if (e.status >= 500) o.type = e.status == 503 ? "server_error" : "server_error";
  return o;
}

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t\r\n");
  return std::string(s.substr(b, e - b + 1));
}

std::string full_text(const asr::Transcript& t) {
  std::string text;
  for (const auto& s : t.segments) text += s.text;
  return trim(text);
}

std::string language_name(const std::string& code) {
  if (code.empty() || code == "auto") return "";
  const int id = whisper_lang_id(code.c_str());
  if (id < 0) return code;
  const char* full = whisper_lang_str_full(id);
  return full ? std::string(full) : code;
}

double seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

void post_transcriptions(ServerContext& ctx, const httplib::Request& req, httplib::Response& res,
                         const httplib::ContentReader& reader) {
  if (!req.is_multipart_form_data()) {
    drain_body(req, reader);
    return send_openai_error(res, {400, "Expected a multipart/form-data request with a 'file'.",
                                   "invalid_request_error", "file", "invalid_request"});
  }
  if (ctx.engine == nullptr) {
    drain_body(req, reader);
    return send_openai_error(res, {503, "This server runs no transcription workers.",
                                   "server_error", "", "unavailable"});
  }
  SyncSlot slot(ctx);
  if (!slot) {
    drain_body(req, reader);
    return send_openai_error(res, {503, "Too many transcriptions at once; try again.",
                                   "server_error", "", "unavailable"});
  }
  auto form = receive_upload(req, reader, ctx.upload_dir, ctx.options.max_upload_bytes);
  if (!form) return send_openai_error(res, from_api_error(form.error(), "file"));
  if (!form->has_file()) {
    return send_openai_error(
        res, {400, "you must provide a file", "invalid_request_error", "file", "invalid_request"});
  }
  const auto model = form->field("model");
  if (!model || trim(*model).empty()) {
    return send_openai_error(res, {400, "you must provide a model parameter",
                                   "invalid_request_error", "model", "invalid_request"});
  }
  if (const std::string asked = trim(*model); asked != kOpenAiModelAlias && !ctx.model.is(asked)) {
    return send_openai_error(
        res, {400,
              "The model '" + asked + "' does not exist on this server; it runs '" +
                  ctx.model.name() + "' (send '" + ctx.model.name() + "' or '" +
                  std::string(kOpenAiModelAlias) + "').",
              "invalid_request_error", "model", "model_not_found"});
  }
  const std::string format = form->field("response_format").value_or("json");
  static constexpr std::string_view kFormats[] = {"json", "text", "srt", "verbose_json", "vtt"};
  if (std::ranges::find(kFormats, format) == std::end(kFormats)) {
    return send_openai_error(
        res, {400,
              "'" + format +
                  "' is not one of ['json', 'text', 'srt', 'verbose_json', 'vtt'] - "
                  "'response_format'",
              "invalid_request_error", "response_format", "invalid_value"});
  }
  float temperature = 0.0f;
  if (auto t = form->field("temperature")) {
    char* end = nullptr;
    const double v = std::strtod(t->c_str(), &end);
    if (t->empty() || end != t->c_str() + t->size() || !std::isfinite(v) || v < 0.0 || v > 1.0) {
      return send_openai_error(res, {400, "temperature must be a number from 0 to 1",
                                     "invalid_request_error", "temperature", "invalid_value"});
    }
    temperature = static_cast<float>(v);
  }
  bool want_words = false;
  bool want_segments = false;
  bool any_granularity = false;
  for (const char* key : {"timestamp_granularities[]", "timestamp_granularities"}) {
    auto [b, e] = form->fields().equal_range(key);
    for (auto it = b; it != e; ++it) {
      any_granularity = true;
      if (it->second == "word") {
        want_words = true;
      } else if (it->second == "segment") {
        want_segments = true;
      } else {
        return send_openai_error(
            res, {400, "'" + it->second + "' is not one of ['word', 'segment']",
                  "invalid_request_error", "timestamp_granularities", "invalid_value"});
      }
    }
  }
  if (any_granularity && format != "verbose_json") {
    return send_openai_error(res,
                             {400, "timestamp_granularities requires response_format=verbose_json",
                              "invalid_request_error", "timestamp_granularities", "invalid_value"});
  }
  if (!any_granularity) want_segments = true;

  asr::TranscribeOptions asr = ctx.options.run.asr;
  if (auto l = form->field("language"); l && !trim(*l).empty()) {
    const std::string given = trim(*l);
    auto code = asr::parse_language(given);
    if (!code) {
      return send_openai_error(res, {400, "Invalid language '" + given + "'.",
                                     "invalid_request_error", "language", "invalid_language"});
    }
    asr.language = *code;
  }
  if (auto p = form->field("prompt")) asr.initial_prompt = *p;
  asr.temperature = temperature;
  asr.word_timestamps = want_words;
  asr.token_details = format == "verbose_json";

  auto t = ctx.engine->transcribe_file(form->file(), asr);
  if (!t) {
    const Error& e = t.error();
    OpenAiError o{status_for(e.code),
                  hide_path(e.message, form->file().string(), form->client_name()),
                  "invalid_request_error", "file", std::string(error_code_name(e.code))};
    if (e.code == ErrorCode::kMediaInvalid || e.code == ErrorCode::kMediaNoAudio ||
        e.code == ErrorCode::kMediaNotFound || e.code == ErrorCode::kMediaTooLong) {
      o.status = 400;
    }
    if (o.status >= 500) {
      o.type = "server_error";
      o.param.clear();
    }
    return send_openai_error(res, o);
  }
  res.status = 200;
  if (format == "json") {
    send_json(res, 200, {{"text", full_text(*t)}});
  } else if (format == "text") {
    res.set_content(full_text(*t) + "\n", "text/plain; charset=utf-8");
  } else if (format == "srt") {
    res.set_content(output::render_srt(*t), "text/plain; charset=utf-8");
  } else if (format == "vtt") {
    res.set_content(output::render_vtt(*t), "text/plain; charset=utf-8");
  } else {
    send_json(res, 200, openai_verbose_json(*t, want_words, want_segments));
  }
}

}  // namespace

nlohmann::json openai_error_json(std::string_view message, std::string_view type,
                                 std::string_view param, std::string_view code) {
  return {{"error",
           {{"message", message},
            {"type", type},
            {"param", param.empty() ? nlohmann::json(nullptr) : nlohmann::json(param)},
            {"code", code.empty() ? nlohmann::json(nullptr) : nlohmann::json(code)}}}};
}

nlohmann::json openai_verbose_json(const asr::Transcript& t, bool words, bool segments) {
  nlohmann::json out;
  out["task"] = "transcribe";
  out["language"] = language_name(t.language);
  out["duration"] = seconds(t.duration_ms);
  out["text"] = full_text(t);
  if (segments) {
    nlohmann::json list = nlohmann::json::array();
    int id = 0;
    for (const auto& s : t.segments) {
      nlohmann::json tokens = nlohmann::json::array();
      for (const auto& tok : s.tokens) tokens.push_back(tok.id);
      list.push_back({{"id", id++},
                      {"seek", (s.start_ms / 30'000) * 3000},  // the 30 s window, in 10 ms frames
                      {"start", seconds(s.start_ms)},
                      {"end", seconds(s.end_ms)},
                      {"text", s.text},
                      {"tokens", std::move(tokens)},
                      {"temperature", s.temperature},
                      {"avg_logprob", s.avg_logprob},
                      {"compression_ratio", nlp::compression_ratio(s.text)},
                      {"no_speech_prob", s.no_speech_prob}});
    }
    out["segments"] = std::move(list);
  }
  if (words) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& s : t.segments) {
      for (const auto& w : s.words) {
        const std::string word = trim(w.text);
        if (word.empty()) continue;
        list.push_back(
            {{"word", word}, {"start", seconds(w.start_ms)}, {"end", seconds(w.end_ms)}});
      }
    }
    out["words"] = std::move(list);
  }
  return out;
}

void register_openai_api(httplib::Server& http, ServerContext& ctx) {
  http.Post("/v1/audio/transcriptions",
            guarded(ReaderHandler([&ctx](const httplib::Request& req, httplib::Response& res,
                                         const httplib::ContentReader& reader) {
              post_transcriptions(ctx, req, res, reader);
            })));
}

}  // namespace aimara::server
