#include "server/url_guard.h"

#include <arpa/inet.h>
#include <netdb.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

#include "media/platform.h"

namespace aimara::server {

namespace {

std::string lower(std::string_view s) {
  std::string out(s);
  std::ranges::transform(out, out.begin(), [](unsigned char c) { return std::tolower(c); });
  return out;
}

bool in_v4(uint32_t a, uint32_t net, int bits) {
  const uint32_t mask = bits == 0 ? 0 : ~uint32_t{0} << (32 - bits);
  return (a & mask) == (net & mask);
}

constexpr uint32_t v4(int a, int b, int c, int d) {
  return (static_cast<uint32_t>(a) << 24) | (static_cast<uint32_t>(b) << 16) |
         (static_cast<uint32_t>(c) << 8) | static_cast<uint32_t>(d);
}

bool public_v4(uint32_t a) {
  struct Net {
    uint32_t net;
    int bits;
  };
  static constexpr std::array<Net, 15> kBlocked = {{
      {v4(0, 0, 0, 0), 8},        // "this network", unspecified
      {v4(10, 0, 0, 0), 8},       // private
      {v4(100, 64, 0, 0), 10},    // CGNAT
      {v4(127, 0, 0, 0), 8},      // loopback
      {v4(169, 254, 0, 0), 16},   // link-local, cloud metadata
      {v4(172, 16, 0, 0), 12},    // private
      {v4(192, 0, 0, 0), 24},     // IETF protocol assignments
      {v4(192, 0, 2, 0), 24},     // documentation
      {v4(192, 88, 99, 0), 24},   // 6to4 relay
      {v4(192, 168, 0, 0), 16},   // private
      {v4(198, 18, 0, 0), 15},    // benchmarking
      {v4(198, 51, 100, 0), 24},  // documentation
      {v4(203, 0, 113, 0), 24},   // documentation
      {v4(224, 0, 0, 0), 4},      // multicast
      {v4(240, 0, 0, 0), 4},      // reserved, broadcast
  }};
  return std::ranges::none_of(kBlocked, [a](const Net& n) { return in_v4(a, n.net, n.bits); });
}

bool public_v6(const in6_addr& addr) {
  const uint8_t* b = addr.s6_addr;
  auto embedded_v4 = [b](int at) { return v4(b[at], b[at + 1], b[at + 2], b[at + 3]); };
  static constexpr uint8_t kZero[16] = {};
  if (std::memcmp(b, kZero, 15) == 0 && (b[15] == 0 || b[15] == 1)) return false;  // :: and ::1
  // ::ffff:a.b.c.d (mapped) and ::a.b.c.d (compatible): the IPv4 rule decides.
  if (std::memcmp(b, kZero, 10) == 0 &&
      ((b[10] == 0xff && b[11] == 0xff) || (b[10] == 0 && b[11] == 0))) {
    return public_v4(embedded_v4(12));
  }
  // 64:ff9b::/96 (NAT64) embeds an IPv4 address.
  static constexpr uint8_t kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::memcmp(b, kNat64, 12) == 0) return public_v4(embedded_v4(12));
  if ((b[0] & 0xfe) == 0xfc) return false;                  // fc00::/7 unique local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0x80) return false;  // fe80::/10 link-local
  if (b[0] == 0xfe && (b[1] & 0xc0) == 0xc0) return false;  // fec0::/10 site-local (deprecated)
  if (b[0] == 0xff) return false;                           // multicast
  if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0d && b[3] == 0xb8) return false;  // 2001:db8::/32
  if (b[0] == 0x20 && b[1] == 0x02) return public_v4(v4(b[2], b[3], b[4], b[5]));  // 6to4
  return true;
}

// The host of an http(s) URL as written (IPv6 without its brackets), lowercased.
std::string host_of(std::string_view url, bool& ok) {
  ok = false;
  const auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  std::string_view rest = url.substr(scheme_end + 3);
  rest = rest.substr(0, rest.find_first_of("/?#"));
  if (auto at = rest.rfind('@'); at != std::string_view::npos) rest = rest.substr(at + 1);
  std::string_view host;
  if (rest.starts_with('[')) {
    const auto close = rest.find(']');
    if (close == std::string_view::npos) return {};
    host = rest.substr(1, close - 1);
  } else {
    host = rest.substr(0, rest.find(':'));
  }
  if (host.empty()) return {};
  ok = true;
  std::string h = lower(host);
  while (!h.empty() && h.back() == '.') h.pop_back();  // "localhost." is localhost
  return h;
}

}  // namespace

Result<std::vector<std::string>> parse_extractor_list(std::string_view list) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string_view::npos) comma = list.size();
    std::string name = lower(list.substr(pos, comma - pos));
    name.erase(0, name.find_first_not_of(' '));
    name.erase(name.find_last_not_of(' ') + 1);
    if (!name.empty()) {
      if (!media::platform_from_name(name)) {
        return make_error(ErrorCode::kInvalidArgument,
                          "unknown extractor '" + name +
                              "' (known: youtube, tiktok, instagram, facebook, x, vimeo, generic)");
      }
      if (std::ranges::find(out, name) == out.end()) out.push_back(name);
    }
    pos = comma + 1;
  }
  return out;
}

bool is_public_address(const sockaddr* address) {
  if (address == nullptr) return false;
  if (address->sa_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(address);
    return public_v4(ntohl(in->sin_addr.s_addr));
  }
  if (address->sa_family == AF_INET6) {
    return public_v6(reinterpret_cast<const sockaddr_in6*>(address)->sin6_addr);
  }
  return false;
}

bool is_public_address_text(std::string_view address) {
  const std::string a(address);
  in_addr a4{};
  if (::inet_pton(AF_INET, a.c_str(), &a4) == 1) return public_v4(ntohl(a4.s_addr));
  in6_addr a6{};
  if (::inet_pton(AF_INET6, a.c_str(), &a6) == 1) return public_v6(a6);
  return false;
}

std::expected<void, ApiError> check_url(std::string_view url, const UrlPolicy& policy) {
  const std::string l = lower(url.substr(0, std::min<size_t>(url.size(), 8)));
  if (!l.starts_with("http://") && !l.starts_with("https://")) {
    return std::unexpected(
        api_error(400, "invalid_request", "only http:// and https:// URLs are accepted"));
  }
  if (url.find_first_of(" \t\r\n") != std::string_view::npos) {
    return std::unexpected(api_error(400, "invalid_request", "a URL has no white space"));
  }
  bool ok = false;
  const std::string host = host_of(url, ok);
  if (!ok) return std::unexpected(api_error(400, "invalid_request", "the URL names no host"));

  if (!policy.allowed_extractors.empty()) {
    const auto platform = std::string(media::platform_name(media::detect_platform(url).platform));
    if (std::ranges::find(policy.allowed_extractors, platform) == policy.allowed_extractors.end()) {
      return std::unexpected(api_error(403, "extractor_forbidden",
                                       "this server does not accept " + platform + " URLs"));
    }
  }
  if (policy.allow_private) return {};

  if (host == "localhost" || host.ends_with(".localhost") || host == "metadata" ||
      host == "metadata.google.internal" || host.ends_with(".internal")) {
    return std::unexpected(
        api_error(403, "url_forbidden", "URLs of local or internal hosts are not accepted"));
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found);
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> owner(found, &::freeaddrinfo);
  if (rc != 0 || found == nullptr) {
    return std::unexpected(api_error(
        400, "url_unresolvable", "cannot resolve the host '" + host + "': " + ::gai_strerror(rc)));
  }
  for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    if (!is_public_address(ai->ai_addr)) {
      return std::unexpected(api_error(
          403, "url_forbidden",
          "the host '" + host +
              "' resolves to a loopback, private, link-local or otherwise non-public address; "
              "the server refuses such URLs unless started with --allow-private-urls"));
    }
  }
  return {};
}

}  // namespace aimara::server
