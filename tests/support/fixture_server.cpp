#include "support/fixture_server.h"

#include <algorithm>
#include <mutex>
#include <optional>
#include <thread>

#include <httplib.h>

#include "core/fs.h"

namespace aimara::testing {

namespace fs = std::filesystem;

namespace {

std::string content_type_of(const fs::path& p) {
  const std::string ext = p.extension().string();
  if (ext == ".mp3") return "audio/mpeg";
  if (ext == ".wav") return "audio/wav";
  if (ext == ".m4a" || ext == ".mp4") return "audio/mp4";
  if (ext == ".xml") return "application/rss+xml";
  if (ext == ".html") return "text/html";
  return "application/octet-stream";
}

// The file `rel` names under `root`, or nothing when it would leave the root or is not a file.
std::optional<fs::path> file_under(const fs::path& root, std::string_view rel) {
  fs::path p = fs::path(rel).relative_path().lexically_normal();
  if (p.empty() || *p.begin() == "..") return std::nullopt;
  fs::path full = root / p;
  std::error_code ec;
  if (!fs::is_regular_file(full, ec)) return std::nullopt;
  return full;
}

std::string xml_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

}  // namespace

struct FixtureServer::Impl {
  fs::path root;
  httplib::Server server;
  std::thread thread;
  int port = 0;
  mutable std::mutex mu;
  std::vector<FixtureRequest> log;  // guarded by mu

  std::string base() const { return "http://127.0.0.1:" + std::to_string(port); }

  void not_found(httplib::Response& res) {
    res.status = 404;
    res.set_content("not found\n", "text/plain");
  }

  void serve_file(const httplib::Request& req, httplib::Response& res, std::string_view rel) {
    auto file = file_under(root, rel);
    if (!file) return not_found(res);
    auto body = read_file(*file);
    if (!body) return not_found(res);
    (void)req;
    res.set_content(std::move(*body), content_type_of(*file));  // httplib applies Range
  }

  void serve_feed(const httplib::Request& req, httplib::Response& res) {
    const std::string dir = req.get_param_value("dir");
    fs::path folder = (root / fs::path(dir).relative_path()).lexically_normal();
    std::error_code ec;
    if (dir.empty() || dir.find("..") != std::string::npos || !fs::is_directory(folder, ec)) {
      return not_found(res);
    }
    std::vector<fs::path> episodes;
    for (const auto& e : fs::directory_iterator(folder)) {
      if (e.path().extension() == ".mp3") episodes.push_back(e.path());
    }
    std::sort(episodes.begin(), episodes.end());
    std::string xml =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<rss version=\"2.0\"><channel><title>Fixture podcast " + xml_escape(dir) +
        "</title><link>" + base() + "/</link><description>test feed</description>\n";
    // extra=NAME lists an episode that is not on the server (its download answers 404).
    if (req.has_param("extra")) episodes.push_back(folder / (req.get_param_value("extra") + ".mp3"));
    for (const fs::path& ep : episodes) {
      const std::string stem = ep.stem().string();
      const std::string link = base() + "/" + dir + "/" + ep.filename().string();
      const auto size = fs::file_size(ep, ec);
      xml += "<item><title>Episode " + xml_escape(stem) + "</title><guid>" + xml_escape(link) +
             "</guid><enclosure url=\"" + xml_escape(link) + "\" type=\"audio/mpeg\" length=\"" +
             std::to_string(ec ? 0 : size) + "\"/></item>\n";
    }
    xml += "</channel></rss>\n";
    res.set_content(xml, "application/rss+xml");
  }

  void serve_cut(const httplib::Request& req, httplib::Response& res, size_t cut_at,
                 std::string_view rel) {
    if (req.has_header("Range")) return serve_file(req, res, rel);
    auto file = file_under(root, rel);
    if (!file) return not_found(res);
    auto body = read_file(*file);
    if (!body) return not_found(res);
    auto shared = std::make_shared<std::string>(std::move(*body));
    const size_t size = shared->size();
    res.set_content_provider(size, content_type_of(*file),
                             [shared, cut_at](size_t offset, size_t length, httplib::DataSink& sink) {
                               const size_t end = std::min(offset + length, cut_at);
                               if (offset >= end) return false;  // drop the connection
                               sink.write(shared->data() + offset, end - offset);
                               return true;
                             });
  }
};

FixtureServer::FixtureServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
FixtureServer::FixtureServer(FixtureServer&&) noexcept = default;
FixtureServer& FixtureServer::operator=(FixtureServer&&) noexcept = default;

FixtureServer::~FixtureServer() {
  if (!impl_) return;
  impl_->server.stop();
  if (impl_->thread.joinable()) impl_->thread.join();
}

Result<FixtureServer> FixtureServer::start(const fs::path& root) {
  auto impl = std::make_unique<Impl>();
  impl->root = fs::canonical(root);
  Impl* s = impl.get();
  s->server.set_read_timeout(10, 0);
  s->server.set_write_timeout(10, 0);
  s->server.set_logger([s](const httplib::Request& req, const httplib::Response& res) {
    std::lock_guard lock(s->mu);
    s->log.push_back({req.method, req.path, req.get_header_value("Range"), res.status});
  });
  s->server.Get("/feed.xml", [s](const httplib::Request& req, httplib::Response& res) {
    s->serve_feed(req, res);
  });
  s->server.Get(R"(/status/(\d{3})/.*)", [](const httplib::Request& req, httplib::Response& res) {
    res.status = std::stoi(req.matches[1]);
    if (res.status == 429) res.set_header("Retry-After", "30");
    res.set_content("status " + std::string(req.matches[1]) + "\n", "text/plain");
  });
  s->server.Get(R"(/cut/(\d+)/(.+))", [s](const httplib::Request& req, httplib::Response& res) {
    s->serve_cut(req, res, std::stoul(req.matches[1]), req.matches[2].str());
  });
  s->server.Get(R"(/(.+))", [s](const httplib::Request& req, httplib::Response& res) {
    s->serve_file(req, res, req.matches[1].str());
  });
  s->port = s->server.bind_to_any_port("127.0.0.1");
  if (s->port <= 0) return make_error(ErrorCode::kNetwork, "fixture server: cannot bind 127.0.0.1");
  s->thread = std::thread([s] { s->server.listen_after_bind(); });
  s->server.wait_until_ready();
  return FixtureServer(std::move(impl));
}

int FixtureServer::port() const { return impl_->port; }

std::string FixtureServer::url(const std::string& path) const { return impl_->base() + path; }

std::vector<FixtureRequest> FixtureServer::requests() const {
  std::lock_guard lock(impl_->mu);
  return impl_->log;
}

}  // namespace aimara::testing
