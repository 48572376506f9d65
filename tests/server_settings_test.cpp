// `aimara serve`'s run-time settings on the real binary: the work limit (parallel, concurrency)
// takes effect on the engine, and a job may only ask for the model the server runs.
#include <algorithm>
#include <set>
#include <thread>

#include <gtest/gtest.h>

#include "server_test_util.h"

namespace aimara::testing {
namespace {

const std::set<std::string> kActive = {"resolving",          "downloading", "extracting_audio",
                                       "transcribing",       "analyzing",   "storing",
                                       "extracting_entities"};

struct Observed {
  int most_active = 0;  // the most jobs seen in an active state in one listing
  bool all_completed = false;
  std::vector<nlohmann::json> jobs;  // each job with its timings, at the end
};

// Submits `n` uploads of `media` at once and lists the jobs every 10 ms until all completed (at
// most 120 s), counting the jobs in an active state in each listing.
Observed run_uploads(httplib::Client& c, const std::string& media, int n) {
  Observed o;
  std::vector<int64_t> ids;
  for (int i = 0; i < n; ++i) ids.push_back(submit_upload(c, media, "en"));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline) {
    auto list = json_of(c.Get("/api/v1/jobs?limit=500"));
    int active = 0;
    int completed = 0;
    for (const auto& j : list["jobs"]) {
      if (std::ranges::find(ids, j["id"].get<int64_t>()) == ids.end()) continue;
      const std::string state = j["state"];
      active += kActive.contains(state) ? 1 : 0;
      completed += state == "completed" ? 1 : 0;
      EXPECT_TRUE(state != "failed" && state != "dead") << j.dump();
    }
    o.most_active = std::max(o.most_active, active);
    if (completed == n) {
      o.all_completed = true;
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (int64_t id : ids) o.jobs.push_back(json_of(c.Get("/api/v1/jobs/" + std::to_string(id))));
  return o;
}

// When the job first ran (its first stage started) and when it finished: ISO strings of one
// fixed width, so they order as text.
std::string first_start(const nlohmann::json& job) {
  std::string first = "~";
  for (const auto& t : job["timings"]) first = std::min(first, t["started_at"].get<std::string>());
  return first;
}

// True when some two of the jobs ran at the same time.
bool any_overlap(const std::vector<nlohmann::json>& jobs) {
  for (const auto& a : jobs) {
    for (const auto& b : jobs) {
      if (a["id"] == b["id"]) continue;
      if (first_start(a) <= first_start(b) &&
          first_start(b) < a["finished_at"].get<std::string>()) {
        return true;
      }
    }
  }
  return false;
}

nlohmann::json put_settings(httplib::Client& c, const std::string& body, int expect_status) {
  auto r = c.Put("/api/v1/settings", body, "application/json");
  EXPECT_TRUE(r);
  if (!r) return nullptr;
  EXPECT_EQ(r->status, expect_status) << body << ": " << r->body;
  return json_of(r);
}

TEST(ServerSettings, ConcurrencyIsAppliedToTheEngine) {
  ServerProcess server(test_server_args());  // --fetchers not given: 2 at once to start with
  ASSERT_GT(server.port(), 0);
  auto c = server.client();
  auto start = json_of(c->Get("/api/v1/settings"));
  EXPECT_EQ(start["concurrency"], 2);
  EXPECT_EQ(start["parallel"], true);
  EXPECT_EQ(start["max_active_jobs"], 2);

  // Validated: nothing changes on a refusal.
  for (const char* bad :
       {R"({"concurrency": 0})", R"({"concurrency": 11})", R"({"concurrency": "3"})",
        R"({"parallel": "yes"})", "{}", R"({"model": "large-v3"})", "[1]", "nope"}) {
    auto j = put_settings(*c, bad, 400);
    EXPECT_EQ(j["error"]["code"], "invalid_request") << bad;
  }
  EXPECT_EQ(json_of(c->Get("/api/v1/settings"))["concurrency"], 2);

  // One at a time: no two jobs are ever active together, each starts after the last finished.
  auto one = put_settings(*c, R"({"parallel": true, "concurrency": 1})", 200);
  EXPECT_EQ(one["concurrency"], 1);
  EXPECT_EQ(one["max_active_jobs"], 1);
  const std::string media = shared_file("media/fw_multilingual.mp3").string();
  auto serial = run_uploads(*c, media, 2);
  ASSERT_TRUE(serial.all_completed);
  EXPECT_EQ(serial.most_active, 1);
  EXPECT_FALSE(any_overlap(serial.jobs)) << serial.jobs[0].dump() << serial.jobs[1].dump();

  // Two at a time (POST works as PUT does): they overlap.
  auto two = c->Post("/api/v1/settings", R"({"concurrency": 2})", "application/json");
  ASSERT_TRUE(two);
  ASSERT_EQ(two->status, 200) << two->body;
  EXPECT_EQ(json_of(two)["max_active_jobs"], 2);
  auto parallel = run_uploads(*c, media, 2);
  ASSERT_TRUE(parallel.all_completed);
  EXPECT_EQ(parallel.most_active, 2);
  EXPECT_TRUE(any_overlap(parallel.jobs));

  // Parallel off means one at a time, and keeps the concurrency for later.
  auto off = put_settings(*c, R"({"parallel": false, "concurrency": 5})", 200);
  EXPECT_EQ(off["parallel"], false);
  EXPECT_EQ(off["concurrency"], 5);
  EXPECT_EQ(off["max_active_jobs"], 1);
  auto serial_again = run_uploads(*c, media, 2);
  ASSERT_TRUE(serial_again.all_completed);
  EXPECT_EQ(serial_again.most_active, 1);
  EXPECT_FALSE(any_overlap(serial_again.jobs));
}

// A submission's own parallel/concurrency (what the dashboard sends) becomes the server's.
TEST(ServerSettings, SubmissionsSetTheLatestConcurrency) {
  ServerProcess server(
      {"-m", test_model().string(), "--no-vad", "--workers", "0", "--fetchers", "3"});
  ASSERT_GT(server.port(), 0);
  auto c = server.client();
  EXPECT_EQ(json_of(c->Get("/api/v1/settings"))["concurrency"], 3);
  auto r = c->Post("/api/v1/jobs", R"({"url":"https://8.8.8.8/a.mp3","concurrency":7})",
                   "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202) << r->body;
  auto s = json_of(c->Get("/api/v1/settings"));
  EXPECT_EQ(s["concurrency"], 7);
  EXPECT_EQ(s["max_active_jobs"], 7);
  httplib::MultipartFormDataItems form = {
      {"file", read_file(shared_file("media/jfk.wav")), "jfk.wav", "audio/wav"},
      {"parallel", "false", "", ""},
      {"concurrency", "4", "", ""}};
  auto up = c->Post("/api/v1/jobs", form);
  ASSERT_TRUE(up);
  ASSERT_EQ(up->status, 202) << up->body;
  s = json_of(c->Get("/api/v1/settings"));
  EXPECT_EQ(s["parallel"], false);
  EXPECT_EQ(s["concurrency"], 4);
  EXPECT_EQ(s["max_active_jobs"], 1);
  // A refused submission changes nothing.
  auto bad = c->Post("/api/v1/jobs", R"({"url":"https://8.8.8.8/b.mp3","concurrency":11})",
                     "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(json_of(c->Get("/api/v1/settings"))["concurrency"], 4);
}

// The server runs one model: a job may name it (by name or file), not another.
TEST(ServerSettings, OnlyTheLoadedModelMayBeAskedFor) {
  ServerProcess server({"-m", test_model().string(), "--no-vad", "--workers", "0"});
  ASSERT_GT(server.port(), 0);
  auto c = server.client();
  auto settings = json_of(c->Get("/api/v1/settings"));
  const std::string name = settings["model"];
  const std::string file = test_model().filename().string();
  EXPECT_EQ(settings["models"], nlohmann::json::array({name}));
  EXPECT_EQ(name.find('/'), std::string::npos) << "no server path in the settings";

  auto refused = c->Post("/api/v1/jobs", R"({"url":"https://8.8.8.8/a.mp3","model":"large-v3"})",
                         "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 400);
  EXPECT_EQ(error_code(refused), "model_unavailable");
  EXPECT_NE(json_of(refused)["error"]["message"].get<std::string>().find("'" + name + "'"),
            std::string::npos)
      << refused->body;
  auto upload =
      c->Post("/api/v1/jobs", httplib::MultipartFormDataItems{{"file", "x", "a.wav", "audio/wav"},
                                                              {"model", "tiny", "", ""}});
  ASSERT_TRUE(upload);
  EXPECT_EQ(upload->status, 400);
  EXPECT_EQ(error_code(upload), "model_unavailable");
  EXPECT_EQ(json_of(c->Get("/api/v1/jobs"))["total"], 0) << "nothing was enqueued";

  for (const std::string& asked : {name, file}) {
    auto ok = c->Post(
        "/api/v1/jobs",
        nlohmann::json{{"url", "https://8.8.8.8/" + asked + ".mp3"}, {"model", asked}}.dump(),
        "application/json");
    ASSERT_TRUE(ok);
    ASSERT_EQ(ok->status, 202) << ok->body;
    auto job =
        json_of(c->Get("/api/v1/jobs/" + std::to_string(json_of(ok)["ids"][0].get<int64_t>())));
    EXPECT_EQ(job["options"]["model"], name) << "stored under the loaded model's name";
  }
}

}  // namespace
}  // namespace aimara::testing
