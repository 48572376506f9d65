// aimara's one error policy (see CONVENTIONS.md "Errors: one policy").
//
// Expected failures are values: functions return `Result<T>` (std::expected<T, Error>). An Error
// carries a stable code (what programs and HTTP clients switch on) and a message a user can act on.
// Exceptions are for programmer errors and aborting a job; they are caught at the top of each
// thread, handler and main and mapped to an Error with `error_from_exception`.
//
// Thread-safety: plain values; safe to copy between threads.
#pragma once

#include <expected>
#include <string>
#include <string_view>
#include <utility>

namespace aimara {

enum class ErrorCode {
  kInvalidArgument,   // bad flag, bad request field
  kNotFound,          // a job, a file the user named
  kIo,                // reading or writing the file system failed
  kInternal,          // a bug: should not happen
  kCancelled,
  // media
  kMediaNotFound,
  kMediaInvalid,
  kMediaNoAudio,
  kMediaTooLong,
  kMediaTimeout,
  // models
  kModelMissing,
  kModelInvalid,
  kModelHashMismatch,
  // network and downloads
  kNetwork,
  kDownloadForbidden,
  kDownloadUnavailable,
  kRateLimited,
  kNeedsCredentials,
  kDownloadFailed,
  // inference
  kAsrFailed,
  // store
  kStoreBusy,
  kStoreError,
  kLeaseLost,
};

// The stable, lowercase code ("media_invalid") used in CLI output, JSON and HTTP errors.
std::string_view error_code_name(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  // "media_invalid: cannot read 'x.mp3': Invalid data found when processing input"
  std::string to_string() const;
};

template <typename T>
using Result = std::expected<T, Error>;

inline std::unexpected<Error> make_error(ErrorCode code, std::string message) {
  return std::unexpected<Error>(Error{code, std::move(message)});
}

// Process exit code for a failure of this kind (1 for runtime failures, 2 for usage errors).
int exit_code_for(ErrorCode code);

}  // namespace aimara
