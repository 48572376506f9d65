#include "media/decoder.h"

#include <spdlog/spdlog.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <chrono>
#include <cstring>
#include <mutex>
#include <string_view>
#include <system_error>

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
}

namespace aimara::media {
namespace {

using Clock = std::chrono::steady_clock;

// ---- RAII for FFmpeg handles ------------------------------------------------------------------

struct FormatCloser {
  void operator()(AVFormatContext* p) const { avformat_close_input(&p); }
};
struct CodecCloser {
  void operator()(AVCodecContext* p) const { avcodec_free_context(&p); }
};
struct PacketCloser {
  void operator()(AVPacket* p) const { av_packet_free(&p); }
};
struct FrameCloser {
  void operator()(AVFrame* p) const { av_frame_free(&p); }
};
struct SwrCloser {
  void operator()(SwrContext* p) const { swr_free(&p); }
};

using FormatPtr = std::unique_ptr<AVFormatContext, FormatCloser>;
using CodecPtr = std::unique_ptr<AVCodecContext, CodecCloser>;
using PacketPtr = std::unique_ptr<AVPacket, PacketCloser>;
using FramePtr = std::unique_ptr<AVFrame, FrameCloser>;
using SwrPtr = std::unique_ptr<SwrContext, SwrCloser>;

// An owned AVChannelLayout (it may hold an allocated custom map).
struct ChannelLayout {
  AVChannelLayout layout{};
  ChannelLayout() = default;
  ChannelLayout(const ChannelLayout&) = delete;
  ChannelLayout& operator=(const ChannelLayout&) = delete;
  ~ChannelLayout() { av_channel_layout_uninit(&layout); }
};

std::string av_error_text(int err) {
  std::array<char, AV_ERROR_MAX_STRING_SIZE> buf{};
  av_strerror(err, buf.data(), buf.size());
  return buf.data();
}

std::string format_duration(int64_t ms) {
  const int64_t s = ms / 1000;
  return fmt::format("{}h{:02}m{:02}s", s / 3600, (s / 60) % 60, s % 60);
}

// ---- FFmpeg's log, routed to spdlog ------------------------------------------------------------

// FFmpeg emits lines in pieces; each thread gathers its pieces until the newline.
void ffmpeg_log_callback(void* avcl, int level, const char* fmt, va_list args) {
  if (level > AV_LOG_INFO || !spdlog::should_log(spdlog::level::debug)) return;
  thread_local std::string pending;
  thread_local int print_prefix = 1;
  std::array<char, 1024> piece{};
  av_log_format_line2(avcl, level, fmt, args, piece.data(), static_cast<int>(piece.size()),
                      &print_prefix);
  try {
    pending += piece.data();
    if (!pending.empty() && pending.back() == '\n') {
      pending.pop_back();
      spdlog::debug("ffmpeg: {}", pending);
      pending.clear();
    }
  } catch (const std::exception&) {
    // No exception may cross into FFmpeg; a lost debug line is the lesser harm.
    pending.clear();
  }
}

bool looks_like_url(std::string_view s) {
  const auto pos = s.find("://");
  if (pos == std::string_view::npos || pos == 0) return false;
  return std::all_of(s.begin(), s.begin() + static_cast<std::ptrdiff_t>(pos), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
  });
}

}  // namespace

// ---- the decoder --------------------------------------------------------------------------------

struct AudioDecoder::Impl {
  std::string name;  // the path as given, for messages
  DecodeOptions options;
  MediaInfo info;

  Clock::time_point deadline = Clock::time_point::max();
  bool timed_out = false;  // set by the interrupt callback

  FormatPtr format;
  CodecPtr codec;
  PacketPtr packet;
  FramePtr frame;

  // The resampler and the input configuration it was built for (rebuilt if the stream changes).
  SwrPtr swr;
  int swr_format = -1;
  int swr_rate = 0;
  ChannelLayout swr_layout;

  // Resampled samples not yet handed out: pending[pending_pos, end).
  std::vector<float> pending;
  size_t pending_pos = 0;

  int64_t samples_out = 0;   // handed out by read()
  int64_t samples_made = 0;  // produced by the resampler (handed out or pending)
  int64_t max_samples = 0;   // 0: no limit
  int decode_errors = 0;
  std::string last_decode_error;
  bool read_error = false;    // the demuxer stopped on an error rather than at the end
  bool packets_done = false;  // demuxer reached its end, decoder drained
  bool finished = false;      // resampler flushed and everything handed out
  bool failed = false;

  static int interrupt_cb(void* opaque) noexcept {
    auto* self = static_cast<Impl*>(opaque);
    if (Clock::now() >= self->deadline) {
      self->timed_out = true;
      return 1;
    }
    return 0;
  }

  bool past_deadline() {
    if (Clock::now() >= deadline) timed_out = true;
    return timed_out;
  }

  Error timeout_error() const {
    return Error{ErrorCode::kMediaTimeout,
                 fmt::format("decoding '{}' did not finish within {:.1f} s (the input may be "
                             "stalled or very large; raise the timeout to allow more time)",
                             name, options.timeout_s)};
  }

  Error too_long_error() const {
    return Error{ErrorCode::kMediaTooLong,
                 fmt::format("'{}' has more than {} of audio, the maximum allowed; raise the "
                             "maximum duration (--max-duration) to process it",
                             name, format_duration(options.max_duration_ms))};
  }

  Error invalid_error(std::string_view what) const {
    return Error{
        ErrorCode::kMediaInvalid,
        fmt::format("cannot decode '{}': {} (is it a complete audio or video file?)", name, what)};
  }

  Result<void> open_input(const std::string& url) {
    format.reset(avformat_alloc_context());
    if (!format) return make_error(ErrorCode::kInternal, "out of memory (avformat_alloc_context)");
    format->interrupt_callback.callback = &Impl::interrupt_cb;
    format->interrupt_callback.opaque = this;

    AVDictionary* raw_opts = nullptr;
    const bool network = options.allow_network_protocols && looks_like_url(url);
    av_dict_set(&raw_opts, "protocol_whitelist", network ? "http,https,tcp,tls,crypto" : "file", 0);
    // avformat_open_input frees the context on failure, so hand it a raw pointer.
    AVFormatContext* ctx = format.release();
    const int rc = avformat_open_input(&ctx, url.c_str(), nullptr, &raw_opts);
    av_dict_free(&raw_opts);
    if (rc < 0) {
      if (timed_out) return std::unexpected(timeout_error());
      if (rc == AVERROR(ENOENT)) {
        return make_error(ErrorCode::kMediaNotFound,
                          fmt::format("no such file: '{}' (check the path)", name));
      }
      if (network && rc != AVERROR_INVALIDDATA) {
        return make_error(ErrorCode::kNetwork,
                          fmt::format("cannot fetch '{}': {}", name, av_error_text(rc)));
      }
      return std::unexpected(invalid_error(av_error_text(rc)));
    }
    format.reset(ctx);

    const int info_rc = avformat_find_stream_info(format.get(), nullptr);
    if (info_rc < 0) {
      if (timed_out) return std::unexpected(timeout_error());
      return std::unexpected(invalid_error(av_error_text(info_rc)));
    }
    info.format_name = format->iformat && format->iformat->name ? format->iformat->name : "";
    if (format->duration != AV_NOPTS_VALUE && format->duration > 0) {
      info.duration_ms = av_rescale(format->duration, 1000, AV_TIME_BASE);
    }
    for (unsigned i = 0; i < format->nb_streams; ++i) {
      const AVStream* st = format->streams[i];
      if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
          !(st->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
        info.has_video = true;
      }
    }
    return {};
  }

  Result<void> open_codec() {
    const AVCodec* decoder = nullptr;
    const int index = av_find_best_stream(format.get(), AVMEDIA_TYPE_AUDIO, -1, -1, &decoder, 0);
    if (index == AVERROR_STREAM_NOT_FOUND) {
      bool unreadable_audio = false;  // an audio stream whose channels or rate could not be found
      for (unsigned i = 0; i < format->nb_streams; ++i) {
        if (format->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_AUDIO) unreadable_audio = true;
      }
      if (unreadable_audio || !info.has_video) {
        return std::unexpected(invalid_error(unreadable_audio
                                                 ? "no readable audio stream was found in it"
                                                 : "it holds neither audio nor video"));
      }
      return make_error(ErrorCode::kMediaNoAudio,
                        fmt::format("'{}' has no audio stream (it contains video only); there is "
                                    "nothing to transcribe",
                                    name));
    }
    if (index == AVERROR_DECODER_NOT_FOUND) {
      return std::unexpected(invalid_error("its audio codec is not supported by this FFmpeg"));
    }
    if (index < 0) return std::unexpected(invalid_error(av_error_text(index)));

    info.stream_index = index;
    for (unsigned i = 0; i < format->nb_streams; ++i) {
      if (static_cast<int>(i) != index) format->streams[i]->discard = AVDISCARD_ALL;
    }
    const AVStream* stream = format->streams[index];
    info.codec_name = avcodec_get_name(stream->codecpar->codec_id);
    info.source_sample_rate = stream->codecpar->sample_rate;
    info.source_channels = stream->codecpar->ch_layout.nb_channels;

    codec.reset(avcodec_alloc_context3(decoder));
    if (!codec) return make_error(ErrorCode::kInternal, "out of memory (avcodec_alloc_context3)");
    int rc = avcodec_parameters_to_context(codec.get(), stream->codecpar);
    if (rc < 0) return std::unexpected(invalid_error(av_error_text(rc)));
    codec->pkt_timebase = stream->time_base;
    rc = avcodec_open2(codec.get(), decoder, nullptr);
    if (rc < 0) {
      return std::unexpected(invalid_error(
          fmt::format("cannot open the {} decoder: {}", info.codec_name, av_error_text(rc))));
    }
    packet.reset(av_packet_alloc());
    frame.reset(av_frame_alloc());
    if (!packet || !frame)
      return make_error(ErrorCode::kInternal, "out of memory (av_frame_alloc)");
    return {};
  }

  // Builds (or rebuilds) the resampler for the current frame's format.
  Result<void> configure_resampler(const AVFrame& f) {
    ChannelLayout in_layout;
    if (f.ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || f.ch_layout.nb_channels <= 0) {
      const int channels = f.ch_layout.nb_channels > 0 ? f.ch_layout.nb_channels : 1;
      av_channel_layout_default(&in_layout.layout, channels);
    } else if (av_channel_layout_copy(&in_layout.layout, &f.ch_layout) < 0) {
      return make_error(ErrorCode::kInternal, "out of memory (av_channel_layout_copy)");
    }
    if (swr && swr_format == f.format && swr_rate == f.sample_rate &&
        av_channel_layout_compare(&swr_layout.layout, &in_layout.layout) == 0) {
      return {};
    }
    if (swr) {
      // The stream changed format mid-way: hand out what the old resampler still holds.
      if (auto r = drain_resampler(); !r) return r;
    }
    SwrContext* raw = nullptr;
    AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO;
    int rc = swr_alloc_set_opts2(&raw, &mono, AV_SAMPLE_FMT_FLT, kSampleRate, &in_layout.layout,
                                 static_cast<AVSampleFormat>(f.format), f.sample_rate, 0, nullptr);
    SwrPtr next(raw);
    if (rc < 0 || !next) {
      return std::unexpected(invalid_error(
          fmt::format("cannot resample its audio ({} Hz, {} channels): {}", f.sample_rate,
                      in_layout.layout.nb_channels, av_error_text(rc))));
    }
    // Normalise the downmix matrix (stereo -> 0.5 L + 0.5 R, as the ffmpeg CLI does), so the
    // mono float output stays within [-1, 1].
    av_opt_set_double(next.get(), "rematrix_maxval", 1.0, 0);
    rc = swr_init(next.get());
    if (rc < 0) {
      return std::unexpected(invalid_error(
          fmt::format("cannot resample its audio ({} Hz, {} channels): {}", f.sample_rate,
                      in_layout.layout.nb_channels, av_error_text(rc))));
    }
    swr = std::move(next);
    swr_format = f.format;
    swr_rate = f.sample_rate;
    av_channel_layout_uninit(&swr_layout.layout);
    av_channel_layout_copy(&swr_layout.layout, &in_layout.layout);
    return {};
  }

  // Runs `in_samples` input samples (or a flush, with in == nullptr) through the resampler into
  // `pending`.
  Result<void> resample(const uint8_t** in, int in_samples) {
    const int capacity = swr_get_out_samples(swr.get(), in_samples);
    if (capacity < 0) return std::unexpected(invalid_error(av_error_text(capacity)));
    if (capacity == 0) return {};
    compact_pending();
    const size_t old = pending.size();
    pending.resize(old + static_cast<size_t>(capacity));
    auto* out = reinterpret_cast<uint8_t*>(pending.data() + old);
    const int got = swr_convert(swr.get(), &out, capacity, in, in_samples);
    if (got < 0) {
      pending.resize(old);
      return std::unexpected(invalid_error(av_error_text(got)));
    }
    pending.resize(old + static_cast<size_t>(got));
    samples_made += got;
    if (max_samples > 0 && samples_made > max_samples) return std::unexpected(too_long_error());
    return {};
  }

  Result<void> drain_resampler() {
    if (!swr) return {};
    for (;;) {
      const size_t before = pending.size();
      if (auto r = resample(nullptr, 0); !r) return r;
      if (pending.size() == before) return {};
    }
  }

  void compact_pending() {
    if (pending_pos == 0) return;
    pending.erase(pending.begin(), pending.begin() + static_cast<std::ptrdiff_t>(pending_pos));
    pending_pos = 0;
  }

  Result<void> note_decode_error(int rc) {
    ++decode_errors;
    last_decode_error = av_error_text(rc);
    spdlog::debug("{}: decode error {} of at most {}: {}", name, decode_errors,
                  options.max_decode_errors, last_decode_error);
    if (decode_errors > options.max_decode_errors) {
      return std::unexpected(invalid_error(
          fmt::format("{} damaged packets in its audio, more than the {} tolerated (last: {})",
                      decode_errors, options.max_decode_errors, last_decode_error)));
    }
    return {};
  }

  // Takes every frame the decoder has ready and resamples it.
  Result<void> receive_frames() {
    for (;;) {
      const int rc = avcodec_receive_frame(codec.get(), frame.get());
      if (rc == AVERROR(EAGAIN) || rc == AVERROR_EOF) return {};
      if (rc < 0) {
        if (auto r = note_decode_error(rc); !r) return r;
        continue;
      }
      Result<void> r = configure_resampler(*frame);
      if (r) {
        r = resample(const_cast<const uint8_t**>(frame->extended_data), frame->nb_samples);
      }
      av_frame_unref(frame.get());
      if (!r) return r;
    }
  }

  // Feeds the decoder until some samples are pending or the input is exhausted.
  Result<void> produce() {
    while (pending.size() == pending_pos && !packets_done) {
      if (past_deadline()) return std::unexpected(timeout_error());
      const int rc = av_read_frame(format.get(), packet.get());
      if (rc < 0) {
        if (timed_out) return std::unexpected(timeout_error());
        if (rc != AVERROR_EOF) {
          // As the ffmpeg CLI does, a read error ends the input: a truncated file decodes to
          // what it holds. If that is nothing, the check below reports it as invalid.
          spdlog::debug("{}: reading stopped early: {}", name, av_error_text(rc));
          last_decode_error = av_error_text(rc);
          read_error = true;
        }
        avcodec_send_packet(codec.get(), nullptr);  // enter draining mode
        if (auto r = receive_frames(); !r) return r;
        packets_done = true;
        break;
      }
      if (packet->stream_index == info.stream_index) {
        const int send_rc = avcodec_send_packet(codec.get(), packet.get());
        if (send_rc < 0 && send_rc != AVERROR(EAGAIN)) {
          if (auto r = note_decode_error(send_rc); !r) {
            av_packet_unref(packet.get());
            return r;
          }
        }
      }
      av_packet_unref(packet.get());
      if (auto r = receive_frames(); !r) return r;
    }
    if (packets_done && pending.size() == pending_pos) {
      if (auto r = drain_resampler(); !r) return r;
      if (pending.size() == pending_pos) {
        if (samples_made == 0 && (decode_errors > 0 || read_error)) {
          return std::unexpected(
              invalid_error(fmt::format("no audio could be decoded ({})", last_decode_error)));
        }
        finished = true;
      }
    }
    return {};
  }
};

AudioDecoder::AudioDecoder(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AudioDecoder::~AudioDecoder() = default;

Result<std::unique_ptr<AudioDecoder>> AudioDecoder::open(const std::filesystem::path& path,
                                                         const DecodeOptions& options) {
  route_ffmpeg_logs();
  auto impl = std::make_unique<Impl>();
  impl->name = path.string();
  impl->options = options;
  if (options.timeout_s > 0) {
    impl->deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                        std::chrono::duration<double>(options.timeout_s));
  }
  if (options.max_duration_ms > 0) impl->max_samples = ms_to_samples(options.max_duration_ms);

  std::string url = path.string();
  if (!(options.allow_network_protocols && looks_like_url(url))) {
    std::error_code ec;
    const auto st = std::filesystem::status(path, ec);
    if (ec || !std::filesystem::exists(st)) {
      if (ec && ec != std::errc::no_such_file_or_directory) {
        return make_error(ErrorCode::kMediaNotFound,
                          fmt::format("cannot access '{}': {}", impl->name, ec.message()));
      }
      return make_error(ErrorCode::kMediaNotFound,
                        fmt::format("no such file: '{}' (check the path)", impl->name));
    }
    if (std::filesystem::is_directory(st)) {
      return make_error(ErrorCode::kMediaInvalid,
                        fmt::format("'{}' is a directory, not a media file (name the files in "
                                    "it instead)",
                                    impl->name));
    }
    if (!std::filesystem::is_regular_file(st)) {
      return make_error(ErrorCode::kMediaInvalid,
                        fmt::format("'{}' is not a regular file (devices, pipes and sockets are "
                                    "not read as media)",
                                    impl->name));
    }
    if (std::filesystem::file_size(path, ec) == 0 && !ec) {
      return make_error(ErrorCode::kMediaInvalid,
                        fmt::format("'{}' is empty (0 bytes); it is not a media file", impl->name));
    }
    // Keep FFmpeg from reading "name:with:colons" as a protocol: local inputs are always files.
    url = "file:" + url;
  }

  if (auto r = impl->open_input(url); !r) return std::unexpected(r.error());
  if (auto r = impl->open_codec(); !r) return std::unexpected(r.error());

  // A container whose duration is measured (not guessed from the bitrate) and already over the
  // limit is refused now rather than after decoding hours of it. The limit is also enforced on
  // the decoded samples, so a container that understates its duration is caught while reading.
  if (impl->max_samples > 0 && impl->info.duration_ms > options.max_duration_ms &&
      impl->format->duration_estimation_method != AVFMT_DURATION_FROM_BITRATE) {
    return make_error(ErrorCode::kMediaTooLong,
                      fmt::format("'{}' is {} long, more than the maximum of {}; raise the "
                                  "maximum duration (--max-duration) to process it",
                                  impl->name, format_duration(impl->info.duration_ms),
                                  format_duration(options.max_duration_ms)));
  }
  spdlog::debug("{}: {} / {}, {} Hz, {} ch, stream #{}, ~{} ms", impl->name, impl->info.format_name,
                impl->info.codec_name, impl->info.source_sample_rate, impl->info.source_channels,
                impl->info.stream_index, impl->info.duration_ms);
  return std::unique_ptr<AudioDecoder>(new AudioDecoder(std::move(impl)));
}

const MediaInfo& AudioDecoder::info() const { return impl_->info; }

int64_t AudioDecoder::samples_read() const { return impl_->samples_out; }

bool AudioDecoder::finished() const { return impl_->finished; }

Result<size_t> AudioDecoder::read(std::vector<float>& out, size_t max_samples) {
  Impl& d = *impl_;
  if (d.failed) {
    return make_error(ErrorCode::kInternal, "read() called again after the decoder failed");
  }
  size_t appended = 0;
  while (appended < max_samples && !d.finished) {
    if (d.pending.size() == d.pending_pos) {
      if (auto r = d.produce(); !r) {
        d.failed = true;
        return std::unexpected(r.error());
      }
      continue;
    }
    const size_t n = std::min(max_samples - appended, d.pending.size() - d.pending_pos);
    const auto first = d.pending.begin() + static_cast<std::ptrdiff_t>(d.pending_pos);
    out.insert(out.end(), first, first + static_cast<std::ptrdiff_t>(n));
    d.pending_pos += n;
    appended += n;
    d.samples_out += static_cast<int64_t>(n);
  }
  if (d.pending_pos == d.pending.size()) {
    d.pending.clear();
    d.pending_pos = 0;
  }
  return appended;
}

Result<std::vector<float>> decode_all(const std::filesystem::path& path,
                                      const DecodeOptions& options) {
  auto decoder = AudioDecoder::open(path, options);
  if (!decoder) return std::unexpected(decoder.error());
  std::vector<float> samples;
  // Reserve what the container claims, up to a cap: truncated files claim far more than they hold.
  constexpr int64_t kMaxReserveMs = int64_t{20} * 60 * 1000;
  const int64_t expected_ms = std::min((*decoder)->info().duration_ms, kMaxReserveMs);
  if (expected_ms > 0)
    samples.reserve(static_cast<size_t>(ms_to_samples(expected_ms)) + kSampleRate);
  constexpr size_t kBlock = size_t{64} * 1024;
  for (;;) {
    auto got = (*decoder)->read(samples, kBlock);
    if (!got) return std::unexpected(got.error());
    if (*got < kBlock) break;
  }
  return samples;
}

void route_ffmpeg_logs() {
  static std::once_flag once;
  std::call_once(once, [] { av_log_set_callback(ffmpeg_log_callback); });
}

std::string ffmpeg_versions() {
  auto v = [](unsigned x) {
    return fmt::format("{}.{}.{}", AV_VERSION_MAJOR(x), AV_VERSION_MINOR(x), AV_VERSION_MICRO(x));
  };
  return fmt::format("libavformat {}, libavcodec {}, libavutil {}, libswresample {}",
                     v(avformat_version()), v(avcodec_version()), v(avutil_version()),
                     v(swresample_version()));
}

}  // namespace aimara::media
