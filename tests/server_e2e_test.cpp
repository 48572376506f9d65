// `aimara serve` end to end: the REST jobs API on the real binary, on 127.0.0.1 only.
#include <atomic>
#include <regex>
#include <set>

#include <gtest/gtest.h>

#include "core/fs.h"
#include "server_test_util.h"
#include "support/fixture_server.h"

namespace aimara::testing {
namespace {

namespace fs = std::filesystem;

// A static media server on 127.0.0.1 for URL jobs (what a podcast host would be).
class MediaServer {
 public:
  MediaServer() {
    server_.Get("/media/jfk.wav", [](const httplib::Request&, httplib::Response& res) {
      res.set_content(read_file(shared_file("media/jfk.wav")), "audio/wav");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    server_.wait_until_ready();
  }
  ~MediaServer() {
    server_.stop();
    thread_.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
};

TEST(ServerJobs, UploadCompletesWithTranscriptInEveryFormat) {
  ServerProcess server(test_server_args());
  ASSERT_GT(server.port(), 0);
  auto c = server.client();
  const int64_t id = submit_upload(*c, shared_file("media/jfk.wav").string());
  ASSERT_GT(id, 0);
  auto job = wait_for_state(*c, id, "completed");
  ASSERT_EQ(job.value("state", ""), "completed") << job.dump();
  EXPECT_EQ(job["progress"], 1.0);
  EXPECT_EQ(job["kind"], "media");
  EXPECT_EQ(job["platform"], "local");
  EXPECT_TRUE(job["url"].is_null()) << "an upload has no URL (and leaks no server path)";
  EXPECT_EQ(job["options"]["language"], "en");
  EXPECT_GT(job["duration_ms"].get<int64_t>(), 10'000);
  EXPECT_TRUE(job["error"].is_null());
  EXPECT_TRUE(job["created_at"].get<std::string>().ends_with("Z"));
  EXPECT_FALSE(job["finished_at"].is_null());
  ASSERT_TRUE(job["timings"].is_array());
  std::set<std::string> stages;
  for (const auto& t : job["timings"]) stages.insert(t["stage"].get<std::string>());
  EXPECT_TRUE(stages.count("transcribing")) << job["timings"].dump();
  EXPECT_GT(job["chunks"]["total"].get<int>(), 0);
  EXPECT_EQ(job["chunks"]["done"], job["chunks"]["total"]);

  auto json = c->Get("/api/v1/jobs/" + std::to_string(id) + "/transcript?format=json");
  ASSERT_TRUE(json);
  ASSERT_EQ(json->status, 200);
  EXPECT_EQ(json->get_header_value("Content-Type"), "application/json");
  auto t = json_of(json);
  ASSERT_TRUE(t["segments"].is_array());
  const size_t segments = t["segments"].size();
  ASSERT_GT(segments, 0u);
  EXPECT_TRUE(t["segments"][0].contains("start_ms"));

  auto txt = c->Get("/api/v1/jobs/" + std::to_string(id) + "/transcript?format=txt");
  ASSERT_TRUE(txt);
  EXPECT_EQ(txt->status, 200);
  EXPECT_TRUE(txt->get_header_value("Content-Type").starts_with("text/plain"));
  EXPECT_EQ(static_cast<size_t>(std::count(txt->body.begin(), txt->body.end(), '\n')), segments);

  auto srt = c->Get("/api/v1/jobs/" + std::to_string(id) + "/transcript?format=srt");
  ASSERT_TRUE(srt);
  EXPECT_EQ(srt->status, 200);
  EXPECT_TRUE(srt->body.starts_with("1\n")) << srt->body.substr(0, 80);
  EXPECT_TRUE(std::regex_search(srt->body, std::regex(R"(\d\d:\d\d:\d\d,\d\d\d --> )")));

  auto vtt = c->Get("/api/v1/jobs/" + std::to_string(id) + "/transcript?format=vtt");
  ASSERT_TRUE(vtt);
  EXPECT_EQ(vtt->status, 200);
  EXPECT_TRUE(vtt->get_header_value("Content-Type").starts_with("text/vtt"));
  EXPECT_TRUE(vtt->body.starts_with("WEBVTT"));
  EXPECT_TRUE(std::regex_search(vtt->body, std::regex(R"(\d\d:\d\d:\d\d\.\d\d\d --> )")));

  auto bad = c->Get("/api/v1/jobs/" + std::to_string(id) + "/transcript?format=docx");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(error_code(bad), "invalid_request");

  // Search finds a word of this transcript, in this job, with a marked snippet.
  std::string word;
  std::smatch m;
  const std::string first_line = txt->body.substr(0, txt->body.find('\n'));
  if (std::regex_search(first_line, m, std::regex(R"([A-Za-z]{4,})"))) word = m[0];
  ASSERT_FALSE(word.empty()) << first_line;
  auto hits = c->Get("/api/v1/search?q=" + word);
  ASSERT_TRUE(hits);
  ASSERT_EQ(hits->status, 200) << hits->body;
  auto h = json_of(hits);
  ASSERT_FALSE(h["hits"].empty()) << hits->body;
  EXPECT_EQ(h["hits"][0]["job_id"], id);
  EXPECT_NE(h["hits"][0]["snippet"].get<std::string>().find("<mark>"), std::string::npos);
  EXPECT_TRUE(h["hits"][0].contains("start_ms"));
  auto none = c->Get("/api/v1/search?q=zzzyyyxxxqqq");
  ASSERT_TRUE(none);
  EXPECT_TRUE(json_of(none)["hits"].empty());

  auto ents = c->Get("/api/v1/jobs/" + std::to_string(id) + "/entities");
  ASSERT_TRUE(ents);
  EXPECT_EQ(ents->status, 200);
  auto e = json_of(ents);
  EXPECT_EQ(e["job_id"], id);
  EXPECT_TRUE(e["entities"].is_array());
  EXPECT_TRUE(e["mentions"].is_array());

  // Finished work cannot be cancelled or retried.
  auto cancel = c->Post("/api/v1/jobs/" + std::to_string(id) + "/cancel");
  ASSERT_TRUE(cancel);
  EXPECT_EQ(cancel->status, 409);
  EXPECT_EQ(error_code(cancel), "conflict");
  auto retry = c->Post("/api/v1/jobs/" + std::to_string(id) + "/retry");
  ASSERT_TRUE(retry);
  EXPECT_EQ(retry->status, 409);

  // The metrics count it.
  auto metrics = c->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("aimara_jobs{state=\"completed\"} 1"), std::string::npos)
      << metrics->body;
  std::smatch audio;
  ASSERT_TRUE(std::regex_search(
      metrics->body, audio, std::regex(R"(aimara_audio_seconds_transcribed_total ([0-9.e+]+))")));
  EXPECT_GT(std::stod(audio[1]), 10.0);
  EXPECT_NE(metrics->body.find("aimara_realtime_factor"), std::string::npos);
  EXPECT_NE(metrics->body.find("aimara_queued_chunks"), std::string::npos);
}

// The server's default language is auto; each submission's language is the one transcribed in.
TEST(ServerJobs, EachJobIsTranscribedInItsOwnLanguage) {
  ServerProcess server(test_server_args());
  ASSERT_GT(server.port(), 0);
  auto c = server.client();
  const int64_t en = submit_upload(*c, shared_file("media/jfk.wav").string(), "en");
  const int64_t es = submit_upload(*c, shared_file("media/pv_test_es.wav").string(), "es");
  ASSERT_GT(en, 0);
  ASSERT_GT(es, 0);
  for (auto [id, language] : {std::pair{en, "en"}, std::pair{es, "es"}}) {
    auto job = wait_for_state(*c, id, "completed");
    ASSERT_EQ(job.value("state", ""), "completed") << job.dump();
    auto r = c->Get("/api/v1/jobs/" + std::to_string(id) + "/transcript?format=json");
    ASSERT_TRUE(r);
    ASSERT_EQ(r->status, 200);
    EXPECT_EQ(json_of(r)["language"], language) << r->body;
  }
  // Asked to detect it, the transcript names the language detected, not "auto".
  const int64_t detected = submit_upload(*c, shared_file("media/jfk.wav").string(), "auto");
  ASSERT_GT(detected, 0);
  auto job = wait_for_state(*c, detected, "completed");
  ASSERT_EQ(job.value("state", ""), "completed") << job.dump();
  auto r = c->Get("/api/v1/jobs/" + std::to_string(detected) + "/transcript?format=json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const std::string language = json_of(r).value("language", "");
  EXPECT_EQ(language.size(), 2u) << r->body;
  EXPECT_NE(language, "auto");
  EXPECT_EQ(job["language"], language) << job.dump();  // the job object says it too
}

TEST(ServerJobs, UrlJobToLoopbackNeedsAllowPrivateUrls) {
  MediaServer media;
  const std::string url = media.url("/media/jfk.wav");
  {
    ServerProcess strict(test_server_args());
    ASSERT_GT(strict.port(), 0);
    auto c = strict.client();
    auto r = c->Post("/api/v1/jobs", nlohmann::json{{"url", url}}.dump(), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403);
    EXPECT_EQ(error_code(r), "url_forbidden");
    for (const char* u :
         {"http://localhost/a.mp3", "http://169.254.169.254/latest/meta-data/",
          "http://10.0.0.1/a.mp3", "http://100.64.1.1/a.mp3", "http://[::1]/x.mp3"}) {
      auto rr = c->Post("/api/v1/jobs", nlohmann::json{{"urls", {u}}}.dump(), "application/json");
      ASSERT_TRUE(rr);
      EXPECT_EQ(rr->status, 403) << u;
    }
    auto list = c->Get("/api/v1/jobs");
    ASSERT_TRUE(list);
    EXPECT_EQ(json_of(list)["total"], 0) << "a refused request enqueues nothing";
  }
  ServerProcess open([] {
    auto a = test_server_args();
    a.push_back("--allow-private-urls");
    return a;
  }());
  ASSERT_GT(open.port(), 0);
  auto c = open.client();
  auto r = c->Post("/api/v1/jobs", nlohmann::json{{"url", url}, {"language", "en"}}.dump(),
                   "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 202) << r->body;
  auto accepted = json_of(r);
  EXPECT_EQ(accepted["jobs"][0]["created"], true);
  EXPECT_EQ(accepted["jobs"][0]["url"], url);
  const int64_t id = accepted["ids"][0].get<int64_t>();
  // The same URL again is the same live job.
  auto again = c->Post("/api/v1/jobs", nlohmann::json{{"url", url}}.dump(), "application/json");
  ASSERT_TRUE(again);
  EXPECT_EQ(json_of(again)["jobs"][0]["id"], id);
  EXPECT_EQ(json_of(again)["jobs"][0]["created"], false);

  auto job = wait_for_state(*c, id, "completed");
  ASSERT_EQ(job.value("state", ""), "completed") << job.dump() << open.stderr_text();
  EXPECT_EQ(job["url"], url);
  std::set<std::string> stages;
  for (const auto& t : job["timings"]) stages.insert(t["stage"].get<std::string>());
  EXPECT_TRUE(stages.count("downloading")) << job["timings"].dump();
  auto txt = c->Get("/api/v1/jobs/" + std::to_string(id) + "/transcript?format=txt");
  ASSERT_TRUE(txt);
  EXPECT_EQ(txt->status, 200);
  EXPECT_FALSE(txt->body.empty());

  // The synchronous form of the original service: same URL, the finished transcript at once.
  auto sync =
      c->Post("/api/v1/transcribe", nlohmann::json{{"youtube_url", url}, {"format", "srt"}}.dump(),
              "application/json");
  ASSERT_TRUE(sync);
  EXPECT_EQ(sync->status, 200) << sync->body;
  EXPECT_TRUE(sync->body.starts_with("1\n"));
}

// A feed (or playlist, or channel) sent again is expanded again: episodes added since become jobs,
// those it had are not done again.
TEST(ServerJobs, AFeedSentAgainPicksUpItsNewEpisodes) {
  auto dir = aimara::TempDir::create("aimara-server-feed");
  ASSERT_TRUE(dir.has_value());
  const fs::path site = dir->path() / "site";
  fs::create_directories(site / "pod");
  fs::copy_file(shared_file("media/jfk.mp3"), site / "pod" / "ep_a.mp3");
  auto fixture = testing::FixtureServer::start(site);
  ASSERT_TRUE(fixture.has_value()) << fixture.error().to_string();
  auto args = test_server_args();
  args.push_back("--allow-private-urls");
  ServerProcess server(args);
  ASSERT_GT(server.port(), 0);
  auto c = server.client();
  const std::string body =
      nlohmann::json{{"url", fixture->url("/feed.xml?dir=pod")}, {"language", "en"}}.dump();
  auto episodes_done = [&](int64_t feed, size_t want) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    nlohmann::json list;
    while (std::chrono::steady_clock::now() < deadline) {
      list = json_of(c->Get("/api/v1/jobs?state=completed&parent_id=" + std::to_string(feed)));
      if (list.is_object() && list["jobs"].size() >= want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return list.is_object() ? list["jobs"].size() : 0u;
  };
  auto first = c->Post("/api/v1/jobs", body, "application/json");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 202) << first->body;
  const int64_t feed = json_of(first)["ids"][0].get<int64_t>();
  ASSERT_EQ(episodes_done(feed, 1), 1u) << server.stderr_text();

  fs::copy_file(shared_file("media/jfk.mp3"), site / "pod" / "ep_b.mp3");
  auto again = c->Post("/api/v1/jobs", body, "application/json");
  ASSERT_TRUE(again);
  ASSERT_EQ(again->status, 202) << again->body;
  EXPECT_EQ(json_of(again)["jobs"][0]["id"], feed);
  EXPECT_EQ(json_of(again)["jobs"][0]["created"], false);
  EXPECT_EQ(episodes_done(feed, 2), 2u) << server.stderr_text();
  auto all = json_of(c->Get("/api/v1/jobs?parent_id=" + std::to_string(feed)));
  EXPECT_EQ(all["jobs"].size(), 2u) << all.dump();
}

TEST(ServerJobs, ListFiltersAndPages) {
  ServerProcess server({"-m", test_model().string(), "--no-vad", "--workers", "0"});
  ASSERT_GT(server.port(), 0);
  auto c = server.client();
  std::vector<int64_t> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(submit_upload(*c, shared_file("media/jfk.wav").string()));
  auto all = c->Get("/api/v1/jobs?order=oldest");
  ASSERT_TRUE(all);
  ASSERT_EQ(all->status, 200);
  auto j = json_of(all);
  ASSERT_EQ(j["jobs"].size(), 3u);
  EXPECT_EQ(j["jobs"][0]["id"], ids[0]);
  EXPECT_EQ(j["total"], 3);
  EXPECT_EQ(j["counts"]["queued"], 3);
  EXPECT_EQ(j["counts"]["completed"], 0);

  auto page = c->Get("/api/v1/jobs?limit=2&offset=1&order=oldest");
  ASSERT_TRUE(page);
  auto p = json_of(page);
  ASSERT_EQ(p["jobs"].size(), 2u);
  EXPECT_EQ(p["jobs"][0]["id"], ids[1]);
  EXPECT_EQ(p["limit"], 2);

  auto newest = json_of(c->Get("/api/v1/jobs?limit=1"));
  EXPECT_EQ(newest["jobs"][0]["id"], ids[2]);

  // Without workers the jobs wait: cancel one, then retry it.
  auto cancel = c->Post("/api/v1/jobs/" + std::to_string(ids[0]) + "/cancel");
  ASSERT_TRUE(cancel);
  ASSERT_EQ(cancel->status, 200) << cancel->body;
  EXPECT_EQ(json_of(cancel)["state"], "cancelled");
  auto cancelled = json_of(c->Get("/api/v1/jobs?state=cancelled"));
  ASSERT_EQ(cancelled["jobs"].size(), 1u);
  EXPECT_EQ(cancelled["jobs"][0]["id"], ids[0]);
  auto two = json_of(c->Get("/api/v1/jobs?state=queued,cancelled"));
  EXPECT_EQ(two["jobs"].size(), 3u);
  auto again = c->Post("/api/v1/jobs/" + std::to_string(ids[0]) + "/cancel");
  ASSERT_TRUE(again);
  EXPECT_EQ(again->status, 409);
  auto retry = c->Post("/api/v1/jobs/" + std::to_string(ids[0]) + "/retry");
  ASSERT_TRUE(retry);
  EXPECT_EQ(retry->status, 200);
  EXPECT_EQ(json_of(retry)["state"], "queued");

  // An unfinished job has no transcript yet.
  auto t = c->Get("/api/v1/jobs/" + std::to_string(ids[1]) + "/transcript");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->status, 409);
  EXPECT_EQ(error_code(t), "conflict");

  // No workers: the synchronous endpoints say so.
  auto sync =
      c->Post("/api/v1/transcribe", R"({"url":"https://example.com/a.mp3"})", "application/json");
  ASSERT_TRUE(sync);
  EXPECT_EQ(sync->status, 503);
  EXPECT_EQ(error_code(sync), "unavailable");
  auto health = json_of(c->Get("/healthz"));
  EXPECT_EQ(health["workers"], 0);

  // Options are validated and recorded; a language given by name is recorded as its code.
  auto opts = c->Post("/api/v1/jobs",
                      R"({"url":"https://8.8.8.8/a.mp3","parallel":true,"concurrency":4,)"
                      R"("language":"Spanish"})",
                      "application/json");
  ASSERT_TRUE(opts);
  ASSERT_EQ(opts->status, 202) << opts->body;
  auto created =
      json_of(c->Get("/api/v1/jobs/" + std::to_string(json_of(opts)["ids"][0].get<int64_t>())));
  EXPECT_EQ(created["options"]["concurrency"], 4);
  EXPECT_EQ(created["options"]["parallel"], true);
  EXPECT_EQ(created["options"]["language"], "es");
  EXPECT_EQ(created["platform"], "generic");
  auto bad = c->Post("/api/v1/jobs", R"({"url":"https://8.8.8.8/b.mp3","concurrency":11})",
                     "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 400);
}

TEST(ServerJobs, ErrorsHaveStableCodesAndStatuses) {
  ServerProcess server({"-m", test_model().string(), "--no-vad", "--workers", "0"});
  ASSERT_GT(server.port(), 0);
  auto c = server.client();
  struct Case {
    std::string method, path, body;
    int status;
    std::string code;
  };
  const std::vector<Case> cases = {
      {"GET", "/api/v1/jobs/999999", "", 404, "not_found"},
      {"GET", "/api/v1/jobs/abc", "", 400, "invalid_request"},
      {"GET", "/api/v1/jobs/0", "", 400, "invalid_request"},
      {"GET", "/api/v1/jobs/999999/transcript", "", 404, "not_found"},
      {"GET", "/api/v1/jobs/999999/entities", "", 404, "not_found"},
      {"POST", "/api/v1/jobs/999999/cancel", "", 404, "not_found"},
      {"POST", "/api/v1/jobs/999999/retry", "", 404, "not_found"},
      {"GET", "/api/v1/jobs?state=nosuch", "", 400, "invalid_request"},
      {"GET", "/api/v1/jobs?limit=0", "", 400, "invalid_request"},
      {"GET", "/api/v1/jobs?limit=abc", "", 400, "invalid_request"},
      {"GET", "/api/v1/jobs?order=sideways", "", 400, "invalid_request"},
      {"GET", "/api/v1/search", "", 400, "invalid_request"},
      {"GET", "/api/v1/search?q=a&limit=9999", "", 400, "invalid_request"},
      {"POST", "/api/v1/jobs", "not json", 400, "invalid_request"},
      {"POST", "/api/v1/jobs", "[1,2]", 400, "invalid_request"},
      {"POST", "/api/v1/jobs", "{}", 400, "invalid_request"},
      {"POST", "/api/v1/jobs", R"({"url": 5})", 400, "invalid_request"},
      {"POST", "/api/v1/jobs", R"({"urls": "x"})", 400, "invalid_request"},
      {"POST", "/api/v1/jobs", R"({"url": "ftp://example.com/a.mp3"})", 400, "invalid_request"},
      {"POST", "/api/v1/jobs", R"({"url": "file:///etc/passwd"})", 400, "invalid_request"},
      {"POST", "/api/v1/jobs", R"({"url": "/etc/passwd"})", 400, "invalid_request"},
      {"POST", "/api/v1/jobs", R"({"url": "http://127.0.0.1:1/a.mp3"})", 403, "url_forbidden"},
      {"POST", "/api/v1/jobs", R"({"url": "https://8.8.8.8/a.mp3", "language": "klingon"})", 400,
       "invalid_request"},
      {"POST", "/api/v1/jobs", R"({"url": "https://8.8.8.8/a.mp3", "language": "xx"})", 400,
       "invalid_request"},
      {"GET", "/api/v1/nosuch", "", 404, "not_found"},
      {"GET", "/v1/nosuch", "", 404, "not_found"},
      {"DELETE", "/api/v1/jobs/1", "", 404, "not_found"},
  };
  for (const auto& k : cases) {
    httplib::Result r = k.method == "GET"    ? c->Get(k.path)
                        : k.method == "POST" ? c->Post(k.path, k.body, "application/json")
                                             : c->Delete(k.path);
    ASSERT_TRUE(r) << k.method << " " << k.path;
    EXPECT_EQ(r->status, k.status) << k.method << " " << k.path << ": " << r->body;
    EXPECT_EQ(error_code(r), k.code) << k.method << " " << k.path << ": " << r->body;
    EXPECT_EQ(r->get_header_value("Content-Type"), "application/json") << k.path;
  }
  // A JSON body over 1 MiB is refused before it is parsed.
  std::string big =
      R"({"url": "https://8.8.8.8/a.mp3", "pad": ")" + std::string(2 << 20, 'x') + "\"}";
  auto r = c->Post("/api/v1/jobs", big, "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(error_code(r), "payload_too_large");
  // The server still answers on a fresh connection.
  auto ok = server.client()->Get("/healthz");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

// A client knows its upload by its name: no reply names the folder the server saved it in, and
// an empty file is refused at once (nothing could come of it).
TEST(ServerJobs, UploadErrorsNameTheFileNotWhereTheServerKeepsIt) {
  ServerProcess server(test_server_args());
  ASSERT_GT(server.port(), 0);
  auto c = server.client();
  auto upload = [&](const std::string& path, const std::string& name, const std::string& bytes,
                    bool with_model) {
    httplib::MultipartFormDataItems items = {{"file", bytes, name, "application/octet-stream"}};
    if (with_model) items.push_back({"model", "whisper-1", "", ""});
    return c->Post(path, items);
  };
  auto empty = upload("/api/v1/jobs", "empty.mp3", "", false);
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 422) << empty->body;
  EXPECT_EQ(error_code(empty), "media_invalid");
  EXPECT_NE(empty->body.find("empty.mp3"), std::string::npos) << empty->body;

  const std::string not_media(4096, 'x');
  auto queued = upload("/api/v1/jobs", "C:\\grabaciones\\Entrevista José.mp3", not_media, false);
  ASSERT_TRUE(queued);
  ASSERT_EQ(queued->status, 202) << queued->body;
  const int64_t id = json_of(queued)["ids"][0].get<int64_t>();
  auto job = wait_for_state(*c, id, "dead");
  ASSERT_EQ(job.value("state", ""), "dead") << job.dump();
  EXPECT_EQ(job["error"]["code"], "media_invalid");
  const std::string shown = job.dump();
  // Named as the client named it, accents kept (the file on disk has an ASCII-only name).
  EXPECT_EQ(job["title"], "Entrevista José") << shown;
  EXPECT_NE(job["error"]["message"].get<std::string>().find("'Entrevista José.mp3'"),
            std::string::npos)
      << shown;
  EXPECT_EQ(shown.find("uploads"), std::string::npos) << shown;

  // A finished upload keeps that title too.
  auto good = upload("/api/v1/jobs", "Discurso de Kennedy — 1961.wav",
                     read_file(shared_file("media/jfk.wav")), false);
  ASSERT_TRUE(good);
  ASSERT_EQ(good->status, 202) << good->body;
  auto done = wait_for_state(*c, json_of(good)["ids"][0].get<int64_t>(), "completed");
  ASSERT_EQ(done.value("state", ""), "completed") << done.dump();
  EXPECT_EQ(done["title"], "Discurso de Kennedy — 1961") << done.dump();

  for (const char* path : {"/v1/audio/transcriptions", "/api/v1/transcribe"}) {
    auto r = upload(path, "notes.mp3", not_media, path[1] == 'v');  // OpenAI's needs a model
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status / 100, 4) << path << ": " << r->body;
    EXPECT_NE(r->body.find("notes.mp3"), std::string::npos) << path << ": " << r->body;
    EXPECT_EQ(r->body.find("uploads"), std::string::npos) << path << ": " << r->body;
  }
}

TEST(ServerSecurity, TokenIsRequiredWhenConfigured) {
  ServerProcess server(
      {"-m", test_model().string(), "--no-vad", "--workers", "0", "--token", "s3cret-token"});
  ASSERT_GT(server.port(), 0);
  auto anon = server.client();
  auto health = anon->Get("/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200) << "/healthz stays open";
  for (const char* path : {"/api/v1/jobs", "/api/v1/jobs/1", "/api/v1/search?q=x", "/metrics",
                           "/api/v1/events", "/api/v1/settings"}) {
    auto r = anon->Get(path);
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, 401) << path;
    EXPECT_EQ(error_code(r), "unauthorized") << path;
    EXPECT_EQ(r->get_header_value("WWW-Authenticate"), "Bearer");
  }
  auto post = anon->Post("/api/v1/jobs", R"({"url":"https://8.8.8.8/a.mp3"})", "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 401);
  auto wrong = server.client("s3cret-tokeN")->Get("/api/v1/jobs");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto openai = anon->Post("/v1/audio/transcriptions",
                           httplib::MultipartFormDataItems{{"model", "whisper-1", "", ""}});
  ASSERT_TRUE(openai);
  EXPECT_EQ(openai->status, 401);
  EXPECT_EQ(json_of(openai)["error"]["code"], "invalid_api_key");

  auto good = server.client("s3cret-token");
  auto list = good->Get("/api/v1/jobs");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->status, 200);
  auto metrics = good->Get("/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_EQ(metrics->status, 200);
  // The token from the environment works the same.
  ServerProcess env_server({"-m", test_model().string(), "--no-vad", "--workers", "0"},
                           {{"AIMARA_TOKEN", "from-env"}});
  ASSERT_GT(env_server.port(), 0);
  EXPECT_EQ(env_server.client()->Get("/api/v1/jobs")->status, 401);
  EXPECT_EQ(env_server.client("from-env")->Get("/api/v1/jobs")->status, 200);
}

TEST(ServerSecurity, PagesOfOtherSitesAreRefused) {
  ServerProcess server({"-m", test_model().string(), "--no-vad", "--workers", "0"});
  ASSERT_GT(server.port(), 0);
  auto c = server.client();
  const std::string self = "127.0.0.1:" + std::to_string(server.port());
  // A page of another site posting here (a "simple" cross-site request).
  auto csrf = c->Post("/api/v1/jobs", httplib::Headers{{"Origin", "http://evil.example"}},
                      R"({"url":"https://8.8.8.8/a.mp3"})", "text/plain");
  ASSERT_TRUE(csrf);
  EXPECT_EQ(csrf->status, 403);
  EXPECT_EQ(error_code(csrf), "cross_origin");
  // The dashboard's own page may.
  auto own = c->Post("/api/v1/jobs", httplib::Headers{{"Origin", "http://" + self}},
                     R"({"url":"https://8.8.8.8/a.mp3"})", "application/json");
  ASSERT_TRUE(own);
  EXPECT_EQ(own->status, 202) << own->body;
  // DNS rebinding: a foreign name pointing at 127.0.0.1 gets nothing from a token-less server.
  auto rebound = c->Get(
      "/api/v1/jobs", httplib::Headers{{"Host", "evil.example:" + std::to_string(server.port())}});
  ASSERT_TRUE(rebound);
  EXPECT_EQ(rebound->status, 403);
  EXPECT_EQ(error_code(rebound), "forbidden_host");
  auto local = c->Get("/api/v1/jobs",
                      httplib::Headers{{"Host", "localhost:" + std::to_string(server.port())}});
  ASSERT_TRUE(local);
  EXPECT_EQ(local->status, 200);
  auto list = json_of(c->Get("/api/v1/jobs"));
  EXPECT_EQ(list["total"], 1) << "only the same-origin request enqueued";
}

TEST(ServerSecurity, RefusesToListenOffLoopbackWithoutToken) {
  auto [rc, err] = serve_refusal({"--listen", "0.0.0.0:0", "-m", test_model().string()});
  EXPECT_EQ(rc, 2);
  EXPECT_NE(err.find("token"), std::string::npos) << err;
  auto [rc2, err2] = serve_refusal({"--listen", "nonsense", "-m", test_model().string()});
  EXPECT_EQ(rc2, 2);
  EXPECT_NE(err2.find("HOST:PORT"), std::string::npos) << err2;
  auto [rc3, err3] =
      serve_refusal({"--allow-extractors", "youtube,nosuch", "-m", test_model().string()});
  EXPECT_EQ(rc3, 2);
  EXPECT_NE(err3.find("nosuch"), std::string::npos) << err3;
}

// A second server on a port another one listens on fails to start, before it loads or creates
// anything; it never shares the port (and half the connections) with it.
TEST(ServerSecurity, APortInUseIsAnError) {
  ServerProcess first(test_server_args());
  ASSERT_GT(first.port(), 0);
  auto dir = aimara::TempDir::create("aimara-serve-port");
  ASSERT_TRUE(dir.has_value());
  const std::string listen = "127.0.0.1:" + std::to_string(first.port());
  auto [rc, err] = serve_refusal({"--listen", listen, "--data-dir", (dir->path() / "d").string(),
                                  "--store", "sqlite:" + (dir->path() / "s.db").string(), "-m",
                                  test_model().string(), "--workers", "1"});
  EXPECT_NE(rc, 0);
  EXPECT_NE(err.find("cannot listen on " + listen), std::string::npos) << err;
  EXPECT_EQ(err.find("model "), std::string::npos) << "said before the model is loaded: " << err;
  EXPECT_FALSE(fs::exists(dir->path() / "d"));
  EXPECT_FALSE(fs::exists(dir->path() / "s.db"));
  auto ok = first.client()->Get("/healthz");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
}

TEST(ServerSecurity, AMissingModelIsSaidBeforeAnythingIsCreated) {
  auto dir = aimara::TempDir::create("aimara-serve-nomodel");
  ASSERT_TRUE(dir.has_value());
  const fs::path data = dir->path() / "data";
  auto [rc, err] = serve_refusal({"--listen", "127.0.0.1:0", "--data-dir", data.string(), "-m",
                                  (dir->path() / "ggml-none.bin").string()});
  EXPECT_EQ(rc, 1);
  EXPECT_NE(err.find("model_missing"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(data));
}

TEST(ServerSecurity, UploadLimitExtractorListAndSafeNames) {
  ServerProcess server([] {
    auto a = test_server_args();
    a.insert(a.end(), {"--max-upload-mb", "0.05", "--allow-extractors", "youtube,vimeo"});
    return a;
  }());
  ASSERT_GT(server.port(), 0);
  auto c = server.client();
  const std::string bytes = read_file(shared_file("media/jfk.wav"));  // ~350 KB > 51 KB
  ASSERT_GT(bytes.size(), 100'000u);
  auto big = c->Post("/api/v1/jobs",
                     httplib::MultipartFormDataItems{{"file", bytes, "jfk.wav", "audio/wav"}});
  ASSERT_TRUE(big);
  EXPECT_EQ(big->status, 413);
  EXPECT_EQ(error_code(big), "payload_too_large");
  auto big_openai =
      server.client()->Post("/v1/audio/transcriptions",
                            httplib::MultipartFormDataItems{{"file", bytes, "jfk.wav", "audio/wav"},
                                                            {"model", "whisper-1", "", ""}});
  ASSERT_TRUE(big_openai);
  EXPECT_EQ(big_openai->status, 413);
  // Nothing of the refused uploads stays on disk.
  size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(server.dir() / "data" / "uploads")) {
    files += e.is_regular_file() ? 1 : 0;
  }
  EXPECT_EQ(files, 0u);

  // A small upload with a hostile name lands inside the uploads folder under a safe name.
  auto small = server.client()->Post(
      "/api/v1/jobs", httplib::MultipartFormDataItems{{"file", bytes.substr(0, 20'000),
                                                       "../../../escape me.wav", "audio/wav"}});
  ASSERT_TRUE(small);
  ASSERT_EQ(small->status, 202) << small->body;
  EXPECT_FALSE(fs::exists(server.dir() / "escape me.wav"));
  bool found = false;
  for (const auto& e : fs::recursive_directory_iterator(server.dir() / "data" / "uploads")) {
    if (e.is_regular_file()) {
      EXPECT_EQ(e.path().filename(), "escape_me.wav");
      found = true;
    }
  }
  EXPECT_TRUE(found);

  auto youtube = c->Post("/api/v1/jobs", R"({"url":"https://www.youtube.com/watch?v=dQw4w9WgXcQ"})",
                         "application/json");
  ASSERT_TRUE(youtube);
  EXPECT_NE(youtube->status, 403) << youtube->body;  // allowed (202, or url_unresolvable offline)
  auto generic =
      c->Post("/api/v1/jobs", R"({"url":"https://example.com/a.mp3"})", "application/json");
  ASSERT_TRUE(generic);
  EXPECT_EQ(generic->status, 403);
  EXPECT_EQ(error_code(generic), "extractor_forbidden");

  // Request paths never reach the file system.
  for (const char* p : {"/../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/.git/config"}) {
    auto r = c->Get(p);
    ASSERT_TRUE(r) << p;
    EXPECT_EQ(r->status, 404) << p;
    EXPECT_EQ(r->body.find("root:"), std::string::npos);
  }
  auto settings = json_of(c->Get("/api/v1/settings"));
  EXPECT_EQ(settings["allowed_extractors"], nlohmann::json({"youtube", "vimeo"}));
  EXPECT_EQ(settings["max_upload_bytes"], static_cast<int64_t>(0.05 * 1024 * 1024));
}

// GET /api/v1/jobs/{id}/media: an upload's file, whole or by range; nothing for a URL job, a
// file that is gone or an unknown job.
TEST(ServerMedia, UploadIsServedWholeAndByRange) {
  ServerProcess server({"-m", test_model().string(), "--no-vad", "--workers", "0"});
  ASSERT_GT(server.port(), 0);
  auto c = server.client();
  const std::string bytes = read_file(shared_file("media/jfk.wav"));
  const int64_t id = submit_upload(*c, shared_file("media/jfk.wav").string());
  ASSERT_GT(id, 0);
  const std::string path = "/api/v1/jobs/" + std::to_string(id) + "/media";

  auto whole = c->Get(path);
  ASSERT_TRUE(whole);
  ASSERT_EQ(whole->status, 200) << whole->body.substr(0, 200);
  EXPECT_EQ(whole->get_header_value("Content-Type"), "audio/wav");
  EXPECT_EQ(whole->get_header_value("Accept-Ranges"), "bytes");
  EXPECT_EQ(whole->body.size(), bytes.size());
  EXPECT_TRUE(whole->body == bytes) << "the body is the uploaded file";

  auto part = c->Get(path, httplib::Headers{{"Range", "bytes=100-199"}});
  ASSERT_TRUE(part);
  EXPECT_EQ(part->status, 206);
  EXPECT_EQ(part->get_header_value("Content-Range"),
            "bytes 100-199/" + std::to_string(bytes.size()));
  EXPECT_EQ(part->body, bytes.substr(100, 100));
  auto tail = c->Get(path, httplib::Headers{{"Range", "bytes=-16"}});
  ASSERT_TRUE(tail);
  EXPECT_EQ(tail->status, 206);
  EXPECT_EQ(tail->body, bytes.substr(bytes.size() - 16));
  auto beyond = c->Get(path, httplib::Headers{{"Range", "bytes=99999999-"}});
  ASSERT_TRUE(beyond);
  EXPECT_EQ(beyond->status, 416);

  // A URL job's media is not on this server; an unknown job is not found.
  auto url_job = c->Post("/api/v1/jobs", R"({"url":"https://8.8.8.8/a.mp3"})", "application/json");
  ASSERT_TRUE(url_job);
  ASSERT_EQ(url_job->status, 202) << url_job->body;
  const int64_t url_id = json_of(url_job)["ids"][0].get<int64_t>();
  auto none = c->Get("/api/v1/jobs/" + std::to_string(url_id) + "/media");
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 404);
  EXPECT_EQ(error_code(none), "media_unavailable");
  auto unknown = c->Get("/api/v1/jobs/999999/media");
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(error_code(unknown), "not_found");

  // The file is gone: nothing to serve.
  size_t removed = 0;
  for (const auto& e : fs::recursive_directory_iterator(server.dir() / "data" / "uploads")) {
    if (e.is_regular_file()) removed += fs::remove(e.path()) ? 1 : 0;
  }
  ASSERT_EQ(removed, 1u);
  auto gone = c->Get(path);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404);
  EXPECT_EQ(error_code(gone), "media_unavailable");
  EXPECT_EQ(gone->get_header_value("Content-Type"), "application/json");
}

// A job `aimara run` made from a local file in the same store: its file is served, by the
// server, while it exists.
TEST(ServerMedia, LocalFileJobIsServed) {
  ServerProcess server({"-m", test_model().string(), "--no-vad", "--workers", "0"});
  ASSERT_GT(server.port(), 0);
  const fs::path local = server.dir() / "talk.mp3";
  fs::copy_file(shared_file("media/jfk.mp3"), local);
  auto run = run_aimara({"run", local.string(), "-m", test_model().string(), "--no-vad", "-o",
                         (server.dir() / "run-out").string(), "--store",
                         "sqlite:" + (server.dir() / "aimara.db").string(), "-l", "en",
                         "--no-progress"},
                        240);
  ASSERT_EQ(run.exit_code, 0) << run.err;
  auto c = server.client();
  auto list = json_of(c->Get("/api/v1/jobs"));
  ASSERT_EQ(list["jobs"].size(), 1u) << list.dump();
  EXPECT_EQ(list["jobs"][0]["platform"], "local");
  const std::string path = "/api/v1/jobs/" + std::to_string(list["jobs"][0]["id"].get<int64_t>()) +
                           "/media";
  auto r = c->Get(path);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body.substr(0, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "audio/mpeg");
  EXPECT_TRUE(r->body == read_file(local));
  fs::remove(local);
  auto gone = c->Get(path);
  ASSERT_TRUE(gone);
  EXPECT_EQ(gone->status, 404);
  EXPECT_EQ(error_code(gone), "media_unavailable");
}

// With a token, the media needs it too; like the event stream (and nothing else) it may come as
// ?access_token=, since an <audio> element cannot send headers.
TEST(ServerMedia, TokenIsRequiredAndMayComeInTheQuery) {
  const std::string token = "media-token";
  ServerProcess server(
      {"-m", test_model().string(), "--no-vad", "--workers", "0", "--token", token});
  ASSERT_GT(server.port(), 0);
  const int64_t id = submit_upload(*server.client(token), shared_file("media/jfk.wav").string());
  ASSERT_GT(id, 0);
  const std::string path = "/api/v1/jobs/" + std::to_string(id) + "/media";
  auto anon = server.client();
  auto refused = anon->Get(path);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 401);
  EXPECT_EQ(error_code(refused), "unauthorized");
  auto wrong = anon->Get(path + "?access_token=not-it");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 401);
  auto query = anon->Get(path + "?access_token=" + token);
  ASSERT_TRUE(query);
  EXPECT_EQ(query->status, 200);
  EXPECT_EQ(query->body.size(), read_file(shared_file("media/jfk.wav")).size());
  auto header = server.client(token)->Get(path, httplib::Headers{{"Range", "bytes=0-9"}});
  ASSERT_TRUE(header);
  EXPECT_EQ(header->status, 206);
  // The query token opens the media and the event stream only.
  for (const std::string& p :
       std::vector<std::string>{"/api/v1/jobs", "/api/v1/jobs/" + std::to_string(id),
                                "/api/v1/jobs/" + std::to_string(id) + "/transcript"}) {
    auto r = anon->Get(p + "?access_token=" + token);
    ASSERT_TRUE(r) << p;
    EXPECT_EQ(r->status, 401) << p;
  }
}

TEST(ServerJobs, DashboardIsServedFromTheBinary) {
  ServerProcess server({"-m", test_model().string(), "--no-vad", "--workers", "0"});
  ASSERT_GT(server.port(), 0);
  auto c = server.client();
  auto root = c->Get("/");
  ASSERT_TRUE(root);
  EXPECT_EQ(root->status, 200);
  EXPECT_TRUE(root->get_header_value("Content-Type").starts_with("text/html"));
  EXPECT_NE(root->body.find("<html"), std::string::npos);
  auto missing = c->Get("/no-such-asset.js");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(error_code(missing), "not_found");
}

}  // namespace
}  // namespace aimara::testing
