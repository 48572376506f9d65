// In-process media decoding: any container and codec FFmpeg reads, to 16 kHz mono float32 PCM.
//
// An AudioDecoder opens one input, picks its best audio stream (av_find_best_stream), decodes it,
// downmixes to mono and resamples to kSampleRate with libswresample. It is *streamed*: read()
// hands out blocks of samples, so memory stays bounded by the block size however long the media
// is (ARCHITECTURE: "Decoding streams"). At the end the resampler is flushed, so the total number
// of samples matches what `ffmpeg -i F -ac 1 -ar 16000 -f s16le -` produces.
//
// Safety limits (DecodeOptions): local inputs may use only FFmpeg's `file` protocol; a maximum
// decoded duration, enforced on the samples actually decoded (not only on the container's claim);
// a wall-clock deadline enforced through FFmpeg's interrupt callback, so a stalled read returns;
// a bounded number of tolerated decode errors inside the stream.
//
// Errors (stable codes, messages name the file and say what to do):
//   media_not_found  the path does not exist
//   media_invalid    not a media file, a directory, empty, corrupt beyond the error bound
//   media_no_audio   a media file without an audio stream (e.g. video only)
//   media_too_long   more than max_duration_ms of audio was decoded
//   media_timeout    the wall-clock deadline passed
//   network          (URLs only, with allow_network_protocols) the URL could not be fetched
//
// FFmpeg's own log output is routed to spdlog at debug level (installed once per process on the
// first open), so users never see FFmpeg's noise unless they ask for debug logs.
//
// Thread-safety: an AudioDecoder is used by one thread at a time (it may be moved between threads
// between calls). Different decoders are independent and may run concurrently.
// Ownership: the decoder owns every FFmpeg handle it opens; they are released by its destructor.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "core/error.h"

namespace aimara::media {

// The sample rate of everything the decoder produces (whisper.cpp's input rate).
inline constexpr int kSampleRate = 16000;

// Converts between sample counts and integer milliseconds at kSampleRate (floor).
constexpr int64_t samples_to_ms(int64_t samples) { return samples * 1000 / kSampleRate; }
constexpr int64_t ms_to_samples(int64_t ms) { return ms * kSampleRate / 1000; }

struct DecodeOptions {
  // Refuse inputs with more decoded audio than this (media_too_long). <= 0: no limit.
  int64_t max_duration_ms = 6LL * 3600 * 1000;
  // Wall-clock limit for opening and decoding, counted from open() (media_timeout). <= 0: none.
  double timeout_s = 0.0;
  // Packets that fail to decode before the input is declared corrupt (media_invalid).
  int max_decode_errors = 64;
  // Off: only the `file` protocol is allowed (local inputs). On: the input may be a URL
  // (http, https, ...); use only for URLs that already passed the caller's SSRF checks.
  bool allow_network_protocols = false;
};

struct MediaInfo {
  int64_t duration_ms = -1;  // the container's estimate; -1 when unknown (may be wrong)
  std::string format_name;   // e.g. "mov,mp4,m4a,3gp,3g2,mj2", "wav", "matroska,webm"
  std::string codec_name;    // the audio codec, e.g. "aac", "opus", "pcm_s16le"
  int source_sample_rate = 0;
  int source_channels = 0;
  int stream_index = -1;  // index of the chosen audio stream in the container
  bool has_video = false;
};

class AudioDecoder {
 public:
  // Opens `path` and prepares its best audio stream. With allow_network_protocols, `path` may
  // be a URL. Fails with the codes listed at the top of this file.
  static Result<std::unique_ptr<AudioDecoder>> open(const std::filesystem::path& path,
                                                    const DecodeOptions& options = {});

  ~AudioDecoder();
  AudioDecoder(const AudioDecoder&) = delete;
  AudioDecoder& operator=(const AudioDecoder&) = delete;

  const MediaInfo& info() const;

  // Appends up to `max_samples` (> 0) samples to `out` and returns how many were appended.
  // Fewer than `max_samples` only at the end of the stream; 0 means the stream is finished (and
  // stays so). On an error nothing more can be read; samples appended before the error stay in
  // `out`.
  Result<size_t> read(std::vector<float>& out, size_t max_samples);

  // Samples handed out by read() so far, and the same as integer milliseconds.
  int64_t samples_read() const;
  int64_t position_ms() const { return samples_to_ms(samples_read()); }

  // True once the stream is exhausted: the last read() came back short (or returned 0).
  bool finished() const;

 private:
  struct Impl;
  explicit AudioDecoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Decodes a whole input into memory. Convenient for short files and tests; use AudioDecoder
// for anything that may be long.
Result<std::vector<float>> decode_all(const std::filesystem::path& path,
                                      const DecodeOptions& options = {});

// Routes FFmpeg's log to aimara's (debug level; FFmpeg's own lines never reach the terminal).
// Idempotent; whatever calls into FFmpeg calls this first.
void route_ffmpeg_logs();

// "libavformat 59.27.100, libavcodec 59.37.100, ..." for `aimara doctor`.
std::string ffmpeg_versions();

}  // namespace aimara::media
