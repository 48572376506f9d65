#include "server/url_guard.h"

#include <arpa/inet.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "core/http_download.h"
#include "server/httplib_config.h"

namespace aimara::server {
namespace {

TEST(UrlGuard, RefusesNonPublicAddresses) {
  for (const char* a : {"127.0.0.1",
                        "127.8.9.1",
                        "10.1.2.3",
                        "172.16.0.1",
                        "172.31.255.255",
                        "192.168.1.1",
                        "169.254.169.254",
                        "100.64.0.1",
                        "100.127.255.254",
                        "0.0.0.0",
                        "224.0.0.1",
                        "255.255.255.255",
                        "::1",
                        "::",
                        "fe80::1",
                        "fd00:ec2::254",
                        "fc00::1",
                        "::ffff:127.0.0.1",
                        "::ffff:10.0.0.1",
                        "64:ff9b::a9fe:a9fe",
                        "ff02::1",
                        "2002:7f00:1::1"}) {
    EXPECT_FALSE(is_public_address_text(a)) << a;
  }
}

TEST(UrlGuard, AcceptsPublicAddresses) {
  for (const char* a : {"8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "169.253.1.1",
                        "2606:4700:4700::1111", "::ffff:8.8.8.8", "2a00:1450:4001::200e"}) {
    EXPECT_TRUE(is_public_address_text(a)) << a;
  }
  EXPECT_FALSE(is_public_address_text("not an address"));
}

TEST(UrlGuard, ChecksSchemeHostAndResolvedAddress) {
  UrlPolicy p;
  EXPECT_EQ(check_url("ftp://example.com/a.mp3", p).error().code, "invalid_request");
  EXPECT_EQ(check_url("file:///etc/passwd", p).error().code, "invalid_request");
  EXPECT_EQ(check_url("http:///nohost", p).error().code, "invalid_request");
  EXPECT_EQ(check_url("http://127.0.0.1:8080/a.mp3", p).error().code, "url_forbidden");
  EXPECT_EQ(check_url("http://127.0.0.1:8080/a.mp3", p).error().status, 403);
  EXPECT_EQ(check_url("http://[::1]/a.mp3", p).error().code, "url_forbidden");
  EXPECT_EQ(check_url("http://localhost/a.mp3", p).error().code, "url_forbidden");
  EXPECT_EQ(check_url("http://user@169.254.169.254/latest/meta-data", p).error().code,
            "url_forbidden");
  EXPECT_EQ(check_url("http://metadata.google.internal/", p).error().code, "url_forbidden");
  // Decimal and octal spellings resolve to the same loopback address.
  EXPECT_EQ(check_url("http://2130706433/", p).error().code, "url_forbidden");
  EXPECT_EQ(check_url("http://0177.0.0.1/", p).error().code, "url_forbidden");
  // Public literals need no DNS.
  EXPECT_TRUE(check_url("https://8.8.8.8/a.mp3", p).has_value());

  p.allow_private = true;
  EXPECT_TRUE(check_url("http://127.0.0.1:8080/a.mp3", p).has_value());
  EXPECT_FALSE(check_url("ftp://127.0.0.1/a.mp3", p).has_value());
}

TEST(UrlGuard, ExtractorAllowList) {
  auto list = parse_extractor_list("YouTube, vimeo");
  ASSERT_TRUE(list.has_value());
  EXPECT_EQ(*list, (std::vector<std::string>{"youtube", "vimeo"}));
  EXPECT_FALSE(parse_extractor_list("youtube,nosuch").has_value());

  UrlPolicy p{.allow_private = true, .allowed_extractors = *list};
  EXPECT_TRUE(check_url("https://www.youtube.com/watch?v=dQw4w9WgXcQ", p).has_value());
  EXPECT_TRUE(check_url("https://vimeo.com/76979871", p).has_value());
  auto refused = check_url("https://www.tiktok.com/@a/video/123", p);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().code, "extractor_forbidden");
}

// Downloads ask the address rule for every connection, redirects included (what `aimara serve`
// installs with is_public_address). Here the rule admits one loopback port and not the other.
TEST(UrlGuard, DownloadsCheckEveryConnectionIncludingRedirects) {
  httplib::Server target;
  target.Get("/a.mp3", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ID3 not really audio", "audio/mpeg");
  });
  const int target_port = target.bind_to_any_port("127.0.0.1");
  std::thread t1([&] { target.listen_after_bind(); });
  httplib::Server front;
  front.Get("/a.mp3", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ID3 front", "audio/mpeg");
  });
  front.Get("/moved.mp3", [target_port](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("http://127.0.0.1:" + std::to_string(target_port) + "/a.mp3");
  });
  const int front_port = front.bind_to_any_port("127.0.0.1");
  std::thread t2([&] { front.listen_after_bind(); });
  target.wait_until_ready();
  front.wait_until_ready();

  char tmpl[] = "/tmp/aimara-download-guard-XXXXXX";
  const std::filesystem::path dir = ::mkdtemp(tmpl);
  const std::string front_url = "http://127.0.0.1:" + std::to_string(front_port);
  const uint16_t allowed = static_cast<uint16_t>(front_port);
  set_download_address_filter([allowed](const sockaddr* a) {
    return a->sa_family == AF_INET &&
           ntohs(reinterpret_cast<const sockaddr_in*>(a)->sin_port) == allowed;
  });
  auto direct = download_file(front_url + "/a.mp3", dir / "direct.mp3");
  EXPECT_TRUE(direct.has_value()) << direct.error().to_string();
  auto redirected = download_file(front_url + "/moved.mp3", dir / "moved.mp3");
  ASSERT_FALSE(redirected.has_value());
  EXPECT_EQ(redirected.error().code, ErrorCode::kDownloadForbidden);
  EXPECT_FALSE(std::filesystem::exists(dir / "moved.mp3"));
  // The rule the server installs refuses loopback outright.
  set_download_address_filter(&is_public_address);
  auto loopback = download_file(front_url + "/a.mp3", dir / "loop.mp3");
  ASSERT_FALSE(loopback.has_value());
  EXPECT_EQ(loopback.error().code, ErrorCode::kDownloadForbidden);
  // Without a rule, anything goes (the default of `aimara run`).
  set_download_address_filter({});
  EXPECT_TRUE(download_file(front_url + "/moved.mp3", dir / "moved.mp3").has_value());

  front.stop();
  target.stop();
  t1.join();
  t2.join();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace aimara::server
