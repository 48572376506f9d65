// Long inputs in bounded memory (label memory; about half a minute): hours of generated audio are
// streamed through the decoder and the speech chunker while the process's resident memory is
// watched.
#include <gtest/gtest.h>
#include <whisper.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>

#include "core/fs.h"
#include "media/chunker.h"
#include "media/decoder.h"
#include "media/vad.h"

namespace aimara::media {
namespace {

namespace fs = std::filesystem;

const bool kQuietWhisper = [] {
  whisper_log_set([](ggml_log_level, const char*, void*) {}, nullptr);
  return true;
}();

// Resident memory of this process now, in bytes (VmRSS from /proc/self/status).
int64_t resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoll(line.substr(6)) * 1024;
  }
  return -1;
}

// AddressSanitizer holds freed memory in quarantine, so resident memory grows by design there:
// the work still runs under it, only the bound is not checked.
#if defined(__SANITIZE_ADDRESS__)
constexpr bool kResidentMemoryIsMeasurable = false;
#else
constexpr bool kResidentMemoryIsMeasurable = true;
#endif

// A long, cheap-to-make file: a tone at 8 kbit/s MP3 (an hour is ~3.6 MB and takes seconds).
void make_long_tone(const fs::path& out, int seconds) {
  const std::string cmd =
      "ffmpeg -nostdin -v error -y -f lavfi -i sine=frequency=440:sample_rate=8000:duration=" +
      std::to_string(seconds) + " -ac 1 -c:a libmp3lame -b:a 8k '" + out.string() + "' 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << "ffmpeg (the command-line tool) could not make " << out;
}

TEST(LongMedia, AnHourDecodesInBlocksWithoutMemoryGrowing) {
  auto dir = TempDir::create("aimara-long-media");
  ASSERT_TRUE(dir.has_value()) << dir.error().to_string();
  const fs::path file = dir->path() / "hour.mp3";
  make_long_tone(file, 3600);

  auto decoder = AudioDecoder::open(file);
  ASSERT_TRUE(decoder.has_value()) << decoder.error().to_string();
  std::vector<float> block;
  constexpr size_t kBlock = 30 * kSampleRate;
  ASSERT_TRUE((*decoder)->read(block, kBlock).has_value());
  const int64_t baseline = resident_bytes();
  ASSERT_GT(baseline, 0);
  int64_t peak = baseline;
  for (;;) {
    block.clear();
    auto got = (*decoder)->read(block, kBlock);
    ASSERT_TRUE(got.has_value()) << got.error().to_string();
    peak = std::max(peak, resident_bytes());
    if (*got < kBlock) break;
  }
  // The whole hour as float would be 230 MB; streaming must stay within a few MB of the start.
  const double growth_mb = static_cast<double>(peak - baseline) / (1024.0 * 1024.0);
  std::printf("decoded %.1f s, resident growth %.2f MB\n",
              static_cast<double>((*decoder)->samples_read()) / kSampleRate, growth_mb);
  EXPECT_NEAR(static_cast<double>((*decoder)->samples_read()), 3600.0 * kSampleRate,
              kSampleRate / 20.0);
  if (!kResidentMemoryIsMeasurable) GTEST_SKIP() << "resident memory under AddressSanitizer";
  EXPECT_LT(growth_mb, 16.0);
}

TEST(LongMedia, ThreeHoursOfTalkAreChunkedInBoundedMemory) {
  const fs::path speech = fs::path(AIMARA_SHARED_DIR) / "media/jfk.wav";
  const fs::path model = fs::path(AIMARA_SHARED_DIR) / "models/silero-v6.2.0-ggml.bin";
  ASSERT_TRUE(fs::exists(speech) && fs::exists(model))
      << "missing test data " << speech << " or " << model << " (../shared, see its README.md)";
  auto dir = TempDir::create("aimara-long-media");
  ASSERT_TRUE(dir.has_value()) << dir.error().to_string();
  // Three hours of the same speech over and over, as 8 kHz mu-law WAV (cheap to make).
  const fs::path file = dir->path() / "talk.wav";
  const std::string cmd = "ffmpeg -nostdin -v error -y -stream_loop -1 -i '" + speech.string() +
                          "' -t 10800 -ac 1 -ar 8000 -c:a pcm_mulaw '" + file.string() + "' 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0)
      << "ffmpeg (the command-line tool) could not make " << file;

  auto vad = VadModel::load(model);
  ASSERT_TRUE(vad.has_value()) << vad.error().to_string();
  auto decoder = AudioDecoder::open(file);
  ASSERT_TRUE(decoder.has_value()) << decoder.error().to_string();
  SpeechChunkStream stream(**decoder, vad->get(), {});

  const auto t0 = std::chrono::steady_clock::now();
  int64_t baseline = -1, peak = 0, speech_in_chunks = 0;
  std::vector<Chunk> chunks;
  for (;;) {
    auto next = stream.next();
    ASSERT_TRUE(next.has_value()) << next.error().to_string();
    if (!*next) break;
    const AudioChunk& c = **next;
    ASSERT_EQ(c.samples.size(), static_cast<size_t>(ms_to_samples(c.chunk.audio_ms())));
    if (!chunks.empty()) {
      ASSERT_GE(c.chunk.start_ms, chunks.back().end_ms);
    }
    ASSERT_LE(c.chunk.audio_ms(), ChunkOptions{}.max_ms);
    ASSERT_LE(c.chunk.length_ms(), ChunkOptions{}.max_span_ms + ChunkOptions{}.max_ms);
    chunks.push_back(c.chunk);
    speech_in_chunks += c.chunk.audio_ms();
    const int64_t rss = resident_bytes();
    if (baseline < 0) baseline = rss;
    peak = std::max(peak, rss);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double growth_mb = static_cast<double>(peak - baseline) / (1024.0 * 1024.0);
  std::printf(
      "3 h: %zu chunks, %.0f s of speech, %.0f s chunked, %.1f s (%.0fx realtime), "
      "resident growth %.2f MB\n",
      chunks.size(), static_cast<double>(stream.speech_ms()) / 1000.0,
      static_cast<double>(speech_in_chunks) / 1000.0, seconds, 10800.0 / seconds, growth_mb);
  EXPECT_EQ(stream.duration_ms(), 10'800'000);
  // The talk is 11 s loops with short pauses: windows are packed (far fewer than 11 s chunks).
  EXPECT_LT(chunks.size(), 10'800u / 20u);
  EXPECT_GT(chunks.size(), 10'800u / 30u);
  if (!kResidentMemoryIsMeasurable) GTEST_SKIP() << "resident memory under AddressSanitizer";
  EXPECT_LT(growth_mb, 24.0);
}

}  // namespace
}  // namespace aimara::media
