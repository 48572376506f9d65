// `aimara doctor`: checks the installation and says how to fix what is missing.
#include <chrono>
#include <ctime>

#include <fmt/format.h>

#include "asr/model_catalog.h"
#include "asr/whisper_engine.h"
#include "cli/commands.h"
#include "core/paths.h"
#include "core/process.h"
#include "media/decoder.h"
#include "media/ytdlp.h"

namespace aimara::cli {

namespace {

// yt-dlp versions are dates: "2023.03.04". Days since then, or nullopt.
std::optional<int> days_since(const std::string& version) {
  std::tm tm{};
  if (std::sscanf(version.c_str(), "%d.%d.%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3) {
    return std::nullopt;
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  std::time_t then = timegm(&tm);
  std::time_t now = std::time(nullptr);
  return static_cast<int>((now - then) / 86400);
}

int run_doctor() {
  int problems = 0;
  auto ok = [](const std::string& what) { fmt::print("  ok    {}\n", what); };
  auto warn = [](const std::string& what) { fmt::print("  warn  {}\n", what); };
  auto bad = [&](const std::string& what) {
    fmt::print("  FAIL  {}\n", what);
    ++problems;
  };

  fmt::print("aimara {}\n\n", AIMARA_VERSION);
  fmt::print("media\n");
  ok(media::ffmpeg_versions());

  fmt::print("speech recognition\n");
  ok(asr::whisper_version_string());
  ok("CPU/GPU features: " + asr::whisper_system_info());
  ok(std::string("CUDA: ") + (asr::cuda_available() ? "available" : "not in this build"));

  fmt::print("downloads\n");
  std::string ytdlp = media::default_ytdlp_program();
  auto v = run_process({ytdlp, "--version"}, ProcessOptions{.timeout = std::chrono::seconds(20)});
  if (!v || !v->ok()) {
    bad("yt-dlp not found (" + ytdlp +
        "): install a current yt-dlp (pipx install yt-dlp, or set AIMARA_YTDLP)");
  } else {
    std::string ver = v->out.substr(0, v->out.find('\n'));
    auto age = days_since(ver);
    if (age && *age > 90) {
      warn(fmt::format("yt-dlp {} is {} days old: sites change often, update it "
                       "(pipx upgrade yt-dlp, or yt-dlp -U)",
                       ver, *age));
    } else {
      ok("yt-dlp " + ver);
    }
  }

  fmt::print("models ({})\n", models_dir().string());
  int whisper_models = 0;
  bool vad = false;
  for (const auto& e : asr::model_catalog()) {
    if (std::filesystem::exists(asr::model_file_path(e))) {
      ok(fmt::format("{} ({})", e.name, asr::model_file_path(e).string()));
      if (e.kind == asr::ModelKind::kWhisper) ++whisper_models;
      if (e.kind == asr::ModelKind::kVad) vad = true;
    }
  }
  if (whisper_models == 0) {
    warn("no whisper model downloaded: `aimara models download base` (or pass -m FILE)");
  }
  if (!vad) {
    warn("no VAD model: `aimara models download silero-v6.2.0` (chunks are cut at pauses with it)");
  }
  fmt::print("entity taggers\n");
  bool tagger = false;
  for (const auto& dir : shipped_models_dirs()) {
    for (const char* f : {"ner-es.bin", "ner-en.bin"}) {
      if (std::filesystem::exists(dir / f)) {
        ok((dir / f).string());
        tagger = true;
      }
    }
    if (tagger) break;
  }
  if (!tagger) warn("no shipped entity tagger found: entity extraction uses patterns only");

  fmt::print("\n{}\n", problems == 0 ? "everything needed is in place"
                                     : fmt::format("{} problem(s) found", problems));
  return problems == 0 ? 0 : 1;
}

}  // namespace

Command add_doctor_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand(
      "doctor", "Check the installation: FFmpeg, whisper.cpp and CPU features, yt-dlp, models");
  return Command{sub, [] { return run_doctor(); }};
}

}  // namespace aimara::cli
