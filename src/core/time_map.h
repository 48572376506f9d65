// Where the audio of a spliced buffer lies in the media's timeline.
//
// A chunk's audio is a span of the media with its long pauses cut out (ARCHITECTURE "Pack speech
// into full windows"): the pieces left are laid end to end in one buffer, and whatever the ASR
// finds in that buffer (segment and word times) is mapped back through a TimeMap, so times stay
// in the original timeline. A TimeMap with no cuts is a plain offset.
//
// A time exactly at a splice belongs to two places: a start there is the start of the piece after
// it (start_of), an end there is the end of the piece before it (end_of). Buffer times beyond the
// buffer's ends are clamped to the media span.
//
// Plain value; thread-safe to read.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace aimara {

// [start_ms, end_ms) of a timeline.
struct TimeSpan {
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  int64_t length_ms() const { return end_ms - start_ms; }
  friend bool operator==(const TimeSpan&, const TimeSpan&) = default;
};

class TimeMap {
 public:
  // A piece of the buffer: media [media.start_ms, media.end_ms) at buffer time buffer_ms.
  struct Piece {
    int64_t buffer_ms = 0;
    TimeSpan media;
  };

  TimeMap() = default;
  // The buffer holds media [start_ms, end_ms) without `cuts` (in order, inside it, disjoint).
  TimeMap(int64_t start_ms, int64_t end_ms, std::span<const TimeSpan> cuts = {});

  int64_t start_of(int64_t buffer_ms) const;  // media time of something starting there
  int64_t end_of(int64_t buffer_ms) const;    // media time of something ending there
  int64_t buffer_ms() const;                  // length of the spliced audio
  const std::vector<Piece>& pieces() const { return pieces_; }

 private:
  std::vector<Piece> pieces_;  // at least one (possibly empty) once constructed
};

}  // namespace aimara
