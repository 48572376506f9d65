#include "core/http_download.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <sys/socket.h>

#include <array>
#include <cstdio>
#include <exception>
#include <fstream>
#include <memory>
#include <mutex>

namespace aimara {

namespace fs = std::filesystem;

namespace {

void global_init() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct CurlFree {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct FileClose {
  void operator()(std::FILE* f) const { std::fclose(f); }
};
struct MdFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

struct Transfer {
  std::FILE* out = nullptr;
  int64_t written = 0;
  int64_t max_bytes = 0;
  bool too_big = false;
  const DownloadOptions* options = nullptr;
  int64_t base = 0;  // bytes already on disk before this transfer
};

size_t on_write(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t bytes = size * n;
  if (t->max_bytes > 0 && t->base + t->written + static_cast<int64_t>(bytes) > t->max_bytes) {
    t->too_big = true;
    return 0;
  }
  size_t w = std::fwrite(data, 1, bytes, t->out);
  t->written += static_cast<int64_t>(w);
  return w;
}

int on_progress(void* user, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
  auto* t = static_cast<Transfer*>(user);
  if (t->options->stop.stop_requested()) return 1;
  if (t->options->progress) {
    try {
      t->options->progress(t->base + now, total > 0 ? t->base + total : -1);
    } catch (...) {
      return 1;  // never let an exception cross libcurl; aborting the transfer reports it
    }
  }
  return 0;
}

Result<std::string> file_digest(const fs::path& p, const EVP_MD* md) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return make_error(ErrorCode::kIo, "cannot read '" + p.string() + "'");
  std::unique_ptr<EVP_MD_CTX, MdFree> ctx(EVP_MD_CTX_new());
  EVP_DigestInit_ex(ctx.get(), md, nullptr);
  std::array<char, 1 << 16> buf{};
  while (in) {
    in.read(buf.data(), buf.size());
    if (in.gcount() > 0) EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(in.gcount()));
  }
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx.get(), out.data(), &n);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned int i = 0; i < n; ++i) {
    hex += kHex[out[i] >> 4];
    hex += kHex[out[i] & 15];
  }
  return hex;
}

Error http_error(long status, const std::string& url) {
  std::string what = "HTTP " + std::to_string(status) + " from " + url;
  switch (status) {
    case 401:
    case 403: return Error{ErrorCode::kDownloadForbidden, what + " (forbidden)"};
    case 404:
    case 410: return Error{ErrorCode::kDownloadUnavailable, what + " (not found)"};
    case 429: return Error{ErrorCode::kRateLimited, what + " (too many requests: try later)"};
    default: return Error{ErrorCode::kDownloadFailed, what};
  }
}

std::mutex g_filter_mu;
std::shared_ptr<const AddressFilter> g_filter;  // guarded by g_filter_mu

struct SocketGate {
  std::shared_ptr<const AddressFilter> filter;
  bool refused = false;
};

curl_socket_t open_socket(void* clientp, curlsocktype purpose, curl_sockaddr* address) {
  auto* gate = static_cast<SocketGate*>(clientp);
  if (purpose == CURLSOCKTYPE_IPCXN && gate->filter && *gate->filter) {
    bool allowed = false;
    try {
      allowed = (*gate->filter)(&address->addr);
    } catch (const std::exception&) {
      allowed = false;  // no exception crosses libcurl; a rule that fails refuses
    }
    if (!allowed) {
      gate->refused = true;
      return CURL_SOCKET_BAD;
    }
  }
  return ::socket(address->family, address->socktype, address->protocol);
}

}  // namespace

void set_download_address_filter(AddressFilter filter) {
  std::lock_guard lock(g_filter_mu);
  g_filter = filter ? std::make_shared<const AddressFilter>(std::move(filter)) : nullptr;
}

Result<DownloadResult> download_file(const std::string& url, const fs::path& dest,
                                     const DownloadOptions& options) {
  global_init();
  fs::path part = dest;
  part += ".part";
  std::error_code ec;
  int64_t have = fs::exists(part, ec) ? static_cast<int64_t>(fs::file_size(part, ec)) : 0;
  if (ec) have = 0;

  std::unique_ptr<CURL, CurlFree> curl(curl_easy_init());
  if (!curl) return make_error(ErrorCode::kInternal, "cannot initialise libcurl");
  SocketGate gate;
  {
    std::lock_guard lock(g_filter_mu);
    gate.filter = g_filter;
  }

  for (int round = 0; round < 2; ++round) {
    std::unique_ptr<std::FILE, FileClose> out(std::fopen(part.c_str(), have > 0 ? "ab" : "wb"));
    if (!out) return make_error(ErrorCode::kIo, "cannot write '" + part.string() + "'");
    Transfer t;
    t.out = out.get();
    t.max_bytes = options.max_bytes;
    t.options = &options;
    t.base = have;
    char errbuf[CURL_ERROR_SIZE] = {};
    CURL* c = curl.get();
    curl_easy_reset(c);
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, options.connect_timeout_s);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1024L);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, options.low_speed_timeout_s);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "aimara");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    if (gate.filter) {
      curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, open_socket);
      curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &gate);
    }
    std::string range = std::to_string(have) + "-";
    if (have > 0) curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());

    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    std::fflush(out.get());
    out.reset();

    if (options.stop.stop_requested()) {
      return make_error(ErrorCode::kCancelled, "download of " + url + " cancelled (resumable)");
    }
    if (gate.refused) {
      fs::remove(part, ec);
      return make_error(ErrorCode::kDownloadForbidden,
                        url +
                            ": refused to connect to a loopback, private or link-local address "
                            "(directly or through a redirect)");
    }
    if (t.too_big) {
      fs::remove(part, ec);
      return make_error(ErrorCode::kDownloadFailed,
                        url + " is larger than the limit of " + std::to_string(options.max_bytes) +
                            " bytes");
    }
    if (have > 0 && status == 416) {
      // The .part already holds the whole file (or the server cannot resume): verify below.
    } else if (status >= 400) {
      if (status != 416) return std::unexpected(http_error(status, url));
    } else if (rc != CURLE_OK) {
      return make_error(ErrorCode::kNetwork,
                        url + ": " + (errbuf[0] ? errbuf : curl_easy_strerror(rc)));
    }
    if (have > 0 && status == 200) {
      // The server ignored the range and sent the whole body after what we had: start over.
      if (round == 0) {
        fs::remove(part, ec);
        have = 0;
        continue;
      }
    }
    break;
  }

  DownloadResult result;
  result.resumed_from = have;
  result.bytes = static_cast<int64_t>(fs::file_size(part, ec));
  const std::string& want = options.expected_digest;
  const EVP_MD* md = want.size() == 40 ? EVP_sha1() : EVP_sha256();
  auto digest = file_digest(part, md);
  if (!digest) return std::unexpected(digest.error());
  result.digest = *digest;
  if (!want.empty() && *digest != want) {
    fs::remove(part, ec);
    return make_error(ErrorCode::kModelHashMismatch,
                      "downloaded " + url + " but its digest is " + *digest + ", expected " + want +
                          "; nothing was kept");
  }
  fs::rename(part, dest, ec);
  if (ec) {
    return make_error(ErrorCode::kIo, "cannot move '" + part.string() + "' to '" + dest.string() +
                                          "': " + ec.message());
  }
  return result;
}

}  // namespace aimara
