// Decoding and chunk-planning throughput: how fast the in-process FFmpeg decoder streams each
// file to 16 kHz mono float, and (with --vad) how fast VAD + chunk planning runs over it, with
// the resident-memory growth of each. Prints figures; never fails on timing.
//
//   decode_bench [--vad MODEL] [--repeat N] FILE...
// With no FILE: every file in ../shared/media. Make long inputs with e.g.
//   ffmpeg -f lavfi -i sine=d=10800 -c:a libmp3lame -b:a 8k long.mp3
#include <sys/resource.h>
#include <whisper.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "media/chunker.h"
#include "media/decoder.h"
#include "media/vad.h"

namespace {

namespace fs = std::filesystem;
using aimara::media::AudioDecoder;

int64_t resident_kb() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6));
  }
  return -1;
}

double cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

struct Figures {
  double wall = 0, cpu = 0, audio_s = 0;
  int64_t rss_growth_kb = 0;
  size_t chunks = 0;
  int64_t speech_ms = 0;
};

// Streams the file in 30 s blocks.
bool bench_decode(const fs::path& file, Figures& f) {
  const auto t0 = std::chrono::steady_clock::now();
  const double c0 = cpu_seconds();
  auto decoder = AudioDecoder::open(file);
  if (!decoder) {
    std::printf("  %-40s %s\n", file.filename().string().c_str(),
                decoder.error().to_string().c_str());
    return false;
  }
  const int64_t base = resident_kb();
  int64_t peak = base;
  std::vector<float> block;
  const size_t n = 30 * aimara::media::kSampleRate;
  for (;;) {
    block.clear();
    auto got = (*decoder)->read(block, n);
    if (!got) {
      std::printf("  %-40s %s\n", file.filename().string().c_str(),
                  got.error().to_string().c_str());
      return false;
    }
    peak = std::max(peak, resident_kb());
    if (*got < n) break;
  }
  f.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  f.cpu = cpu_seconds() - c0;
  f.audio_s = static_cast<double>((*decoder)->samples_read()) / aimara::media::kSampleRate;
  f.rss_growth_kb = peak - base;
  return true;
}

bool bench_chunking(const fs::path& file, aimara::media::VadModel& vad, Figures& f) {
  const auto t0 = std::chrono::steady_clock::now();
  const double c0 = cpu_seconds();
  auto decoder = AudioDecoder::open(file);
  if (!decoder) return false;
  const int64_t base = resident_kb();
  int64_t peak = base;
  aimara::media::SpeechChunkStream stream(**decoder, &vad, {});
  for (;;) {
    auto next = stream.next();
    if (!next) {
      std::printf("  %-40s %s\n", file.filename().string().c_str(),
                  next.error().to_string().c_str());
      return false;
    }
    if (!*next) break;
    ++f.chunks;
    peak = std::max(peak, resident_kb());
  }
  f.wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  f.cpu = cpu_seconds() - c0;
  f.audio_s = static_cast<double>(stream.duration_ms()) / 1000.0;
  f.speech_ms = stream.speech_ms();
  f.rss_growth_kb = peak - base;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  whisper_log_set([](ggml_log_level, const char*, void*) {}, nullptr);
  fs::path vad_path;
  int repeat = 1;
  std::vector<fs::path> files;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--vad") == 0 && i + 1 < argc) {
      vad_path = argv[++i];
    } else if (std::strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else if (std::strcmp(argv[i], "-h") == 0 || std::strcmp(argv[i], "--help") == 0) {
      std::printf("usage: decode_bench [--vad MODEL] [--repeat N] FILE...\n");
      return 0;
    } else {
      files.emplace_back(argv[i]);
    }
  }
  if (files.empty()) {
    const fs::path media = fs::path(AIMARA_SHARED_DIR) / "media";
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(media, ec)) {
      if (e.is_regular_file()) files.push_back(e.path());
    }
    std::sort(files.begin(), files.end());
    if (files.empty()) {
      std::fprintf(stderr, "no files given and none found in %s\n", media.string().c_str());
      return 2;
    }
  }
  std::unique_ptr<aimara::media::VadModel> vad;
  if (!vad_path.empty()) {
    auto loaded = aimara::media::VadModel::load(vad_path);
    if (!loaded) {
      std::fprintf(stderr, "%s\n", loaded.error().to_string().c_str());
      return 2;
    }
    vad = std::move(*loaded);
  }

  std::printf("%s\n\n", aimara::media::ffmpeg_versions().c_str());
  std::printf("decode (streamed in 30 s blocks), best of %d:\n", repeat);
  std::printf("  %-40s %10s %8s %8s %10s %10s\n", "file", "audio s", "wall s", "cpu s",
              "x realtime", "RSS +MB");
  for (const auto& file : files) {
    Figures best;
    bool ok = false;
    for (int r = 0; r < repeat; ++r) {
      Figures f;
      if (!bench_decode(file, f)) break;
      if (!ok || f.wall < best.wall) best = f;
      ok = true;
    }
    if (!ok) continue;
    std::printf("  %-40s %10.1f %8.3f %8.3f %10.0f %10.2f\n", file.filename().string().c_str(),
                best.audio_s, best.wall, best.cpu, best.audio_s / std::max(best.wall, 1e-6),
                static_cast<double>(best.rss_growth_kb) / 1024.0);
  }
  if (!vad) return 0;
  std::printf("\ndecode + VAD + chunk planning (SpeechChunkStream), best of %d:\n", repeat);
  std::printf("  %-40s %10s %8s %8s %10s %7s %8s %10s\n", "file", "audio s", "wall s", "cpu s",
              "x realtime", "chunks", "speech%", "RSS +MB");
  for (const auto& file : files) {
    Figures best;
    bool ok = false;
    for (int r = 0; r < repeat; ++r) {
      Figures f;
      if (!bench_chunking(file, *vad, f)) break;
      if (!ok || f.wall < best.wall) best = f;
      ok = true;
    }
    if (!ok) continue;
    std::printf("  %-40s %10.1f %8.3f %8.3f %10.0f %7zu %8.1f %10.2f\n",
                file.filename().string().c_str(), best.audio_s, best.wall, best.cpu,
                best.audio_s / std::max(best.wall, 1e-6), best.chunks,
                100.0 * static_cast<double>(best.speech_ms) / 1000.0 / std::max(best.audio_s, 1e-6),
                static_cast<double>(best.rss_growth_kb) / 1024.0);
  }
  return 0;
}
