#include "core/error.h"

namespace aimara {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kIo: return "io_error";
    case ErrorCode::kInternal: return "internal";
    case ErrorCode::kCancelled: return "cancelled";
    case ErrorCode::kMediaNotFound: return "media_not_found";
    case ErrorCode::kMediaInvalid: return "media_invalid";
    case ErrorCode::kMediaNoAudio: return "media_no_audio";
    case ErrorCode::kMediaTooLong: return "media_too_long";
    case ErrorCode::kMediaTimeout: return "media_timeout";
    case ErrorCode::kModelMissing: return "model_missing";
    case ErrorCode::kModelInvalid: return "model_invalid";
    case ErrorCode::kModelHashMismatch: return "model_hash_mismatch";
    case ErrorCode::kNetwork: return "network";
    case ErrorCode::kDownloadForbidden: return "download_forbidden";
    case ErrorCode::kDownloadUnavailable: return "download_unavailable";
    case ErrorCode::kRateLimited: return "rate_limited";
    case ErrorCode::kNeedsCredentials: return "needs_credentials";
    case ErrorCode::kDownloadFailed: return "download_failed";
    case ErrorCode::kAsrFailed: return "asr_failed";
    case ErrorCode::kStoreBusy: return "store_busy";
    case ErrorCode::kStoreError: return "store_error";
    case ErrorCode::kLeaseLost: return "lease_lost";
  }
  return "internal";
}

std::string Error::to_string() const {
  std::string s(error_code_name(code));
  s += ": ";
  s += message;
  return s;
}

int exit_code_for(ErrorCode code) {
  return code == ErrorCode::kInvalidArgument ? 2 : 1;
}

}  // namespace aimara
