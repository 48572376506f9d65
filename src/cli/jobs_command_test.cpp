// End to end: the real `aimara jobs ...` binary on a store file filled through the Store API.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include <nlohmann/json.hpp>

#include "core/fs.h"
#include "core/process.h"
#include "store/store.h"

namespace aimara {
namespace {

class JobsCommand : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(std::filesystem::exists(AIMARA_BINARY)) << "missing binary " << AIMARA_BINARY;
    auto dir = TempDir::create("aimara-jobs-cli");
    ASSERT_TRUE(dir.has_value());
    dir_.emplace(std::move(*dir));
    uri_ = "sqlite:" + (dir_->path() / "aimara.db").string();
    auto s = store::open_store(uri_);
    ASSERT_TRUE(s.has_value()) << s.error().to_string();
    store_ = std::move(*s);
    Fill();
  }

  // A playlist with two entries (one completed, one dead), a single video still queued, and a
  // job that failed once and waits for its retry.
  void Fill() {
    auto playlist = store_->enqueue(
        {.source = "https://example.com/feed.xml", .kind = jobs::JobKind::kPlaylist});
    ASSERT_TRUE(playlist.has_value());
    playlist_ = playlist->id;
    auto p = store_->claim("host:1:w0", 60'000);
    ASSERT_TRUE(p && *p);
    auto kids = store_->add_children(
        (*p)->lease,
        std::vector<store::NewJob>{
            {.source = "https://example.com/a.mp3",
             .media = {.title = "Episode, \"A\"",
                       .platform = "generic",
                       .extractor = "Generic",
                       .video_id = "a",
                       .duration_ms = 65'000,
                       .webpage_url = "https://example.com/a"}},
            {.source = "https://example.com/b.mp3",
             .media = {.title = "Episode B", .extractor = "Generic", .video_id = "b"}}});
    ASSERT_TRUE(kids.has_value());
    ASSERT_TRUE(store_->complete((*p)->lease).has_value());
    child_ok_ = (*kids)[0].id;
    child_dead_ = (*kids)[1].id;
    auto single = store_->enqueue({.source = "/media/talk.wav", .priority = 100});
    ASSERT_TRUE(single.has_value());
    queued_ = single->id;

    auto a = store_->claim("host:1:w1", 60'000);
    ASSERT_TRUE(a && *a);
    ASSERT_EQ((*a)->job.id, child_ok_);
    ASSERT_TRUE(store_->set_stage((*a)->lease, jobs::JobState::kTranscribing).has_value());
    ASSERT_TRUE(store_
                    ->save_chunk_result(
                        (*a)->lease,
                        {.chunk = {0, 0, 30'000}, .segments = {{0, 2000, "hello there", 0, 0, 0}}})
                    .has_value());
    ASSERT_TRUE(store_->complete((*a)->lease).has_value());
    auto b = store_->claim("host:1:w1", 60'000);
    ASSERT_TRUE(b && *b);
    ASSERT_TRUE(store_->set_stage((*b)->lease, jobs::JobState::kDownloading).has_value());
    ASSERT_EQ(*store_->fail((*b)->lease,
                            Error{ErrorCode::kDownloadUnavailable, "HTTP 404, not found"}, true),
              jobs::JobState::kDead);
  }

  ProcessResult aimara(std::vector<std::string> args) {
    args.insert(args.begin(), AIMARA_BINARY);
    auto r = run_process(args, {.timeout = std::chrono::seconds(60)});
    EXPECT_TRUE(r.has_value()) << r.error().to_string();
    return r ? *r : ProcessResult{};
  }

  nlohmann::json json_of(std::vector<std::string> args) {
    auto r = aimara(std::move(args));
    EXPECT_EQ(r.exit_code, 0) << r.err;
    auto v = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(v.is_discarded()) << r.out;
    return v;
  }

  std::optional<TempDir> dir_;
  std::string uri_;
  std::unique_ptr<store::Store> store_;
  int64_t playlist_ = 0, child_ok_ = 0, child_dead_ = 0, queued_ = 0;
};

TEST_F(JobsCommand, ListJsonHasTheDocumentedFields) {
  auto v = json_of({"jobs", "list", "--json", "--store", uri_});
  ASSERT_TRUE(v.is_array());
  ASSERT_EQ(v.size(), 4u);
  std::map<int64_t, nlohmann::json> by_id;
  for (const auto& j : v) {
    for (const char* key : {"id", "parent_id", "state", "title", "url", "error"}) {
      EXPECT_TRUE(j.contains(key)) << key << " missing in " << j.dump();
    }
    by_id[j["id"].get<int64_t>()] = j;
  }
  EXPECT_TRUE(by_id[playlist_]["parent_id"].is_null());
  EXPECT_EQ(by_id[playlist_]["state"], "completed");
  EXPECT_EQ(by_id[playlist_]["kind"], "playlist");
  EXPECT_EQ(by_id[child_ok_]["parent_id"], playlist_);
  EXPECT_EQ(by_id[child_ok_]["title"], "Episode, \"A\"");
  EXPECT_EQ(by_id[child_ok_]["url"], "https://example.com/a");
  EXPECT_TRUE(by_id[child_ok_]["error"].is_null());
  EXPECT_EQ(by_id[child_dead_]["state"], "dead");
  EXPECT_EQ(by_id[child_dead_]["error"]["code"], "download_unavailable");
  EXPECT_EQ(by_id[child_dead_]["url"], "https://example.com/b.mp3");
  EXPECT_EQ(by_id[queued_]["state"], "queued");
  EXPECT_TRUE(by_id[queued_]["parent_id"].is_null());

  auto dead = json_of({"jobs", "list", "--json", "--state", "dead", "--store", uri_});
  ASSERT_EQ(dead.size(), 1u);
  EXPECT_EQ(dead[0]["id"], child_dead_);
  auto kids =
      json_of({"jobs", "list", "--json", "--parent", std::to_string(playlist_), "--store", uri_});
  EXPECT_EQ(kids.size(), 2u);
}

TEST_F(JobsCommand, ListAsATable) {
  auto r = aimara({"jobs", "list", "--store", uri_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("Episode B"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("download_unavailable: HTTP 404, not found"), std::string::npos);
  EXPECT_NE(r.out.find("/media/talk.wav"), std::string::npos);  // no title yet: the source
  EXPECT_NE(r.out.find("1:05"), std::string::npos);             // the duration
}

TEST_F(JobsCommand, ShowAndLogGiveEveryStageWithTimingsWorkerAttemptsAndErrors) {
  auto show = json_of({"jobs", "show", std::to_string(child_dead_), "--json", "--store", uri_});
  EXPECT_EQ(show["state"], "dead");
  EXPECT_EQ(show["stage"], "downloading");
  ASSERT_EQ(show["log"].size(), 2u);
  EXPECT_EQ(show["log"][1]["outcome"], "error");
  EXPECT_EQ(show["log"][1]["worker"], "host:1:w1");
  EXPECT_EQ(show["log"][1]["error"]["message"], "HTTP 404, not found");
  auto ok = json_of({"jobs", "show", std::to_string(child_ok_), "--json", "--store", uri_});
  EXPECT_EQ(ok["chunks"]["done"], 1);

  auto text = aimara({"jobs", "show", std::to_string(child_dead_), "--store", uri_});
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_NE(text.out.find("dead (at downloading)"), std::string::npos) << text.out;

  auto log = json_of({"jobs", "log", "--json", "--store", uri_});
  ASSERT_TRUE(log.is_array());
  EXPECT_EQ(log.size(), 5u);  // playlist resolving; a: resolving, transcribing; b: two stages
  for (const auto& e : log) {
    for (const char* key : {"job_id", "stage", "started_at", "ended_at", "duration_ms", "outcome",
                            "worker", "attempt", "error"}) {
      EXPECT_TRUE(e.contains(key)) << key;
    }
  }
  auto one = json_of({"jobs", "log", std::to_string(child_ok_), "--json", "--store", uri_});
  ASSERT_EQ(one.size(), 2u);
  EXPECT_EQ(one[0]["stage"], "resolving");
  EXPECT_EQ(one[1]["stage"], "transcribing");

  auto csv = aimara({"jobs", "log", "--csv", "--store", uri_});
  ASSERT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(csv.out.rfind("id,job_id,stage,started_at,ended_at,duration_ms,outcome,worker,"
                          "attempt,error_code,error_message\n",
                          0),
            0u);
  EXPECT_NE(csv.out.find(",error,host:1:w1,1,download_unavailable,\"HTTP 404, not found\"\n"),
            std::string::npos)
      << csv.out;
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 6);

  EXPECT_EQ(aimara({"jobs", "log", "--csv", "--json", "--store", uri_}).exit_code, 2);
}

TEST_F(JobsCommand, StatsGiveSuccessRateAndStages) {
  auto v = json_of({"jobs", "stats", "--json", "--store", uri_});
  EXPECT_EQ(v["total"], 4);
  // completed: the playlist and entry a; dead: entry b.
  EXPECT_NEAR(v["success_rate"].get<double>(), 2.0 / 3.0, 1e-9);
  EXPECT_EQ(v["states"]["queued"], 1);
  ASSERT_GE(v["stages"].size(), 3u);
  EXPECT_EQ(v["stages"][0]["stage"], "resolving");
  EXPECT_EQ(v["stages"][0]["runs"], 3);
  auto text = aimara({"jobs", "stats", "--store", uri_});
  ASSERT_EQ(text.exit_code, 0);
  EXPECT_NE(text.out.find("success rate: 66.7%"), std::string::npos) << text.out;
}

TEST_F(JobsCommand, RetryAndCancelChangeTheStore) {
  auto r = aimara({"jobs", "retry", std::to_string(child_dead_), "--store", uri_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(store_->get_job(child_dead_)->state, jobs::JobState::kQueued);
  EXPECT_EQ(store_->get_job(child_dead_)->attempts, 0);

  r = aimara({"jobs", "cancel", std::to_string(queued_), "--store", uri_});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(store_->get_job(queued_)->state, jobs::JobState::kCancelled);

  // Refusals and unknown ids are errors with the stable code on stderr.
  r = aimara({"jobs", "cancel", std::to_string(child_ok_), "--store", uri_});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find("invalid_argument"), std::string::npos) << r.err;
  r = aimara({"jobs", "retry", "999", "--store", uri_});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("not_found"), std::string::npos) << r.err;
}

TEST_F(JobsCommand, AMissingStoreIsAnErrorAndIsNotCreated) {
  const auto missing = dir_->path() / "nothing-here.db";
  auto r = aimara({"jobs", "list", "--store", "sqlite:" + missing.string()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("no job store"), std::string::npos) << r.err;
  EXPECT_FALSE(std::filesystem::exists(missing));
  EXPECT_EQ(aimara({"jobs", "list", "--state", "sleeping", "--store", uri_}).exit_code, 2);
  EXPECT_EQ(aimara({"jobs", "show", "--store", uri_}).exit_code, 2);  // the id is required
  EXPECT_EQ(aimara({"jobs"}).exit_code, 2);
}

}  // namespace
}  // namespace aimara
