// Which platform a URL belongs to, and what it points at, before anything is downloaded.
//
// detect_platform() reads a URL's host and path (no network): the platform (YouTube, TikTok,
// Instagram, Facebook, X/Twitter, Vimeo, or generic for everything else: direct media files,
// podcast feeds, other sites), whether it names one video, a playlist or a channel, and the
// video id when the URL carries it. Short links (youtu.be carries its id; vm.tiktok.com and
// fb.watch do not) are kShortLink with an empty id: yt-dlp resolves them.
//
// deep_link() makes a link that opens the media at a moment (`&t=123s` on YouTube, `#t=123s` on
// Vimeo) for the platforms that support it; the others get the URL back unchanged.
//
// Thread-safety: pure functions over their arguments.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace aimara::media {

enum class Platform { kYouTube, kTikTok, kInstagram, kFacebook, kX, kVimeo, kGeneric };

enum class LinkKind {
  kVideo,      // one media item
  kPlaylist,   // a YouTube list=, a Vimeo showcase/album
  kChannel,    // a user's or channel's page: expands to its videos
  kShortLink,  // a redirecting short link whose target is unknown until resolved
  kUnknown,    // anything else (feeds, pages, unrecognised paths)
};

struct PlatformLink {
  Platform platform = Platform::kGeneric;
  LinkKind kind = LinkKind::kUnknown;
  std::string video_id;       // empty when the URL does not carry it
  std::string playlist_id;    // YouTube list=, Vimeo showcase/album id
  std::string host;           // lowercased, without port and credentials
  bool direct_media = false;  // generic http(s) URL whose path ends in a media file extension
};

// "youtube", "tiktok", "instagram", "facebook", "x", "vimeo", "generic": stable names used as
// rate-limit keys, in the store and in JSON.
std::string_view platform_name(Platform platform);
std::optional<Platform> platform_from_name(std::string_view name);

// The platform of a yt-dlp extractor key ("Youtube", "YoutubeTab", "TikTok", "Twitter", ...).
Platform platform_from_extractor(std::string_view extractor_key);

PlatformLink detect_platform(std::string_view url);

// http:// or https:// (case-insensitive) followed by a host.
bool is_http_url(std::string_view text);

// The lowercased host of an http(s) URL ("" when there is none).
std::string url_host(std::string_view url);

// The URL without its "#fragment".
std::string_view strip_fragment(std::string_view url);

// True for an http(s) URL whose path (query and fragment aside) ends in a known audio/video
// file extension (.mp3, .m4a, .mp4, .webm, .ogg, .opus, .wav, .flac, ...).
bool looks_like_direct_media(std::string_view url);

// The last path segment of a URL without its extension, percent-decoded ("Episode 12" for
// ".../Episode%2012.mp3?x=1"); "" when the path is empty.
std::string url_file_stem(std::string_view url);

bool supports_deep_link(Platform platform);

// `url` opening at `seconds` (clamped at 0): YouTube watch URLs get t=<s>s in the query (shorts,
// embed and live links become watch links: they ignore t), youtu.be links get ?t=<s>s, Vimeo
// links get #t=<s>s. Any earlier time in the URL is replaced. Other platforms: `url` unchanged.
std::string deep_link(std::string_view url, Platform platform, int64_t seconds);

}  // namespace aimara::media
