// What URL jobs may point at: SSRF protection for `aimara serve` (ARCHITECTURE "The server").
//
// A URL submitted to the server is accepted only when
//   * its scheme is http or https and it names a host;
//   * every address its host resolves to (DNS, at submission) is public: loopback, private
//     (RFC 1918, IPv6 ULA), link-local (cloud metadata at 169.254.169.254 included), CGNAT
//     (100.64/10), unspecified, multicast, reserved/benchmark ranges, and IPv4 embedded in
//     IPv6 (mapped, NAT64) are refused, as are well-known metadata host names;
//   * when an extractor allow-list is set, the URL's platform is on it.
// UrlPolicy::allow_private turns the address checks off (--allow-private-urls: a server on a
// trusted network, or tests against 127.0.0.1).
//
// is_public_address() is the address rule alone, for code that connects (a redirect or a
// download's socket) and must check each address it is about to use.
//
// Thread-safety: pure functions apart from DNS resolution (getaddrinfo is thread-safe).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <string>
#include <string_view>
#include <vector>

#include "server/api_error.h"

namespace aimara::server {

struct UrlPolicy {
  bool allow_private = false;
  // Lowercase platform names (media/platform.h: youtube, tiktok, instagram, facebook, x, vimeo,
  // generic); empty: any.
  std::vector<std::string> allowed_extractors;
};

// "youtube,Vimeo" -> {"youtube", "vimeo"}; invalid_request (as an Error) for an unknown name.
Result<std::vector<std::string>> parse_extractor_list(std::string_view list);

// True when a connection to this address may be made under the default policy.
bool is_public_address(const sockaddr* address);
// The same for an address in text form ("10.0.0.1", "::1"); false for text that is no address.
bool is_public_address_text(std::string_view address);

// Checks a submitted URL as described above. Errors (ApiError, status 400/403):
// invalid_request (not http/https, no host), url_forbidden (a refused address or host name),
// url_unresolvable (DNS gave nothing), extractor_forbidden (not on the allow-list).
std::expected<void, ApiError> check_url(std::string_view url, const UrlPolicy& policy);

}  // namespace aimara::server
