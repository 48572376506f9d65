#include "server/content_api.h"

#include <map>

#include "media/platform.h"
#include "output/writers.h"
#include "server/job_json.h"

namespace aimara::server {

namespace {

// Marks the store puts around matched words: control characters that cannot occur in a
// transcript, so escaping the snippet can never touch them.
constexpr std::string_view kMarkOpen = "\x02";
constexpr std::string_view kMarkClose = "\x03";

nlohmann::json link_at(const std::string& url, int64_t start_ms) {
  if (url.empty()) return nullptr;
  const auto platform = media::detect_platform(url).platform;
  return media::deep_link(url, platform, start_ms / 1000);
}

void get_transcript(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto id = path_id(req);
  if (!id) return send_error(res, id.error());
  const std::string format = req.has_param("format") ? req.get_param_value("format") : "json";
  auto formats = output::parse_formats(format);
  if (!formats || formats->size() != 1 || format == "all") {
    return send_error(res,
                      api_error(400, "invalid_request", "'format' is one of txt, json, srt, vtt"));
  }
  auto job = ctx.store->get_job(*id);
  if (!job) return send_error(res, from_error(job.error()));
  auto segments = ctx.store->segments(*id);
  if (!segments) return send_error(res, from_error(segments.error()));
  if (segments->empty() && job->state != jobs::JobState::kCompleted) {
    return send_error(res, api_error(409, "conflict",
                                     "job " + std::to_string(*id) + " has no transcript yet (" +
                                         std::string(jobs::state_name(job->state)) + ")"));
  }
  const asr::Transcript t = transcript_from_store(*job, *segments);
  res.status = 200;
  res.set_content(output::render(t, formats->front()),
                  std::string(transcript_content_type(format)));
}

void get_entities(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  auto id = path_id(req);
  if (!id) return send_error(res, id.error());
  auto job = ctx.store->get_job(*id);
  if (!job) return send_error(res, from_error(job.error()));
  store::MentionQuery q;
  q.job_id = *id;
  q.limit = 10'000;
  auto mentions = ctx.store->mentions(q);
  if (!mentions) return send_error(res, from_error(mentions.error()));
  std::string url = media::is_http_url(job->media.webpage_url) ? job->media.webpage_url : "";
  if (url.empty() && media::is_http_url(job->source)) url = job->source;
  nlohmann::json list = nlohmann::json::array();
  std::map<std::pair<std::string, std::string>, int64_t> counts;
  for (const auto& m : *mentions) {
    const auto& mm = m.mention;
    ++counts[{mm.canonical, mm.type}];
    list.push_back({{"id", m.id},
                    {"entity", mm.entity},
                    {"canonical", mm.canonical},
                    {"type", mm.type},
                    {"source", mm.source},
                    {"start_ms", mm.start_ms},
                    {"end_ms", mm.end_ms},
                    {"context", mm.context},
                    {"link", link_at(url, mm.start_ms)}});
  }
  std::vector<std::pair<std::pair<std::string, std::string>, int64_t>> sorted(counts.begin(),
                                                                              counts.end());
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  nlohmann::json entities = nlohmann::json::array();
  for (const auto& [key, n] : sorted) {
    entities.push_back({{"canonical", key.first}, {"type", key.second}, {"mentions", n}});
  }
  send_json(res, 200,
            {{"job_id", *id}, {"entities", std::move(entities)}, {"mentions", std::move(list)}});
}

void get_search(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string q = req.get_param_value("q");
  if (q.find_first_not_of(" \t") == std::string::npos) {
    return send_error(res, api_error(400, "invalid_request", "give the words to find in 'q'"));
  }
  if (q.size() > 500) {
    return send_error(res, api_error(400, "invalid_request", "'q' is too long"));
  }
  auto limit = query_int(req, "limit", 20, 1, 200);
  auto offset = query_int(req, "offset", 0, 0, 100'000);
  if (!limit) return send_error(res, limit.error());
  if (!offset) return send_error(res, offset.error());
  store::SearchQuery sq;
  sq.text = q;
  sq.limit = static_cast<int>(*limit);
  sq.offset = static_cast<int>(*offset);
  sq.mark_open = std::string(kMarkOpen);
  sq.mark_close = std::string(kMarkClose);
  if (req.has_param("job_id")) {
    auto j = query_int(req, "job_id", 0, 1, INT64_MAX);
    if (!j) return send_error(res, j.error());
    sq.job_id = *j;
  }
  auto hits = ctx.store->search(sq);
  if (!hits) return send_error(res, from_error(hits.error()));
  nlohmann::json out = nlohmann::json::array();
  for (const auto& h : *hits) {
    std::string snippet = html_escape(h.snippet);
    for (size_t p; (p = snippet.find(kMarkOpen)) != std::string::npos;) {
      snippet.replace(p, kMarkOpen.size(), "<mark>");
    }
    for (size_t p; (p = snippet.find(kMarkClose)) != std::string::npos;) {
      snippet.replace(p, kMarkClose.size(), "</mark>");
    }
    const std::string web = media::is_http_url(h.webpage_url) ? h.webpage_url : "";
    out.push_back({{"job_id", h.job_id},
                   {"title", h.title},
                   {"url", web.empty() ? nlohmann::json(nullptr) : nlohmann::json(web)},
                   {"chunk_index", h.chunk_index},
                   {"seq", h.seq},
                   {"start_ms", h.start_ms},
                   {"end_ms", h.end_ms},
                   {"snippet", snippet},
                   {"link", link_at(web, h.start_ms)}});
  }
  send_json(res, 200,
            {{"query", q}, {"limit", sq.limit}, {"offset", sq.offset}, {"hits", std::move(out)}});
}

}  // namespace

std::string_view transcript_content_type(std::string_view format) {
  if (format == "txt") return "text/plain; charset=utf-8";
  if (format == "srt") return "application/x-subrip; charset=utf-8";
  if (format == "vtt") return "text/vtt; charset=utf-8";
  return "application/json";
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

void register_content_api(httplib::Server& http, ServerContext& ctx) {
  http.Get("/api/v1/jobs/:id/transcript",
           guarded(Handler([&ctx](const httplib::Request& req, httplib::Response& res) {
             get_transcript(ctx, req, res);
           })));
  http.Get("/api/v1/jobs/:id/entities",
           guarded(Handler([&ctx](const httplib::Request& req, httplib::Response& res) {
             get_entities(ctx, req, res);
           })));
  http.Get("/api/v1/search",
           guarded(Handler([&ctx](const httplib::Request& req, httplib::Response& res) {
             get_search(ctx, req, res);
           })));
}

}  // namespace aimara::server
