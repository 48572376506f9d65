#include "server/api_error.h"

#include <charconv>
#include <exception>

#include <spdlog/spdlog.h>

namespace aimara::server {

int status_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
      return 400;
    case ErrorCode::kNotFound:
      return 404;
    case ErrorCode::kCancelled:
      return 409;
    case ErrorCode::kMediaNotFound:
    case ErrorCode::kMediaInvalid:
    case ErrorCode::kMediaNoAudio:
    case ErrorCode::kMediaTooLong:
      return 422;
    case ErrorCode::kMediaTimeout:
      return 504;
    case ErrorCode::kDownloadForbidden:
    case ErrorCode::kDownloadUnavailable:
    case ErrorCode::kNeedsCredentials:
    case ErrorCode::kDownloadFailed:
    case ErrorCode::kNetwork:
      return 502;
    case ErrorCode::kRateLimited:
      return 429;
    case ErrorCode::kStoreBusy:
      return 503;
    case ErrorCode::kModelMissing:
    case ErrorCode::kModelInvalid:
    case ErrorCode::kModelHashMismatch:
      return 503;
    case ErrorCode::kIo:
    case ErrorCode::kInternal:
    case ErrorCode::kAsrFailed:
    case ErrorCode::kStoreError:
    case ErrorCode::kLeaseLost:
      return 500;
  }
  return 500;
}

ApiError from_error(const Error& error) {
  return ApiError{status_for(error.code), std::string(error_code_name(error.code)), error.message};
}

nlohmann::json error_json(const ApiError& error) {
  return {{"error", {{"code", error.code}, {"message", error.message}}}};
}

std::string hide_path(std::string message, std::string_view path, std::string_view name) {
  if (path.empty()) return message;
  for (size_t at = message.find(path); at != std::string::npos;
       at = message.find(path, at + name.size())) {
    message.replace(at, path.size(), name);
  }
  return message;
}

void send_json(httplib::Response& res, int status, const nlohmann::json& body) {
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace),
                  "application/json");
}

void send_error(httplib::Response& res, const ApiError& error) {
  send_json(res, error.status, error_json(error));
}

Result<nlohmann::json> parse_json_object(std::string_view body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_discarded()) {
    return make_error(ErrorCode::kInvalidArgument, "the request body is not valid JSON");
  }
  if (!j.is_object()) {
    return make_error(ErrorCode::kInvalidArgument, "the request body must be a JSON object");
  }
  return j;
}

std::expected<long long, ApiError> query_int(const httplib::Request& req, const std::string& name,
                                             long long fallback, long long lo, long long hi) {
  if (!req.has_param(name)) return fallback;
  const std::string v = req.get_param_value(name);
  long long out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || ptr != v.data() + v.size() || out < lo || out > hi) {
    return std::unexpected(api_error(400, "invalid_request",
                                     "'" + name + "' must be an integer from " +
                                         std::to_string(lo) + " to " + std::to_string(hi)));
  }
  return out;
}

std::expected<int64_t, ApiError> path_id(const httplib::Request& req) {
  auto it = req.path_params.find("id");
  const std::string v = it == req.path_params.end() ? std::string() : it->second;
  int64_t out = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (v.empty() || ec != std::errc() || ptr != v.data() + v.size() || out <= 0) {
    return std::unexpected(
        api_error(400, "invalid_request", "a job id is a positive integer, not '" + v + "'"));
  }
  return out;
}

namespace {

void answer_exception(httplib::Response& res, const httplib::Request& req) {
  try {
    throw;
  } catch (const std::exception& e) {
    spdlog::error("{} {}: internal error: {}", req.method, req.path, e.what());
    send_error(res, api_error(500, "internal", std::string("internal error: ") + e.what()));
  } catch (...) {
    spdlog::error("{} {}: internal error (unknown exception)", req.method, req.path);
    send_error(res, api_error(500, "internal", "internal error"));
  }
}

}  // namespace

Handler guarded(Handler handler) {
  return [h = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    try {
      h(req, res);
    } catch (...) {
      answer_exception(res, req);
    }
  };
}

ReaderHandler guarded(ReaderHandler handler) {
  return [h = std::move(handler)](const httplib::Request& req, httplib::Response& res,
                                  const httplib::ContentReader& reader) {
    try {
      h(req, res, reader);
    } catch (...) {
      answer_exception(res, req);
    }
  };
}

std::expected<std::string, ApiError> read_small_body(const httplib::Request& req,
                                                     const httplib::ContentReader& reader,
                                                     size_t limit) {
  // Past the limit the rest is read and dropped (up to 64 MiB more), so the client, which sends
  // its whole body before it reads, gets the 413 rather than a reset connection.
  constexpr size_t kDrainBytes = size_t{64} << 20;
  std::string body;
  bool too_large = false;
  size_t total = 0;
  const bool ok = reader([&](const char* data, size_t n) {
    total += n;
    if (too_large || total > limit) {
      too_large = true;
      body.clear();
      return total <= limit + kDrainBytes;
    }
    body.append(data, n);
    return true;
  });
  if (!ok && req.get_header_value_u64("Content-Length") > limit) too_large = true;
  if (too_large) {
    return std::unexpected(
        api_error(413, "payload_too_large",
                  "the request body is larger than " + std::to_string(limit) + " bytes"));
  }
  if (!ok)
    return std::unexpected(api_error(400, "invalid_request", "cannot read the request body"));
  return body;
}

void drain_body(const httplib::Request& req, const httplib::ContentReader& reader) {
  if (req.is_multipart_form_data()) {
    (void)reader([](const httplib::MultipartFormData&) { return true; },
                 [](const char*, size_t) { return true; });
  } else {
    (void)reader([](const char*, size_t) { return true; });
  }
}

}  // namespace aimara::server
