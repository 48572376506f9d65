// Helpers shared by the server's end-to-end tests (server_*_test.cpp).
#pragma once

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/aimara_cli.h"
#include "support/server_process.h"

namespace aimara::testing {

inline nlohmann::json json_of(const httplib::Result& r) {
  if (!r) return nullptr;
  return nlohmann::json::parse(r->body, nullptr, false);
}

// The error code of an API error reply ("" when it is not one).
inline std::string error_code(const httplib::Result& r) {
  auto j = json_of(r);
  if (!j.is_object() || !j.contains("error")) return "";
  const auto& c = j["error"]["code"];
  return c.is_string() ? c.get<std::string>() : "";
}

// Uploads a media file as a job; returns its id (0 and a test failure otherwise).
inline int64_t submit_upload(httplib::Client& c, const std::string& path,
                             const std::string& language = "en") {
  std::ifstream in(path, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  httplib::MultipartFormDataItems items = {
      {"file", bytes, std::filesystem::path(path).filename().string(), "application/octet-stream"},
      {"language", language, "", ""}};
  auto r = c.Post("/api/v1/jobs", items);
  EXPECT_TRUE(r);
  if (!r) return 0;
  EXPECT_EQ(r->status, 202) << r->body;
  auto j = json_of(r);
  if (!j.is_object() || !j.contains("ids") || j["ids"].empty()) return 0;
  return j["ids"][0].get<int64_t>();
}

// Polls GET /api/v1/jobs/{id} until its state is `state` (or a terminal other one); returns the
// last job object seen.
inline nlohmann::json wait_for_state(httplib::Client& c, int64_t id, const std::string& state,
                                     int timeout_s = 180) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  nlohmann::json job;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = c.Get("/api/v1/jobs/" + std::to_string(id));
    if (r && r->status == 200) {
      job = json_of(r);
      const std::string s = job.value("state", "");
      if (s == state || s == "dead" || s == "cancelled" || s == "completed") return job;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return job;
}

inline std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

}  // namespace aimara::testing
