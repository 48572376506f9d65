// Telling transcript segments that look like ASR hallucination, so their mentions stay out of the
// counts (ARCHITECTURE "Entities": "Segments flagged as hallucination/loops are kept out").
//
// A segment is flagged when any of these holds:
//   - no speech: whisper's no-speech probability is above `no_speech_threshold` AND the average
//     token log-probability is below `logprob_threshold` (whisper's own silence rule; both must be
//     known);
//   - compression: the text compresses too well (zlib: bytes / compressed bytes above
//     `compression_ratio_threshold`, whisper's 2.4): long loops of the same phrase. Texts longer
//     than 1,000 bytes are measured in overlapping 1,000-byte windows (the highest ratio counts),
//     since any long text compresses better;
//   - repetition: the same word n-gram (n = 1..max_ngram, words folded as in nlp/canonical.h)
//     repeats back to back at least `min_repeats` times and those repeats cover at least
//     `min_repeat_coverage` of the segment's words ("Gracias. Gracias. Gracias."), or repeats
//     back to back at least `loop_repeats` times anywhere in it (a decoding loop inside a longer
//     segment).
//
// Thread-safety: pure functions; safe from any thread. Ownership: results are values.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aimara::nlp {

struct HallucinationOptions {
  float no_speech_threshold = 0.6f;
  float logprob_threshold = -1.0f;
  double compression_ratio_threshold = 2.4;
  int max_ngram = 6;
  int min_repeats = 3;
  double min_repeat_coverage = 0.5;
  int loop_repeats = 5;
};

// What is known about a segment.
struct SegmentSignals {
  std::string_view text;
  std::optional<float> no_speech_prob;  // whisper's, when the segment came from ASR
  std::optional<float> avg_logprob;
};

struct HallucinationVerdict {
  bool flagged = false;
  std::vector<std::string> reasons;  // "no_speech", "compression_ratio", "repetition"
  double compression_ratio = 0.0;    // the highest over the windows measured
  int repeats = 0;                   // the longest back-to-back run of one n-gram (1: none)
  std::string repeated;              // that n-gram, folded ("gracias")

  // "no_speech,repetition"; "" when not flagged.
  std::string reason_list() const;
};

// zlib's ratio for `text`: bytes / compressed bytes (0 for empty text).
double compression_ratio(std::string_view text);

HallucinationVerdict check_hallucination(const SegmentSignals& segment,
                                         const HallucinationOptions& options = {});

}  // namespace aimara::nlp
