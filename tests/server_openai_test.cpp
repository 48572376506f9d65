// POST /v1/audio/transcriptions (OpenAI's shapes) and POST /api/v1/transcribe with an upload, on
// the real binary. The official OpenAI client is exercised by tests/node/openai_client.test.mjs.
#include <regex>

#include <gtest/gtest.h>

#include "server_test_util.h"

namespace aimara::testing {
namespace {

httplib::MultipartFormDataItems form(const std::string& format,
                                     std::vector<std::pair<std::string, std::string>> extra = {}) {
  httplib::MultipartFormDataItems items = {
      {"file", read_file(shared_file("media/jfk.wav")), "jfk.wav", "audio/wav"},
      {"model", "whisper-1", "", ""},
      {"response_format", format, "", ""}};
  for (auto& [k, v] : extra) {
    if (k == "model") {
      items[1].content = v;  // instead of whisper-1
    } else {
      items.push_back({k, v, "", ""});
    }
  }
  return items;
}

TEST(ServerOpenAi, ResponseShapes) {
  ServerProcess server(test_server_args());
  ASSERT_GT(server.port(), 0);
  auto c = server.client();

  auto json = c->Post("/v1/audio/transcriptions", form("json", {{"language", "en"}}));
  ASSERT_TRUE(json);
  ASSERT_EQ(json->status, 200) << json->body;
  auto j = json_of(json);
  ASSERT_TRUE(j.is_object());
  EXPECT_EQ(j.size(), 1u) << json->body;
  ASSERT_TRUE(j["text"].is_string());
  EXPECT_FALSE(j["text"].get<std::string>().empty());

  // The loaded model's own name is accepted as well as whisper-1.
  const std::string loaded = json_of(c->Get("/api/v1/settings"))["model"];
  auto text = c->Post("/v1/audio/transcriptions", form("text", {{"model", loaded}}));
  ASSERT_TRUE(text);
  EXPECT_EQ(text->status, 200) << text->body;
  EXPECT_TRUE(text->get_header_value("Content-Type").starts_with("text/plain"));

  auto srt = c->Post("/v1/audio/transcriptions", form("srt"));
  ASSERT_TRUE(srt);
  EXPECT_EQ(srt->status, 200);
  EXPECT_TRUE(std::regex_search(srt->body, std::regex(R"(^1\n\d\d:\d\d:\d\d,\d\d\d --> )")));

  auto vtt = c->Post("/v1/audio/transcriptions", form("vtt"));
  ASSERT_TRUE(vtt);
  EXPECT_EQ(vtt->status, 200);
  EXPECT_TRUE(vtt->body.starts_with("WEBVTT"));

  auto verbose = c->Post("/v1/audio/transcriptions",
                         form("verbose_json", {{"language", "en"},
                                               {"timestamp_granularities[]", "word"},
                                               {"timestamp_granularities[]", "segment"}}));
  ASSERT_TRUE(verbose);
  ASSERT_EQ(verbose->status, 200) << verbose->body;
  auto v = json_of(verbose);
  EXPECT_EQ(v["task"], "transcribe");
  EXPECT_EQ(v["language"], "english");
  EXPECT_NEAR(v["duration"].get<double>(), 11.0, 0.1);
  EXPECT_TRUE(v["text"].is_string());
  ASSERT_TRUE(v["segments"].is_array());
  ASSERT_FALSE(v["segments"].empty());
  const auto& s = v["segments"][0];
  for (const char* k : {"id", "seek", "start", "end", "text", "tokens", "temperature",
                        "avg_logprob", "compression_ratio", "no_speech_prob"}) {
    EXPECT_TRUE(s.contains(k)) << k;
  }
  EXPECT_EQ(s["id"], 0);
  EXPECT_TRUE(s["start"].is_number_float() || s["start"].is_number());
  EXPECT_LE(s["start"].get<double>(), s["end"].get<double>());
  EXPECT_FALSE(s["tokens"].empty());
  EXPECT_TRUE(s["tokens"][0].is_number_integer());
  EXPECT_GT(s["compression_ratio"].get<double>(), 0.0);
  ASSERT_TRUE(v["words"].is_array());
  ASSERT_FALSE(v["words"].empty());
  EXPECT_TRUE(v["words"][0]["word"].is_string());
  EXPECT_LE(v["words"][0]["start"].get<double>(), v["words"][0]["end"].get<double>());

  EXPECT_EQ(s["temperature"], 0.0);

  // A temperature samples instead of taking the most likely token, and is reported.
  auto hot = json_of(c->Post("/v1/audio/transcriptions",
                             form("verbose_json", {{"language", "en"}, {"temperature", "1"}})));
  ASSERT_TRUE(hot["segments"].is_array() && !hot["segments"].empty()) << hot.dump();
  EXPECT_EQ(hot["segments"][0]["temperature"], 1.0);
  EXPECT_NE(hot["text"], v["text"]) << "sampling at temperature 1 gave the greedy text";

  auto no_words = json_of(c->Post("/v1/audio/transcriptions", form("verbose_json")));
  EXPECT_FALSE(no_words.contains("words"));
  EXPECT_TRUE(no_words.contains("segments"));

  // The synchronous form with an upload.
  httplib::MultipartFormDataItems sync = {
      {"file", read_file(shared_file("media/jfk.wav")), "jfk.wav", "audio/wav"},
      {"format", "vtt", "", ""}};
  auto t = c->Post("/api/v1/transcribe", sync);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->status, 200) << t->body;
  EXPECT_TRUE(t->body.starts_with("WEBVTT"));
}

TEST(ServerOpenAi, BadRequestsGetOpenAiErrors) {
  ServerProcess server([] {
    auto a = test_server_args();
    a.insert(a.end(), {"--max-duration-h", "0.001"});  // 3.6 s: jfk.wav (11 s) is too long
    return a;
  }());
  ASSERT_GT(server.port(), 0);
  auto c = server.client();
  auto check = [&](const httplib::Result& r, int status, const std::string& param) {
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, status) << r->body;
    auto j = json_of(r);
    ASSERT_TRUE(j.contains("error")) << r->body;
    const auto& e = j["error"];
    EXPECT_TRUE(e["message"].is_string());
    EXPECT_EQ(e["type"], "invalid_request_error") << r->body;
    EXPECT_TRUE(e.contains("param"));
    EXPECT_TRUE(e.contains("code"));
    if (!param.empty()) {
      EXPECT_EQ(e["param"], param) << r->body;
    }
  };
  check(c->Post("/v1/audio/transcriptions", form("yaml")), 400, "response_format");
  check(c->Post("/v1/audio/transcriptions", form("json", {{"temperature", "7"}})), 400,
        "temperature");
  check(c->Post("/v1/audio/transcriptions", form("json", {{"language", "xx-nope"}})), 400,
        "language");
  check(c->Post("/v1/audio/transcriptions", form("json", {{"timestamp_granularities[]", "word"}})),
        400, "timestamp_granularities");
  check(c->Post("/v1/audio/transcriptions",
                httplib::MultipartFormDataItems{{"model", "whisper-1", "", ""}}),
        400, "file");
  check(c->Post("/v1/audio/transcriptions",
                httplib::MultipartFormDataItems{
                    {"file", read_file(shared_file("media/jfk.wav")), "jfk.wav", "audio/wav"}}),
        400, "model");
  check(c->Post("/v1/audio/transcriptions", R"({"file":"x"})", "application/json"), 400, "file");
  // The server runs one model: OpenAI's "whisper-1" and the loaded model's name stand for it,
  // any other name is refused (the synchronous API refuses it too, with its own envelope).
  auto other = c->Post("/v1/audio/transcriptions", form("json", {{"model", "gpt-4o-transcribe"}}));
  check(other, 400, "model");
  EXPECT_EQ(json_of(other)["error"]["code"], "model_not_found");
  const std::string loaded = json_of(c->Get("/api/v1/settings"))["model"];
  EXPECT_NE(json_of(other)["error"]["message"].get<std::string>().find(loaded), std::string::npos);
  auto sync = c->Post("/api/v1/transcribe",
                      httplib::MultipartFormDataItems{
                          {"file", read_file(shared_file("media/jfk.wav")), "jfk.wav", "audio/wav"},
                          {"model", "small", "", ""}});
  ASSERT_TRUE(sync);
  EXPECT_EQ(sync->status, 400);
  EXPECT_EQ(error_code(sync), "model_unavailable");
  // Not media at all, and media over the decoded-duration limit.
  check(
      c->Post("/v1/audio/transcriptions",
              httplib::MultipartFormDataItems{{"file", "this is not audio", "a.mp3", "audio/mpeg"},
                                              {"model", "whisper-1", "", ""}}),
      400, "file");
  auto too_long = c->Post("/v1/audio/transcriptions", form("json"));
  check(too_long, 400, "file");
  EXPECT_EQ(json_of(too_long)["error"]["code"], "media_too_long");
}

}  // namespace
}  // namespace aimara::testing
