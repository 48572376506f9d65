#include "nlp/hallucination.h"

#include <zlib.h>

#include <algorithm>

#include "nlp/canonical.h"

namespace aimara::nlp {

std::string HallucinationVerdict::reason_list() const {
  std::string out;
  for (const auto& r : reasons) {
    if (!out.empty()) out.push_back(',');
    out += r;
  }
  return out;
}

double compression_ratio(std::string_view text) {
  if (text.empty()) return 0.0;
  uLongf size = compressBound(static_cast<uLong>(text.size()));
  std::string buffer(size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(buffer.data()), &size,
                reinterpret_cast<const Bytef*>(text.data()), static_cast<uLong>(text.size()),
                Z_DEFAULT_COMPRESSION) != Z_OK ||
      size == 0) {
    return 0.0;
  }
  return static_cast<double>(text.size()) / static_cast<double>(size);
}

HallucinationVerdict check_hallucination(const SegmentSignals& segment,
                                         const HallucinationOptions& options) {
  HallucinationVerdict v;
  if (segment.no_speech_prob && segment.avg_logprob &&
      *segment.no_speech_prob > options.no_speech_threshold &&
      *segment.avg_logprob < options.logprob_threshold) {
    v.reasons.emplace_back("no_speech");
  }

  // Long texts compress better whatever they say (2 KB of plain Spanish is ~2.1, 8 KB ~2.6), so
  // the ratio is taken over windows of the length whisper's threshold was made for.
  constexpr size_t kWindow = 1000;
  if (segment.text.size() <= kWindow) {
    v.compression_ratio = compression_ratio(segment.text);
  } else {
    for (size_t at = 0; at + kWindow / 2 < segment.text.size(); at += kWindow / 2) {
      v.compression_ratio =
          std::max(v.compression_ratio, compression_ratio(segment.text.substr(at, kWindow)));
    }
  }
  if (v.compression_ratio > options.compression_ratio_threshold) {
    v.reasons.emplace_back("compression_ratio");
  }

  const FoldedText folded = fold_text(segment.text);
  std::vector<std::string_view> words;
  for (auto [b, e] : word_spans(folded.text)) {
    words.push_back(std::string_view(folded.text).substr(b, e - b));
  }
  const size_t total = words.size();
  bool repetition = false;
  v.repeats = total > 0 ? 1 : 0;
  for (size_t n = 1; n <= static_cast<size_t>(options.max_ngram) && 2 * n <= total; ++n) {
    for (size_t i = 0; i + 2 * n <= total;) {
      size_t reps = 1;
      while (i + (reps + 1) * n <= total) {
        bool same = true;
        for (size_t k = 0; k < n && same; ++k) same = words[i + k] == words[i + reps * n + k];
        if (!same) break;
        ++reps;
      }
      if (static_cast<int>(reps) > v.repeats) {
        v.repeats = static_cast<int>(reps);
        v.repeated.clear();
        for (size_t k = 0; k < n; ++k) {
          if (k > 0) v.repeated.push_back(' ');
          v.repeated += words[i + k];
        }
      }
      const bool covers =
          static_cast<double>(reps * n) >= options.min_repeat_coverage * static_cast<double>(total);
      if ((static_cast<int>(reps) >= options.min_repeats && covers) ||
          static_cast<int>(reps) >= options.loop_repeats) {
        repetition = true;
      }
      i += reps > 1 ? (reps - 1) * n + 1 : 1;
    }
  }
  if (repetition) v.reasons.emplace_back("repetition");
  v.flagged = !v.reasons.empty();
  return v;
}

}  // namespace aimara::nlp
