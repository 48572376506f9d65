// `aimara run` (alias `aimara pipeline-process`): the local batch pipeline.
#include <csignal>
#include <iostream>
#include <iterator>
#include <sstream>
#include <thread>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/run_flags.h"
#include "core/fs.h"
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
  RunFlags flags;
  std::string out = "output";
  std::string batch_file;
  bool no_progress = false;
};

// The inputs listed in a batch file, as yt-dlp reads its --batch-file: one URL, file or folder
// per line, surrounding blanks ignored, blank lines and lines starting with '#' or ';' skipped.
// "-" reads standard input.
Result<std::vector<std::string>> read_batch_file(const std::string& path) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    auto read = read_file(path);
    if (!read) {
      return make_error(ErrorCode::kInvalidArgument,
                        "--batch-file: cannot read '" + path + "': " + read.error().message);
    }
    text = std::move(*read);
  }
  std::vector<std::string> inputs;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    const auto begin = line.find_first_not_of(" \t\r");
    if (begin == std::string::npos || line[begin] == '#' || line[begin] == ';') continue;
    const auto end = line.find_last_not_of(" \t\r");
    inputs.push_back(line.substr(begin, end - begin + 1));
  }
  return inputs;
}

int run_run(RunArgs& a) {
  if (auto ok = apply_run_flags(a.flags); !ok) {
    fmt::print(stderr, "aimara run: {}\n", ok.error().to_string());
    return 2;
  }
  auto& o = a.flags.o;
  if (!a.batch_file.empty()) {
    auto listed = read_batch_file(a.batch_file);
    if (!listed) {
      fmt::print(stderr, "aimara run: {}\n", listed.error().to_string());
      return 2;
    }
    o.inputs.insert(o.inputs.end(), listed->begin(), listed->end());
  }
  if (o.inputs.empty()) {
    fmt::print(stderr,
               "aimara run: invalid_argument: nothing to do: give URLs, files or folders, "
               "or a --batch-file that lists them\n");
    return 2;
  }
  o.out_dir = a.out;
  o.live_table = !a.no_progress && stderr_is_tty();

  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  pipeline::RunDisplay display(o.live_table);
  auto result = pipeline::run_pipeline(o, display, g_interrupt.get_token());
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
  // The speed is this run's: videos finished by an earlier run count in the total only.
  const double run_audio_s = static_cast<double>(r.audio_ms_run) / 1000.0;
  const std::string total = human_duration(static_cast<double>(r.audio_ms) / 1000.0);
  fmt::print("audio:    {} in {:.1f}s ({:.1f}x realtime)\n",
             r.audio_ms_run == r.audio_ms ? total
                                          : total + " in all, " + human_duration(run_audio_s) +
                                                " of it transcribed by this run",
             r.wall_s, r.wall_s > 0 ? run_audio_s / r.wall_s : 0.0);
  fmt::print("files:    {} in {}\n", r.files.size(), (o.out_dir / "video_transcripts").string());
  fmt::print("summary:  {}\n", (o.out_dir / "run_summary.json").string());
  for (const auto& i : r.summary["inputs"]) {
    if (i.contains("error")) {
      fmt::print("failed:   {}: {}\n", terminal_safe(i.value("source", "")),
                 terminal_safe(i.value("error", "")));
    }
  }
  for (const auto& v : r.summary["videos"]) {
    if (v.contains("error")) {
      const std::string title = v.value("title", "");
      const std::string url = v.value("url", "");
      fmt::print("failed:   {}: {}\n",
                 terminal_safe(title.empty() || title == url ? url : title + " (" + url + ")"),
                 terminal_safe(v.value("error", "")));
    }
  }
  return r.failed == 0 && r.inputs_failed == 0 ? 0 : 1;
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
  sub->add_option("inputs", args->flags.o.inputs, "URLs, media files or folders");
  sub->add_option("-a,--batch-file", args->batch_file,
                  "A file listing more inputs, one per line ('#' comments; '-' reads stdin)");
  add_run_flags(sub, args->flags);
  sub->add_option("-o,--out", args->out, "Output folder")->capture_default_str();
  sub->add_flag("--no-progress", args->no_progress, "Line logs instead of the live table");
  return Command{sub, [args] { return run_run(*args); }};
}

}  // namespace aimara::cli
