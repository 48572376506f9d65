// `aimara transcribe` end to end: the real binary, real media, a generated deterministic model.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/fs.h"
#include "support/aimara_cli.h"

namespace aimara {
namespace {

namespace fs = std::filesystem;
using testing::run_aimara;
using testing::shared_file;
using testing::test_model;

TEST(TranscribeE2E, WritesFourValidFormatsForJfk) {
  auto out = TempDir::create("aimara-e2e-transcribe");
  ASSERT_TRUE(out.has_value());
  auto media = shared_file("media/jfk.mp3");
  auto r = run_aimara({"transcribe", media.string(), "-m", test_model().string(), "-o",
                       out->path().string(), "-f", "txt,json,srt,vtt", "-l", "en"});
  ASSERT_TRUE(r.ok()) << r.out << r.err;
  EXPECT_NE(r.out.find("jfk.mp3"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("realtime factor"), std::string::npos) << r.out;
  for (const char* ext : {"txt", "json", "srt", "vtt"}) {
    EXPECT_TRUE(fs::exists(out->path() / (std::string("jfk.") + ext))) << ext;
  }
  auto j = nlohmann::json::parse(*read_file(out->path() / "jfk.json"));
  ASSERT_TRUE(j["duration_ms"].is_number_integer());
  // ffmpeg -i jfk.mp3 -ac 1 -ar 16000 gives 11.05 s of samples (mp3 padding included).
  EXPECT_NEAR(j["duration_ms"].get<double>(), 11000.0, 200.0);
  EXPECT_EQ(j["language"], "en");
  EXPECT_EQ(j["model"], "micro-seed1");
  int64_t prev = -1;
  for (const auto& s : j["segments"]) {
    ASSERT_TRUE(s["start_ms"].is_number_integer());
    ASSERT_TRUE(s["end_ms"].is_number_integer());
    EXPECT_GE(s["start_ms"].get<int64_t>(), prev);
    EXPECT_LE(s["start_ms"].get<int64_t>(), s["end_ms"].get<int64_t>());
    EXPECT_LE(s["end_ms"].get<int64_t>(), j["duration_ms"].get<int64_t>());
    prev = s["start_ms"].get<int64_t>();
  }
  std::string vtt = *read_file(out->path() / "jfk.vtt");
  EXPECT_TRUE(vtt.starts_with("WEBVTT\n\n"));
  std::string srt = *read_file(out->path() / "jfk.srt");
  // The generated model writes word-like text, so there are segments to number.
  ASSERT_FALSE(j["segments"].empty());
  EXPECT_TRUE(srt.starts_with("1\n00:00:")) << srt;
}

TEST(TranscribeE2E, SameInputSameOutputAcrossRunsAndWorkerCounts) {
  auto a = TempDir::create("aimara-e2e-det-a");
  auto b = TempDir::create("aimara-e2e-det-b");
  ASSERT_TRUE(a.has_value() && b.has_value());
  auto media = shared_file("media/silero_es.wav");  // 60 s: two chunks
  auto model = test_model().string();
  auto r1 = run_aimara({"transcribe", media.string(), "-m", model, "-o", a->path().string(), "-f",
                        "json", "-l", "es", "--workers", "1", "--threads", "1"});
  auto r2 = run_aimara({"transcribe", media.string(), "-m", model, "-o", b->path().string(), "-f",
                        "json", "-l", "es", "--workers", "2", "--threads", "1"});
  ASSERT_TRUE(r1.ok()) << r1.err;
  ASSERT_TRUE(r2.ok()) << r2.err;
  auto j1 = nlohmann::json::parse(*read_file(a->path() / "silero_es.json"));
  auto j2 = nlohmann::json::parse(*read_file(b->path() / "silero_es.json"));
  EXPECT_EQ(j1["segments"], j2["segments"]);
  EXPECT_NEAR(j1["duration_ms"].get<double>(), 60000.0, 50.0);
}

// Inputs whose names share a stem each keep their own transcript; a file named twice is done once.
TEST(TranscribeE2E, FilesWithTheSameStemDoNotOverwriteEachOther) {
  auto dir = TempDir::create("aimara-e2e-stems");
  ASSERT_TRUE(dir.has_value());
  fs::create_directories(dir->path() / "a");
  fs::create_directories(dir->path() / "b");
  const fs::path one = dir->path() / "a" / "talk.wav";
  const fs::path two = dir->path() / "b" / "talk.wav";
  const fs::path three = dir->path() / "b" / "talk.mp3";
  fs::copy_file(shared_file("media/jfk.wav"), one);
  fs::copy_file(shared_file("media/pv_test.wav"), two);
  fs::copy_file(shared_file("media/jfk.mp3"), three);
  const fs::path out = dir->path() / "out";
  auto r =
      run_aimara({"transcribe", one.string(), two.string(), three.string(), one.string(), "-m",
                  test_model().string(), "-o", out.string(), "-f", "json", "-l", "en", "--no-vad"});
  ASSERT_TRUE(r.ok()) << r.out << r.err;
  EXPECT_NE(r.out.find("3 of 3 files"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("b/talk.wav (as talk_2)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("b/talk.mp3 (as talk_3)"), std::string::npos) << r.out;
  auto duration = [&](const char* name) {
    auto j = nlohmann::json::parse(read_file(out / name).value_or("null"), nullptr, false);
    return j.is_object() ? j.value("duration_ms", int64_t{-1}) : int64_t{-1};
  };
  EXPECT_NEAR(static_cast<double>(duration("talk.json")), 11000.0, 200.0);    // jfk.wav
  EXPECT_NEAR(static_cast<double>(duration("talk_2.json")), 6000.0, 1000.0);  // pv_test.wav
  EXPECT_NEAR(static_cast<double>(duration("talk_3.json")), 11000.0, 200.0);  // jfk.mp3
}

TEST(TranscribeE2E, BadFilesFailWithTheirCodeAndTheOthersAreStillDone) {
  auto out = TempDir::create("aimara-e2e-bad");
  ASSERT_TRUE(out.has_value());
  auto text = out->path() / "notes.mp3";
  ASSERT_TRUE(write_file_atomic(text, "this is a text file, not audio\n").has_value());
  auto r = run_aimara({"transcribe", text.string(), shared_file("media/jfk.wav").string(),
                       shared_file("media/libwebm_test_stereo_left_right.webm").string(),
                       (out->path() / "missing.wav").string(), "-m", test_model().string(), "-o",
                       out->path().string(), "-f", "txt", "-l", "en"});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("media_invalid"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("media_no_audio"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("media_not_found"), std::string::npos) << r.err;
  EXPECT_TRUE(fs::exists(out->path() / "jfk.txt"));
  EXPECT_FALSE(fs::exists(out->path() / "notes.txt"));
}

TEST(TranscribeE2E, UsageErrorsExitTwo) {
  auto r = run_aimara({"transcribe", "x.wav", "-f", "docx", "-m", "whatever"});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("docx"), std::string::npos);
  auto r2 = run_aimara({"transcribe"});
  EXPECT_EQ(r2.exit_code, 2);
  auto r3 = run_aimara({"transcribe", shared_file("media/jfk.wav").string(), "-l", "klingon"});
  EXPECT_EQ(r3.exit_code, 2) << r3.err;
  EXPECT_NE(r3.err.find("unknown language 'klingon'"), std::string::npos) << r3.err;
  // A word that is not a command is named, and the commands there are are listed.
  auto r4 = run_aimara({"transcrbe", "x.wav"});
  EXPECT_EQ(r4.exit_code, 2);
  EXPECT_NE(r4.err.find("aimara: 'transcrbe' is not a command"), std::string::npos) << r4.err;
  EXPECT_NE(r4.err.find("transcribe"), std::string::npos) << r4.err;
  auto r5 = run_aimara({"jobs", "lst"});
  EXPECT_EQ(r5.exit_code, 2);
  EXPECT_NE(r5.err.find("aimara jobs: 'lst' is not a command"), std::string::npos) << r5.err;
  EXPECT_NE(r5.err.find("retry"), std::string::npos) << r5.err;
  auto r6 = run_aimara({});
  EXPECT_EQ(r6.exit_code, 2);
  EXPECT_NE(r6.err.find("Subcommands:"), std::string::npos) << r6.err;
}

TEST(TranscribeE2E, MissingModelSaysHowToGetOne) {
  auto out = TempDir::create("aimara-e2e-nomodel");
  ASSERT_TRUE(out.has_value());
  auto r = run_aimara({"transcribe", shared_file("media/jfk.wav").string(), "-m",
                       (out->path() / "nope.bin").string(), "-o", (out->path() / "o").string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("model_missing"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(out->path() / "o"));  // said before anything is created

  // A --vad-model that is not one is an error too (not a silent fall back to fixed chunks).
  auto v = run_aimara({"transcribe", shared_file("media/jfk.wav").string(), "-m",
                       test_model().string(), "--vad-model", shared_file("media/jfk.wav").string(),
                       "-o", (out->path() / "o").string()});
  EXPECT_EQ(v.exit_code, 1);
  EXPECT_NE(v.err.find("model_invalid"), std::string::npos) << v.err;
  EXPECT_FALSE(std::filesystem::exists(out->path() / "o"));
}

TEST(TranscribeE2E, HelpExplainsTheFlags) {
  auto r = run_aimara({"transcribe", "--help"});
  EXPECT_EQ(r.exit_code, 0);
  for (const char* flag : {"--model", "--formats", "--threads", "--language", "--beam-size",
                           "--best-of", "--no-fallback"}) {
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace aimara
