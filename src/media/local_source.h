// Local inputs: a media file, or a folder searched recursively for media.
//
// Media is recognised by its content, never by its name: probe_media() reads the file through
// libavformat with the name hidden from FFmpeg's format probe (so "notes.mp3" holding text is not
// media, and "recording" without an extension is), and keeps files that have an audio stream, or
// a moving-picture video stream (a video without sound is still media: decoding it reports
// media_no_audio later). Images, subtitles and text are not media.
//
// scan_local() on a folder visits every regular file below it (symbolic links to files are
// followed, links to folders are not, so a loop cannot trap it; hidden folders such as .git are
// not entered), in sorted path order so every
// run sees the same order. Files that are not media are skipped quietly (counted); files that
// cannot be read are reported with their error, and the scan goes on.
//
// Thread-safety: free functions without shared state; safe to call from many threads. FFmpeg
// handles live only inside each call.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"

namespace aimara::media {

struct ProbeInfo {
  std::string format;                  // FFmpeg's name: "mp3", "mov,mp4,m4a,3gp,3g2,mj2", ...
  std::optional<int64_t> duration_ms;  // the container's figure, when it has one
  bool has_audio = false;
  bool has_video = false;  // a moving-picture stream (cover art does not count)
};

// Errors: kMediaNotFound (no such file), kIo (cannot be read: permissions, a folder),
// kMediaInvalid (readable, but not media by its content).
Result<ProbeInfo> probe_media(const std::filesystem::path& path);

struct LocalMedia {
  std::filesystem::path path;  // absolute, lexically normal; as found (links not resolved)
  ProbeInfo probe;
};

struct UnreadableFile {
  std::filesystem::path path;
  Error error;
};

struct LocalScan {
  std::vector<LocalMedia> media;           // sorted by path
  std::vector<UnreadableFile> unreadable;  // sorted by path
  size_t skipped = 0;                      // readable files that are not media
};

// `path` is a file (media, else kMediaInvalid / kMediaNotFound / kIo) or a folder (recursive
// scan; an empty result is not an error here).
Result<LocalScan> scan_local(const std::filesystem::path& path);

}  // namespace aimara::media
