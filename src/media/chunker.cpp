#include "media/chunker.h"

#include <algorithm>

namespace aimara::media {

int64_t Chunk::audio_ms() const {
  int64_t total = length_ms();
  for (const TimeSpan& cut : cuts) total -= cut.length_ms();
  return total;
}

int64_t ChunkPlan::chunked_ms() const {
  int64_t total = 0;
  for (const Chunk& c : chunks) total += c.audio_ms();
  return total;
}

// ---- ChunkPlanner -------------------------------------------------------------------------------

namespace {

ChunkOptions sane(ChunkOptions o) {
  o.max_ms = std::max<int64_t>(o.max_ms, 1);
  o.target_ms = std::clamp<int64_t>(o.target_ms, 1, o.max_ms);
  o.search_ms = std::max<int64_t>(o.search_ms, 0);
  o.padding_ms = std::max<int64_t>(o.padding_ms, 0);
  // The padding before a region must lie in the part of the pause that is kept.
  if (o.max_pause_ms > 0) o.max_pause_ms = std::max(o.max_pause_ms, 2 * o.padding_ms);
  if (o.max_span_ms > 0) o.max_span_ms = std::max(o.max_span_ms, o.max_ms);
  return o;
}

}  // namespace

ChunkPlanner::ChunkPlanner(ChunkOptions options)
    : options_(sane(options)), packer_(options_) {}

void ChunkPlanner::add(SpeechRegion region, std::vector<Chunk>& out) {
  if (region.end_ms <= region.start_ms) return;
  const int64_t pause = region.start_ms - last_end_ms_;
  if (options_.max_pause_ms > 0 && last_end_ms_ >= 0 && pause > options_.max_pause_ms) {
    // Keep half of max_pause after the speech before and the rest before this region.
    const int64_t keep_after = options_.max_pause_ms / 2;
    const TimeSpan media{last_end_ms_ + keep_after,
                         region.start_ms - (options_.max_pause_ms - keep_after)};
    removed_ms_ += media.length_ms();
    cuts_.push_back(Cut{last_end_ms_ + keep_after - (removed_ms_ - media.length_ms()), media,
                        removed_ms_});
  }
  last_end_ms_ = std::max(last_end_ms_, region.end_ms);
  // A chunk's audio is buffered from its media start on: bound its media span.
  const std::optional<int64_t> chunk_start = packer_.chunk_start_ms();
  const bool split_before =
      options_.max_span_ms > 0 && chunk_start &&
      region.end_ms - to_media(*chunk_start, true) > options_.max_span_ms;
  planned_.clear();
  packer_.add(SpeechRegion{region.start_ms - removed_ms_, region.end_ms - removed_ms_},
              split_before, planned_);
  to_media(planned_, out);
}

void ChunkPlanner::finish(int64_t duration_ms, std::vector<Chunk>& out) {
  planned_.clear();
  packer_.finish(std::max<int64_t>(duration_ms - removed_ms_, 0), planned_);
  to_media(planned_, out);
}

int64_t ChunkPlanner::settled_until_ms(int64_t next_region_ms) const {
  // The padding before the next region is never cut out, so its media time is next - padding.
  const int64_t settled = packer_.settled_until_ms(next_region_ms - removed_ms_);
  return std::min(to_media(settled, true), std::max<int64_t>(next_region_ms - options_.padding_ms, 0));
}

int64_t ChunkPlanner::to_media(int64_t plan_ms, bool is_start) const {
  // The removed time before plan_ms: a start at a cut lies after it, an end before it.
  int64_t removed = cuts_.empty() ? removed_ms_ : cuts_.front().removed_ms -
                                                      cuts_.front().media.length_ms();
  for (const Cut& cut : cuts_) {
    if (cut.plan_ms > plan_ms || (cut.plan_ms == plan_ms && !is_start)) break;
    removed = cut.removed_ms;
  }
  return plan_ms + removed;
}

void ChunkPlanner::to_media(std::vector<Chunk>& planned, std::vector<Chunk>& out) {
  for (Chunk& c : planned) {
    Chunk m{c.index, to_media(c.start_ms, true), to_media(c.end_ms, false), {}};
    for (const Cut& cut : cuts_) {
      if (cut.plan_ms > c.start_ms && cut.plan_ms < c.end_ms) m.cuts.push_back(cut.media);
    }
    out.push_back(std::move(m));
  }
  // Later chunks start at or after the last one's end: cuts before it are no longer needed.
  const int64_t from = packer_.handed_out_until_ms();
  while (!cuts_.empty() && cuts_.front().plan_ms < from) cuts_.pop_front();
}

// ---- ChunkPlanner::Packer -----------------------------------------------------------------------

void ChunkPlanner::Packer::add(SpeechRegion region, bool split_before, std::vector<Chunk>& out) {
  region.start_ms = std::max(region.start_ms, prev_end_);
  if (region.end_ms <= region.start_ms) return;
  if (pending_.empty()) {
    pending_.push_back(region);
    chunk_start_ = std::max(prev_end_, region.start_ms - options_.padding_ms);
  } else if (region.start_ms <= pending_.back().end_ms) {
    // Touching or overlapping: the same speech (e.g. the pieces of a long run).
    pending_.back().end_ms = std::max(pending_.back().end_ms, region.end_ms);
  } else if (split_before || (options_.split_silence_ms > 0 &&
                              region.start_ms - pending_.back().end_ms >= options_.split_silence_ms)) {
    pending_.push_back(region);
    emit(cut_end(pending_.size() - 2), out);
    pending_.erase(pending_.begin(), pending_.end() - 1);
    chunk_start_ = std::max(prev_end_, region.start_ms - options_.padding_ms);
  } else {
    pending_.push_back(region);
  }
  decide(out);
}

int64_t ChunkPlanner::Packer::cut_end(size_t k) const {
  int64_t end = pending_[k].end_ms + options_.padding_ms;
  if (k + 1 < pending_.size()) {
    const int64_t gap_middle =
        pending_[k].end_ms + (pending_[k + 1].start_ms - pending_[k].end_ms) / 2;
    end = std::min(end, gap_middle);
  }
  return std::max(std::min(end, chunk_start_ + options_.max_ms), pending_[k].end_ms);
}

// While the speech gathered no longer fits in one chunk, cut: in the best pause if one fits,
// otherwise (one region longer than the maximum) exactly at the maximum.
void ChunkPlanner::Packer::decide(std::vector<Chunk>& out) {
  while (!pending_.empty() && pending_.back().end_ms > chunk_start_ + options_.max_ms) {
    const int64_t limit = chunk_start_ + options_.max_ms;
    const int64_t near_target = options_.target_ms - options_.search_ms;
    std::optional<size_t> best;
    bool best_near = false;
    int64_t best_gap = -1;
    int64_t best_end = -1;
    for (size_t k = 0; k + 1 < pending_.size() && pending_[k].end_ms <= limit; ++k) {
      const int64_t end = cut_end(k);
      const int64_t gap = pending_[k + 1].start_ms - pending_[k].end_ms;
      const bool near = end - chunk_start_ >= near_target;
      bool better;
      if (!best || near != best_near) {
        better = !best || near;
      } else if (near) {
        better = gap > best_gap || (gap == best_gap && end > best_end);
      } else {
        better = end > best_end;
      }
      if (better) {
        best = k;
        best_near = near;
        best_gap = gap;
        best_end = end;
      }
    }
    if (best) {
      emit(best_end, out);
      pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(*best + 1));
      chunk_start_ = std::max(prev_end_, pending_.front().start_ms - options_.padding_ms);
    } else if (pending_.front().length_ms() <= options_.max_ms &&
               pending_.front().end_ms - options_.max_ms > chunk_start_) {
      // The first region fits without its leading padding: give up that padding, not speech.
      chunk_start_ = pending_.front().end_ms - options_.max_ms;
    } else {
      // Forced cut: the first region alone is longer than a chunk may be.
      emit(limit, out);
      pending_.front().start_ms = limit;
      chunk_start_ = limit;
    }
  }
}

void ChunkPlanner::Packer::emit(int64_t end_ms, std::vector<Chunk>& out) {
  if (end_ms > chunk_start_) out.push_back(Chunk{next_index_++, chunk_start_, end_ms, {}});
  prev_end_ = std::max(prev_end_, end_ms);
}

void ChunkPlanner::Packer::finish(int64_t duration_ms, std::vector<Chunk>& out) {
  while (!pending_.empty() && pending_.back().start_ms >= duration_ms) pending_.pop_back();
  if (pending_.empty()) return;
  pending_.back().end_ms = std::min(pending_.back().end_ms, duration_ms);
  decide(out);
  if (pending_.empty()) return;
  const int64_t end = std::min(
      {pending_.back().end_ms + options_.padding_ms, duration_ms, chunk_start_ + options_.max_ms});
  emit(std::max(end, pending_.back().end_ms), out);
  pending_.clear();
}

int64_t ChunkPlanner::Packer::settled_until_ms(int64_t next_region_ms) const {
  if (!pending_.empty()) return chunk_start_;
  return std::max(prev_end_, next_region_ms - options_.padding_ms);
}

// ---- whole plans --------------------------------------------------------------------------------

ChunkPlan plan_chunks(const std::vector<SpeechRegion>& speech, int64_t duration_ms,
                      const ChunkOptions& options) {
  ChunkPlan plan;
  plan.duration_ms = std::max<int64_t>(duration_ms, 0);
  std::vector<SpeechRegion> regions;
  regions.reserve(speech.size());
  for (SpeechRegion r : speech) {
    r.start_ms = std::max<int64_t>(r.start_ms, 0);
    r.end_ms = std::min(r.end_ms, plan.duration_ms);
    if (r.end_ms > r.start_ms) regions.push_back(r);
  }
  std::sort(regions.begin(), regions.end(),
            [](const SpeechRegion& a, const SpeechRegion& b) { return a.start_ms < b.start_ms; });
  int64_t covered_until = 0;
  for (const SpeechRegion& r : regions) {  // speech_ms counts overlapping regions once
    const int64_t from = std::max(r.start_ms, covered_until);
    if (r.end_ms > from) plan.speech_ms += r.end_ms - from;
    covered_until = std::max(covered_until, r.end_ms);
  }
  ChunkPlanner planner(options);
  for (const SpeechRegion& r : regions) planner.add(r, plan.chunks);
  planner.finish(plan.duration_ms, plan.chunks);
  return plan;
}

ChunkPlan plan_fixed_chunks(int64_t duration_ms, int64_t chunk_length_ms) {
  ChunkPlan plan;
  plan.duration_ms = std::max<int64_t>(duration_ms, 0);
  if (chunk_length_ms <= 0) chunk_length_ms = std::max<int64_t>(plan.duration_ms, 1);
  int index = 0;
  for (int64_t start = 0; start < plan.duration_ms; start += chunk_length_ms) {
    plan.chunks.push_back(
        Chunk{index++, start, std::min(start + chunk_length_ms, plan.duration_ms)});
  }
  return plan;
}

// ---- SpeechChunkStream --------------------------------------------------------------------------

namespace {

SpeechChunkingOptions stream_options(SpeechChunkingOptions o, bool have_vad) {
  if (!have_vad && o.fixed_chunk_ms <= 0) o.fixed_chunk_ms = o.chunks.max_ms;
  // Bounded memory: speech is handed to the planner in pieces no longer than a chunk.
  if (o.vad.max_region_ms <= 0 || o.vad.max_region_ms > o.chunks.max_ms) {
    o.vad.max_region_ms = std::max<int64_t>(o.chunks.max_ms, 1);
  }
  o.window_ms = std::max<int64_t>(o.window_ms, 1000);
  return o;
}

}  // namespace

SpeechChunkStream::SpeechChunkStream(AudioDecoder& decoder, VadModel* vad,
                                     SpeechChunkingOptions options)
    : decoder_(decoder),
      options_(stream_options(std::move(options), vad != nullptr)),
      planner_(options_.chunks) {
  if (options_.fixed_chunk_ms <= 0) detector_.emplace(*vad, options_.vad);
}

Result<std::optional<AudioChunk>> SpeechChunkStream::next() {
  for (;;) {
    if (!ready_.empty()) {
      AudioChunk out{std::move(ready_.front()), {}};
      ready_.pop_front();
      const TimeMap map = out.chunk.time_map();
      out.samples.reserve(static_cast<size_t>(ms_to_samples(map.buffer_ms())));
      for (const TimeMap::Piece& piece : map.pieces()) {
        const auto size = static_cast<int64_t>(buffer_.size());
        const auto first =
            std::clamp<int64_t>(ms_to_samples(piece.media.start_ms) - buffer_start_, 0, size);
        const auto last =
            std::clamp<int64_t>(ms_to_samples(piece.media.end_ms) - buffer_start_, first, size);
        out.samples.insert(out.samples.end(), buffer_.begin() + first, buffer_.begin() + last);
      }
      trim_buffer();
      return out;
    }
    if (decoded_all_) return std::nullopt;
    if (auto r = step(); !r) return std::unexpected(r.error());
  }
}

Result<void> SpeechChunkStream::step() {
  const size_t window = static_cast<size_t>(ms_to_samples(options_.window_ms));
  const size_t before = buffer_.size();
  auto got = decoder_.read(buffer_, window);
  if (!got) return std::unexpected(got.error());
  decoded_all_ = *got < window;
  const int64_t decoded_ms = decoder_.position_ms();

  if (!detector_) {
    const int64_t length = options_.fixed_chunk_ms;
    for (;;) {
      const int64_t start = fixed_index_ * length;
      const int64_t end = start + length;
      if (end <= decoded_ms || (decoded_all_ && start < decoded_ms)) {
        ready_.push_back(Chunk{fixed_index_++, start, std::min(end, decoded_ms)});
      } else {
        break;
      }
    }
    trim_buffer();
    return {};
  }

  regions_.clear();
  const std::span<const float> fresh(buffer_.data() + before, *got);
  if (auto r = detector_->feed(fresh, regions_); !r) return r;
  if (decoded_all_) {
    if (auto r = detector_->finish(regions_); !r) return r;
  }
  chunks_.clear();
  for (const SpeechRegion& region : regions_) {
    speech_ms_ += region.length_ms();
    planner_.add(region, chunks_);
  }
  if (decoded_all_) planner_.finish(decoded_ms, chunks_);
  ready_.insert(ready_.end(), chunks_.begin(), chunks_.end());
  trim_buffer();
  return {};
}

void SpeechChunkStream::trim_buffer() {
  int64_t keep_ms;
  if (!ready_.empty()) {
    keep_ms = ready_.front().start_ms;
  } else if (detector_) {
    keep_ms = planner_.settled_until_ms(detector_->settled_until_ms());
  } else {
    keep_ms = fixed_index_ * options_.fixed_chunk_ms;
  }
  const int64_t drop = std::min<int64_t>(ms_to_samples(keep_ms) - buffer_start_,
                                         static_cast<int64_t>(buffer_.size()));
  if (drop <= 0) return;
  buffer_.erase(buffer_.begin(), buffer_.begin() + drop);
  buffer_start_ += drop;
}

Result<ChunkPlan> plan_speech_chunks(AudioDecoder& decoder, VadModel& vad,
                                     const SpeechChunkingOptions& options,
                                     const std::function<void(int64_t)>& on_progress) {
  SpeechChunkStream stream(decoder, &vad, options);
  ChunkPlan plan;
  for (;;) {
    auto chunk = stream.next();
    if (!chunk) return std::unexpected(chunk.error());
    if (!*chunk) break;
    plan.chunks.push_back((*chunk)->chunk);
    if (on_progress) on_progress(stream.decoded_ms());
  }
  plan.duration_ms = stream.duration_ms();
  plan.speech_ms = stream.speech_ms();
  return plan;
}

}  // namespace aimara::media
