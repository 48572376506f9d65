#include "asr/whisper_engine.h"

#include <gtest/gtest.h>

#include "asr/model_generator.h"
#include "core/fs.h"
#include "media/decoder.h"

namespace aimara::asr {
namespace {

namespace fs = std::filesystem;

std::vector<float> read_pcm(const std::string& name, size_t max_samples) {
  const fs::path file = fs::path(AIMARA_SHARED_DIR) / "media" / name;
  auto pcm = media::decode_all(file);
  EXPECT_TRUE(pcm.has_value()) << file << ": " << pcm.error().to_string();
  if (!pcm) return {};
  if (pcm->size() > max_samples) pcm->resize(max_samples);
  return std::move(*pcm);
}

std::string describe(const std::vector<Segment>& segs) {
  std::string s;
  for (const auto& g : segs) {
    s += "[" + std::to_string(g.start_ms) + "-" + std::to_string(g.end_ms) + "]" + g.text + "\n";
  }
  return s;
}

TEST(ParseLanguage, GivesWhispersCodeForACodeOrANameInAnyCase) {
  EXPECT_EQ(parse_language("").value_or("?"), "auto");
  EXPECT_EQ(parse_language("auto").value_or("?"), "auto");
  EXPECT_EQ(parse_language("es").value_or("?"), "es");
  EXPECT_EQ(parse_language("ES").value_or("?"), "es");
  EXPECT_EQ(parse_language("Spanish").value_or("?"), "es");
  EXPECT_EQ(parse_language("yue").value_or("?"), "yue");
  for (const char* bad : {"xx", "klingon", "e", "es-ES", " es"}) {
    auto r = parse_language(bad);
    ASSERT_FALSE(r.has_value()) << bad;
    EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(r.error().message.find(std::string("unknown language '") + bad + "'"),
              std::string::npos)
        << r.error().message;
  }
}

// whisper.cpp seeds a state's first decoder's random generator once, when the state is created:
// a chunk that samples (temperature above 0, a fallback, beam search) must still give the same
// text on a worker that has transcribed other chunks before as on a fresh one, or a resumed run
// and a run with another number of workers would write different files.
TEST(WhisperWorker, AChunkIsTheSameWhateverItsWorkerTranscribedBefore) {
  route_whisper_logs();
  auto dir = TempDir::create("aimara-whisper-worker");
  ASSERT_TRUE(dir.has_value());
  const fs::path model_path = dir->path() / "micro.bin";
  ASSERT_TRUE(write_test_model(model_path, {}).has_value());
  EngineOptions eo;
  eo.model_path = model_path;
  eo.device = Device::kCpu;
  auto model = WhisperModel::load(eo);
  ASSERT_TRUE(model.has_value()) << model.error().to_string();

  const std::vector<float> chunk = read_pcm("jfk.wav", 11 * 16'000);
  const std::vector<float> before = read_pcm("silero_es.wav", 12 * 16'000);
  ASSERT_FALSE(chunk.empty());
  ASSERT_FALSE(before.empty());

  struct Case {
    const char* name;
    TranscribeOptions options;
  };
  std::vector<Case> cases;
  {
    TranscribeOptions o;
    o.language = "en";
    o.temperature = 0.8f;  // every token sampled
    o.no_fallback = true;
    cases.push_back({"temperature 0.8", o});
  }
  {
    TranscribeOptions o;
    o.language = "en";
    o.beam_size = 3;  // whisper.cpp's beam search draws its candidates at random
    o.no_fallback = true;
    cases.push_back({"beam search", o});
  }
  {
    TranscribeOptions o;
    o.language = "en";
    o.logprob_threshold = 1.0f;  // no decoding is good enough: every fallback runs
    cases.push_back({"temperature fallback", o});
  }
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    auto fresh = (*model)->new_worker();
    ASSERT_TRUE(fresh.has_value());
    auto expected = (*fresh)->transcribe(chunk, TimeMap(0, 11'000), c.options);
    ASSERT_TRUE(expected.has_value()) << expected.error().to_string();
    ASSERT_FALSE(expected->empty()) << "the test model speaks on any audio";

    auto used = (*model)->new_worker();
    ASSERT_TRUE(used.has_value());
    auto r = (*used)->transcribe(before, TimeMap(0, 12'000), c.options);
    ASSERT_TRUE(r.has_value()) << r.error().to_string();
    auto again = (*used)->transcribe(chunk, TimeMap(0, 11'000), c.options);
    ASSERT_TRUE(again.has_value()) << again.error().to_string();
    EXPECT_EQ(describe(*again), describe(*expected));
  }
}

}  // namespace
}  // namespace aimara::asr
