#include "core/time_map.h"

#include <algorithm>

namespace aimara {

TimeMap::TimeMap(int64_t start_ms, int64_t end_ms, std::span<const TimeSpan> cuts) {
  end_ms = std::max(end_ms, start_ms);
  int64_t from = start_ms;
  int64_t at = 0;
  for (const TimeSpan& cut : cuts) {
    const int64_t cut_start = std::clamp(cut.start_ms, from, end_ms);
    const int64_t cut_end = std::clamp(cut.end_ms, cut_start, end_ms);
    if (cut_end == cut_start) continue;
    if (cut_start > from) {
      pieces_.push_back(Piece{at, TimeSpan{from, cut_start}});
      at += cut_start - from;
    }
    from = cut_end;
  }
  if (end_ms > from || pieces_.empty()) pieces_.push_back(Piece{at, TimeSpan{from, end_ms}});
}

int64_t TimeMap::buffer_ms() const {
  if (pieces_.empty()) return 0;
  return pieces_.back().buffer_ms + pieces_.back().media.length_ms();
}

int64_t TimeMap::start_of(int64_t buffer_ms) const {
  if (pieces_.empty()) return 0;
  // The last piece starting at or before the time: a splice point belongs to the piece after it.
  auto it = std::upper_bound(pieces_.begin(), pieces_.end(), buffer_ms,
                             [](int64_t t, const Piece& p) { return t < p.buffer_ms; });
  if (it == pieces_.begin()) return pieces_.front().media.start_ms;
  const Piece& p = *std::prev(it);
  return std::min(p.media.start_ms + (buffer_ms - p.buffer_ms), p.media.end_ms);
}

int64_t TimeMap::end_of(int64_t buffer_ms) const {
  if (pieces_.empty()) return 0;
  // The first piece ending at or after the time: a splice point belongs to the piece before it.
  auto it = std::lower_bound(pieces_.begin(), pieces_.end(), buffer_ms, [](const Piece& p, int64_t t) {
    return p.buffer_ms + p.media.length_ms() < t;
  });
  if (it == pieces_.end()) return pieces_.back().media.end_ms;
  return std::max(it->media.start_ms + (buffer_ms - it->buffer_ms), it->media.start_ms);
}

}  // namespace aimara
