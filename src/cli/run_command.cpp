// `aimara run` (alias `aimara pipeline-process`): the local batch pipeline.
#include <csignal>
#include <thread>

#include <fmt/format.h>

#include "cli/commands.h"
#include "core/terminal.h"
#include "pipeline/run_display.h"
#include "pipeline/runner.h"

namespace aimara::cli {

namespace {

std::stop_source g_interrupt;

extern "C" void on_interrupt(int) {
  // Only async-signal-safe work here: request_stop is lock-free on an atomic.
  g_interrupt.request_stop();
}

struct RunArgs {
  pipeline::RunOptions o;
  std::string device = "auto";
  std::string formats = "txt,json,srt,vtt";
  std::string sort = "shortest";
  std::string out = "output";
  bool no_progress = false;
};

int run_run(RunArgs& a) {
  auto device = asr::parse_device(a.device);
  if (!device) {
    fmt::print(stderr, "aimara run: {}\n", device.error().to_string());
    return 2;
  }
  auto formats = output::parse_formats(a.formats);
  if (!formats) {
    fmt::print(stderr, "aimara run: {}\n", formats.error().to_string());
    return 2;
  }
  if (a.sort != "shortest" && a.sort != "input") {
    fmt::print(stderr, "aimara run: invalid_argument: --sort takes shortest or input\n");
    return 2;
  }
  a.o.device = *device;
  a.o.formats = *formats;
  a.o.sort_shortest = a.sort == "shortest";
  a.o.out_dir = a.out;
  a.o.live_table = !a.no_progress && stderr_is_tty();

  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  pipeline::RunDisplay display(a.o.live_table);
  auto result = pipeline::run_pipeline(a.o, display, g_interrupt.get_token());
  display.stop();
  if (!result) {
    fmt::print(stderr, "aimara run: {}\n", result.error().to_string());
    if (result.error().code == ErrorCode::kCancelled) return 130;
    return exit_code_for(result.error().code);
  }
  const auto& r = *result;
  fmt::print("\n=== run summary ===\n");
  fmt::print("videos:   {} completed, {} failed, {} in all\n", r.completed, r.failed, r.videos);
  fmt::print("segments: {}\n", r.segments);
  fmt::print("audio:    {} in {:.1f}s ({:.1f}x realtime)\n",
             human_duration(static_cast<double>(r.audio_ms) / 1000.0), r.wall_s,
             r.wall_s > 0 ? static_cast<double>(r.audio_ms) / 1000.0 / r.wall_s : 0.0);
  fmt::print("files:    {} in {}\n", r.files.size(), (a.o.out_dir / "video_transcripts").string());
  fmt::print("summary:  {}\n", (a.o.out_dir / "run_summary.json").string());
  for (const auto& v : r.summary["videos"]) {
    if (v.contains("error")) {
      fmt::print("failed:   {} ({}): {}\n", v.value("title", ""), v.value("url", ""),
                 v.value("error", ""));
    }
  }
  return r.failed == 0 ? 0 : 1;
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto args = std::make_shared<RunArgs>();
  CLI::App* sub = app.add_subcommand(
      "run",
      "Process URLs (anything yt-dlp understands: videos, playlists, channels, feeds), media\n"
      "files and folders: download, decode, cut at pauses (VAD), transcribe in parallel with one\n"
      "shared model, and write OUT/video_transcripts/<title>_transcript.{txt,json,srt,vtt} and\n"
      "OUT/run_summary.json. Progress is kept in the store: interrupt it and run the same command\n"
      "again to resume where it stopped. Exit 0 when all succeeded, 1 when any failed.");
  sub->alias("pipeline-process");
  auto& o = args->o;
  sub->add_option("inputs", o.inputs, "URLs, media files or folders")->required();
  sub->add_option("-m,--model", o.model, "Model file or name (`aimara models list`)")
      ->capture_default_str();
  sub->add_option("-l,--language", o.asr.language, "Spoken language: auto or a code")
      ->capture_default_str();
  sub->add_option("--device", args->device, "auto, cpu or cuda")->capture_default_str();
  sub->add_option("-o,--out", args->out, "Output folder")->capture_default_str();
  sub->add_option("--store", o.store_uri, "Job store: sqlite:PATH")->capture_default_str();
  sub->add_option("--max-videos", o.max_videos, "At most N items per playlist, feed or folder");
  sub->add_option("--sort", args->sort, "Order of playlist entries: shortest or input")
      ->capture_default_str();
  sub->add_option("--chunk-length", o.chunk_length_s,
                  "Fixed chunks of S seconds instead of cutting at pauses");
  sub->add_flag("--no-vad", o.no_vad, "No voice activity detection (fixed 30 s chunks)");
  sub->add_option("--vad-model", o.vad_model, "Silero VAD model (default: from the models dir)");
  sub->add_option("-w,--workers", o.workers, "ASR workers (default: chosen for this machine)")
      ->check(CLI::Range(1, 64));
  sub->add_option("-t,--threads", o.threads, "Threads per worker (default: chosen)")
      ->check(CLI::Range(1, 256));
  sub->add_option("--fetchers", o.fetchers, "Concurrent downloads")->check(CLI::Range(1, 32))
      ->capture_default_str();
  sub->add_option("--buffer-size", o.buffer_size, "Segments per entity-extraction batch")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  sub->add_option("--watchlist", o.watchlists,
                  "Watchlist of names, aliases and patterns to track (YAML or JSON); repeatable")
      ->check(CLI::ExistingFile);
  sub->add_flag("--no-entities", [&o](int64_t) { o.entities = false; },
                "Skip entity extraction");
  sub->add_option("--beam-size", o.asr.beam_size, "Beam search width (0 or 1: greedy)")
      ->check(CLI::Range(0, 16));
  sub->add_flag("--no-fallback", o.asr.no_fallback, "Turn temperature fallback off");
  sub->add_option("--prompt", o.asr.initial_prompt, "Initial prompt (names, spelling hints)");
  sub->add_option("-f,--formats", args->formats, "Transcript formats")->capture_default_str();
  sub->add_option("--cookies", o.cookies, "Cookie file for yt-dlp (a private copy is used)");
  sub->add_option("--yt-dlp", o.ytdlp, "yt-dlp program (default: $AIMARA_YTDLP or yt-dlp)");
  sub->add_option("--max-attempts", o.max_attempts, "Attempts per item before it is given up")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  sub->add_flag("--keep-media", o.keep_media, "Keep downloaded media in the work folder");
  sub->add_flag("--no-progress", args->no_progress, "Line logs instead of the live table");
  return Command{sub, [args] { return run_run(*args); }};
}

}  // namespace aimara::cli
