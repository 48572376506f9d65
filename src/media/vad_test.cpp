#include "media/vad.h"

#include <gtest/gtest.h>
#include <whisper.h>

#include <cfloat>
#include <cmath>
#include <fstream>
#include <optional>

#include "core/fs.h"
#include "media/chunker.h"
#include "media/decoder.h"

namespace aimara::media {
namespace {

namespace fs = std::filesystem;

// whisper.cpp logs every VAD call at info level; keep the test output readable.
const bool kQuietWhisper = [] {
  whisper_log_set([](ggml_log_level, const char*, void*) {}, nullptr);
  return true;
}();

fs::path shared(const std::string& rel) { return fs::path(AIMARA_SHARED_DIR) / rel; }

#define REQUIRE_SHARED(path)                                                                \
  ASSERT_TRUE(fs::exists(path)) << "missing test data " << (path)                           \
                                << ": the shared test data (../shared, see its README.md) " \
                                   "must sit beside the repository"

class VadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const fs::path model = shared("models/silero-v6.2.0-ggml.bin");
    REQUIRE_SHARED(model);
    auto loaded = VadModel::load(model);
    ASSERT_TRUE(loaded.has_value()) << loaded.error().to_string();
    vad_ = std::move(*loaded);
  }

  std::vector<float> decode(const std::string& media) {
    const fs::path path = shared("media/" + media);
    EXPECT_TRUE(fs::exists(path)) << "missing test data " << path;
    auto pcm = decode_all(path);
    EXPECT_TRUE(pcm.has_value()) << pcm.error().to_string();
    return pcm ? std::move(*pcm) : std::vector<float>{};
  }

  std::unique_ptr<VadModel> vad_;
};

std::string describe(const std::vector<SpeechRegion>& regions) {
  std::string s;
  for (const auto& r : regions)
    s += "[" + std::to_string(r.start_ms) + ", " + std::to_string(r.end_ms) + ") ";
  return s;
}

// The region that has audio on both sides of `t`, if any.
std::optional<SpeechRegion> speech_around(int64_t t, const std::vector<SpeechRegion>& speech) {
  for (const SpeechRegion& r : speech) {
    if (r.start_ms < t && t < r.end_ms) return r;
  }
  return std::nullopt;
}

TEST(VadModelLoad, MissingAndInvalidModelsAreReported) {
  auto missing = VadModel::load("/nonexistent/silero.bin");
  ASSERT_FALSE(missing.has_value());
  EXPECT_EQ(missing.error().code, ErrorCode::kModelMissing) << missing.error().message;
  EXPECT_NE(missing.error().message.find("/nonexistent/silero.bin"), std::string::npos);

  const fs::path not_a_model = shared("media/jfk.wav");
  REQUIRE_SHARED(not_a_model);
  auto invalid = VadModel::load(not_a_model);
  ASSERT_FALSE(invalid.has_value());
  EXPECT_EQ(invalid.error().code, ErrorCode::kModelInvalid) << invalid.error().message;
}

TEST(VadModelLoad, DamagedAndForeignModelsAreRejectedWithTheReason) {
  const fs::path model = shared("models/silero-v6.2.0-ggml.bin");
  REQUIRE_SHARED(model);
  auto dir = TempDir::create("aimara-vad-model");
  ASSERT_TRUE(dir.has_value());
  std::ifstream in(model, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  ASSERT_GT(bytes.size(), 100'000u);
  const auto write = [&](const std::string& name, const std::string& content) {
    const fs::path path = dir->path() / name;
    std::ofstream(path, std::ios::binary) << content;
    return path;
  };
  std::string other_window = bytes;
  // Header: magic, type length, "silero-16k", version (3 x int32), then the window size.
  const size_t window_at = 4 + 4 + 10 + 12;
  ASSERT_EQ(bytes.substr(8, 10), "silero-16k");
  other_window[window_at] = 0x00;  // 512 -> 0x200 becomes 0x200 & 0xff00
  other_window[window_at + 1] = 0x04;
  struct Case {
    fs::path path;
    std::string reason;
  };
  const std::vector<Case> cases = {
      {write("truncated.bin", bytes.substr(0, bytes.size() / 2)), "truncated"},
      {write("window.bin", other_window), "window of 1024 samples"},
      {write("header.bin", bytes.substr(0, 12)), "truncated header"},
      {shared("models/whisper-empty-tiny.bin"), "bad header"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.path.string());
    auto loaded = VadModel::load(c.path);
    ASSERT_FALSE(loaded.has_value());
    EXPECT_EQ(loaded.error().code, ErrorCode::kModelInvalid);
    EXPECT_NE(loaded.error().message.find("not a Silero VAD model"), std::string::npos)
        << loaded.error().message;
    EXPECT_NE(loaded.error().message.find(c.reason), std::string::npos) << loaded.error().message;
  }
}

// The batched network against whisper.cpp's frame-at-a-time graph of the same file: the same
// probabilities up to whisper.cpp's 16-bit rounding of convolution inputs.
TEST_F(VadTest, ProbabilitiesMatchWhisperCppsNetworkFrameByFrame) {
  whisper_vad_context_params cparams = whisper_vad_default_context_params();
  cparams.n_threads = 1;
  cparams.use_gpu = false;
  std::unique_ptr<whisper_vad_context, decltype(&whisper_vad_free)> ctx(
      whisper_vad_init_from_file_with_params(shared("models/silero-v6.2.0-ggml.bin").c_str(),
                                             cparams),
      &whisper_vad_free);
  ASSERT_TRUE(ctx);
  for (const char* name : {"jfk.wav", "silero_es.wav", "pv_test_es.wav", "fw_multilingual.mp3"}) {
    SCOPED_TRACE(name);
    const auto pcm = decode(name);
    ASSERT_FALSE(pcm.empty());
    ASSERT_TRUE(whisper_vad_detect_speech(ctx.get(), pcm.data(), static_cast<int>(pcm.size())));
    const float* ref = whisper_vad_probs(ctx.get());
    const size_t n_ref = static_cast<size_t>(whisper_vad_n_probs(ctx.get()));

    std::vector<float> ours;
    vad_->reset();
    ASSERT_TRUE(vad_->probabilities(pcm, ours).has_value());
    ASSERT_EQ(ours.size(), n_ref);
    double max_diff = 0;
    size_t disagree = 0;
    for (size_t i = 0; i < n_ref; ++i) {
      max_diff = std::max(max_diff, static_cast<double>(std::fabs(ours[i] - ref[i])));
      disagree += (ours[i] >= 0.5f) != (ref[i] >= 0.5f);
    }
    EXPECT_LT(max_diff, 0.05);
    EXPECT_LE(disagree, n_ref / 200) << disagree << " of " << n_ref << " frames";

    // Blocks of any whole number of frames (here across the network's internal batches) give
    // the same probabilities as one call: the state is carried, nothing depends on the cut.
    std::vector<float> blocked;
    vad_->reset();
    const size_t block = 300 * static_cast<size_t>(vad_->frame_samples());
    for (size_t at = 0; at < pcm.size(); at += block) {
      const size_t len = std::min(block, pcm.size() - at);
      ASSERT_TRUE(vad_->probabilities(std::span<const float>(pcm).subspan(at, len), blocked));
    }
    ASSERT_EQ(blocked.size(), ours.size());
    for (size_t i = 0; i < ours.size(); ++i) ASSERT_NEAR(blocked[i], ours[i], 1e-5) << i;
  }
}

TEST_F(VadTest, FindsTheFourUtterancesOfJfk) {
  EXPECT_EQ(vad_->frame_samples(), 512);
  const auto pcm = decode("jfk.wav");
  auto regions = vad_->detect(pcm);
  ASSERT_TRUE(regions.has_value()) << regions.error().to_string();
  // The regions whisper.cpp's own VAD reports for this file (../shared/README.md).
  const std::vector<SpeechRegion> expected = {
      {320, 2270}, {3270, 4410}, {5380, 7680}, {8160, 10620}};
  ASSERT_EQ(regions->size(), expected.size()) << describe(*regions);
  for (size_t i = 0; i < expected.size(); ++i) {
    EXPECT_NEAR(static_cast<double>((*regions)[i].start_ms),
                static_cast<double>(expected[i].start_ms), 100.0)
        << i;
    EXPECT_NEAR(static_cast<double>((*regions)[i].end_ms), static_cast<double>(expected[i].end_ms),
                100.0)
        << i;
  }
}

TEST_F(VadTest, AgreesWithWhisperCppsOwnSegmentation) {
  for (const char* name : {"jfk.wav", "silero_es.wav", "fw_multilingual.mp3"}) {
    SCOPED_TRACE(name);
    const auto pcm = decode(name);
    ASSERT_FALSE(pcm.empty());
    auto ours = vad_->detect(pcm);
    ASSERT_TRUE(ours.has_value()) << ours.error().to_string();

    // whisper.cpp's segmentation of the same probabilities, with the same rules and no padding.
    whisper_vad_params params = whisper_vad_default_params();
    params.speech_pad_ms = 0;
    params.max_speech_duration_s = FLT_MAX;
    whisper_vad_context_params cparams = whisper_vad_default_context_params();
    cparams.n_threads = 1;
    std::unique_ptr<whisper_vad_context, decltype(&whisper_vad_free)> ctx(
        whisper_vad_init_from_file_with_params(shared("models/silero-v6.2.0-ggml.bin").c_str(),
                                               cparams),
        &whisper_vad_free);
    ASSERT_TRUE(ctx);
    std::unique_ptr<whisper_vad_segments, decltype(&whisper_vad_free_segments)> segs(
        whisper_vad_segments_from_samples(ctx.get(), params, pcm.data(),
                                          static_cast<int>(pcm.size())),
        &whisper_vad_free_segments);
    ASSERT_TRUE(segs);
    std::vector<SpeechRegion> reference;
    for (int i = 0; i < whisper_vad_segments_n_segments(segs.get()); ++i) {
      // whisper.cpp reports centiseconds.
      reference.push_back(
          {static_cast<int64_t>(whisper_vad_segments_get_segment_t0(segs.get(), i) * 10),
           static_cast<int64_t>(whisper_vad_segments_get_segment_t1(segs.get(), i) * 10)});
    }
    ASSERT_EQ(ours->size(), reference.size())
        << "ours " << describe(*ours) << "\nwhisper.cpp " << describe(reference);
    for (size_t i = 0; i < reference.size(); ++i) {
      // Frames are 32 ms; whisper.cpp ends speech that runs into the end of the input at the end
      // of its last frame, where we end it where the final pause began.
      EXPECT_NEAR(static_cast<double>((*ours)[i].start_ms),
                  static_cast<double>(reference[i].start_ms), 40.0)
          << i;
      EXPECT_NEAR(static_cast<double>((*ours)[i].end_ms), static_cast<double>(reference[i].end_ms),
                  150.0)
          << i;
    }
  }
}

TEST_F(VadTest, BlockSizesDoNotChangeTheRegions) {
  const auto pcm = decode("silero_es.wav");
  ASSERT_FALSE(pcm.empty());
  auto whole = vad_->detect(pcm);
  ASSERT_TRUE(whole.has_value());
  ASSERT_GE(whole->size(), 5u);
  for (size_t block : {size_t{7'777}}) {
    SCOPED_TRACE(block);
    SpeechDetector detector(*vad_, {});
    std::vector<SpeechRegion> streamed;
    for (size_t at = 0; at < pcm.size(); at += block) {
      const size_t n = std::min(block, pcm.size() - at);
      ASSERT_TRUE(detector.feed(std::span<const float>(pcm).subspan(at, n), streamed).has_value());
      // Regions handed out are final: none starts after what is still undecided.
      for (const auto& r : streamed) EXPECT_LE(r.start_ms, detector.settled_until_ms());
    }
    ASSERT_TRUE(detector.finish(streamed).has_value());
    EXPECT_EQ(detector.samples_fed(), static_cast<int64_t>(pcm.size()));
    EXPECT_EQ(streamed, *whole) << describe(streamed) << "\n" << describe(*whole);
  }
}

TEST_F(VadTest, SilenceAndTinyInputsHaveNoSpeech) {
  const std::vector<float> silence(5 * kSampleRate, 0.0f);
  auto none = vad_->detect(silence);
  ASSERT_TRUE(none.has_value());
  EXPECT_TRUE(none->empty()) << describe(*none);
  auto tiny = vad_->detect(std::vector<float>(100, 0.0f));
  ASSERT_TRUE(tiny.has_value());
  EXPECT_TRUE(tiny->empty());
  auto empty = vad_->detect({});
  ASSERT_TRUE(empty.has_value());
  EXPECT_TRUE(empty->empty());
}

TEST_F(VadTest, LongSpeechIsHandedOutInTouchingPieces) {
  const auto pcm = decode("silero_es.wav");
  ASSERT_FALSE(pcm.empty());
  auto whole = vad_->detect(pcm);
  ASSERT_TRUE(whole.has_value());
  VadOptions capped;
  capped.max_region_ms = 3'000;
  auto pieces = vad_->detect(pcm, capped);
  ASSERT_TRUE(pieces.has_value());
  EXPECT_GT(pieces->size(), whole->size());
  // Joining touching pieces gives back the uncapped regions.
  std::vector<SpeechRegion> joined;
  for (const auto& r : *pieces) {
    EXPECT_LE(r.length_ms(), 2 * capped.max_region_ms) << describe(*pieces);
    if (!joined.empty() && joined.back().end_ms == r.start_ms) {
      joined.back().end_ms = r.end_ms;
    } else {
      joined.push_back(r);
    }
  }
  EXPECT_EQ(joined, *whole) << describe(joined) << "\n" << describe(*whole);
}

// ---- chunking real speech -----------------------------------------------------------------------

TEST_F(VadTest, CutPointsOnRealSpeechAreNeverInsideSpeech) {
  for (const char* name : {"silero_es.wav", "fw_multilingual.mp3"}) {
    SCOPED_TRACE(name);
    const auto pcm = decode(name);
    ASSERT_FALSE(pcm.empty());
    auto speech = vad_->detect(pcm);
    ASSERT_TRUE(speech.has_value());
    const int64_t duration = samples_to_ms(static_cast<int64_t>(pcm.size()));
    // Small windows too, so that these minutes of speech need many cuts.
    for (int64_t max_ms : {30'000, 10'000}) {
      ChunkOptions o;
      o.max_ms = max_ms;
      o.target_ms = max_ms - 2'000;
      o.search_ms = max_ms / 4;
      const ChunkPlan plan = plan_chunks(*speech, duration, o);
      ASSERT_GE(plan.chunks.size(), max_ms == 30'000 ? 2u : 5u);
      for (size_t i = 0; i < plan.chunks.size(); ++i) {
        const Chunk& c = plan.chunks[i];
        EXPECT_LE(c.audio_ms(), max_ms);
        // A pause cut out of a chunk holds no speech.
        for (const TimeSpan& cut : c.cuts) {
          for (const SpeechRegion& r : *speech) {
            EXPECT_FALSE(r.start_ms < cut.end_ms && cut.start_ms < r.end_ms)
                << "cut [" << cut.start_ms << ", " << cut.end_ms << ") removes speech";
          }
        }
        if (i + 1 < plan.chunks.size()) {
          // Only speech longer than a chunk may be cut (a forced cut, at the maximum).
          for (int64_t cut : {c.end_ms, plan.chunks[i + 1].start_ms}) {
            if (auto r = speech_around(cut, *speech)) {
              EXPECT_GT(r->length_ms(), max_ms) << "cut at " << cut << " in " << describe(*speech);
              EXPECT_EQ(c.end_ms, plan.chunks[i + 1].start_ms);
              EXPECT_EQ(c.audio_ms(), max_ms);
            }
          }
        }
      }
    }
  }
}

TEST_F(VadTest, TheChunkStreamPlansLikeTheWholeFileAndCarriesTheRightSamples) {
  const fs::path path = shared("media/fw_multilingual.mp3");
  REQUIRE_SHARED(path);
  const auto pcm = decode("fw_multilingual.mp3");
  auto speech = vad_->detect(pcm);
  ASSERT_TRUE(speech.has_value());
  // Pauses over 0.4 s are cut (this speech has few of a second), so the samples are spliced.
  ChunkOptions copts;
  copts.max_pause_ms = 400;
  const ChunkPlan expected =
      plan_chunks(*speech, samples_to_ms(static_cast<int64_t>(pcm.size())), copts);
  ASSERT_GE(expected.chunks.size(), 2u);

  for (int64_t window_ms : {1'300, 120'000}) {
    SCOPED_TRACE(window_ms);
    auto decoder = AudioDecoder::open(path);
    ASSERT_TRUE(decoder.has_value());
    SpeechChunkingOptions o;
    o.window_ms = window_ms;
    o.chunks = copts;
    SpeechChunkStream stream(**decoder, vad_.get(), o);
    std::vector<Chunk> chunks;
    size_t cuts = 0;
    for (;;) {
      auto next = stream.next();
      ASSERT_TRUE(next.has_value()) << next.error().to_string();
      if (!*next) break;
      const AudioChunk& ac = **next;
      chunks.push_back(ac.chunk);
      // The chunk's span without its cut pauses, laid end to end.
      std::vector<float> want;
      const TimeMap map = ac.chunk.time_map();
      for (const TimeMap::Piece& piece : map.pieces()) {
        want.insert(want.end(), pcm.begin() + ms_to_samples(piece.media.start_ms),
                    pcm.begin() + ms_to_samples(piece.media.end_ms));
      }
      ASSERT_EQ(ac.samples.size(), static_cast<size_t>(ms_to_samples(ac.chunk.audio_ms())));
      EXPECT_TRUE(ac.samples == want) << "chunk " << ac.chunk.index << " carries the wrong samples";
      cuts += ac.chunk.cuts.size();
    }
    EXPECT_GT(cuts, 0u) << "this speech has pauses to cut";
    EXPECT_EQ(chunks, expected.chunks);
    EXPECT_EQ(stream.duration_ms(), samples_to_ms(static_cast<int64_t>(pcm.size())));
    EXPECT_EQ(stream.speech_ms(), expected.speech_ms);
  }

  auto decoder = AudioDecoder::open(path);
  ASSERT_TRUE(decoder.has_value());
  int64_t last_progress = 0;
  SpeechChunkingOptions whole;
  whole.chunks = copts;
  auto plan = plan_speech_chunks(**decoder, *vad_, whole, [&](int64_t ms) { last_progress = ms; });
  ASSERT_TRUE(plan.has_value()) << plan.error().to_string();
  EXPECT_EQ(plan->chunks, expected.chunks);
  EXPECT_EQ(plan->duration_ms, expected.duration_ms);
  EXPECT_EQ(last_progress, expected.duration_ms);
}

TEST_F(VadTest, FixedLengthChunksCoverTheWholeStream) {
  const fs::path path = shared("media/fw_multilingual.mp3");
  REQUIRE_SHARED(path);
  const auto pcm = decode("fw_multilingual.mp3");
  for (VadModel* vad : {vad_.get(), static_cast<VadModel*>(nullptr)}) {
    auto decoder = AudioDecoder::open(path);
    ASSERT_TRUE(decoder.has_value());
    SpeechChunkingOptions o;
    o.fixed_chunk_ms = 7'000;
    o.window_ms = 5'000;
    SpeechChunkStream stream(**decoder, vad, o);
    std::vector<float> joined;
    std::vector<Chunk> chunks;
    for (;;) {
      auto next = stream.next();
      ASSERT_TRUE(next.has_value()) << next.error().to_string();
      if (!*next) break;
      chunks.push_back((*next)->chunk);
      joined.insert(joined.end(), (*next)->samples.begin(), (*next)->samples.end());
    }
    const int64_t duration = samples_to_ms(static_cast<int64_t>(pcm.size()));
    EXPECT_EQ(chunks, plan_fixed_chunks(duration, 7'000).chunks);
    ASSERT_EQ(joined.size(), static_cast<size_t>(ms_to_samples(duration)));
    EXPECT_TRUE(std::equal(joined.begin(), joined.end(), pcm.begin()));
  }
}

TEST_F(VadTest, AStreamWithoutSpeechHasNoChunks) {
  auto dir = TempDir::create("aimara-vad-test");
  ASSERT_TRUE(dir.has_value());
  // 20 s of digital silence as a 16 kHz mono WAV.
  const uint32_t data = 20 * 32'000;
  std::string wav = "RIFF";
  auto u32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) wav += static_cast<char>((v >> (8 * i)) & 0xff);
  };
  auto u16 = [&](uint16_t v) {
    for (int i = 0; i < 2; ++i) wav += static_cast<char>((v >> (8 * i)) & 0xff);
  };
  u32(36 + data);
  wav += "WAVEfmt ";
  u32(16);
  u16(1);
  u16(1);
  u32(16'000);
  u32(32'000);
  u16(2);
  u16(16);
  wav += "data";
  u32(data);
  wav += std::string(data, '\0');
  const fs::path path = dir->path() / "silence.wav";
  std::ofstream(path, std::ios::binary) << wav;

  auto decoder = AudioDecoder::open(path);
  ASSERT_TRUE(decoder.has_value()) << decoder.error().to_string();
  auto plan = plan_speech_chunks(**decoder, *vad_);
  ASSERT_TRUE(plan.has_value()) << plan.error().to_string();
  EXPECT_TRUE(plan->chunks.empty());
  EXPECT_EQ(plan->duration_ms, 20'000);
  EXPECT_EQ(plan->speech_ms, 0);
}

}  // namespace
}  // namespace aimara::media
