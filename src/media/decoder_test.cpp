#include "media/decoder.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>

#include "core/fs.h"

namespace aimara::media {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr int64_t kTolerance = kSampleRate / 20;  // 50 ms of samples

fs::path shared_media(const std::string& name = {}) {
  return fs::path(AIMARA_SHARED_DIR) / "media" / name;
}

#define REQUIRE_SHARED(path)                                                                \
  ASSERT_TRUE(fs::exists(path)) << "missing test data " << (path)                           \
                                << ": the shared test data (../shared, see its README.md) " \
                                   "must sit beside the repository"

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) {
    if (c == '\'')
      q += "'\\''";
    else
      q += c;
  }
  return q + "'";
}

// Runs a command and returns its stdout, or nullopt if it could not run or failed.
std::optional<std::string> run_capture(const std::string& command) {
  FILE* pipe = popen(command.c_str(), "r");
  if (!pipe) return std::nullopt;
  std::string out;
  std::array<char, 65536> buf{};
  size_t n = 0;
  while ((n = fread(buf.data(), 1, buf.size(), pipe)) > 0) out.append(buf.data(), n);
  const int status = pclose(pipe);
  if (status != 0) return std::nullopt;
  return out;
}

bool have_ffmpeg_cli() {
  return run_capture("ffmpeg -nostdin -version >/dev/null 2>&1").has_value();
}

#define REQUIRE_FFMPEG_CLI()     \
  ASSERT_TRUE(have_ffmpeg_cli()) \
      << "the ffmpeg command-line tool is needed to compute the expected results"

// The reference: what `ffmpeg -i F -ac 1 -ar 16000 -f s16le -` writes, as samples.
std::vector<int16_t> ffmpeg_cli_samples(const fs::path& file) {
  const auto out = run_capture("ffmpeg -nostdin -v quiet -i " + shell_quote(file.string()) +
                               " -ac 1 -ar 16000 -f s16le - 2>/dev/null");
  std::vector<int16_t> samples;
  if (!out) return samples;
  samples.resize(out->size() / 2);
  std::memcpy(samples.data(), out->data(), samples.size() * 2);
  return samples;
}

// Makes a file with the ffmpeg CLI from a lavfi source; fails the test if that does not work.
void ffmpeg_generate(const std::string& args, const fs::path& out) {
  const auto r = run_capture("ffmpeg -nostdin -v error -y " + args + " " +
                             shell_quote(out.string()) + " 2>&1");
  ASSERT_TRUE(r.has_value()) << "ffmpeg could not generate " << out;
}

void write_bytes(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary);
  f << bytes;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// ---- the shared media --------------------------------------------------------------------------

TEST(AudioDecoder, EveryFileInTheSharedMediaDecodesToTheCliLengthOrFailsWithItsCode) {
  REQUIRE_SHARED(shared_media());
  REQUIRE_FFMPEG_CLI();
  // Files that must fail, with the code they must fail with.
  const std::map<std::string, ErrorCode> expected_failures = {
      {"libwebm_test_stereo_left_right.webm", ErrorCode::kMediaNoAudio},
  };
  int files = 0;
  for (const auto& entry : fs::directory_iterator(shared_media())) {
    if (!entry.is_regular_file()) continue;
    ++files;
    const std::string name = entry.path().filename().string();
    SCOPED_TRACE(name);
    const auto t0 = Clock::now();
    auto decoded = decode_all(entry.path());
    const double elapsed = seconds_since(t0);
    const auto reference = ffmpeg_cli_samples(entry.path());

    if (auto it = expected_failures.find(name); it != expected_failures.end()) {
      ASSERT_FALSE(decoded.has_value()) << "decoded " << decoded->size() << " samples";
      EXPECT_EQ(error_code_name(decoded.error().code), error_code_name(it->second))
          << decoded.error().message;
      EXPECT_LT(elapsed, 5.0);
      EXPECT_TRUE(reference.empty()) << "the ffmpeg CLI decodes it, so should we";
      continue;
    }
    ASSERT_FALSE(reference.empty()) << "the ffmpeg CLI cannot decode it: add it to the "
                                       "expected failures with its code";
    ASSERT_TRUE(decoded.has_value()) << decoded.error().to_string();
    EXPECT_NEAR(static_cast<double>(decoded->size()), static_cast<double>(reference.size()),
                static_cast<double>(kTolerance))
        << "ours " << decoded->size() << " samples, ffmpeg CLI " << reference.size();
  }
  EXPECT_GE(files, 16) << "the shared media folder is incomplete";
}

TEST(AudioDecoder, TruncatedMatroskaDecodesThePrefixItHolds) {
  // The header claims 1132 s but the file holds 100 KiB: the ffmpeg CLI decodes the ~1.7 s
  // that is there (and warns "File ended prematurely"), so that is the right answer.
  const auto path = shared_media("ft_fixture2.mkv");
  REQUIRE_SHARED(path);
  auto decoder = AudioDecoder::open(path);
  ASSERT_TRUE(decoder.has_value()) << decoder.error().to_string();
  EXPECT_GT((*decoder)->info().duration_ms, 1'000'000);  // what the header claims
  std::vector<float> pcm;
  for (;;) {
    auto got = (*decoder)->read(pcm, 8192);
    ASSERT_TRUE(got.has_value()) << got.error().to_string();
    if (*got == 0) break;
  }
  EXPECT_GT(pcm.size(), static_cast<size_t>(kSampleRate));      // more than 1 s ...
  EXPECT_LT(pcm.size(), static_cast<size_t>(3 * kSampleRate));  // ... far less than claimed
}

TEST(AudioDecoder, SamplesMatchTheCli) {
  REQUIRE_FFMPEG_CLI();
  // 16 kHz mono PCM: no resampling, so every sample equals the CLI's up to s16 rounding.
  {
    const auto path = shared_media("jfk.wav");
    REQUIRE_SHARED(path);
    auto ours = decode_all(path);
    ASSERT_TRUE(ours.has_value()) << ours.error().to_string();
    const auto ref = ffmpeg_cli_samples(path);
    ASSERT_EQ(ours->size(), ref.size());
    for (size_t i = 0; i < ref.size(); ++i) {
      ASSERT_NEAR((*ours)[i] * 32768.0, ref[i], 1.0) << "at sample " << i;
    }
  }
  // 44.1 kHz stereo: downmixed (0.5 L + 0.5 R) and resampled; the waveform must match closely.
  for (const char* name : {"ds_LDC93S1_pcms16le_2_44100.wav", "pydub_format_test.m4a"}) {
    SCOPED_TRACE(name);
    const auto path = shared_media(name);
    REQUIRE_SHARED(path);
    auto ours = decode_all(path);
    ASSERT_TRUE(ours.has_value()) << ours.error().to_string();
    const auto ref = ffmpeg_cli_samples(path);
    const size_t n = std::min(ours->size(), ref.size());
    ASSERT_GT(n, 0u);
    double err = 0, energy = 0;
    for (size_t i = 0; i < n; ++i) {
      const double r = ref[i] / 32768.0;
      err += ((*ours)[i] - r) * ((*ours)[i] - r);
      energy += r * r;
    }
    ASSERT_GT(energy, 0.0);
    EXPECT_LT(std::sqrt(err / energy), 0.01) << "relative RMS difference from the ffmpeg CLI";
  }
}

TEST(AudioDecoder, InfoDescribesTheChosenStream) {
  {
    const auto path = shared_media("jfk.wav");
    REQUIRE_SHARED(path);
    auto d = AudioDecoder::open(path);
    ASSERT_TRUE(d.has_value()) << d.error().to_string();
    const MediaInfo& info = (*d)->info();
    EXPECT_EQ(info.format_name, "wav");
    EXPECT_EQ(info.codec_name, "pcm_s16le");
    EXPECT_EQ(info.source_sample_rate, 16000);
    EXPECT_EQ(info.source_channels, 1);
    EXPECT_EQ(info.stream_index, 0);
    EXPECT_FALSE(info.has_video);
    EXPECT_NEAR(static_cast<double>(info.duration_ms), 11000.0, 50.0);
  }
  {
    const auto path = shared_media("pydub_creative_common.mp4");
    REQUIRE_SHARED(path);
    auto d = AudioDecoder::open(path);
    ASSERT_TRUE(d.has_value()) << d.error().to_string();
    const MediaInfo& info = (*d)->info();
    EXPECT_TRUE(info.has_video);
    EXPECT_EQ(info.codec_name, "aac");
    EXPECT_GE(info.stream_index, 0);
    EXPECT_GT(info.source_sample_rate, 0);
  }
}

// ---- streaming ---------------------------------------------------------------------------------

TEST(AudioDecoder, StreamedReadsInAnyBlockSizeGiveExactlyTheSamplesOfDecodeAll) {
  for (const char* name : {"fw_multilingual.mp3", "pydub_format_test.m4a", "silero_test.opus",
                           "ds_LDC93S1_pcms16le_2_44100.wav", "ft_fixture.ogg"}) {
    const auto path = shared_media(name);
    REQUIRE_SHARED(path);
    auto whole = decode_all(path);
    ASSERT_TRUE(whole.has_value()) << whole.error().to_string();
    for (size_t block : {size_t{1}, size_t{7}, size_t{4096}, size_t{1} << 20}) {
      if (block == 1 && whole->size() > 200'000) continue;  // keep the test fast
      SCOPED_TRACE(std::string(name) + " block " + std::to_string(block));
      auto d = AudioDecoder::open(path);
      ASSERT_TRUE(d.has_value()) << d.error().to_string();
      std::vector<float> streamed;
      for (;;) {
        const size_t before = streamed.size();
        auto got = (*d)->read(streamed, block);
        ASSERT_TRUE(got.has_value()) << got.error().to_string();
        ASSERT_EQ(streamed.size() - before, *got);
        ASSERT_EQ((*d)->samples_read(), static_cast<int64_t>(streamed.size()));
        if (*got < block) {
          EXPECT_TRUE((*d)->finished() || *got > 0);
          break;
        }
      }
      // Short reads happen only at the end; after it, reads keep returning 0.
      auto again = (*d)->read(streamed, block);
      ASSERT_TRUE(again.has_value());
      EXPECT_EQ(*again, 0u);
      EXPECT_TRUE((*d)->finished());
      ASSERT_EQ(streamed.size(), whole->size());
      EXPECT_TRUE(streamed == *whole) << "streamed samples differ from decode_all";
      EXPECT_EQ((*d)->position_ms(), samples_to_ms(static_cast<int64_t>(whole->size())));
    }
  }
}

// ---- broken inputs ----------------------------------------------------------------------------

void expect_failure(const fs::path& path, ErrorCode code, const std::string& what) {
  SCOPED_TRACE(what);
  const auto t0 = Clock::now();
  auto r = decode_all(path);
  ASSERT_FALSE(r.has_value()) << "decoded " << r->size() << " samples";
  EXPECT_EQ(error_code_name(r.error().code), error_code_name(code)) << r.error().message;
  EXPECT_NE(r.error().message.find(path.filename().string()), std::string::npos)
      << "the message should name the input: " << r.error().message;
  EXPECT_LT(seconds_since(t0), 5.0);
}

TEST(AudioDecoder, BrokenInputsGiveClearErrors) {
  auto dir = TempDir::create("aimara-decoder-test");
  ASSERT_TRUE(dir.has_value()) << dir.error().to_string();
  const fs::path d = dir->path();

  write_bytes(d / "empty.wav", "");
  expect_failure(d / "empty.wav", ErrorCode::kMediaInvalid, "empty file");

  std::mt19937 rng(1234);
  std::string noise(256 * 1024, '\0');
  for (char& c : noise) c = static_cast<char>(rng() & 0xff);
  write_bytes(d / "noise.bin", noise);
  expect_failure(d / "noise.bin", ErrorCode::kMediaInvalid, "random bytes");
  write_bytes(d / "noise.mp3", noise);
  expect_failure(d / "noise.mp3", ErrorCode::kMediaInvalid, "random bytes named .mp3");

  std::string text;
  for (int i = 0; i < 200; ++i)
    text += "This is a plain text file, not an MP3 at all. Line " + std::to_string(i) + "\n";
  write_bytes(d / "notes.mp3", text);
  expect_failure(d / "notes.mp3", ErrorCode::kMediaInvalid, "text named .mp3");

  fs::create_directory(d / "folder.mp4");
  expect_failure(d / "folder.mp4", ErrorCode::kMediaInvalid, "a directory");

  expect_failure(d / "does-not-exist.wav", ErrorCode::kMediaNotFound, "a missing path");
}

TEST(AudioDecoder, TruncatedAndCorruptedCopiesFailCleanlyOrDecodeTheirPrefix) {
  const auto src = shared_media("fw_multilingual.mp3");
  REQUIRE_SHARED(src);
  auto dir = TempDir::create("aimara-decoder-test");
  ASSERT_TRUE(dir.has_value());
  const auto original = read_file(src);
  ASSERT_TRUE(original.has_value());

  // Cut to a third: decodes to roughly a third of the minute.
  write_bytes(dir->path() / "cut.mp3", original->substr(0, original->size() / 3));
  auto cut = decode_all(dir->path() / "cut.mp3");
  ASSERT_TRUE(cut.has_value()) << cut.error().to_string();
  EXPECT_NEAR(static_cast<double>(cut->size()) / kSampleRate, 20.0, 2.0);

  // Garbage over the middle: the damaged frames are skipped, the rest decodes.
  std::string damaged = *original;
  std::mt19937 rng(7);
  for (size_t i = damaged.size() / 2; i < damaged.size() / 2 + 4000; ++i) {
    damaged[i] = static_cast<char>(rng() & 0xff);
  }
  write_bytes(dir->path() / "damaged.mp3", damaged);
  auto dmg = decode_all(dir->path() / "damaged.mp3");
  ASSERT_TRUE(dmg.has_value()) << dmg.error().to_string();
  EXPECT_NEAR(static_cast<double>(dmg->size()) / kSampleRate, 60.0, 2.0);

  // With no tolerance for damaged packets the same file is refused.
  DecodeOptions strict;
  strict.max_decode_errors = 0;
  auto refused = decode_all(dir->path() / "damaged.mp3", strict);
  ASSERT_FALSE(refused.has_value()) << "decoded " << refused->size() << " samples";
  EXPECT_EQ(refused.error().code, ErrorCode::kMediaInvalid) << refused.error().message;
}

TEST(AudioDecoder, AFileNameWithAColonIsStillALocalFile) {
  const auto src = shared_media("jfk.wav");
  REQUIRE_SHARED(src);
  auto dir = TempDir::create("aimara-decoder-test");
  ASSERT_TRUE(dir.has_value());
  const fs::path p = dir->path() / "http:talk.wav";
  fs::copy_file(src, p);
  auto r = decode_all(p);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->size(), 176000u);
}

// ---- limits ------------------------------------------------------------------------------------

TEST(AudioDecoder, MaxDurationFromAMeasuredHeaderIsRefusedAtOpen) {
  const auto path = shared_media("jfk.wav");
  REQUIRE_SHARED(path);
  DecodeOptions o;
  o.max_duration_ms = 5000;
  auto d = AudioDecoder::open(path, o);
  ASSERT_FALSE(d.has_value());
  EXPECT_EQ(d.error().code, ErrorCode::kMediaTooLong) << d.error().message;
  EXPECT_NE(d.error().message.find("max-duration"), std::string::npos) << d.error().message;
}

TEST(AudioDecoder, MaxDurationIsEnforcedWhileStreaming) {
  REQUIRE_FFMPEG_CLI();
  auto dir = TempDir::create("aimara-decoder-test");
  ASSERT_TRUE(dir.has_value());
  // Raw ADTS AAC has no duration in its header (FFmpeg guesses it from the bitrate), so only the
  // decoded samples can show that it is too long.
  const fs::path p = dir->path() / "tone.aac";
  ffmpeg_generate("-f lavfi -i sine=frequency=300:sample_rate=16000:duration=20 -c:a aac -b:a 32k",
                  p);
  DecodeOptions o;
  o.max_duration_ms = 8000;
  auto d = AudioDecoder::open(p, o);
  ASSERT_TRUE(d.has_value()) << "open must not refuse on a guessed duration: "
                             << d.error().to_string();
  std::vector<float> pcm;
  Result<size_t> got = 0;
  do {
    got = (*d)->read(pcm, 1000);
  } while (got && *got > 0);
  ASSERT_FALSE(got.has_value()) << "decoded " << pcm.size() << " samples without complaint";
  EXPECT_EQ(got.error().code, ErrorCode::kMediaTooLong) << got.error().message;
  EXPECT_LE(static_cast<int64_t>(pcm.size()), ms_to_samples(8000));
  EXPECT_GE(static_cast<int64_t>(pcm.size()), ms_to_samples(7000));
  // A failed decoder stays failed.
  EXPECT_FALSE((*d)->read(pcm, 1000).has_value());
}

TEST(AudioDecoder, AnExpiredDeadlineGivesMediaTimeout) {
  const auto path = shared_media("fw_multilingual.mp3");
  REQUIRE_SHARED(path);
  DecodeOptions o;
  o.timeout_s = 1e-9;
  const auto t0 = Clock::now();
  auto r = decode_all(path, o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kMediaTimeout) << r.error().message;
  EXPECT_LT(seconds_since(t0), 2.0);
}

// A TCP server on 127.0.0.1 that hands each connection to `serve` on its own thread and counts
// the connections it accepted.
class LoopbackServer {
 public:
  explicit LoopbackServer(std::function<void(int fd, const std::atomic<bool>& stop)> serve)
      : serve_(std::move(serve)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 8) != 0) {
      throw std::runtime_error("cannot listen on 127.0.0.1");
    }
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    acceptor_ = std::thread([this] {
      for (;;) {
        pollfd p{fd_, POLLIN, 0};
        if (::poll(&p, 1, 50) <= 0) {
          if (stop_) return;
          continue;
        }
        const int c = ::accept(fd_, nullptr, nullptr);
        if (c < 0) continue;
        ++connections_;
        handlers_.emplace_back([this, c] {
          serve_(c, stop_);
          ::close(c);
        });
      }
    });
  }
  ~LoopbackServer() {
    stop_ = true;
    acceptor_.join();
    for (auto& t : handlers_) t.join();
    ::close(fd_);
  }
  int port() const { return port_; }
  int connections() const { return connections_; }

 private:
  std::function<void(int, const std::atomic<bool>&)> serve_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  std::vector<std::thread> handlers_;  // touched by the acceptor thread only, joined after it
};

std::string wav_header(uint32_t data_bytes) {
  std::string h = "RIFF";
  auto u32 = [&](uint32_t v) {
    for (int i = 0; i < 4; ++i) h += static_cast<char>((v >> (8 * i)) & 0xff);
  };
  auto u16 = [&](uint16_t v) {
    for (int i = 0; i < 2; ++i) h += static_cast<char>((v >> (8 * i)) & 0xff);
  };
  u32(36 + data_bytes);
  h += "WAVEfmt ";
  u32(16);
  u16(1);
  u16(1);
  u32(16000);
  u32(32000);
  u16(2);
  u16(16);
  h += "data";
  u32(data_bytes);
  return h;
}

TEST(AudioDecoder, TheDeadlineInterruptsAStalledNetworkRead) {
  // Sends the headers and one second of audio of a promised minute, then goes silent.
  LoopbackServer server([](int fd, const std::atomic<bool>& stop) {
    std::array<char, 4096> req{};
    (void)::recv(fd, req.data(), req.size(), 0);
    const uint32_t data_bytes = 60 * 32000;
    std::string body = wav_header(data_bytes) + std::string(32000, '\0');
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: " +
                             std::to_string(44 + data_bytes) + "\r\n\r\n";
    const std::string all = head + body;
    (void)::send(fd, all.data(), all.size(), MSG_NOSIGNAL);
    while (!stop) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  });
  DecodeOptions o;
  o.allow_network_protocols = true;
  o.timeout_s = 1.0;
  const auto t0 = Clock::now();
  auto r = decode_all("http://127.0.0.1:" + std::to_string(server.port()) + "/talk.wav", o);
  const double elapsed = seconds_since(t0);
  ASSERT_FALSE(r.has_value()) << "decoded " << r->size() << " samples from a stalled server";
  EXPECT_EQ(r.error().code, ErrorCode::kMediaTimeout) << r.error().message;
  EXPECT_GE(elapsed, 0.9);
  EXPECT_LT(elapsed, 3.0);
  EXPECT_EQ(server.connections(), 1);
}

TEST(AudioDecoder, LocalInputsNeverReachTheNetwork) {
  LoopbackServer server([](int fd, const std::atomic<bool>&) {
    std::array<char, 4096> req{};
    (void)::recv(fd, req.data(), req.size(), 0);
    const std::string body = wav_header(32000) + std::string(32000, '\0');
    const std::string all =
        "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    (void)::send(fd, all.data(), all.size(), MSG_NOSIGNAL);
  });
  const std::string url = "http://127.0.0.1:" + std::to_string(server.port()) + "/a.wav";

  // A URL is not a local path unless network protocols are allowed ...
  auto as_path = decode_all(url);
  ASSERT_FALSE(as_path.has_value());
  EXPECT_EQ(as_path.error().code, ErrorCode::kMediaNotFound) << as_path.error().message;

  // ... and a local playlist cannot make FFmpeg fetch its entries over the network.
  auto dir = TempDir::create("aimara-decoder-test");
  ASSERT_TRUE(dir.has_value());
  write_bytes(dir->path() / "list.m3u8",
              "#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1.0,\n" + url + "\n#EXT-X-ENDLIST\n");
  auto playlist = decode_all(dir->path() / "list.m3u8");
  EXPECT_FALSE(playlist.has_value() && !playlist->empty()) << "fetched audio from the network";
  EXPECT_EQ(server.connections(), 0);

  // With network protocols allowed the same URL is fetched (the server itself works).
  DecodeOptions o;
  o.allow_network_protocols = true;
  o.timeout_s = 5.0;
  auto fetched = decode_all(url, o);
  ASSERT_TRUE(fetched.has_value()) << fetched.error().to_string();
  EXPECT_EQ(fetched->size(), 16000u);
  EXPECT_EQ(server.connections(), 1);
}

TEST(AudioDecoder, AnUnreachableUrlIsANetworkError) {
  // A port nobody listens on: bind one, note it, close it.
  int port = 0;
  {
    LoopbackServer closed([](int, const std::atomic<bool>&) {});
    port = closed.port();
  }
  DecodeOptions o;
  o.allow_network_protocols = true;
  o.timeout_s = 5.0;
  auto r = decode_all("http://127.0.0.1:" + std::to_string(port) + "/a.wav", o);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kNetwork) << r.error().message;
}

TEST(AudioDecoder, ReportsTheFfmpegLibraryVersions) {
  const std::string v = ffmpeg_versions();
  EXPECT_EQ(v.rfind("libavformat ", 0), 0u) << v;
  EXPECT_NE(v.find("libswresample"), std::string::npos) << v;
}

}  // namespace
}  // namespace aimara::media
