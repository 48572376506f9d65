#include "media/platform.h"

#include <gtest/gtest.h>

namespace aimara::media {
namespace {

struct Case {
  const char* url;
  Platform platform;
  LinkKind kind;
  const char* video_id;
  const char* playlist_id = "";
};

constexpr Platform kYt = Platform::kYouTube;
constexpr Platform kTt = Platform::kTikTok;
constexpr Platform kIg = Platform::kInstagram;
constexpr Platform kFb = Platform::kFacebook;
constexpr Platform kX = Platform::kX;
constexpr Platform kVm = Platform::kVimeo;
constexpr Platform kGen = Platform::kGeneric;

const Case kCases[] = {
    // YouTube
    {"https://www.youtube.com/watch?v=dQw4w9WgXcQ", kYt, LinkKind::kVideo, "dQw4w9WgXcQ"},
    {"https://youtube.com/watch?v=dQw4w9WgXcQ&t=42s", kYt, LinkKind::kVideo, "dQw4w9WgXcQ"},
    {"http://www.youtube.com/watch?feature=share&v=dQw4w9WgXcQ", kYt, LinkKind::kVideo,
     "dQw4w9WgXcQ"},
    {"https://m.youtube.com/watch?v=dQw4w9WgXcQ", kYt, LinkKind::kVideo, "dQw4w9WgXcQ"},
    {"https://music.youtube.com/watch?v=dQw4w9WgXcQ&si=abc", kYt, LinkKind::kVideo, "dQw4w9WgXcQ"},
    {"HTTPS://WWW.YOUTUBE.COM/watch?v=dQw4w9WgXcQ", kYt, LinkKind::kVideo, "dQw4w9WgXcQ"},
    {"https://youtu.be/dQw4w9WgXcQ", kYt, LinkKind::kVideo, "dQw4w9WgXcQ"},
    {"https://youtu.be/dQw4w9WgXcQ?si=xyz&t=10", kYt, LinkKind::kVideo, "dQw4w9WgXcQ"},
    {"https://www.youtube.com/shorts/aBcDeFgHiJk", kYt, LinkKind::kVideo, "aBcDeFgHiJk"},
    {"https://youtube.com/shorts/aBcDeFgHiJk?feature=share", kYt, LinkKind::kVideo, "aBcDeFgHiJk"},
    {"https://www.youtube.com/embed/dQw4w9WgXcQ?start=5", kYt, LinkKind::kVideo, "dQw4w9WgXcQ"},
    {"https://www.youtube-nocookie.com/embed/dQw4w9WgXcQ", kYt, LinkKind::kVideo, "dQw4w9WgXcQ"},
    {"https://www.youtube.com/live/jfKfPfyJRdk?feature=shared", kYt, LinkKind::kVideo,
     "jfKfPfyJRdk"},
    {"https://www.youtube.com/v/dQw4w9WgXcQ", kYt, LinkKind::kVideo, "dQw4w9WgXcQ"},
    {"https://www.youtube.com/watch?v=dQw4w9WgXcQ&list=PLrAXtmErZgOeiKm4sgNOknGvNjby9efdf", kYt,
     LinkKind::kVideo, "dQw4w9WgXcQ", "PLrAXtmErZgOeiKm4sgNOknGvNjby9efdf"},
    {"https://www.youtube.com/playlist?list=PLrAXtmErZgOeiKm4sgNOknGvNjby9efdf", kYt,
     LinkKind::kPlaylist, "", "PLrAXtmErZgOeiKm4sgNOknGvNjby9efdf"},
    {"https://music.youtube.com/playlist?list=OLAK5uy_abc", kYt, LinkKind::kPlaylist, "",
     "OLAK5uy_abc"},
    {"https://www.youtube.com/embed/videoseries?list=PL123", kYt, LinkKind::kPlaylist, "", "PL123"},
    {"https://www.youtube.com/@SomeChannel", kYt, LinkKind::kChannel, ""},
    {"https://www.youtube.com/@SomeChannel/videos", kYt, LinkKind::kChannel, ""},
    {"https://www.youtube.com/channel/UC_x5XG1OV2P6uZZ5FSM9Ttw", kYt, LinkKind::kChannel, ""},
    {"https://www.youtube.com/c/GoogleDevelopers", kYt, LinkKind::kChannel, ""},
    {"https://www.youtube.com/user/someone", kYt, LinkKind::kChannel, ""},
    {"https://www.youtube.com/watch?v=tooshort", kYt, LinkKind::kUnknown, ""},
    {"https://www.youtube.com/", kYt, LinkKind::kUnknown, ""},
    {"https://notyoutube.com/watch?v=dQw4w9WgXcQ", kGen, LinkKind::kUnknown, ""},
    // TikTok
    {"https://www.tiktok.com/@scout2015/video/6718335390845095173", kTt, LinkKind::kVideo,
     "6718335390845095173"},
    {"https://tiktok.com/@user.name/video/7106594312292453675?lang=en", kTt, LinkKind::kVideo,
     "7106594312292453675"},
    {"https://m.tiktok.com/v/6718335390845095173.html", kTt, LinkKind::kVideo,
     "6718335390845095173"},
    {"https://www.tiktok.com/embed/v2/6718335390845095173", kTt, LinkKind::kVideo,
     "6718335390845095173"},
    {"https://vm.tiktok.com/ZMe1234AB/", kTt, LinkKind::kShortLink, ""},
    {"https://vt.tiktok.com/ZSabcdef/", kTt, LinkKind::kShortLink, ""},
    {"https://www.tiktok.com/t/ZTRabc123/", kTt, LinkKind::kShortLink, ""},
    {"https://www.tiktok.com/@scout2015", kTt, LinkKind::kChannel, ""},
    // Instagram
    {"https://www.instagram.com/p/CbCdEfGhIjK/", kIg, LinkKind::kVideo, "CbCdEfGhIjK"},
    {"https://instagram.com/reel/Cx-y_z12345/?igsh=abc", kIg, LinkKind::kVideo, "Cx-y_z12345"},
    {"https://www.instagram.com/reels/Cx1234/", kIg, LinkKind::kVideo, "Cx1234"},
    {"https://www.instagram.com/tv/B1a2b3c4d5/", kIg, LinkKind::kVideo, "B1a2b3c4d5"},
    {"https://www.instagram.com/someuser/p/CbCdEfGhIjK/", kIg, LinkKind::kVideo, "CbCdEfGhIjK"},
    {"https://www.instagram.com/someuser/", kIg, LinkKind::kChannel, ""},
    {"https://www.instagram.com/explore/", kIg, LinkKind::kUnknown, ""},
    // Facebook
    {"https://www.facebook.com/watch?v=1234567890", kFb, LinkKind::kVideo, "1234567890"},
    {"https://www.facebook.com/watch/?v=1234567890&ref=sharing", kFb, LinkKind::kVideo,
     "1234567890"},
    {"https://m.facebook.com/watch/?v=1234567890", kFb, LinkKind::kVideo, "1234567890"},
    {"https://www.facebook.com/SomePage/videos/987654321/", kFb, LinkKind::kVideo, "987654321"},
    {"https://www.facebook.com/SomePage/videos/a-nice-title/987654321/", kFb, LinkKind::kVideo,
     "987654321"},
    {"https://www.facebook.com/video.php?v=555", kFb, LinkKind::kVideo, "555"},
    {"https://www.facebook.com/reel/777888999", kFb, LinkKind::kVideo, "777888999"},
    {"https://fb.watch/abcDEF123/", kFb, LinkKind::kShortLink, ""},
    {"https://www.facebook.com/share/v/1AbCdEf/", kFb, LinkKind::kShortLink, ""},
    {"https://www.facebook.com/SomePage", kFb, LinkKind::kUnknown, ""},
    // X / Twitter
    {"https://x.com/someone/status/1700000000000000001", kX, LinkKind::kVideo,
     "1700000000000000001"},
    {"https://twitter.com/someone/status/1700000000000000001?s=20", kX, LinkKind::kVideo,
     "1700000000000000001"},
    {"https://mobile.twitter.com/someone/status/1700000000000000001/video/1", kX, LinkKind::kVideo,
     "1700000000000000001"},
    {"https://x.com/i/status/1700000000000000002", kX, LinkKind::kVideo, "1700000000000000002"},
    {"https://twitter.com/i/web/status/1700000000000000003", kX, LinkKind::kVideo,
     "1700000000000000003"},
    {"https://x.com/someone", kX, LinkKind::kChannel, ""},
    {"https://box.com/someone/status/1", kGen, LinkKind::kUnknown, ""},
    // Vimeo
    {"https://vimeo.com/76979871", kVm, LinkKind::kVideo, "76979871"},
    {"https://vimeo.com/76979871/abc123def", kVm, LinkKind::kVideo, "76979871"},
    {"https://player.vimeo.com/video/76979871?h=abc", kVm, LinkKind::kVideo, "76979871"},
    {"https://vimeo.com/channels/staffpicks/76979871", kVm, LinkKind::kVideo, "76979871"},
    {"https://vimeo.com/groups/name/videos/76979871", kVm, LinkKind::kVideo, "76979871"},
    {"https://vimeo.com/showcase/123456", kVm, LinkKind::kPlaylist, "", "123456"},
    {"https://vimeo.com/album/2222", kVm, LinkKind::kPlaylist, "", "2222"},
    {"https://vimeo.com/someuser", kVm, LinkKind::kChannel, ""},
    // Generic
    {"http://127.0.0.1:8080/media/jfk.mp3", kGen, LinkKind::kVideo, ""},
    {"https://cdn.example.org/a/b/Episode%2012.M4A?token=abc#x", kGen, LinkKind::kVideo, ""},
    {"https://example.org/podcast/feed.xml", kGen, LinkKind::kUnknown, ""},
    {"https://example.org/rss", kGen, LinkKind::kUnknown, ""},
    {"https://example.org/watch?v=dQw4w9WgXcQ", kGen, LinkKind::kUnknown, ""},
    {"https://user:pw@example.org:8443/x.webm", kGen, LinkKind::kVideo, ""},
};

class DetectPlatform : public testing::TestWithParam<Case> {};

TEST_P(DetectPlatform, FindsPlatformKindAndIds) {
  const Case& c = GetParam();
  PlatformLink link = detect_platform(c.url);
  EXPECT_EQ(platform_name(link.platform), platform_name(c.platform)) << c.url;
  EXPECT_EQ(static_cast<int>(link.kind), static_cast<int>(c.kind)) << c.url;
  EXPECT_EQ(link.video_id, c.video_id) << c.url;
  EXPECT_EQ(link.playlist_id, c.playlist_id) << c.url;
}

INSTANTIATE_TEST_SUITE_P(Urls, DetectPlatform, testing::ValuesIn(kCases));

TEST(DetectPlatform, HostIsLowercasedWithoutPortOrCredentials) {
  EXPECT_EQ(detect_platform("https://user:pw@Example.ORG:8443/x.webm").host, "example.org");
  EXPECT_EQ(url_host("http://127.0.0.1:8765/feed.xml?dir=a"), "127.0.0.1");
  EXPECT_EQ(url_host("http://[::1]:80/a.mp3"), "[::1]");
  EXPECT_EQ(url_host("/local/path.mp3"), "");
}

TEST(DetectPlatform, DirectMediaOnlyForHttpUrlsWithMediaExtensions) {
  EXPECT_TRUE(looks_like_direct_media("http://127.0.0.1:1/a/b.mp3"));
  EXPECT_TRUE(looks_like_direct_media("https://h/ep.OPUS?x=1"));
  EXPECT_TRUE(looks_like_direct_media(
      "http://127.0.0.1:8765/pod/ep3.mp3#__youtubedl_smuggle=%7B%22x%22%7D"));
  EXPECT_FALSE(looks_like_direct_media("https://h/feed.xml"));
  EXPECT_FALSE(looks_like_direct_media("https://h/mp3"));
  EXPECT_FALSE(looks_like_direct_media("https://h/a.mp3/"));
  EXPECT_FALSE(looks_like_direct_media("https://h/index.m3u8"));
  EXPECT_FALSE(looks_like_direct_media("ftp://h/a.mp3"));
  EXPECT_FALSE(looks_like_direct_media("/home/me/a.mp3"));
  EXPECT_TRUE(detect_platform("https://h/x.flac").direct_media);
  EXPECT_FALSE(detect_platform("https://youtube.com/x.mp4").direct_media);
}

TEST(PlatformNames, RoundTripAndExtractorKeys) {
  for (Platform p : {Platform::kYouTube, Platform::kTikTok, Platform::kInstagram,
                     Platform::kFacebook, Platform::kX, Platform::kVimeo, Platform::kGeneric}) {
    auto back = platform_from_name(platform_name(p));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(*back, p);
  }
  EXPECT_FALSE(platform_from_name("myspace").has_value());
  EXPECT_EQ(platform_from_extractor("Youtube"), Platform::kYouTube);
  EXPECT_EQ(platform_from_extractor("YoutubeTab"), Platform::kYouTube);
  EXPECT_EQ(platform_from_extractor("TikTok"), Platform::kTikTok);
  EXPECT_EQ(platform_from_extractor("VMTiktok"), Platform::kTikTok);
  EXPECT_EQ(platform_from_extractor("Instagram"), Platform::kInstagram);
  EXPECT_EQ(platform_from_extractor("FacebookReel"), Platform::kFacebook);
  EXPECT_EQ(platform_from_extractor("Twitter"), Platform::kX);
  EXPECT_EQ(platform_from_extractor("VimeoShowcase"), Platform::kVimeo);
  EXPECT_EQ(platform_from_extractor("Generic"), Platform::kGeneric);
  EXPECT_EQ(platform_from_extractor(""), Platform::kGeneric);
}

struct DeepLinkCase {
  const char* url;
  Platform platform;
  int64_t seconds;
  const char* expected;
};

const DeepLinkCase kDeepLinks[] = {
    {"https://www.youtube.com/watch?v=dQw4w9WgXcQ", kYt, 123,
     "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=123s"},
    {"https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=5s&list=PL1", kYt, 60,
     "https://www.youtube.com/watch?v=dQw4w9WgXcQ&list=PL1&t=60s"},
    {"https://youtu.be/dQw4w9WgXcQ", kYt, 7, "https://youtu.be/dQw4w9WgXcQ?t=7s"},
    {"https://youtu.be/dQw4w9WgXcQ?si=abc&t=99", kYt, 7,
     "https://youtu.be/dQw4w9WgXcQ?si=abc&t=7s"},
    {"https://www.youtube.com/shorts/aBcDeFgHiJk", kYt, 12,
     "https://www.youtube.com/watch?v=aBcDeFgHiJk&t=12s"},
    {"https://www.youtube.com/embed/dQw4w9WgXcQ?start=3", kYt, 4,
     "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=4s"},
    {"https://www.youtube.com/live/jfKfPfyJRdk", kYt, 3600,
     "https://www.youtube.com/watch?v=jfKfPfyJRdk&t=3600s"},
    {"https://www.youtube.com/watch?v=dQw4w9WgXcQ", kYt, -5,
     "https://www.youtube.com/watch?v=dQw4w9WgXcQ&t=0s"},
    {"https://vimeo.com/76979871", kVm, 123, "https://vimeo.com/76979871#t=123s"},
    {"https://vimeo.com/76979871#t=5s", kVm, 9, "https://vimeo.com/76979871#t=9s"},
    {"https://www.tiktok.com/@a/video/1", kTt, 10, "https://www.tiktok.com/@a/video/1"},
    {"https://x.com/a/status/1", kX, 10, "https://x.com/a/status/1"},
    {"http://127.0.0.1:8765/jfk.mp3", kGen, 10, "http://127.0.0.1:8765/jfk.mp3"},
};

class DeepLink : public testing::TestWithParam<DeepLinkCase> {};

TEST_P(DeepLink, AddsOrReplacesTheTime) {
  const DeepLinkCase& c = GetParam();
  EXPECT_EQ(deep_link(c.url, c.platform, c.seconds), c.expected);
}

INSTANTIATE_TEST_SUITE_P(Urls, DeepLink, testing::ValuesIn(kDeepLinks));

TEST(DeepLink, SupportedPlatforms) {
  EXPECT_TRUE(supports_deep_link(Platform::kYouTube));
  EXPECT_TRUE(supports_deep_link(Platform::kVimeo));
  EXPECT_FALSE(supports_deep_link(Platform::kTikTok));
  EXPECT_FALSE(supports_deep_link(Platform::kInstagram));
  EXPECT_FALSE(supports_deep_link(Platform::kFacebook));
  EXPECT_FALSE(supports_deep_link(Platform::kX));
  EXPECT_FALSE(supports_deep_link(Platform::kGeneric));
}

}  // namespace
}  // namespace aimara::media
