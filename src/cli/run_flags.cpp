#include "cli/run_flags.h"

#include <limits>

#include "nlp/watchlist.h"

namespace aimara::cli {

void add_run_flags(CLI::App* sub, RunFlags& flags, bool with_workers) {
  auto& o = flags.o;
  sub->add_option("-m,--model", o.model, "Model file or name (`aimara models list`)")
      ->capture_default_str();
  sub->add_option("-l,--language", o.asr.language,
                  "Spoken language: auto, or a code or name (es, spanish)")
      ->capture_default_str();
  sub->add_option("--device", flags.device, "auto, cpu or cuda")->capture_default_str();
  sub->add_option("--store", o.store_uri, "Job store: sqlite:PATH")->capture_default_str();
  sub->add_option("--max-videos", o.max_videos, "At most N items per playlist, feed or folder")
      ->check(CLI::Range(size_t{1}, std::numeric_limits<size_t>::max()));
  sub->add_option("--sort", flags.sort, "Order of playlist entries: shortest or input")
      ->capture_default_str();
  sub->add_option("--chunk-length", o.chunk_length_s,
                  "Fixed chunks of S seconds instead of cutting at pauses")
      ->check(CLI::Range(1.0, 3600.0));
  sub->add_flag("--no-vad", o.no_vad, "No voice activity detection (fixed 30 s chunks)");
  sub->add_option("--vad-model", o.vad_model, "Silero VAD model (default: from the models dir)");
  sub->add_option("--max-pause", o.max_pause_s, kMaxPauseHelp)
      ->check(CLI::Range(0.0, 60.0))
      ->capture_default_str();
  if (with_workers) {
    sub->add_option("-w,--workers", o.workers,
                    "ASR workers, each with its own whisper state (default: chosen for this "
                    "machine). Memory is one model plus one state per worker: fewer workers "
                    "with more --threads each use less")
        ->check(CLI::Range(1, 64));
  }
  sub->add_option("-t,--threads", o.threads, "Threads per worker (default: chosen)")
      ->check(CLI::Range(1, 256));
  sub->add_option("--fetchers", o.fetchers,
                  "Jobs fetched and worked on at once (serve: the starting concurrency)")
      ->check(CLI::Range(1, 32))
      ->capture_default_str();
  sub->add_option("--buffer-size", o.buffer_size, "Segments per entity-extraction batch")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  sub->add_option("--watchlist", o.watchlists,
                  "Watchlist of names, aliases and patterns to track (YAML or JSON); repeatable")
      ->check(CLI::ExistingFile);
  sub->add_flag(
      "--no-entities", [&o](int64_t) { o.entities = false; }, "Skip entity extraction");
  sub->add_option("--beam-size", o.asr.beam_size, "Beam search width (0 or 1: greedy)")
      ->check(CLI::Range(0, 16));
  sub->add_flag("--no-fallback", o.asr.no_fallback, "Turn temperature fallback off");
  sub->add_option("--prompt", o.asr.initial_prompt, "Initial prompt (names, spelling hints)");
  sub->add_option("-f,--formats", flags.formats, "Transcript formats")->capture_default_str();
  sub->add_option("--cookies", o.cookies, "Cookie file for yt-dlp (a private copy is used)")
      ->check(CLI::ExistingFile);
  sub->add_option("--yt-dlp", o.ytdlp, "yt-dlp program (default: $AIMARA_YTDLP or yt-dlp)");
  sub->add_option("--max-attempts", o.max_attempts, "Attempts per item before it is given up")
      ->check(CLI::Range(1, 100))
      ->capture_default_str();
  sub->add_flag("--keep-media", o.keep_media, "Keep downloaded media in the work folder");
}

Result<void> apply_run_flags(RunFlags& flags) {
  auto device = asr::parse_device(flags.device);
  if (!device) return std::unexpected(device.error());
  auto language = asr::parse_language(flags.o.asr.language);
  if (!language) return std::unexpected(language.error());
  flags.o.asr.language = *language;
  auto formats = output::parse_formats(flags.formats);
  if (!formats) return std::unexpected(formats.error());
  if (flags.sort != "shortest" && flags.sort != "input") {
    return make_error(ErrorCode::kInvalidArgument, "--sort takes shortest or input");
  }
  // A watchlist that cannot be used is said now, before any store or folder is created.
  for (const auto& file : flags.o.watchlists) {
    if (auto spec = nlp::load_watchlist_file(file); !spec) return std::unexpected(spec.error());
  }
  flags.o.device = *device;
  flags.o.formats = *formats;
  flags.o.sort_shortest = flags.sort == "shortest";
  return {};
}

}  // namespace aimara::cli
