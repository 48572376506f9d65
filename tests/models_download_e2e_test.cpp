// `aimara models download` end to end: the real binary and libcurl against a local HTTP server
// (AIMARA_MODEL_BASE_URL) serving a generated model file. No real weights can be had here; the
// transfer, resume and verification code is exactly what users run against the public hubs.
#include <gtest/gtest.h>

#include "core/fs.h"
#include "core/sha256.h"
#include "support/aimara_cli.h"
#include "support/fixture_server.h"

namespace aimara {
namespace {

namespace fs = std::filesystem;
using testing::run_aimara;

class ModelsDownloadE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    auto root = TempDir::create("aimara-models-dl-root");
    ASSERT_TRUE(root.has_value());
    root_ = std::make_unique<TempDir>(std::move(*root));
    auto cache = TempDir::create("aimara-models-dl-cache");
    ASSERT_TRUE(cache.has_value());
    cache_ = std::make_unique<TempDir>(std::move(*cache));

    // The file the hub would serve for `tiny`: a generated whisper model (about 1.5 MB).
    served_ = root_->path() / "ggml-tiny.bin";
    auto r = run_aimara({"models", "make-test", served_.string(), "--dims", "micro", "--seed", "7"});
    ASSERT_TRUE(r.ok()) << r.err;
    auto digest = sha256_file(served_);
    ASSERT_TRUE(digest.has_value());
    digest_ = *digest;
    ASSERT_GT(fs::file_size(served_), 200'000u);

    auto server = testing::FixtureServer::start(root_->path());
    ASSERT_TRUE(server.has_value()) << server.error().to_string();
    server_ = std::make_unique<testing::FixtureServer>(std::move(*server));
  }

  ProcessResult aimara(const std::vector<std::string>& args, const std::string& base) {
    return run_aimara(args, 120,
                      {{"AIMARA_MODELS_DIR", cache_->path().string()},
                       {"AIMARA_MODEL_BASE_URL", server_->url(base)}});
  }

  std::string bytes_of(const fs::path& p) {
    auto r = read_file(p);
    EXPECT_TRUE(r.has_value()) << p;
    return r.value_or("");
  }

  fs::path installed() const { return cache_->path() / "ggml-tiny.bin"; }
  fs::path partial() const { return cache_->path() / "ggml-tiny.bin.part"; }

  std::unique_ptr<TempDir> root_;
  std::unique_ptr<TempDir> cache_;
  std::unique_ptr<testing::FixtureServer> server_;
  fs::path served_;
  std::string digest_;
};

TEST_F(ModelsDownloadE2E, DownloadsVerifiesAndIsFoundByName) {
  auto before = aimara({"models", "path", "tiny"}, "");
  EXPECT_EQ(before.exit_code, 1);
  EXPECT_NE(before.err.find("models download tiny"), std::string::npos) << before.err;

  auto r = aimara({"models", "download", "tiny", "--sha256", digest_, "--no-progress"}, "");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(bytes_of(installed()), bytes_of(served_));
  EXPECT_FALSE(fs::exists(partial()));

  auto path = aimara({"models", "path", "tiny"}, "");
  EXPECT_EQ(path.exit_code, 0) << path.err;
  EXPECT_EQ(path.out, installed().string() + "\n");
  auto list = aimara({"models", "list"}, "");
  EXPECT_EQ(list.exit_code, 0) << list.err;
  EXPECT_NE(list.out.find("tiny"), std::string::npos);
}

TEST_F(ModelsDownloadE2E, AnInterruptedTransferResumesWhereItStopped) {
  constexpr size_t kCut = 100'000;
  const std::string base = "/cut/" + std::to_string(kCut);
  auto first = aimara({"models", "download", "tiny", "--sha256", digest_, "--no-progress"}, base);
  EXPECT_NE(first.exit_code, 0) << "the server dropped the connection: the download must fail";
  EXPECT_NE(first.err.find("run the same command again to resume the download"), std::string::npos)
      << first.err;
  EXPECT_FALSE(fs::exists(installed())) << "a partial transfer must never look like a model";
  ASSERT_TRUE(fs::exists(partial()));
  EXPECT_EQ(fs::file_size(partial()), kCut);

  auto second = aimara({"models", "download", "tiny", "--sha256", digest_, "--no-progress"}, base);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  EXPECT_NE(second.out.find("resumed"), std::string::npos) << second.out;
  EXPECT_EQ(bytes_of(installed()), bytes_of(served_));
  EXPECT_FALSE(fs::exists(partial()));

  // The second request asked only for the rest.
  auto requests = server_->requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].range, "");
  EXPECT_EQ(requests[1].range, "bytes=" + std::to_string(kCut) + "-");
  EXPECT_EQ(requests[1].status, 206);
}

TEST_F(ModelsDownloadE2E, ADigestMismatchLeavesNoModelBehind) {
  const std::string wrong(64, '0');
  auto r = aimara({"models", "download", "tiny", "--sha256", wrong, "--no-progress"}, "");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.err.find(wrong), std::string::npos) << "the error names the expected digest: "
                                                   << r.err;
  EXPECT_FALSE(fs::exists(installed()));
  EXPECT_FALSE(fs::exists(partial()));
  auto path = aimara({"models", "path", "tiny"}, "");
  EXPECT_EQ(path.exit_code, 1);
}

TEST_F(ModelsDownloadE2E, HttpErrorsAndUnknownNamesAreClearErrors) {
  auto missing = aimara({"models", "download", "tiny", "--no-progress"}, "/status/404");
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.err.find("download_unavailable"), std::string::npos) << missing.err;
  EXPECT_FALSE(fs::exists(installed()));

  auto unknown = aimara({"models", "download", "no-such-model"}, "");
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.err.find("no-such-model"), std::string::npos) << unknown.err;
}

}  // namespace
}  // namespace aimara
