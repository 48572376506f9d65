// Transcript writers: txt, json, srt, vtt. Pure rendering functions plus an atomic file writer.
//
// - txt: one line per segment, trimmed text.
// - json: {"duration_ms", "language", "model", "options", "segments": [{"id","start_ms","end_ms",
//   "text", ["tokens"], ["words"]}]}; integer milliseconds.
// - srt: 1-based numbering, HH:MM:SS,mmm.
// - vtt: "WEBVTT" header, HH:MM:SS.mmm, '&' '<' '>' escaped, cues in time order, no zero-length
//   cue (a cue with end <= start is stretched to 1 ms past its start... or dropped when empty).
// Every file is written with write_file_atomic (temp file + rename).
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "asr/transcript.h"
#include "core/error.h"

namespace aimara::output {

enum class Format { kTxt, kJson, kSrt, kVtt };

std::string_view format_extension(Format f);  // "txt", "json", "srt", "vtt"
// "txt,json,srt,vtt" (or "all") -> formats, in the order given, without repeats.
Result<std::vector<Format>> parse_formats(std::string_view list);

struct JsonOptions {
  bool tokens = false;  // include tokens with probabilities
  bool words = false;   // include words with times
};

// "01:02:03,004" (srt) and "01:02:03.004" (vtt); negative times print as 0.
std::string format_timestamp(int64_t ms, char ms_separator);

std::string render_txt(const asr::Transcript& t);
std::string render_json(const asr::Transcript& t, const JsonOptions& options = {});
nlohmann::json transcript_to_json(const asr::Transcript& t, const JsonOptions& options = {});
std::string render_srt(const asr::Transcript& t);
std::string render_vtt(const asr::Transcript& t);
std::string render(const asr::Transcript& t, Format f, const JsonOptions& options = {});

// Writes `dir/<stem>.<ext>` for each format, atomically. Returns the paths written.
Result<std::vector<std::filesystem::path>> write_transcript(const asr::Transcript& t,
                                                            const std::filesystem::path& dir,
                                                            std::string_view stem,
                                                            const std::vector<Format>& formats,
                                                            const JsonOptions& options = {});

}  // namespace aimara::output
