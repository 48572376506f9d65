// Unit tests of the server's small pure parts: which paths take a query token, media content
// types, which model names a request may give, the work limit's rules.
#include <gtest/gtest.h>

#include "server/media_api.h"
#include "server/served_model.h"
#include "server/work_limit.h"

namespace aimara::server {
namespace {

TEST(MediaApi, OnlyAJobsMediaPathIsAMediaPath) {
  EXPECT_TRUE(is_media_path("/api/v1/jobs/12/media"));
  EXPECT_FALSE(is_media_path("/api/v1/jobs//media"));
  EXPECT_FALSE(is_media_path("/api/v1/jobs/12/transcript"));
  EXPECT_FALSE(is_media_path("/api/v1/jobs/1/2/media"));
  EXPECT_FALSE(is_media_path("/api/v1/jobs/x/media"));
  EXPECT_FALSE(is_media_path("/api/v1/jobs/12/media/"));
  EXPECT_FALSE(is_media_path("/api/v1/jobs"));
}

TEST(MediaApi, ContentTypeFromTheExtension) {
  EXPECT_EQ(media_content_type("a/b.mp3"), "audio/mpeg");
  EXPECT_EQ(media_content_type("x.WAV"), "audio/wav");
  EXPECT_EQ(media_content_type("clip.mp4"), "video/mp4");
  EXPECT_EQ(media_content_type("page.html"), "application/octet-stream");
  EXPECT_EQ(media_content_type("noext"), "application/octet-stream");
}

TEST(ServedModel, NamedByNameFileOrWhatMWasGiven) {
  const ServedModel m("base", "/models/ggml-base.bin", "base");
  EXPECT_EQ(m.name(), "base");
  EXPECT_TRUE(m.is("base"));
  EXPECT_TRUE(m.is("ggml-base.bin"));
  EXPECT_FALSE(m.is("small"));
  EXPECT_FALSE(m.is(""));
  EXPECT_FALSE(m.is("whisper-1")) << "the OpenAI alias is the OpenAI endpoint's own";
  EXPECT_TRUE(m.check("").has_value());
  EXPECT_TRUE(m.check("base").has_value());
  auto refused = m.check("large-v3");
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().status, 400);
  EXPECT_EQ(refused.error().code, "model_unavailable");
  EXPECT_NE(refused.error().message.find("'base'"), std::string::npos);

  const ServedModel path("/srv/m/ggml-small.en.bin", {}, {});
  EXPECT_EQ(path.name(), "small.en");
  EXPECT_TRUE(path.is("ggml-small.en.bin"));
  EXPECT_TRUE(path.is("/srv/m/ggml-small.en.bin"));
}

TEST(WorkLimit, ParallelOffMeansOneAndValuesAreChecked) {
  WorkLimit limit;
  limit.bind(nullptr, {.parallel = true, .concurrency = 3});
  EXPECT_EQ(limit.get().max_active_jobs(), 3);
  auto off = limit.update(false, std::nullopt);
  ASSERT_TRUE(off);
  EXPECT_EQ(off->max_active_jobs(), 1);
  EXPECT_EQ(off->concurrency, 3) << "kept for when parallel is on again";
  auto on = limit.update(true, 7);
  ASSERT_TRUE(on);
  EXPECT_EQ(on->max_active_jobs(), 7);
  for (int bad : {0, -1, kMaxConcurrency + 1}) {
    auto r = limit.update(std::nullopt, bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, "invalid_request");
  }
  EXPECT_EQ(limit.get().concurrency, 7) << "a refused change changes nothing";
  const auto j = work_limit_json(limit.get());
  EXPECT_EQ(j["parallel"], true);
  EXPECT_EQ(j["concurrency"], 7);
  EXPECT_EQ(j["max_active_jobs"], 7);
}

}  // namespace
}  // namespace aimara::server
