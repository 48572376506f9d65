// Errors and JSON replies of the HTTP API: one envelope, stable codes, the right status.
//
// Every error of /api/v1/... and of the server itself is
//   {"error": {"code": "not_found", "message": "no job 12"}}
// with a 4xx/5xx status; `code` is stable (clients switch on it), `message` is for people. The
// codes: the server's own (invalid_request, unauthorized, not_found, method_not_allowed,
// payload_too_large, url_forbidden, url_unresolvable, extractor_forbidden, unavailable,
// too_many_clients, timeout, internal) and aimara's error codes (core/error.h: media_invalid,
// media_too_long, store_busy, ...) mapped to a status by status_for().
//
// The OpenAI-compatible endpoint uses OpenAI's envelope instead (openai_api.h).
//
// guarded() wraps a handler so that no exception leaves it: an escaped exception becomes a 500
// `internal` reply and is logged (CONVENTIONS "exceptions caught at the top of each handler").
//
// Thread-safety: pure functions and plain values.
#pragma once

#include <functional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "server/httplib_config.h"

namespace aimara::server {

struct ApiError {
  int status = 500;
  std::string code;
  std::string message;
};

inline ApiError api_error(int status, std::string code, std::string message) {
  return ApiError{status, std::move(code), std::move(message)};
}

// An aimara error as an API error: the code keeps its name, the status follows its kind
// (invalid_argument 400, not_found 404, store_busy 503, media_* 422, ...).
ApiError from_error(const Error& error);
int status_for(ErrorCode code);

// `message` with every `path` (where the server keeps a client's file) replaced by `name` (the
// file's name, as the client knows it): a reply never shows the server's file system.
std::string hide_path(std::string message, std::string_view path, std::string_view name);

void send_json(httplib::Response& res, int status, const nlohmann::json& body);
void send_error(httplib::Response& res, const ApiError& error);
nlohmann::json error_json(const ApiError& error);

// Parses a JSON request body; invalid_request when it is not JSON or not an object.
Result<nlohmann::json> parse_json_object(std::string_view body);

// An integer query parameter within [lo, hi]; `fallback` when absent; invalid_request when it is
// not a number or out of range.
std::expected<long long, ApiError> query_int(const httplib::Request& req, const std::string& name,
                                             long long fallback, long long lo, long long hi);

// The job id in a path like /api/v1/jobs/{id}: a positive integer, else invalid_request.
std::expected<int64_t, ApiError> path_id(const httplib::Request& req);

using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
using ReaderHandler =
    std::function<void(const httplib::Request&, httplib::Response&, const httplib::ContentReader&)>;

// The handler, with every exception caught and answered as a 500 `internal` error.
Handler guarded(Handler handler);
ReaderHandler guarded(ReaderHandler handler);

// Reads a whole (small) request body through a content reader, at most `limit` bytes.
// payload_too_large (413) beyond it.
std::expected<std::string, ApiError> read_small_body(const httplib::Request& req,
                                                     const httplib::ContentReader& reader,
                                                     size_t limit);

// Reads and drops a request body (multipart or not), so that the connection stays usable after
// a request is refused before its body was needed.
void drain_body(const httplib::Request& req, const httplib::ContentReader& reader);

}  // namespace aimara::server
