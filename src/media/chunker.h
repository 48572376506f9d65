// Chunk planning: which spans of a media item go to ASR (ARCHITECTURE "Chunks are the unit of ASR
// work" and "Pack speech into full windows").
//
// Whisper's encoder costs one 30 s window however little audio is in it, so neighbouring speech
// regions are packed into chunks close to a target length (28 s by default), never longer than a
// maximum (30 s). Inside a chunk, a pause longer than `max_pause_ms` is cut out down to that
// length (half of it kept after the speech before, half before the speech after): the chunk's
// audio is its media span without those cuts, laid end to end, and its length is what counts
// against the maximum. So a talk show's 5 s pauses cost one second of window each, not five.
// Cuts fall in silence: among the pauses that give a chunk of target-search .. max, the longest
// pause wins, and the cut is placed in its middle; if no pause fits, the fullest chunk that fits
// is taken; only speech longer than the maximum on its own is cut inside speech (a forced cut,
// exactly at the maximum). Each chunk keeps `padding_ms` of context around its speech, within
// [0, duration] and never overlapping a neighbour. Silence between chunks is not transcribed. A
// pause of at least `split_silence_ms` (as left after shortening) always ends a chunk (long
// silence inside a window invites whisper to hallucinate). Every chunk is (index, start_ms,
// end_ms) in the original timeline plus the cuts inside it; the plan is deterministic, so a
// resumed job sees the same chunks.
//
// plan_chunks() is a pure function; ChunkPlanner is the same planner fed incrementally (chunks
// come out as soon as they are final); plan_fixed_chunks() gives `--chunk-length`'s fixed spans.
// SpeechChunkStream and plan_speech_chunks() run decoding, VAD and planning together in bounded
// memory, for inputs of any length.
//
// Thread-safety: the functions are pure; ChunkPlanner and SpeechChunkStream are used by one thread
// at a time. Ownership: SpeechChunkStream borrows its decoder and VAD model for its whole life.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <vector>

#include "core/error.h"
#include "core/time_map.h"
#include "media/decoder.h"
#include "media/vad.h"

namespace aimara::media {

struct ChunkOptions {
  int64_t target_ms = 28'000;        // preferred chunk length
  int64_t max_ms = 30'000;           // never longer (one whisper window)
  int64_t search_ms = 2'000;         // pauses giving target - search .. max are "near the target"
  int64_t padding_ms = 200;          // context kept around speech
  int64_t split_silence_ms = 8'000;  // a pause this long always ends a chunk; <= 0: never
  // Longer pauses inside a chunk are cut down to this; <= 0: chunks are contiguous media. At
  // least 2 * padding_ms when set.
  int64_t max_pause_ms = 1'000;
  // With pauses cut, a chunk's media span (what is buffered to build it) is at most this (plus
  // one speech region): the next pause ends the chunk. <= 0: no limit. At least max_ms.
  int64_t max_span_ms = 120'000;
};

struct Chunk {
  int index = 0;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  std::vector<TimeSpan> cuts;  // pauses cut out of [start_ms, end_ms), in order; often none

  int64_t length_ms() const { return end_ms - start_ms; }  // of the media span
  int64_t audio_ms() const;                                // of the audio ASR sees
  TimeMap time_map() const { return TimeMap(start_ms, end_ms, cuts); }
  friend bool operator==(const Chunk&, const Chunk&) = default;
};

struct ChunkPlan {
  std::vector<Chunk> chunks;  // ordered, non-overlapping, indices 0..n-1
  int64_t duration_ms = 0;    // of the whole media
  int64_t speech_ms = 0;      // of the speech the plan covers (0 for a fixed plan)

  int64_t chunked_ms() const;  // sum of chunk audio: what will be transcribed
};

// Packs `speech` (any order; overlaps are merged; clamped to [0, duration_ms]) into chunks.
ChunkPlan plan_chunks(const std::vector<SpeechRegion>& speech, int64_t duration_ms,
                      const ChunkOptions& options = {});

// [0, L), [L, 2L), ... up to duration_ms (the last one shorter). chunk_length_ms <= 0: one chunk.
ChunkPlan plan_fixed_chunks(int64_t duration_ms, int64_t chunk_length_ms);

// The planner behind plan_chunks, fed speech regions in time order as they are found.
class ChunkPlanner {
 public:
  explicit ChunkPlanner(ChunkOptions options);

  // Adds the next region (start >= the previous region's start); appends final chunks to `out`.
  void add(SpeechRegion region, std::vector<Chunk>& out);

  // No more regions: appends the remaining chunks, clamped to duration_ms.
  void finish(int64_t duration_ms, std::vector<Chunk>& out);

  // No chunk handed out later starts before this time (ms), given regions not yet added start no
  // earlier than `next_region_ms`.
  int64_t settled_until_ms(int64_t next_region_ms) const;

 private:
  // Packs regions into chunks on the plan timeline: the media's, with the cut pauses removed.
  class Packer {
   public:
    explicit Packer(ChunkOptions options) : options_(options) {}
    // split_before: the region starts a new chunk unless it touches the speech before.
    void add(SpeechRegion region, bool split_before, std::vector<Chunk>& out);
    void finish(int64_t duration_ms, std::vector<Chunk>& out);
    int64_t settled_until_ms(int64_t next_region_ms) const;
    int64_t handed_out_until_ms() const { return prev_end_; }
    std::optional<int64_t> chunk_start_ms() const {
      return pending_.empty() ? std::nullopt : std::optional<int64_t>(chunk_start_);
    }

   private:
    void emit(int64_t end_ms, std::vector<Chunk>& out);
    void decide(std::vector<Chunk>& out);
    int64_t cut_end(size_t k) const;  // where the chunk ends if it is cut after pending_[k]

    ChunkOptions options_;
    std::deque<SpeechRegion> pending_;  // speech of the chunk being built, merged, in order
    int64_t chunk_start_ = 0;           // start of the chunk being built (valid if pending_)
    int64_t prev_end_ = 0;              // end of the last chunk handed out
    int next_index_ = 0;
  };

  // A pause cut out of the plan timeline: media [media.start_ms, media.end_ms) sits at plan_ms.
  struct Cut {
    int64_t plan_ms = 0;
    TimeSpan media;
    int64_t removed_ms = 0;  // removed from the timeline up to and including this cut
  };

  int64_t to_media(int64_t plan_ms, bool is_start) const;
  void to_media(std::vector<Chunk>& planned, std::vector<Chunk>& out);

  ChunkOptions options_;
  Packer packer_;
  std::deque<Cut> cuts_;        // those a chunk handed out later may still contain
  int64_t removed_ms_ = 0;      // removed from the timeline so far
  int64_t last_end_ms_ = -1;    // media end of the last region added
  std::vector<Chunk> planned_;  // scratch
};

// A chunk with its audio: samples [start_ms, end_ms) of the decoded stream without the cuts.
struct AudioChunk {
  Chunk chunk;
  std::vector<float> samples;
};

struct SpeechChunkingOptions {
  VadOptions vad;
  ChunkOptions chunks;
  int64_t window_ms = 30'000;  // audio decoded and scored per step
  int64_t fixed_chunk_ms = 0;  // > 0: fixed-length chunks, no VAD (--chunk-length / --no-vad)
};

// Decodes a stream once and hands out its chunks with their samples, in order. Memory is bounded
// by a few chunk lengths of audio whatever the media's length (for that, VadOptions::max_region_ms
// is capped at the chunk maximum). With fixed_chunk_ms > 0 (or no VAD model) chunks are fixed
// spans; otherwise they follow the speech, and the chunks are exactly those of
// plan_chunks(VadModel::detect(all samples), duration), whatever window_ms is.
class SpeechChunkStream {
 public:
  // `vad` may be null only with fixed_chunk_ms > 0. Both must outlive the stream.
  SpeechChunkStream(AudioDecoder& decoder, VadModel* vad, SpeechChunkingOptions options);

  // The next chunk, or nullopt when the stream is done. Errors are the decoder's or the VAD's.
  Result<std::optional<AudioChunk>> next();

  // Audio decoded so far (ms), and the speech found so far.
  int64_t decoded_ms() const { return decoder_.position_ms(); }
  int64_t speech_ms() const { return speech_ms_; }
  // Valid once next() has returned nullopt: the media's decoded duration.
  int64_t duration_ms() const { return decoder_.position_ms(); }

 private:
  Result<void> step();  // decodes one window and advances VAD and planning
  void trim_buffer();

  AudioDecoder& decoder_;
  SpeechChunkingOptions options_;
  std::optional<SpeechDetector> detector_;
  ChunkPlanner planner_;
  std::deque<Chunk> ready_;
  std::vector<SpeechRegion> regions_;  // scratch
  std::vector<Chunk> chunks_;          // scratch
  std::vector<float> buffer_;          // decoded samples from buffer_start_ on
  int64_t buffer_start_ = 0;           // sample index of buffer_[0]
  int64_t speech_ms_ = 0;
  int fixed_index_ = 0;
  bool decoded_all_ = false;
};

// Runs decoding and VAD over the whole stream and returns the plan (memory O(speech regions)).
// `on_progress`, if set, is called with the milliseconds decoded so far after each window.
Result<ChunkPlan> plan_speech_chunks(AudioDecoder& decoder, VadModel& vad,
                                     const SpeechChunkingOptions& options = {},
                                     const std::function<void(int64_t)>& on_progress = {});

}  // namespace aimara::media
