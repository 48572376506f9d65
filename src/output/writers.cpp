#include "output/writers.h"

#include <algorithm>

#include <fmt/format.h>

#include "core/fs.h"

namespace aimara::output {

namespace {

std::string trim(std::string_view s) {
  size_t b = 0;
  size_t e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

std::string escape_vtt(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

// Cues for srt/vtt: non-empty text, in time order, each at least 1 ms long.
struct Cue {
  int64_t start_ms;
  int64_t end_ms;
  std::string text;
};

std::vector<Cue> make_cues(const asr::Transcript& t) {
  std::vector<Cue> cues;
  cues.reserve(t.segments.size());
  for (const auto& s : t.segments) {
    std::string text = trim(s.text);
    if (text.empty()) continue;
    int64_t start = std::max<int64_t>(0, s.start_ms);
    int64_t end = std::max(start, s.end_ms);
    if (t.duration_ms > 0) {
      start = std::min(start, t.duration_ms);
      end = std::min(end, t.duration_ms);
    }
    if (end <= start) end = start + 1;  // no zero-length cue
    cues.push_back(Cue{start, end, std::move(text)});
  }
  std::stable_sort(cues.begin(), cues.end(),
                   [](const Cue& a, const Cue& b) { return a.start_ms < b.start_ms; });
  return cues;
}

}  // namespace

std::string_view format_extension(Format f) {
  switch (f) {
    case Format::kTxt: return "txt";
    case Format::kJson: return "json";
    case Format::kSrt: return "srt";
    case Format::kVtt: return "vtt";
  }
  return "txt";
}

Result<std::vector<Format>> parse_formats(std::string_view list) {
  std::vector<Format> out;
  auto add = [&](Format f) {
    if (std::find(out.begin(), out.end(), f) == out.end()) out.push_back(f);
  };
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    std::string item = trim(list.substr(pos, comma == std::string_view::npos ? std::string_view::npos
                                                                             : comma - pos));
    std::transform(item.begin(), item.end(), item.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (item == "txt" || item == "text") {
      add(Format::kTxt);
    } else if (item == "json") {
      add(Format::kJson);
    } else if (item == "srt") {
      add(Format::kSrt);
    } else if (item == "vtt" || item == "webvtt") {
      add(Format::kVtt);
    } else if (item == "all") {
      for (Format f : {Format::kTxt, Format::kJson, Format::kSrt, Format::kVtt}) add(f);
    } else if (!item.empty()) {
      return make_error(ErrorCode::kInvalidArgument,
                        "unknown output format '" + item + "' (use txt, json, srt, vtt or all)");
    }
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  if (out.empty()) return make_error(ErrorCode::kInvalidArgument, "no output format given");
  return out;
}

std::string format_timestamp(int64_t ms, char ms_separator) {
  if (ms < 0) ms = 0;
  int64_t h = ms / 3600000;
  int64_t m = (ms / 60000) % 60;
  int64_t s = (ms / 1000) % 60;
  int64_t f = ms % 1000;
  return fmt::format("{:02}:{:02}:{:02}{}{:03}", h, m, s, ms_separator, f);
}

std::string render_txt(const asr::Transcript& t) {
  std::string out;
  for (const auto& s : t.segments) {
    std::string text = trim(s.text);
    if (text.empty()) continue;
    out += text;
    out += '\n';
  }
  return out;
}

nlohmann::json transcript_to_json(const asr::Transcript& t, const JsonOptions& options) {
  nlohmann::json segs = nlohmann::json::array();
  int id = 0;
  auto clamp = [&](int64_t ms) {
    ms = std::max<int64_t>(0, ms);
    return t.duration_ms > 0 ? std::min(ms, t.duration_ms) : ms;
  };
  for (const auto& s : t.segments) {
    nlohmann::json j = {{"id", id++},
                        {"start_ms", clamp(s.start_ms)},
                        {"end_ms", std::max(clamp(s.start_ms), clamp(s.end_ms))},
                        {"text", trim(s.text)},
                        {"no_speech_prob", s.no_speech_prob},
                        {"avg_logprob", s.avg_logprob}};
    if (options.tokens) {
      nlohmann::json toks = nlohmann::json::array();
      for (const auto& k : s.tokens) {
        toks.push_back({{"id", k.id},
                        {"text", k.text},
                        {"p", k.p},
                        {"start_ms", k.start_ms},
                        {"end_ms", k.end_ms}});
      }
      j["tokens"] = std::move(toks);
    }
    if (options.words) {
      nlohmann::json words = nlohmann::json::array();
      for (const auto& w : s.words) {
        words.push_back({{"word", trim(w.text)},
                         {"start_ms", w.start_ms},
                         {"end_ms", w.end_ms},
                         {"probability", w.p}});
      }
      j["words"] = std::move(words);
    }
    segs.push_back(std::move(j));
  }
  return {{"duration_ms", t.duration_ms},
          {"language", t.language},
          {"model", t.model},
          {"options", t.options},
          {"text", [&] {
             std::string all;
             for (const auto& s : t.segments) {
               std::string x = trim(s.text);
               if (x.empty()) continue;
               if (!all.empty()) all += ' ';
               all += x;
             }
             return all;
           }()},
          {"segments", std::move(segs)}};
}

std::string render_json(const asr::Transcript& t, const JsonOptions& options) {
  return transcript_to_json(t, options).dump(2, ' ', false,
                                             nlohmann::json::error_handler_t::replace) +
         "\n";
}

std::string render_srt(const asr::Transcript& t) {
  std::string out;
  int n = 1;
  for (const auto& c : make_cues(t)) {
    out += fmt::format("{}\n{} --> {}\n{}\n\n", n++, format_timestamp(c.start_ms, ','),
                       format_timestamp(c.end_ms, ','), c.text);
  }
  return out;
}

std::string render_vtt(const asr::Transcript& t) {
  std::string out = "WEBVTT\n\n";
  for (const auto& c : make_cues(t)) {
    out += fmt::format("{} --> {}\n{}\n\n", format_timestamp(c.start_ms, '.'),
                       format_timestamp(c.end_ms, '.'), escape_vtt(c.text));
  }
  return out;
}

std::string render(const asr::Transcript& t, Format f, const JsonOptions& options) {
  switch (f) {
    case Format::kTxt: return render_txt(t);
    case Format::kJson: return render_json(t, options);
    case Format::kSrt: return render_srt(t);
    case Format::kVtt: return render_vtt(t);
  }
  return {};
}

Result<std::vector<std::filesystem::path>> write_transcript(const asr::Transcript& t,
                                                            const std::filesystem::path& dir,
                                                            std::string_view stem,
                                                            const std::vector<Format>& formats,
                                                            const JsonOptions& options) {
  std::vector<std::filesystem::path> written;
  for (Format f : formats) {
    auto path = dir / (std::string(stem) + "." + std::string(format_extension(f)));
    auto r = write_file_atomic(path, render(t, f, options));
    if (!r) return std::unexpected(r.error());
    written.push_back(std::move(path));
  }
  return written;
}

}  // namespace aimara::output
