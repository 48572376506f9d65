// `aimara transcribe FILE... -m MODEL -o DIR -f txt,json,srt,vtt`: the quick path.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <set>
#include <thread>

#include "asr/model_catalog.h"
#include "asr/whisper_engine.h"
#include "cli/commands.h"
#include "cli/run_flags.h"
#include "core/fs.h"
#include "core/terminal.h"
#include "media/vad.h"
#include "output/writers.h"
#include "pipeline/file_transcriber.h"

namespace aimara::cli {

namespace {

struct TranscribeArgs {
  std::vector<std::string> files;
  std::string model = "base";
  std::string out_dir = ".";
  std::string formats = "txt";
  std::string language = "auto";
  std::string device = "auto";
  std::string prompt;
  int threads = 0;
  int workers = 0;
  int beam_size = 0;
  int best_of = 5;
  int max_len = 0;
  double chunk_length_s = 30.0;
  double max_pause_s = 1.0;
  double max_duration_h = 12.0;
  bool translate = false;
  bool no_fallback = false;
  bool word_timestamps = false;
  bool tokens = false;
  bool no_progress = false;
  bool no_vad = false;
  std::string vad_model;
};

// The inputs without repeats (the same file named twice is transcribed once), each with the name
// its outputs get: its stem, and where stems repeat (talk.wav, talk.mp3, other/talk.wav) the
// later ones get _2, _3, ... in the order given, so no transcript overwrites another.
std::vector<std::pair<std::filesystem::path, std::string>> output_names(
    const std::vector<std::string>& inputs) {
  std::vector<std::pair<std::filesystem::path, std::string>> out;
  std::set<std::filesystem::path> seen_files;
  std::set<std::string> taken;
  for (const auto& input : inputs) {
    std::filesystem::path file(input);
    std::error_code ec;
    auto canonical = std::filesystem::weakly_canonical(file, ec);
    if (!seen_files.insert(ec ? file : canonical).second) continue;
    std::string stem = file.stem().string();
    std::string name = stem;
    for (int n = 2; !taken.insert(name).second; ++n) name = stem + "_" + std::to_string(n);
    out.emplace_back(file, name);
  }
  return out;
}

int run_transcribe(const TranscribeArgs& a) {
  auto formats = output::parse_formats(a.formats);
  if (!formats) {
    fmt::print(stderr, "aimara transcribe: {}\n", formats.error().to_string());
    return 2;
  }
  auto device = asr::parse_device(a.device);
  if (!device) {
    fmt::print(stderr, "aimara transcribe: {}\n", device.error().to_string());
    return 2;
  }
  auto language = asr::parse_language(a.language);
  if (!language) {
    fmt::print(stderr, "aimara transcribe: {}\n", language.error().to_string());
    return 2;
  }
  auto model_path = asr::resolve_model(a.model);
  if (!model_path) {
    fmt::print(stderr, "aimara transcribe: {}\n", model_path.error().to_string());
    return 1;
  }
  // A VAD model named on the command line must be one (the one found in the models dir may fall
  // back to fixed chunks with a warning).
  if (!a.no_vad && !a.vad_model.empty()) {
    if (auto vad = media::VadModel::load(a.vad_model); !vad) {
      fmt::print(stderr, "aimara transcribe: {}\n", vad.error().to_string());
      return 1;
    }
  }
  if (auto made = create_folder(a.out_dir, "output folder"); !made) {
    fmt::print(stderr, "aimara transcribe: {}\n", made.error().to_string());
    return 1;
  }
  auto model = asr::WhisperModel::load({.model_path = *model_path, .device = *device});
  if (!model) {
    fmt::print(stderr, "aimara transcribe: {}\n", model.error().to_string());
    return 1;
  }

  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto shape = asr::choose_pool_shape(cores, a.workers, a.threads);
  // Never more workers than files x chunks can keep busy is not known up front; a single short
  // file simply leaves the extra workers idle.
  pipeline::FileTranscribeOptions o;
  o.workers = shape.workers;
  o.chunk_length_ms = static_cast<int64_t>(a.chunk_length_s * 1000.0);
  o.max_pause_ms = static_cast<int64_t>(a.max_pause_s * 1000.0);
  if (!a.no_vad) {
    // Cut at pauses when a VAD model is at hand: given, or downloaded into the models dir.
    if (!a.vad_model.empty()) {
      o.vad_model = a.vad_model;
    } else if (auto found = asr::resolve_model("silero-v6.2.0")) {
      o.vad_model = *found;
    }
  }
  o.decode.max_duration_ms = static_cast<int64_t>(a.max_duration_h * 3600.0 * 1000.0);
  o.asr.language = *language;
  o.asr.translate = a.translate;
  o.asr.threads = shape.threads;
  o.asr.beam_size = a.beam_size;
  o.asr.best_of = a.best_of;
  o.asr.no_fallback = a.no_fallback;
  o.asr.initial_prompt = a.prompt;
  o.asr.word_timestamps = a.word_timestamps;
  o.asr.token_details = a.tokens;
  o.asr.max_segment_length = a.max_len;
  auto transcriber = pipeline::FileTranscriber::create(*model, o);
  if (!transcriber) {
    fmt::print(stderr, "aimara transcribe: {}\n", transcriber.error().to_string());
    return transcriber.error().code == ErrorCode::kInvalidArgument ? 2 : 1;
  }

  const auto names = output_names(a.files);
  std::vector<std::filesystem::path> files;
  for (const auto& [file, name] : names) files.push_back(file);
  ProgressBar bar("transcribing", !a.no_progress && stderr_is_tty());
  const auto started = std::chrono::steady_clock::now();
  const output::JsonOptions json_options{.tokens = a.tokens, .words = a.word_timestamps};
  int failed = 0;

  auto on_done = [&](const pipeline::FileOutcome& out) {
    bar.finish();
    if (!out.transcript) {
      ++failed;
      fmt::print(stderr, "FAIL {}: {}\n", terminal_safe(out.path.string()),
                 terminal_safe(out.transcript.error().to_string()));
      return;
    }
    const auto& t = *out.transcript;
    auto named = std::ranges::find(names, out.path, [](const auto& n) { return n.first; });
    const std::string name = named != names.end() ? named->second : out.path.stem().string();
    auto written = output::write_transcript(t, a.out_dir, name, *formats, json_options);
    if (!written) {
      ++failed;
      fmt::print(stderr, "FAIL {}: {}\n", terminal_safe(out.path.string()),
                 terminal_safe(written.error().to_string()));
      return;
    }
    double audio_s = static_cast<double>(t.duration_ms) / 1000.0;
    double rtf = audio_s > 0 ? out.wall_seconds / audio_s : 0.0;
    fmt::print(
        "ok   {}{}: {} audio, {} segments, {:.1f}s, realtime factor {:.3f} ({:.1f}x), "
        "language {}\n",
        terminal_safe(out.path.string()),
        name == out.path.stem().string() ? "" : " (as " + terminal_safe(name) + ")",
        human_duration(audio_s), t.segments.size(), out.wall_seconds, rtf,
        rtf > 0 ? 1.0 / rtf : 0.0, t.language);
    std::fflush(stdout);
  };
  auto on_progress = [&](const pipeline::BatchProgress& p) {
    double frac = p.audio_ms_known > 0 ? static_cast<double>(p.audio_ms_done) /
                                             static_cast<double>(p.audio_ms_known)
                                       : 0.0;
    bar.update(frac, fmt::format("{}/{} files", p.files_done, p.files_total));
  };
  (*transcriber)->transcribe(files, on_done, on_progress);
  bar.finish();
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  fmt::print("{} of {} files transcribed in {:.1f}s ({} worker{} x {} thread{}, model {})\n",
             files.size() - static_cast<size_t>(failed), files.size(), wall, shape.workers,
             shape.workers == 1 ? "" : "s", shape.threads, shape.threads == 1 ? "" : "s",
             (*model)->name());
  return failed == 0 ? 0 : 1;
}

}  // namespace

Command add_transcribe_command(CLI::App& app) {
  auto args = std::make_shared<TranscribeArgs>();
  CLI::App* sub = app.add_subcommand(
      "transcribe",
      "Transcribe media files (any format FFmpeg reads) into txt, json, srt and vtt files.\n"
      "The model is loaded once for all files; files and their chunks are transcribed in\n"
      "parallel by workers sharing it. Writes DIR/<file stem>.<format> for each input\n"
      "(DIR/<stem>_2.<format>, ... for later inputs whose stem repeats).");
  sub->add_option("files", args->files, "Media files to transcribe")->required();
  sub->add_option("-m,--model", args->model,
                  "Model file path, or a model name (`aimara models list`)")
      ->capture_default_str();
  sub->add_option("-o,--out", args->out_dir, "Output folder")->capture_default_str();
  sub->add_option("-f,--formats", args->formats, "Output formats: txt,json,srt,vtt or all")
      ->capture_default_str();
  sub->add_option("-l,--language", args->language,
                  "Spoken language: auto, or a code or name (es, spanish)")
      ->capture_default_str();
  sub->add_flag("--translate", args->translate, "Translate to English");
  sub->add_option("-t,--threads", args->threads, "Threads per worker (default: chosen for this machine)")
      ->check(CLI::Range(1, 256));
  sub->add_option("-w,--workers", args->workers, "Parallel workers (default: chosen for this machine)")
      ->check(CLI::Range(1, 64));
  sub->add_option("--beam-size", args->beam_size, "Beam search width (0 or 1: greedy)")
      ->check(CLI::Range(0, 16));
  sub->add_option("--best-of", args->best_of, "Candidates when sampling with temperature")
      ->check(CLI::Range(1, 16))
      ->capture_default_str();
  sub->add_flag("--no-fallback", args->no_fallback, "Turn temperature fallback off");
  sub->add_option("--prompt", args->prompt, "Initial prompt (names, spelling hints)");
  sub->add_flag("--word-timestamps", args->word_timestamps, "Words with times in the json output");
  sub->add_flag("--tokens", args->tokens, "Tokens with probabilities in the json output");
  sub->add_option("--max-len", args->max_len, "Maximum segment length in characters (0: none)")
      ->check(CLI::Range(0, 10000));
  sub->add_option("--vad-model", args->vad_model,
                  "Silero VAD model: cut chunks at pauses (default: the downloaded silero model)");
  sub->add_flag("--no-vad", args->no_vad, "Fixed-length chunks, no voice activity detection");
  sub->add_option("--max-pause", args->max_pause_s, kMaxPauseHelp)
      ->check(CLI::Range(0.0, 60.0))
      ->capture_default_str();
  sub->add_option("--chunk-length", args->chunk_length_s, "Seconds of audio per fixed chunk")
      ->check(CLI::Range(1.0, 3600.0))
      ->capture_default_str();
  sub->add_option("--max-duration", args->max_duration_h, "Refuse media longer than this (hours)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--device", args->device, "auto, cpu or cuda")->capture_default_str();
  sub->add_flag("--no-progress", args->no_progress, "No progress bar");
  return Command{sub, [args] { return run_transcribe(*args); }};
}

}  // namespace aimara::cli
