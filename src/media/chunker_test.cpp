#include "media/chunker.h"

#include <gtest/gtest.h>

#include <random>

namespace aimara::media {

void PrintTo(const Chunk& c, std::ostream* os) {
  *os << "#" << c.index << " [" << c.start_ms << ", " << c.end_ms << ")";
  for (const TimeSpan& cut : c.cuts) *os << " -[" << cut.start_ms << ", " << cut.end_ms << ")";
}

namespace {

std::string describe(const ChunkPlan& plan) {
  std::string s;
  for (const Chunk& c : plan.chunks) {
    s += "#" + std::to_string(c.index) + " [" + std::to_string(c.start_ms) + ", " +
         std::to_string(c.end_ms) + ")";
    for (const TimeSpan& cut : c.cuts) {
      s += " -[" + std::to_string(cut.start_ms) + ", " + std::to_string(cut.end_ms) + ")";
    }
    s += " ";
  }
  return s;
}

// Chunks are contiguous media: the packing rules on their own.
ChunkOptions contiguous() {
  ChunkOptions o;
  o.max_pause_ms = 0;
  return o;
}

// What every plan must satisfy, whatever the input.
void expect_well_formed(const ChunkPlan& plan, const std::vector<SpeechRegion>& speech,
                        const ChunkOptions& o = {}) {
  SCOPED_TRACE(describe(plan));
  for (size_t i = 0; i < plan.chunks.size(); ++i) {
    const Chunk& c = plan.chunks[i];
    EXPECT_EQ(c.index, static_cast<int>(i));
    EXPECT_GE(c.start_ms, 0);
    EXPECT_LE(c.end_ms, plan.duration_ms);
    EXPECT_GT(c.audio_ms(), 0);
    EXPECT_LE(c.audio_ms(), o.max_ms) << "chunk " << i;
    if (i > 0) {
      EXPECT_GE(c.start_ms, plan.chunks[i - 1].end_ms) << "chunks overlap at " << i;
    }
    // Cuts are pauses inside the chunk, in order, each shortened to what max_pause keeps.
    int64_t after = c.start_ms;
    for (const TimeSpan& cut : c.cuts) {
      EXPECT_GT(cut.start_ms, after) << "chunk " << i;
      EXPECT_LT(cut.end_ms, c.end_ms) << "chunk " << i;
      EXPECT_GT(cut.length_ms(), 0);
      after = cut.end_ms;
      for (const SpeechRegion& r : speech) {
        EXPECT_FALSE(r.start_ms < cut.end_ms + o.max_pause_ms / 2 &&
                     cut.start_ms - o.max_pause_ms / 2 < r.end_ms)
            << "cut [" << cut.start_ms << ", " << cut.end_ms << ") is not half a max pause from speech";
      }
    }
    if (o.max_pause_ms <= 0) {
      EXPECT_TRUE(c.cuts.empty());
    } else if (o.max_span_ms > 0) {
      EXPECT_LE(c.length_ms(), o.max_span_ms + o.max_ms) << "chunk " << i;
    }
  }
  // Every millisecond of speech is in some chunk, and not in a cut.
  for (const SpeechRegion& r : speech) {
    int64_t t = std::max<int64_t>(r.start_ms, 0);
    const int64_t end = std::min(r.end_ms, plan.duration_ms);
    for (const Chunk& c : plan.chunks) {
      if (c.start_ms <= t && t < c.end_ms) t = std::min(end, c.end_ms);
    }
    EXPECT_GE(t, end) << "speech [" << r.start_ms << ", " << r.end_ms << ") not covered from " << t;
  }
}

// A cut is "inside speech" when a region has audio on both sides of it.
bool inside_speech(int64_t t, const std::vector<SpeechRegion>& speech) {
  for (const SpeechRegion& r : speech) {
    if (r.start_ms < t && t < r.end_ms) return true;
  }
  return false;
}

TEST(PlanChunks, NoSpeechGivesNoChunks) {
  auto plan = plan_chunks({}, 60'000);
  EXPECT_TRUE(plan.chunks.empty());
  EXPECT_EQ(plan.duration_ms, 60'000);
  EXPECT_EQ(plan.speech_ms, 0);
  EXPECT_TRUE(plan_chunks({{100, 900}}, 0).chunks.empty()) << "nothing exists in empty media";
}

TEST(PlanChunks, OneShortRegionKeepsItsPadding) {
  auto plan = plan_chunks({{10'000, 12'500}}, 60'000);
  ASSERT_EQ(plan.chunks.size(), 1u);
  EXPECT_EQ(plan.chunks[0], (Chunk{0, 9'800, 12'700}));
  EXPECT_EQ(plan.speech_ms, 2'500);
  EXPECT_EQ(plan.chunked_ms(), 2'900);
}

TEST(PlanChunks, PaddingStaysWithinTheMedia) {
  auto plan = plan_chunks({{50, 1'000}, {4'000, 4'990}}, 5'000);
  ASSERT_EQ(plan.chunks.size(), 1u);
  EXPECT_EQ(plan.chunks[0].start_ms, 0);
  EXPECT_EQ(plan.chunks[0].end_ms, 5'000);
  // Regions reaching outside the media are clamped to it.
  auto outside = plan_chunks({{-500, 800}, {4'500, 9'000}}, 5'000, contiguous());
  ASSERT_EQ(outside.chunks.size(), 1u);
  EXPECT_EQ(outside.chunks[0], (Chunk{0, 0, 5'000}));
  EXPECT_EQ(outside.speech_ms, 800 + 500);
}

TEST(PlanChunks, NeighbouringRegionsArePackedIntoOneWindow) {
  // Ten 2 s utterances with 0.5 s pauses: 24.5 s of media, one chunk.
  std::vector<SpeechRegion> speech;
  for (int i = 0; i < 10; ++i) speech.push_back({1'000 + i * 2'500, 3'000 + i * 2'500});
  auto plan = plan_chunks(speech, 40'000);
  ASSERT_EQ(plan.chunks.size(), 1u) << describe(plan);
  EXPECT_EQ(plan.chunks[0], (Chunk{0, 800, 25'700}));
  expect_well_formed(plan, speech);
}

TEST(PlanChunks, CutsInTheMiddleOfTheLongestPauseNearTheTarget) {
  // Steady speech with 300 ms pauses, except one 1.5 s pause that ends the 27th second.
  std::vector<SpeechRegion> speech;
  int64_t t = 300;
  while (t < 60'000) {
    const int64_t end = t + 2'700;
    speech.push_back({t, end});
    t = end + (end == 27'000 ? 1'500 : 300);
  }
  ASSERT_TRUE(
      std::any_of(speech.begin(), speech.end(), [](auto& r) { return r.end_ms == 27'000; }));
  auto plan = plan_chunks(speech, 60'000, contiguous());
  expect_well_formed(plan, speech, contiguous());
  ASSERT_GE(plan.chunks.size(), 2u);
  // The first chunk ends in the long pause (27.0 s .. 28.5 s), keeping 200 ms of padding, and
  // the second starts 200 ms before the speech after it.
  EXPECT_EQ(plan.chunks[0].start_ms, 100);
  EXPECT_EQ(plan.chunks[0].end_ms, 27'200);
  EXPECT_EQ(plan.chunks[1].start_ms, 28'300);
  // A longer pause too early (a 21 s chunk) loses to a fuller window.
  std::vector<SpeechRegion> early;
  for (int64_t at = 300; at < 60'000;) {
    early.push_back({at, at + 2'700});
    at += 2'700 + (at + 2'700 == 21'000 ? 1'500 : 300);
  }
  auto packed = plan_chunks(early, 60'000, contiguous());
  expect_well_formed(packed, early, contiguous());
  ASSERT_GE(packed.chunks.size(), 2u);
  EXPECT_GE(packed.chunks[0].length_ms(), 26'000) << describe(packed);
}

TEST(PlanChunks, APauseShorterThanTwoPaddingsIsCutInItsMiddle) {
  // 2.9 s utterances separated by 100 ms: no chunk can hold them all, every pause is equal, so
  // the fullest chunk is taken and the cut falls in the middle of a pause.
  std::vector<SpeechRegion> speech;
  for (int i = 0; i < 20; ++i) speech.push_back({i * 3'000, i * 3'000 + 2'900});
  auto plan = plan_chunks(speech, 60'000);
  expect_well_formed(plan, speech);
  ASSERT_EQ(plan.chunks.size(), 2u) << describe(plan);
  EXPECT_EQ(plan.chunks[0].end_ms, plan.chunks[1].start_ms);
  EXPECT_EQ(plan.chunks[0].end_ms % 3'000, 2'950) << "cut not in the middle of a pause";
  for (size_t i = 0; i + 1 < plan.chunks.size(); ++i) {
    EXPECT_FALSE(inside_speech(plan.chunks[i].end_ms, speech));
  }
}

TEST(PlanChunks, ALongRegionIsSplitAtTheMaximum) {
  auto plan = plan_chunks({{5'000, 100'000}}, 120'000);
  expect_well_formed(plan, {{5'000, 100'000}});
  ASSERT_EQ(plan.chunks.size(), 4u) << describe(plan);
  EXPECT_EQ(plan.chunks[0], (Chunk{0, 4'800, 34'800}));
  EXPECT_EQ(plan.chunks[1], (Chunk{1, 34'800, 64'800}));
  EXPECT_EQ(plan.chunks[2], (Chunk{2, 64'800, 94'800}));
  EXPECT_EQ(plan.chunks[3], (Chunk{3, 94'800, 100'200}));
}

TEST(PlanChunks, RegionsNearTheMaximumKeepAllTheirSpeechInOneChunk) {
  // Fits with both paddings.
  auto exact = plan_chunks({{1'000, 30'600}}, 60'000);
  ASSERT_EQ(exact.chunks.size(), 1u);
  EXPECT_EQ(exact.chunks[0], (Chunk{0, 800, 30'800}));
  // Fits only without padding: padding is given up, the speech stays whole.
  for (int64_t length : {29'700, 29'900, 30'000}) {
    SCOPED_TRACE(length);
    auto plan = plan_chunks({{1'000, 1'000 + length}, {40'000, 41'000}}, 60'000);
    expect_well_formed(plan, {{1'000, 1'000 + length}});
    ASSERT_EQ(plan.chunks.size(), 2u) << describe(plan);
    EXPECT_LE(plan.chunks[0].start_ms, 1'000);
    EXPECT_GE(plan.chunks[0].end_ms, 1'000 + length);
  }
  // One millisecond more than a chunk: a forced cut, and a second chunk for the rest.
  auto over = plan_chunks({{1'000, 31'001}}, 60'000);
  expect_well_formed(over, {{1'000, 31'001}});
  ASSERT_EQ(over.chunks.size(), 2u) << describe(over);
  EXPECT_EQ(over.chunks[0].end_ms, over.chunks[1].start_ms);
}

TEST(PlanChunks, ALongPauseAlwaysEndsAContiguousChunk) {
  // 2 s + 9 s of silence + 2 s would fit one window, but a window that is mostly silence
  // invites hallucinations.
  auto plan = plan_chunks({{0, 2'000}, {11'000, 13'000}}, 20'000, contiguous());
  ASSERT_EQ(plan.chunks.size(), 2u) << describe(plan);
  EXPECT_EQ(plan.chunks[0], (Chunk{0, 0, 2'200}));
  EXPECT_EQ(plan.chunks[1], (Chunk{1, 10'800, 13'200}));
  ChunkOptions keep = contiguous();
  keep.split_silence_ms = 0;
  EXPECT_EQ(plan_chunks({{0, 2'000}, {11'000, 13'000}}, 20'000, keep).chunks.size(), 1u);
  // Cut down to a second, the pause leaves no long silence in the window: one chunk.
  auto spliced = plan_chunks({{0, 2'000}, {11'000, 13'000}}, 20'000);
  ASSERT_EQ(spliced.chunks.size(), 1u) << describe(spliced);
  EXPECT_EQ(spliced.chunks[0], (Chunk{0, 0, 13'200, {{2'500, 10'500}}}));
  EXPECT_EQ(spliced.chunked_ms(), 5'200);
}

TEST(PlanChunks, LongPausesInsideAChunkAreCutDownToMaxPause) {
  // A talk show: 4 s answers with 5 s pauses. Contiguous windows hold 3 answers each (12 s of
  // speech in 30 s); with the pauses cut down to 1 s they hold 6.
  std::vector<SpeechRegion> speech;
  for (int i = 0; i < 24; ++i) speech.push_back({2'000 + i * 9'000, 6'000 + i * 9'000});
  const int64_t duration = 2'000 + 24 * 9'000;
  auto plan = plan_chunks(speech, duration);
  expect_well_formed(plan, speech);
  auto whole = plan_chunks(speech, duration, contiguous());
  expect_well_formed(whole, speech, contiguous());
  EXPECT_EQ(whole.chunks.size(), 8u) << describe(whole);
  EXPECT_EQ(plan.chunks.size(), 4u) << describe(plan);
  // First chunk: answers 0..5, the five pauses between them each cut from 5 s to 1 s, keeping
  // half a second after the speech before and half a second before the speech after.
  const Chunk& c = plan.chunks[0];
  EXPECT_EQ(c.start_ms, 1'800);
  EXPECT_EQ(c.end_ms, 6'000 + 5 * 9'000 + 200);
  ASSERT_EQ(c.cuts.size(), 5u);
  for (int k = 0; k < 5; ++k) {
    EXPECT_EQ(c.cuts[static_cast<size_t>(k)], (TimeSpan{6'500 + k * 9'000, 10'500 + k * 9'000}));
  }
  EXPECT_EQ(c.audio_ms(), 6 * 4'000 + 5 * 1'000 + 2 * 200);
  EXPECT_EQ(plan.chunked_ms(), 24 * 4'000 + 20 * 1'000 + 8 * 200);
  // The map from the chunk's audio back to the media.
  const TimeMap map = c.time_map();
  EXPECT_EQ(map.buffer_ms(), c.audio_ms());
  EXPECT_EQ(map.start_of(200), 2'000);              // answer 0
  EXPECT_EQ(map.start_of(200 + 5'000), 11'000);     // answer 1, after one shortened pause
  EXPECT_EQ(map.end_of(200 + 4'000 + 500), 6'500);  // the end of what is kept after answer 0
}

TEST(PlanChunks, AChunkSpansABoundedStretchOfMedia) {
  // One-second remarks a minute apart: cut down they would fill a window, but a chunk's media
  // is buffered until it is cut, so its span stays under max_span (plus one region).
  std::vector<SpeechRegion> speech;
  for (int i = 0; i < 12; ++i) speech.push_back({i * 60'000, i * 60'000 + 1'000});
  ChunkOptions o;
  auto plan = plan_chunks(speech, 12 * 60'000, o);
  expect_well_formed(plan, speech, o);
  EXPECT_GE(plan.chunks.size(), 4u) << describe(plan);
  for (const Chunk& c : plan.chunks) EXPECT_LE(c.length_ms(), o.max_span_ms + 1'000);
  o.max_span_ms = 0;
  auto unbounded = plan_chunks(speech, 12 * 60'000, o);
  EXPECT_EQ(unbounded.chunks.size(), 1u) << describe(unbounded);
}

TEST(PlanChunks, SilenceBetweenChunksIsNotTranscribed) {
  // Two bursts of talk two minutes apart.
  std::vector<SpeechRegion> speech = {{10'000, 20'000}, {22'000, 25'000}, {150'000, 160'000}};
  auto plan = plan_chunks(speech, 200'000, contiguous());
  expect_well_formed(plan, speech, contiguous());
  ASSERT_EQ(plan.chunks.size(), 2u) << describe(plan);
  EXPECT_EQ(plan.chunks[0], (Chunk{0, 9'800, 25'200}));
  EXPECT_EQ(plan.chunks[1], (Chunk{1, 149'800, 160'200}));
  EXPECT_EQ(plan.chunked_ms(), 15'400 + 10'400);
}

TEST(PlanChunks, UnsortedAndOverlappingInputIsTheSameSpeech) {
  std::vector<SpeechRegion> messy = {
      {20'000, 22'000}, {1'000, 3'000}, {2'500, 4'000}, {21'000, 21'500}};
  std::vector<SpeechRegion> clean = {{1'000, 4'000}, {20'000, 22'000}};
  auto a = plan_chunks(messy, 30'000);
  auto b = plan_chunks(clean, 30'000);
  EXPECT_EQ(a.chunks, b.chunks);
  EXPECT_EQ(a.speech_ms, b.speech_ms);
  EXPECT_EQ(a.speech_ms, 5'000);
}

TEST(PlanChunks, OptionsAreHonoured) {
  ChunkOptions o;
  o.target_ms = 8'000;
  o.max_ms = 10'000;
  o.padding_ms = 0;
  std::vector<SpeechRegion> speech;
  for (int i = 0; i < 30; ++i) speech.push_back({i * 1'000, i * 1'000 + 800});
  auto plan = plan_chunks(speech, 30'000, o);
  expect_well_formed(plan, speech, o);
  for (const Chunk& c : plan.chunks) {
    EXPECT_EQ(c.start_ms % 1'000, 0) << "no padding: chunks start where speech starts";
  }
  EXPECT_EQ(plan.chunks.size(), 3u) << describe(plan);
}

// Random speech in many shapes: the invariants hold, cuts are never inside speech (all regions
// here are shorter than a chunk), each chunk's edges are within padding of its speech, the
// incremental planner agrees with the whole-plan function, and what it calls settled is.
TEST(PlanChunks, RandomSpeechKeepsEveryInvariant) {
  for (uint32_t seed = 1; seed <= 300; ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    const int shape = static_cast<int>(seed % 3);  // dense talk, sparse talk, mixed
    std::uniform_int_distribution<int64_t> speech_len(shape == 0 ? 300 : 200,
                                                      shape == 2 ? 25'000 : 6'000);
    std::uniform_int_distribution<int64_t> pause_len(shape == 1 ? 500 : 50,
                                                     shape == 1 ? 20'000 : 1'500);
    std::vector<SpeechRegion> speech;
    int64_t t = pause_len(rng) % 3'000;
    const int64_t duration = 120'000 + static_cast<int64_t>(rng() % 400'000);
    while (t < duration) {
      const int64_t end = std::min(duration, t + speech_len(rng));
      speech.push_back({t, end});
      t = end + pause_len(rng);
    }
    const ChunkOptions o = seed % 2 == 0 ? ChunkOptions{} : contiguous();
    auto plan = plan_chunks(speech, duration, o);
    expect_well_formed(plan, speech, o);
    if (HasFailure()) return;

    for (size_t i = 0; i < plan.chunks.size(); ++i) {
      const Chunk& c = plan.chunks[i];
      if (i + 1 < plan.chunks.size()) {
        EXPECT_FALSE(inside_speech(c.end_ms, speech)) << "cut inside speech at " << c.end_ms;
        EXPECT_FALSE(inside_speech(plan.chunks[i + 1].start_ms, speech));
      }
      // No more than the padding of silence at either edge.
      bool starts_near_speech = false, ends_near_speech = false;
      for (const SpeechRegion& r : speech) {
        if (r.start_ms >= c.start_ms && r.start_ms <= c.start_ms + o.padding_ms)
          starts_near_speech = true;
        if (r.start_ms < c.start_ms && r.end_ms > c.start_ms) starts_near_speech = true;
        if (r.end_ms <= c.end_ms && r.end_ms >= c.end_ms - o.padding_ms) ends_near_speech = true;
        if (r.start_ms < c.end_ms && r.end_ms > c.end_ms) ends_near_speech = true;
      }
      EXPECT_TRUE(starts_near_speech) << "chunk " << i << " starts in long silence";
      EXPECT_TRUE(ends_near_speech) << "chunk " << i << " ends in long silence";
    }
    // Dense talk fills its windows: all but the last chunk of a run hold >= 20 s.
    if (shape == 0) {
      for (size_t i = 0; i + 1 < plan.chunks.size(); ++i) {
        if (plan.chunks[i + 1].start_ms - plan.chunks[i].end_ms < 1'000) {
          EXPECT_GE(plan.chunks[i].audio_ms(), 20'000) << "chunk " << i << " is not packed";
        }
      }
    }

    // Incrementally: the same chunks, and nothing starts before what was declared settled.
    ChunkPlanner planner(o);
    std::vector<Chunk> incremental;
    for (size_t i = 0; i < speech.size(); ++i) {
      planner.add(speech[i], incremental);
      if (i % 7 != 0) continue;  // the quadratic check on a sample of steps keeps it fast
      const int64_t next = i + 1 < speech.size() ? speech[i + 1].start_ms : duration;
      const int64_t settled = planner.settled_until_ms(next);
      const size_t emitted = incremental.size();
      std::vector<Chunk> rest = incremental;
      ChunkPlanner copy = planner;
      for (size_t j = i + 1; j < speech.size(); ++j) copy.add(speech[j], rest);
      copy.finish(duration, rest);
      for (size_t j = emitted; j < rest.size(); ++j) {
        ASSERT_GE(rest[j].start_ms, settled) << "after region " << i;
      }
    }
    planner.finish(duration, incremental);
    EXPECT_EQ(incremental, plan.chunks);
  }
}

TEST(PlanFixedChunks, CutsTheTimelineIntoEqualSpans) {
  auto plan = plan_fixed_chunks(65'000, 30'000);
  ASSERT_EQ(plan.chunks.size(), 3u);
  EXPECT_EQ(plan.chunks[0], (Chunk{0, 0, 30'000}));
  EXPECT_EQ(plan.chunks[1], (Chunk{1, 30'000, 60'000}));
  EXPECT_EQ(plan.chunks[2], (Chunk{2, 60'000, 65'000}));
  EXPECT_EQ(plan.chunked_ms(), 65'000);
  EXPECT_EQ(plan_fixed_chunks(60'000, 30'000).chunks.size(), 2u);
  EXPECT_TRUE(plan_fixed_chunks(0, 30'000).chunks.empty());
  auto one = plan_fixed_chunks(7'000, 0);
  ASSERT_EQ(one.chunks.size(), 1u);
  EXPECT_EQ(one.chunks[0], (Chunk{0, 0, 7'000}));
}

}  // namespace
}  // namespace aimara::media
