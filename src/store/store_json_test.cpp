#include "store/store_json.h"

#include <gtest/gtest.h>

namespace aimara::store {
namespace {

TEST(StoreJson, FormatsTimesAsIsoUtcWithMilliseconds) {
  EXPECT_EQ(format_time_ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(format_time_ms(1'700'000'000'123), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(format_time_ms(-1), "1969-12-31T23:59:59.999Z");
}

TEST(StoreJson, JobHasTheFieldsScriptsRelyOn) {
  jobs::Job j;
  j.id = 7;
  j.source = "https://youtu.be/abc";
  j.state = jobs::JobState::kFailed;
  j.stage = jobs::JobState::kDownloading;
  j.last_error = jobs::JobError{"download_forbidden", "HTTP 403"};
  j.media.title = "A talk";
  auto v = to_json(j);
  EXPECT_EQ(v["id"], 7);
  EXPECT_TRUE(v["parent_id"].is_null());
  EXPECT_EQ(v["state"], "failed");
  EXPECT_EQ(v["stage"], "downloading");
  EXPECT_EQ(v["title"], "A talk");
  EXPECT_EQ(v["url"], "https://youtu.be/abc");  // no web page known: the source
  EXPECT_EQ(v["error"]["code"], "download_forbidden");
  EXPECT_EQ(v["error"]["message"], "HTTP 403");
  EXPECT_TRUE(v["finished_at"].is_null());
  EXPECT_TRUE(v["worker"].is_null());

  j.parent_id = 3;
  j.media.webpage_url = "https://www.youtube.com/watch?v=abc";
  j.last_error.reset();
  j.stage.reset();
  v = to_json(j);
  EXPECT_EQ(v["parent_id"], 3);
  EXPECT_EQ(v["url"], "https://www.youtube.com/watch?v=abc");
  EXPECT_EQ(v["source"], "https://youtu.be/abc");
  EXPECT_TRUE(v["error"].is_null());
  EXPECT_TRUE(v["stage"].is_null());
}

TEST(StoreJson, EventsAsJsonAndCsv) {
  std::vector<JobEvent> events = {
      {1, 10, jobs::JobState::kResolving, 1000, 3500, EventOutcome::kOk, "host:1:w0", 1,
       std::nullopt},
      {2, 10, jobs::JobState::kDownloading, 3500, 4000, EventOutcome::kRetry, "w,1", 1,
       jobs::JobError{"network", "reset, \"twice\"\nthen gave up"}},
  };
  auto v = to_json(events[1]);
  EXPECT_EQ(v["stage"], "downloading");
  EXPECT_EQ(v["duration_ms"], 500);
  EXPECT_EQ(v["outcome"], "retry");
  EXPECT_EQ(v["error"]["code"], "network");
  EXPECT_TRUE(to_json(events[0])["error"].is_null());

  const std::string csv = events_to_csv(events);
  EXPECT_EQ(csv,
            "id,job_id,stage,started_at,ended_at,duration_ms,outcome,worker,attempt,error_code,"
            "error_message\n"
            "1,10,resolving,1970-01-01T00:00:01.000Z,1970-01-01T00:00:03.500Z,2500,ok,host:1:w0,"
            "1,,\n"
            "2,10,downloading,1970-01-01T00:00:03.500Z,1970-01-01T00:00:04.000Z,500,retry,"
            "\"w,1\",1,network,\"reset, \"\"twice\"\"\nthen gave up\"\n");
}

TEST(StoreJson, StatsKeepEveryStateAndNullRateBeforeAnyFinish) {
  StoreStats s;
  for (auto st : jobs::kAllJobStates) s.by_state.push_back({st, 0});
  auto v = to_json(s);
  EXPECT_TRUE(v["success_rate"].is_null());
  EXPECT_EQ(v["states"].size(), 12u);
  EXPECT_EQ(v["states"]["extracting_audio"], 0);
  s.success_rate = 0.5;
  s.stages.push_back({jobs::JobState::kTranscribing, 2, 2, 0, 0, 1500.0, 1500.0, 2000});
  v = to_json(s);
  EXPECT_EQ(v["success_rate"], 0.5);
  EXPECT_EQ(v["stages"][0]["stage"], "transcribing");
  EXPECT_EQ(v["stages"][0]["mean_ms"], 1500.0);
}

}  // namespace
}  // namespace aimara::store
