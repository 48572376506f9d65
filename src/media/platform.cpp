#include "media/platform.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <vector>

namespace aimara::media {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool iequals_prefix(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && lower(s.substr(0, prefix.size())) == prefix;
}

// The pieces of an absolute URL this file needs. Tolerant: a missing scheme is read as http.
struct UrlParts {
  std::string scheme;  // lowercased
  std::string host;    // lowercased, no port, no credentials
  std::string path;    // "/..." or empty
  std::string query;   // after '?', before '#'
  std::string fragment;
  std::vector<std::string> segments;  // non-empty path segments
};

UrlParts parse_url(std::string_view url) {
  UrlParts u;
  auto hash = url.find('#');
  if (hash != std::string_view::npos) {
    u.fragment = std::string(url.substr(hash + 1));
    url = url.substr(0, hash);
  }
  auto scheme_end = url.find("://");
  if (scheme_end != std::string_view::npos) {
    u.scheme = lower(url.substr(0, scheme_end));
    url = url.substr(scheme_end + 3);
  } else if (url.starts_with("//")) {
    url = url.substr(2);
  }
  auto auth_end = url.find_first_of("/?");
  std::string_view authority = url.substr(0, auth_end);
  url = auth_end == std::string_view::npos ? std::string_view{} : url.substr(auth_end);
  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    authority = authority.substr(at + 1);
  }
  if (!authority.empty() && authority.front() == '[') {  // IPv6 literal
    auto close = authority.find(']');
    u.host =
        lower(authority.substr(0, close == std::string_view::npos ? authority.size() : close + 1));
  } else {
    u.host = lower(authority.substr(0, authority.find(':')));
  }
  while (!u.host.empty() && u.host.back() == '.') u.host.pop_back();
  auto q = url.find('?');
  u.path = std::string(url.substr(0, q));
  if (q != std::string_view::npos) u.query = std::string(url.substr(q + 1));
  std::string_view rest = u.path;
  while (!rest.empty()) {
    auto slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    if (!seg.empty()) u.segments.emplace_back(seg);
    if (slash == std::string_view::npos) break;
    rest = rest.substr(slash + 1);
  }
  return u;
}

std::string query_param(std::string_view query, std::string_view key) {
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    auto eq = item.find('=');
    if (item.substr(0, eq) == key) {
      return eq == std::string_view::npos ? std::string{} : std::string(item.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  return {};
}

// `host` is `domain` or one of its subdomains.
bool host_is(std::string_view host, std::string_view domain) {
  if (host == domain) return true;
  return host.size() > domain.size() && host.ends_with(domain) &&
         host[host.size() - domain.size() - 1] == '.';
}

bool all_of_chars(std::string_view s, bool (*ok)(unsigned char)) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [&](char c) { return ok(static_cast<unsigned char>(c)); });
}

bool is_digit(unsigned char c) { return std::isdigit(c) != 0; }
bool is_id_char(unsigned char c) { return std::isalnum(c) != 0 || c == '_' || c == '-'; }

bool is_youtube_id(std::string_view s) { return s.size() == 11 && all_of_chars(s, is_id_char); }
bool is_digits(std::string_view s) { return all_of_chars(s, is_digit); }
bool is_slug(std::string_view s) { return all_of_chars(s, is_id_char); }

void youtube(const UrlParts& u, PlatformLink& link) {
  const auto& seg = u.segments;
  auto set_video = [&](std::string_view id) {
    if (is_youtube_id(id)) {
      link.kind = LinkKind::kVideo;
      link.video_id = std::string(id);
    }
  };
  std::string list = query_param(u.query, "list");
  if (is_slug(list)) link.playlist_id = list;
  if (host_is(u.host, "youtu.be")) {
    if (!seg.empty()) set_video(seg[0]);
    return;
  }
  if (seg.empty()) return;
  const std::string& first = seg[0];
  if (first == "watch") {
    set_video(query_param(u.query, "v"));
    if (link.kind != LinkKind::kVideo && !link.playlist_id.empty()) link.kind = LinkKind::kPlaylist;
  } else if (first == "playlist") {
    if (!link.playlist_id.empty()) link.kind = LinkKind::kPlaylist;
  } else if ((first == "shorts" || first == "embed" || first == "live" || first == "v" ||
              first == "e") &&
             seg.size() >= 2) {
    if (first == "embed" && seg[1] == "videoseries") {
      if (!link.playlist_id.empty()) link.kind = LinkKind::kPlaylist;
    } else {
      set_video(seg[1]);
    }
  } else if (first.starts_with("@") || first == "channel" || first == "c" || first == "user") {
    link.kind = LinkKind::kChannel;
  }
}

void tiktok(const UrlParts& u, PlatformLink& link) {
  const auto& seg = u.segments;
  if (host_is(u.host, "vm.tiktok.com") || host_is(u.host, "vt.tiktok.com")) {
    link.kind = LinkKind::kShortLink;
    return;
  }
  if (seg.empty()) return;
  if (seg[0] == "t" && seg.size() >= 2) {
    link.kind = LinkKind::kShortLink;
  } else if (seg[0].starts_with("@")) {
    if (seg.size() >= 3 && seg[1] == "video" && is_digits(seg[2])) {
      link.kind = LinkKind::kVideo;
      link.video_id = seg[2];
    } else if (seg.size() == 1) {
      link.kind = LinkKind::kChannel;
    }
  } else if (seg[0] == "v" && seg.size() >= 2) {  // m.tiktok.com/v/ID.html
    std::string id = seg[1].substr(0, seg[1].find('.'));
    if (is_digits(id)) {
      link.kind = LinkKind::kVideo;
      link.video_id = id;
    }
  } else if (seg[0] == "embed") {
    const std::string& id = seg.back();
    if (is_digits(id)) {
      link.kind = LinkKind::kVideo;
      link.video_id = id;
    }
  }
}

void instagram(const UrlParts& u, PlatformLink& link) {
  const auto& seg = u.segments;
  // /p/ID, /reel/ID, /reels/ID, /tv/ID, also after a user name: /USER/p/ID
  for (size_t i = 0; i + 1 < seg.size() && i < 2; ++i) {
    const std::string& s = seg[i];
    if ((s == "p" || s == "reel" || s == "reels" || s == "tv") && is_slug(seg[i + 1])) {
      link.kind = LinkKind::kVideo;
      link.video_id = seg[i + 1];
      return;
    }
  }
  static constexpr std::array<std::string_view, 10> kNotUsers = {
      "explore", "accounts", "stories", "direct", "about", "developer", "p", "reel", "reels", "tv"};
  if (seg.size() == 1 && std::find(kNotUsers.begin(), kNotUsers.end(), seg[0]) == kNotUsers.end()) {
    link.kind = LinkKind::kChannel;
  }
}

void facebook(const UrlParts& u, PlatformLink& link) {
  const auto& seg = u.segments;
  if (host_is(u.host, "fb.watch")) {
    link.kind = LinkKind::kShortLink;
    return;
  }
  auto set_video = [&](const std::string& id) {
    if (is_digits(id)) {
      link.kind = LinkKind::kVideo;
      link.video_id = id;
    }
  };
  if (seg.empty()) return;
  if (seg[0] == "watch" || seg[0] == "video.php") {
    set_video(query_param(u.query, "v"));
  } else if (seg[0] == "reel" && seg.size() >= 2) {
    set_video(seg[1]);
  } else if (seg[0] == "share" && seg.size() >= 3) {  // /share/v/CODE/, /share/r/CODE/
    link.kind = LinkKind::kShortLink;
  } else {
    // /PAGE/videos/ID, /PAGE/videos/SLUG/ID, /PAGE/videos/vb.X/ID
    auto videos = std::find(seg.begin(), seg.end(), "videos");
    for (auto it = videos; it != seg.end(); ++it) {
      if (is_digits(*it)) {
        set_video(*it);
        break;
      }
    }
  }
}

void twitter(const UrlParts& u, PlatformLink& link) {
  const auto& seg = u.segments;
  // /USER/status/ID, /i/status/ID, /i/web/status/ID, /USER/statuses/ID (+ /video/1, /photo/1)
  for (size_t i = 0; i + 1 < seg.size(); ++i) {
    if ((seg[i] == "status" || seg[i] == "statuses") && is_digits(seg[i + 1])) {
      link.kind = LinkKind::kVideo;
      link.video_id = seg[i + 1];
      return;
    }
  }
  if (seg.size() == 1 && seg[0] != "home" && seg[0] != "i" && seg[0] != "search") {
    link.kind = LinkKind::kChannel;
  }
}

void vimeo(const UrlParts& u, PlatformLink& link) {
  const auto& seg = u.segments;
  if (seg.empty()) return;
  if (host_is(u.host, "player.vimeo.com")) {
    if (seg.size() >= 2 && seg[0] == "video" && is_digits(seg[1])) {
      link.kind = LinkKind::kVideo;
      link.video_id = seg[1];
    }
    return;
  }
  if ((seg[0] == "showcase" || seg[0] == "album") && seg.size() >= 2) {
    if (seg.size() >= 4 && seg[2] == "video" && is_digits(seg[3])) {
      link.kind = LinkKind::kVideo;
      link.video_id = seg[3];
    } else {
      link.kind = LinkKind::kPlaylist;
      link.playlist_id = seg[1];
    }
    return;
  }
  // vimeo.com/ID, vimeo.com/ID/HASH, /channels/NAME/ID, /groups/NAME/videos/ID
  if (is_digits(seg[0])) {
    link.kind = LinkKind::kVideo;
    link.video_id = seg[0];
    return;
  }
  if ((seg[0] == "channels" || seg[0] == "groups") && is_digits(seg.back())) {
    link.kind = LinkKind::kVideo;
    link.video_id = seg.back();
    return;
  }
  if (seg.size() == 1 || (seg.size() == 2 && seg[1] == "videos")) link.kind = LinkKind::kChannel;
}

constexpr std::array<std::string_view, 28> kMediaExtensions = {
    "mp3", "m4a", "m4b",  "aac", "ogg",  "oga", "opus", "wav", "wave", "flac",
    "wma", "aif", "aiff", "amr", "mka",  "mp4", "m4v",  "mov", "mkv",  "webm",
    "avi", "wmv", "flv",  "mpg", "mpeg", "ts",  "3gp",  "weba"};

std::string replace_query_time(std::string_view query, std::string_view time_param) {
  std::string out;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view item = query.substr(0, amp);
    std::string_view key = item.substr(0, item.find('='));
    if (!item.empty() && key != "t" && key != "start" && key != "time_continue") {
      if (!out.empty()) out += '&';
      out += item;
    }
    if (amp == std::string_view::npos) break;
    query = query.substr(amp + 1);
  }
  if (!out.empty()) out += '&';
  out += time_param;
  return out;
}

}  // namespace

std::string_view platform_name(Platform platform) {
  switch (platform) {
    case Platform::kYouTube:
      return "youtube";
    case Platform::kTikTok:
      return "tiktok";
    case Platform::kInstagram:
      return "instagram";
    case Platform::kFacebook:
      return "facebook";
    case Platform::kX:
      return "x";
    case Platform::kVimeo:
      return "vimeo";
    case Platform::kGeneric:
      return "generic";
  }
  return "generic";
}

std::optional<Platform> platform_from_name(std::string_view name) {
  for (Platform p : {Platform::kYouTube, Platform::kTikTok, Platform::kInstagram,
                     Platform::kFacebook, Platform::kX, Platform::kVimeo, Platform::kGeneric}) {
    if (platform_name(p) == name) return p;
  }
  if (name == "twitter") return Platform::kX;
  return std::nullopt;
}

Platform platform_from_extractor(std::string_view extractor_key) {
  std::string key = lower(extractor_key);
  if (key.starts_with("youtube")) return Platform::kYouTube;
  if (key.starts_with("tiktok") || key == "vmtiktok" || key == "douyin") return Platform::kTikTok;
  if (key.starts_with("instagram")) return Platform::kInstagram;
  if (key.starts_with("facebook") || key == "fbwatch") return Platform::kFacebook;
  if (key.starts_with("twitter")) return Platform::kX;
  if (key.starts_with("vimeo")) return Platform::kVimeo;
  return Platform::kGeneric;
}

bool is_http_url(std::string_view text) {
  std::string_view rest;
  if (iequals_prefix(text, "http://")) {
    rest = text.substr(7);
  } else if (iequals_prefix(text, "https://")) {
    rest = text.substr(8);
  } else {
    return false;
  }
  return !rest.empty() && rest.front() != '/';
}

std::string url_host(std::string_view url) {
  if (!is_http_url(url)) return {};
  return parse_url(url).host;
}

std::string_view strip_fragment(std::string_view url) { return url.substr(0, url.find('#')); }

bool looks_like_direct_media(std::string_view url) {
  if (!is_http_url(url)) return false;
  UrlParts u = parse_url(url);
  if (u.segments.empty() || u.path.ends_with('/')) return false;
  const std::string& last = u.segments.back();
  auto dot = last.rfind('.');
  if (dot == std::string::npos || dot + 1 == last.size()) return false;
  std::string ext = lower(std::string_view(last).substr(dot + 1));
  return std::find(kMediaExtensions.begin(), kMediaExtensions.end(), ext) != kMediaExtensions.end();
}

std::string url_file_stem(std::string_view url) {
  UrlParts u = parse_url(url);
  if (u.segments.empty()) return {};
  std::string_view name = u.segments.back();
  auto dot = name.rfind('.');
  if (dot != std::string_view::npos && dot > 0) name = name.substr(0, dot);
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    auto hex = [](char c) -> int {
      if (c >= '0' && c <= '9') return c - '0';
      c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    };
    if (name[i] == '%' && i + 2 < name.size() && hex(name[i + 1]) >= 0 && hex(name[i + 2]) >= 0) {
      out += static_cast<char>(hex(name[i + 1]) * 16 + hex(name[i + 2]));
      i += 2;
    } else {
      out += name[i];
    }
  }
  return out;
}

PlatformLink detect_platform(std::string_view url) {
  PlatformLink link;
  UrlParts u = parse_url(url);
  link.host = u.host;
  const std::string& h = u.host;
  if (host_is(h, "youtube.com") || host_is(h, "youtu.be") || host_is(h, "youtube-nocookie.com")) {
    link.platform = Platform::kYouTube;
    youtube(u, link);
  } else if (host_is(h, "tiktok.com")) {
    link.platform = Platform::kTikTok;
    tiktok(u, link);
  } else if (host_is(h, "instagram.com") || host_is(h, "instagr.am")) {
    link.platform = Platform::kInstagram;
    instagram(u, link);
  } else if (host_is(h, "facebook.com") || host_is(h, "fb.com") || host_is(h, "fb.watch")) {
    link.platform = Platform::kFacebook;
    facebook(u, link);
  } else if (host_is(h, "x.com") || host_is(h, "twitter.com")) {
    link.platform = Platform::kX;
    twitter(u, link);
  } else if (host_is(h, "vimeo.com")) {
    link.platform = Platform::kVimeo;
    vimeo(u, link);
  } else {
    link.platform = Platform::kGeneric;
    link.direct_media = looks_like_direct_media(url);
    if (link.direct_media) link.kind = LinkKind::kVideo;
  }
  return link;
}

bool supports_deep_link(Platform platform) {
  return platform == Platform::kYouTube || platform == Platform::kVimeo;
}

std::string deep_link(std::string_view url, Platform platform, int64_t seconds) {
  seconds = std::max<int64_t>(0, seconds);
  const std::string t = std::to_string(seconds) + "s";
  if (platform == Platform::kVimeo) {
    return std::string(strip_fragment(url)) + "#t=" + t;
  }
  if (platform != Platform::kYouTube) return std::string(url);

  PlatformLink link = detect_platform(url);
  UrlParts u = parse_url(url);
  const bool watch_page = !u.segments.empty() && u.segments[0] == "watch";
  const bool short_host = host_is(u.host, "youtu.be");
  if (link.kind == LinkKind::kVideo && !watch_page && !short_host) {
    // shorts/embed/live links ignore t=: point at the watch page instead.
    return "https://www.youtube.com/watch?v=" + link.video_id + "&t=" + t;
  }
  std::string_view base = strip_fragment(url);
  auto q = base.find('?');
  std::string out(base.substr(0, q));
  std::string_view query = q == std::string_view::npos ? std::string_view{} : base.substr(q + 1);
  out += '?';
  out += replace_query_time(query, "t=" + t);
  if (!u.fragment.empty()) out += "#" + u.fragment;
  return out;
}

}  // namespace aimara::media
