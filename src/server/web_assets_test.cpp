#include "server/web_assets.h"

#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

namespace aimara::server {
namespace {

TEST(WebAssets, RootIsTheIndexPage) {
  const WebAsset* root = find_web_asset("/");
  ASSERT_NE(root, nullptr);
  EXPECT_EQ(root->content_type, "text/html; charset=utf-8");
  EXPECT_NE(root->body.find("<!doctype html>"), std::string_view::npos);
  EXPECT_NE(root->body.find("app.js"), std::string_view::npos);

  const WebAsset* index = find_web_asset("/index.html");
  ASSERT_NE(index, nullptr);
  EXPECT_EQ(index->body.data(), root->body.data());
}

TEST(WebAssets, ScriptAndStylesheetHaveTheirTypes) {
  const WebAsset* js = find_web_asset("/app.js");
  ASSERT_NE(js, nullptr);
  EXPECT_EQ(js->content_type, "application/javascript; charset=utf-8");
  EXPECT_FALSE(js->body.empty());

  const WebAsset* css = find_web_asset("/style.css");
  ASSERT_NE(css, nullptr);
  EXPECT_EQ(css->content_type, "text/css; charset=utf-8");
}

TEST(WebAssets, BodiesAreTheFilesByteForByte) {
  for (const char* name : {"index.html", "app.js", "style.css"}) {
    std::ifstream in(std::string(AIMARA_SOURCE_DIR) + "/web/" + name, std::ios::binary);
    ASSERT_TRUE(in) << name;
    const std::string on_disk{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    const WebAsset* asset = find_web_asset(std::string("/") + name);
    ASSERT_NE(asset, nullptr) << name;
    // Not EXPECT_EQ: a failure would print both files whole.
    EXPECT_TRUE(asset->body == on_disk)
        << "web/" << name << ": " << asset->body.size() << " bytes embedded, " << on_disk.size()
        << " on disk (is the build older than the file?)";
  }
}

TEST(WebAssets, UnknownPathsAreNull) {
  EXPECT_EQ(find_web_asset("/no-such-file.js"), nullptr);
  EXPECT_EQ(find_web_asset(""), nullptr);
  EXPECT_EQ(find_web_asset("app.js"), nullptr);  // paths start with '/'
  EXPECT_EQ(find_web_asset("/../CMakeLists.txt"), nullptr);
  EXPECT_EQ(find_web_asset("/api/v1/jobs"), nullptr);
}

}  // namespace
}  // namespace aimara::server
