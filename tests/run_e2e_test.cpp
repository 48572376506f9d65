// `aimara run` end to end: the real binary, a real SQLite store, real media, the real VAD model and
// a generated deterministic whisper model (real weights cannot exist here).
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "core/fs.h"
#include "core/process.h"
#include "store/store.h"
#include "support/aimara_cli.h"
#include "support/fixture_server.h"

namespace aimara {
namespace {

namespace fs = std::filesystem;
using testing::run_aimara;
using testing::shared_file;
using testing::test_model;

std::vector<std::string> run_args(const fs::path& dir, std::vector<std::string> inputs) {
  std::vector<std::string> a = {"run"};
  a.insert(a.end(), inputs.begin(), inputs.end());
  std::vector<std::string> rest = {"-m", test_model().string(),
                                   "--vad-model", shared_file("models/silero-v6.2.0-ggml.bin").string(),
                                   "-o", (dir / "out").string(),
                                   "--store", "sqlite:" + (dir / "aimara.db").string(),
                                   "-l", "es", "--no-progress"};
  a.insert(a.end(), rest.begin(), rest.end());
  return a;
}

std::string read(const fs::path& p) {
  auto r = read_file(p);
  EXPECT_TRUE(r.has_value()) << p;
  return r.value_or("");
}

TEST(RunE2E, FolderOfMediaGivesTheOriginalLayoutAndSummary) {
  auto dir = TempDir::create("aimara-run-folder");
  ASSERT_TRUE(dir.has_value());
  fs::path in = dir->path() / "in";
  fs::create_directories(in / "sub");
  fs::copy_file(shared_file("media/jfk.wav"), in / "Kennedy speech.wav");
  fs::copy_file(shared_file("media/pv_test_es.wav"), in / "sub" / "entrevista.wav");
  ASSERT_TRUE(write_file_atomic(in / "notes.txt", "not media").has_value());

  auto r = run_aimara(run_args(dir->path(), {in.string()}));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  fs::path out = dir->path() / "out";
  for (const char* ext : {"txt", "json", "srt", "vtt"}) {
    EXPECT_TRUE(fs::exists(out / "video_transcripts" / (std::string("Kennedy speech_transcript.") + ext)));
    EXPECT_TRUE(fs::exists(out / "video_transcripts" / (std::string("entrevista_transcript.") + ext)));
  }
  // Building files are gone once a video finishes, and so is the empty work folder.
  for (const auto& e : fs::directory_iterator(out / "transcripts")) {
    EXPECT_EQ(e.path().string().find("_building"), std::string::npos) << e.path();
  }
  EXPECT_FALSE(fs::exists(out / ".work"));
  auto summary = nlohmann::json::parse(read(out / "run_summary.json"));
  EXPECT_EQ(summary["videos_total"], 2);
  EXPECT_EQ(summary["videos_completed"], 2);
  EXPECT_EQ(summary["videos_failed"], 0);
  EXPECT_EQ(summary["audio_seconds_this_run"], summary["audio_seconds"]);
  auto j = nlohmann::json::parse(read(out / "video_transcripts" / "Kennedy speech_transcript.json"));
  EXPECT_NEAR(j["duration_ms"].get<double>(), 11000.0, 50.0);
  for (const auto& s : j["segments"]) {
    EXPECT_LE(s["end_ms"].get<int64_t>(), j["duration_ms"].get<int64_t>());
  }
  EXPECT_NE(r.out.find("run summary"), std::string::npos) << r.out;

  // The same command again: everything is already done, nothing is redone or duplicated.
  auto before = read(out / "video_transcripts" / "entrevista_transcript.json");
  auto again = run_aimara(run_args(dir->path(), {in.string()}));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_EQ(read(out / "video_transcripts" / "entrevista_transcript.json"), before);
  auto st = store::open_store("sqlite:" + (dir->path() / "aimara.db").string());
  ASSERT_TRUE(st.has_value());
  store::JobFilter f;
  f.limit = 0;
  auto jobs = (*st)->list_jobs(f);
  ASSERT_TRUE(jobs.has_value());
  EXPECT_EQ(jobs->size(), 3u);  // the folder and its two media files

  // Another --out on the same store: the videos are done already, and their files are written
  // there too, from the store, equal to the first run's (no inference: same text, same times).
  auto args = run_args(dir->path(), {in.string()});
  const fs::path elsewhere = dir->path() / "elsewhere";
  *(std::find(args.begin(), args.end(), "-o") + 1) = elsewhere.string();
  auto moved = run_aimara(args);
  ASSERT_EQ(moved.exit_code, 0) << moved.err;
  EXPECT_NE(moved.err.find("wrote the files of 2 video(s) finished by an earlier run"),
            std::string::npos)
      << moved.err;
  for (const char* name : {"Kennedy speech_transcript.json", "entrevista_transcript.json",
                           "entrevista_transcript.srt", "Kennedy speech_entities.json"}) {
    EXPECT_EQ(read(elsewhere / "video_transcripts" / name), read(out / "video_transcripts" / name))
        << name;
  }
  auto moved_summary = nlohmann::json::parse(read(elsewhere / "run_summary.json"));
  EXPECT_EQ(moved_summary["output_files"], 10) << moved_summary.dump(2);

  // A file added to the folder since is picked up by the same command; the rest is not redone.
  fs::copy_file(shared_file("media/pv_test.wav"), in / "sub" / "nuevo.wav");
  auto grown = run_aimara(run_args(dir->path(), {in.string()}));
  ASSERT_EQ(grown.exit_code, 0) << grown.err;
  EXPECT_TRUE(fs::exists(out / "video_transcripts" / "nuevo_transcript.json"));
  EXPECT_EQ(read(out / "video_transcripts" / "entrevista_transcript.json"), before);
  auto grown_summary = nlohmann::json::parse(read(out / "run_summary.json"));
  EXPECT_EQ(grown_summary["videos_total"], 3) << grown_summary.dump(2);
  // The speed printed is this run's: only the new file's audio counts in it.
  EXPECT_NEAR(grown_summary["audio_seconds_this_run"].get<double>(), 5.9, 0.2);
  EXPECT_NE(grown.out.find("of it transcribed by this run"), std::string::npos) << grown.out;
  auto after = (*st)->children((*jobs)[0].id);
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->size(), 3u);  // the two it had, and the new one

  // An input given twice is one job, counted once in the summary.
  fs::path twice = in / "Kennedy speech.wav";
  auto dup = run_aimara(run_args(dir->path(), {twice.string(), twice.string()}));
  ASSERT_EQ(dup.exit_code, 0) << dup.err;
  auto dup_summary = nlohmann::json::parse(read(out / "run_summary.json"));
  EXPECT_EQ(dup_summary["videos_total"], 1) << dup_summary.dump(2);
  EXPECT_EQ(dup_summary["videos"].size(), 1u);
  EXPECT_EQ(dup_summary["output_files"], 5) << dup_summary.dump(2);  // 4 formats + entities
}

// A run loads the entity tagger of the languages its videos are in, when the first of them
// finishes (each tagger holds 12-18 MiB): an English run never loads the Spanish one.
TEST(RunE2E, OnlyTheTaggersOfTheRunsLanguagesAreLoaded) {
  auto dir = TempDir::create("aimara-run-taggers");
  ASSERT_TRUE(dir.has_value());
  std::vector<std::string> args = run_args(dir->path(), {shared_file("media/jfk.wav").string()});
  *std::find(args.begin(), args.end(), "es") = "en";
  args.push_back("-v");
  auto r = run_aimara(args);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string log = r.out + r.err;
  EXPECT_NE(log.find("the extractor for 'en' is loaded"), std::string::npos) << log;
  EXPECT_EQ(log.find("the extractor for 'es' is loaded"), std::string::npos) << log;
  EXPECT_TRUE(fs::exists(dir->path() / "out" / "video_transcripts" / "jfk_entities.json"));
}

TEST(RunE2E, MissingInputIsAUsageError) {
  auto dir = TempDir::create("aimara-run-missing");
  ASSERT_TRUE(dir.has_value());
  auto r = run_aimara(run_args(dir->path(), {(dir->path() / "nope.mp4").string()}));
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_NE(r.err.find("nope.mp4"), std::string::npos) << r.err;
  // Values no run can use are usage errors too, before anything starts.
  const fs::path watchlist = dir->path() / "people.yaml";
  ASSERT_TRUE(write_file_atomic(watchlist, "- name: [unclosed\n").has_value());
  for (std::vector<std::string> bad : {std::vector<std::string>{"--language", "xx"},
                                       {"--chunk-length", "-5"},
                                       {"--max-videos", "0"},
                                       {"--device", "tpu"},
                                       {"--watchlist", watchlist.string()},
                                       {"--cookies", (dir->path() / "no-cookies.txt").string()}}) {
    auto args = run_args(dir->path(), {shared_file("media/jfk.wav").string()});
    if (bad[0] == "--language") {
      *(std::find(args.begin(), args.end(), "-l") + 1) = bad[1];  // run_args gives one
    } else {
      args.insert(args.end(), bad.begin(), bad.end());
    }
    auto u = run_aimara(args);
    EXPECT_EQ(u.exit_code, 2) << bad[0] << ": " << u.err;
    EXPECT_NE(u.err.find(bad[1]), std::string::npos) << u.err;
  }
  EXPECT_FALSE(fs::exists(dir->path() / "out"));
  EXPECT_FALSE(fs::exists(dir->path() / "aimara.db"));
}

// A list of links in a file (yt-dlp's --batch-file format): one input per line, comments and
// blank lines skipped, Windows line ends accepted; it adds to the inputs on the command line.
TEST(RunE2E, BatchFileListsTheInputs) {
  auto dir = TempDir::create("aimara-run-batch");
  ASSERT_TRUE(dir.has_value());
  const fs::path list = dir->path() / "links.txt";
  ASSERT_TRUE(write_file_atomic(list, "# monday's shows\r\n\r\n  " +
                                          shared_file("media/jfk.wav").string() +
                                          "  \r\n; not this one\n")
                  .has_value());
  auto args = run_args(dir->path(), {shared_file("media/pv_test.wav").string()});
  args.insert(args.end(), {"--batch-file", list.string()});
  auto r = run_aimara(args);
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  auto summary = nlohmann::json::parse(read(dir->path() / "out" / "run_summary.json"));
  EXPECT_EQ(summary["videos_completed"], 2) << summary.dump(2);

  auto missing = run_args(dir->path(), {});
  missing.insert(missing.end(), {"-a", (dir->path() / "nope.txt").string()});
  auto m = run_aimara(missing);
  EXPECT_EQ(m.exit_code, 2) << m.err;
  EXPECT_NE(m.err.find("--batch-file: cannot read"), std::string::npos) << m.err;
  auto none = run_aimara(run_args(dir->path(), {}));
  EXPECT_EQ(none.exit_code, 2) << none.err;
  EXPECT_NE(none.err.find("nothing to do"), std::string::npos) << none.err;
}

TEST(RunE2E, AMissingModelIsSaidBeforeAnythingIsCreated) {
  auto dir = TempDir::create("aimara-run-nomodel");
  ASSERT_TRUE(dir.has_value());
  auto args = run_args(dir->path(), {shared_file("media/jfk.wav").string()});
  *(std::find(args.begin(), args.end(), "-m") + 1) = (dir->path() / "ggml-none.bin").string();
  auto r = run_aimara(args);
  EXPECT_EQ(r.exit_code, 1) << r.err;
  EXPECT_NE(r.err.find("model_missing"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir->path() / "out"));
  EXPECT_FALSE(fs::exists(dir->path() / "aimara.db"));

  // So is a --vad-model that is not one.
  const fs::path not_vad = dir->path() / "notes.bin";
  ASSERT_TRUE(write_file_atomic(not_vad, "not a model").has_value());
  auto vad_args = run_args(dir->path(), {shared_file("media/jfk.wav").string()});
  *(std::find(vad_args.begin(), vad_args.end(), "--vad-model") + 1) = not_vad.string();
  auto v = run_aimara(vad_args);
  EXPECT_EQ(v.exit_code, 1) << v.err;
  EXPECT_NE(v.err.find("model_invalid"), std::string::npos) << v.err;
  EXPECT_FALSE(fs::exists(dir->path() / "out"));
  EXPECT_FALSE(fs::exists(dir->path() / "aimara.db"));
}

TEST(RunE2E, OneBrokenFileFailsAloneAndTheRunExitsOne) {
  auto dir = TempDir::create("aimara-run-broken");
  ASSERT_TRUE(dir.has_value());
  fs::path in = dir->path() / "in";
  fs::create_directories(in);
  fs::copy_file(shared_file("media/jfk.wav"), in / "good.wav");
  fs::copy_file(shared_file("media/libwebm_test_stereo_left_right.webm"), in / "video only.webm");
  // A download cut short: what is there is transcribed, and FFmpeg's complaints about it (the
  // probe's included) go to the debug log, never raw to the terminal.
  const std::string mp3 = read(shared_file("media/jfk.mp3"));
  ASSERT_TRUE(write_file_atomic(in / "cut short.mp3", mp3.substr(0, 6000)).has_value());
  auto r = run_aimara(run_args(dir->path(), {in.string()}));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_EQ(r.err.find(" @ 0x"), std::string::npos) << r.err;
  fs::path out = dir->path() / "out";
  EXPECT_TRUE(fs::exists(out / "video_transcripts" / "good_transcript.txt"));
  EXPECT_TRUE(fs::exists(out / "video_transcripts" / "cut short_transcript.txt"));
  auto summary = nlohmann::json::parse(read(out / "run_summary.json"));
  EXPECT_EQ(summary["videos_completed"], 2);
  EXPECT_EQ(summary["videos_failed"], 1);
  bool found = false;
  for (const auto& v : summary["videos"]) {
    if (v.contains("error")) {
      found = true;
      EXPECT_NE(v["error"].get<std::string>().find("media_no_audio"), std::string::npos);
    }
  }
  EXPECT_TRUE(found);
}

// A folder (or playlist, or feed) that gives nothing is a failed input: the others are done, the
// summary says which input failed and why, and the run exits 1.
TEST(RunE2E, AnInputThatGivesNothingFailsTheRun) {
  auto dir = TempDir::create("aimara-run-nothing");
  ASSERT_TRUE(dir.has_value());
  fs::path empty = dir->path() / "no media here";
  fs::create_directories(empty);
  ASSERT_TRUE(write_file_atomic(empty / "notes.txt", "not media").has_value());
  auto r =
      run_aimara(run_args(dir->path(), {empty.string(), shared_file("media/jfk.wav").string()}));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.out.find("failed:   " + empty.string() + ": media_not_found"), std::string::npos)
      << r.out;
  auto summary = nlohmann::json::parse(read(dir->path() / "out" / "run_summary.json"));
  EXPECT_EQ(summary["inputs_failed"], 1) << summary.dump(2);
  EXPECT_EQ(summary["videos_completed"], 1) << summary.dump(2);
  ASSERT_EQ(summary["inputs"].size(), 1u);
  EXPECT_EQ(summary["inputs"][0]["state"], "dead");
  EXPECT_NE(summary["inputs"][0]["error"].get<std::string>().find("media_not_found"),
            std::string::npos);
}

// Titles come from outside (file names here; yt-dlp's metadata for URLs). The progress lines, the
// summary and `jobs list`/`jobs show` print each on one line with its control characters defused,
// so a title cannot break a log or steer the terminal; --json keeps it exactly.
TEST(RunE2E, TitlesFromOutsidePrintOnOneLineAndCannotSteerTheTerminal) {
  auto dir = TempDir::create("aimara-run-titles");
  ASSERT_TRUE(dir.has_value());
  fs::path in = dir->path() / "in";
  fs::create_directories(in);
  const std::string evil = "two\nlines \x1b]0;retitled\x07\x1b[2J end";
  fs::copy_file(shared_file("media/jfk.wav"), in / (evil + ".wav"));
  fs::copy_file(shared_file("media/libwebm_test_stereo_left_right.webm"),
                in / "silent\x1b[31m.webm");
  auto r = run_aimara(run_args(dir->path(), {in.string()}));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;  // the video without audio fails
  auto clean = [](const std::string& text) {
    return text.find('\x1b') == std::string::npos && text.find('\x07') == std::string::npos;
  };
  EXPECT_TRUE(clean(r.out)) << r.out;
  EXPECT_TRUE(clean(r.err)) << r.err;
  EXPECT_NE(r.out.find("completed  two lines \xEF\xBF\xBD]0;retitled"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("failed:   silent\xEF\xBF\xBD[31m"), std::string::npos) << r.out;

  const std::string store = "sqlite:" + (dir->path() / "aimara.db").string();
  auto list = run_aimara({"jobs", "list", "--store", store});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  EXPECT_TRUE(clean(list.out)) << list.out;
  EXPECT_EQ(std::count(list.out.begin(), list.out.end(), '\n'), 4) << list.out;  // header, 3 jobs
  auto json = run_aimara({"jobs", "list", "--json", "--store", store});
  ASSERT_EQ(json.exit_code, 0) << json.err;
  bool exact = false;
  for (const auto& j : nlohmann::json::parse(json.out)) {
    exact = exact || j["title"] == evil;
  }
  EXPECT_TRUE(exact) << json.out;
  for (int id = 1; id <= 3; ++id) {
    auto show = run_aimara({"jobs", "show", std::to_string(id), "--store", store});
    EXPECT_EQ(show.exit_code, 0) << show.err;
    EXPECT_TRUE(clean(show.out)) << show.out;
  }
}

// kill -9 in the middle, run the same command again: finished chunks are not redone, the final
// files equal an uninterrupted run's, and nothing is duplicated.
TEST(RunE2E, ResumesAfterKillNineWithIdenticalOutput) {
  auto dir = TempDir::create("aimara-run-resume");
  ASSERT_TRUE(dir.has_value());
  // Three minutes of speech with pauses: several VAD chunks.
  fs::path media = dir->path() / "long talk.wav";
  {
    auto es = shared_file("media/silero_es.wav").string();
    auto r = run_process({"ffmpeg", "-nostdin", "-loglevel", "error", "-i", es, "-i", es, "-i", es,
                          "-filter_complex", "[0:a][1:a][2:a]concat=n=3:v=0:a=1", "-ar", "16000",
                          "-ac", "1", media.string()});
    ASSERT_TRUE(r.has_value() && r->ok()) << (r ? r->err : r.error().to_string());
  }
  fs::path ref = dir->path() / "ref";
  fs::path cut = dir->path() / "cut";
  fs::create_directories(ref);
  fs::create_directories(cut);
  auto args_ref = run_args(ref, {media.string()});
  args_ref.insert(args_ref.end(), {"--workers", "1"});
  auto args_cut = run_args(cut, {media.string()});
  args_cut.insert(args_cut.end(), {"--workers", "1"});

  auto full = run_aimara(args_ref);
  ASSERT_EQ(full.exit_code, 0) << full.err;

  // Interrupted run: SIGKILL to its process group once at least one chunk is committed.
  std::stop_source kill;
  std::atomic<int> done_at_kill{-1};
  std::jthread watcher([&](std::stop_token st) {
    const std::string uri = "sqlite:" + (cut / "aimara.db").string();
    while (!st.stop_requested()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
      if (!fs::exists(cut / "aimara.db")) continue;
      auto s = store::open_store(uri);
      if (!s) continue;
      store::JobFilter f;
      f.limit = 0;
      auto jobs = (*s)->list_jobs(f);
      if (!jobs) continue;
      for (const auto& j : *jobs) {
        auto done = (*s)->completed_chunks(j.id);
        if (done && !done->empty()) {
          done_at_kill = static_cast<int>(done->size());
          kill.request_stop();
          return;
        }
      }
    }
  });
  std::vector<std::string> argv = {AIMARA_BINARY};
  argv.insert(argv.end(), args_cut.begin(), args_cut.end());
  ProcessOptions po;
  po.stop = kill.get_token();
  po.timeout = std::chrono::seconds(300);
  auto killed = run_process(argv, po);
  watcher.request_stop();
  ASSERT_GE(done_at_kill.load(), 1) << "the run finished before any chunk was seen";

  // Which chunks were done, and when, before the rerun.
  std::map<int, int64_t> done_before;
  int64_t job_id = 0;
  {
    auto s = store::open_store("sqlite:" + (cut / "aimara.db").string());
    ASSERT_TRUE(s.has_value());
    store::JobFilter f;
    f.limit = 0;
    auto jobs = (*s)->list_jobs(f);
    ASSERT_TRUE(jobs.has_value());
    ASSERT_EQ(jobs->size(), 1u);
    job_id = jobs->front().id;
    EXPECT_NE(jobs->front().state, jobs::JobState::kCompleted) << "killed too late to test resume";
    auto chunks = (*s)->chunks(job_id);
    ASSERT_TRUE(chunks.has_value());
    for (const auto& c : *chunks) {
      if (c.state == store::ChunkState::kDone) done_before[c.index] = c.done_at_ms.value_or(0);
    }
  }
  ASSERT_FALSE(done_before.empty());

  // Resumed with other chunking settings, the finished chunks would not fit the new plan: the
  // run refuses, clearly, and keeps them.
  auto other = args_cut;
  other.insert(other.end(), {"--chunk-length", "7"});
  auto refused = run_aimara(other);
  EXPECT_EQ(refused.exit_code, 1) << refused.out << refused.err;
  EXPECT_NE((refused.out + refused.err).find("other chunking settings"), std::string::npos)
      << refused.out << refused.err;
  {
    auto s = store::open_store("sqlite:" + (cut / "aimara.db").string());
    ASSERT_TRUE(s.has_value());
    auto chunks = (*s)->chunks(job_id);
    ASSERT_TRUE(chunks.has_value());
    size_t still_done = 0;
    for (const auto& c : *chunks) still_done += c.state == store::ChunkState::kDone ? 1 : 0;
    EXPECT_EQ(still_done, done_before.size());
    ASSERT_TRUE((*s)->retry(job_id).has_value());  // what `aimara jobs retry` does
  }

  auto resumed = run_aimara(args_cut);
  ASSERT_EQ(resumed.exit_code, 0) << resumed.out << resumed.err;

  for (const char* ext : {"txt", "json", "srt", "vtt"}) {
    std::string name = std::string("long talk_transcript.") + ext;
    EXPECT_EQ(read(cut / "out" / "video_transcripts" / name),
              read(ref / "out" / "video_transcripts" / name))
        << name << " differs from the uninterrupted run";
  }
  auto s = store::open_store("sqlite:" + (cut / "aimara.db").string());
  ASSERT_TRUE(s.has_value());
  auto chunks = (*s)->chunks(job_id);
  ASSERT_TRUE(chunks.has_value());
  for (const auto& c : *chunks) {
    EXPECT_EQ(c.state, store::ChunkState::kDone);
    if (done_before.contains(c.index)) {
      EXPECT_EQ(c.done_at_ms.value_or(-1), done_before[c.index]) << "chunk " << c.index << " was redone";
    }
  }
  auto ref_store = store::open_store("sqlite:" + (ref / "aimara.db").string());
  ASSERT_TRUE(ref_store.has_value());
  auto segs_cut = (*s)->segments(job_id);
  auto ref_jobs = (*ref_store)->list_jobs(store::JobFilter{.limit = 0});
  ASSERT_TRUE(segs_cut.has_value() && ref_jobs.has_value());
  auto segs_ref = (*ref_store)->segments(ref_jobs->front().id);
  ASSERT_TRUE(segs_ref.has_value());
  EXPECT_EQ(segs_cut->size(), segs_ref->size()) << "duplicated or missing segments";
  EXPECT_FALSE(fs::exists(cut / "out" / "transcripts" / "long talk_transcript_building.txt"));
}

// A podcast feed on a local HTTP server, through Debian's yt-dlp: the feed becomes a parent job
// with one child per episode; an episode that is gone (404) fails alone and the run exits 1.
TEST(RunE2E, FeedUrlExpandsIntoEpisodesAndAMissingOneFailsAlone) {
  auto dir = TempDir::create("aimara-run-feed");
  ASSERT_TRUE(dir.has_value());
  fs::path site = dir->path() / "site";
  fs::create_directories(site / "pod");
  fs::copy_file(shared_file("media/jfk.mp3"), site / "pod" / "ep_a.mp3");
  fs::copy_file(shared_file("media/jfk.mp3"), site / "pod" / "ep_b.mp3");
  auto server = testing::FixtureServer::start(site);
  ASSERT_TRUE(server.has_value()) << server.error().to_string();

  auto args = run_args(dir->path(), {server->url("/feed.xml?dir=pod&extra=ep_gone")});
  args.insert(args.end(), {"--max-attempts", "1"});
  auto r = run_aimara(args);
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;

  fs::path out = dir->path() / "out";
  for (const char* title : {"Episode ep_a", "Episode ep_b"}) {
    auto j = nlohmann::json::parse(
        read(out / "video_transcripts" / (std::string(title) + "_transcript.json")));
    EXPECT_NEAR(j["duration_ms"].get<double>(), 11000.0, 100.0) << title;
  }
  EXPECT_FALSE(fs::exists(out / "video_transcripts" / "Episode ep_gone_transcript.json"));
  auto summary = nlohmann::json::parse(read(out / "run_summary.json"));
  EXPECT_EQ(summary["videos_completed"], 2);
  EXPECT_EQ(summary["videos_failed"], 1);

  auto list = run_aimara({"jobs", "list", "--json", "--store",
                          "sqlite:" + (dir->path() / "aimara.db").string()});
  ASSERT_EQ(list.exit_code, 0) << list.err;
  auto jobs = nlohmann::json::parse(list.out);
  ASSERT_EQ(jobs.size(), 4u) << list.out;  // the feed and its three episodes
  int64_t feed_id = 0;
  std::map<std::string, std::string> state_of;
  for (const auto& j : jobs) {
    if (j["parent_id"].is_null()) {
      feed_id = j["id"].get<int64_t>();
      EXPECT_EQ(j["state"], "completed");
    }
  }
  for (const auto& j : jobs) {
    if (j["parent_id"].is_null()) continue;
    EXPECT_EQ(j["parent_id"].get<int64_t>(), feed_id);
    state_of[j["title"].get<std::string>()] = j["state"].get<std::string>();
    if (j["title"] == "Episode ep_gone") {
      EXPECT_NE(j["error"].dump().find("download_unavailable"), std::string::npos) << j.dump();
    }
  }
  EXPECT_EQ(state_of, (std::map<std::string, std::string>{{"Episode ep_a", "completed"},
                                                          {"Episode ep_b", "completed"},
                                                          {"Episode ep_gone", "dead"}}));

  // The next day the feed has a new episode: the same command picks it up and redoes nothing.
  auto finished_at = [&](const std::string& title) {
    auto now = run_aimara(
        {"jobs", "list", "--json", "--store", "sqlite:" + (dir->path() / "aimara.db").string()});
    for (const auto& j : nlohmann::json::parse(now.out)) {
      if (j["title"] == title) return j["finished_at"].dump();
    }
    return std::string("no such job");
  };
  const std::string first_a = read(out / "video_transcripts" / "Episode ep_a_transcript.json");
  const std::string finished_a = finished_at("Episode ep_a");
  fs::copy_file(shared_file("media/jfk.mp3"), site / "pod" / "ep_c.mp3");
  auto next = run_aimara(args);
  EXPECT_EQ(next.exit_code, 1) << next.out << next.err;  // ep_gone is still dead
  EXPECT_TRUE(fs::exists(out / "video_transcripts" / "Episode ep_c_transcript.json"));
  EXPECT_EQ(read(out / "video_transcripts" / "Episode ep_a_transcript.json"), first_a);
  EXPECT_EQ(finished_at("Episode ep_a"), finished_a) << "ep_a was done again";
  auto next_summary = nlohmann::json::parse(read(out / "run_summary.json"));
  EXPECT_EQ(next_summary["videos_completed"], 3) << next_summary.dump(2);
}

}  // namespace
}  // namespace aimara
