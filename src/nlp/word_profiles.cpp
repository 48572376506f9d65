#include "nlp/word_profiles.h"

#include <bit>

#include "nlp/features.h"
#include "nlp/text_case.h"

namespace aimara::nlp {

void WordProfileCounter::add_sentence(std::span<const std::string> words) {
  for (size_t i = 0; i < words.size(); ++i) {
    Counts& c = counts_[word_key(words[i])];
    ++c.total;
    const WordCase wc = word_case(words[i]);
    if (i == 0 || wc == WordCase::kNoLetters) continue;
    ++c.inner;
    if (wc != WordCase::kLower) ++c.capitalised;
  }
}

std::unordered_map<uint64_t, uint32_t> WordProfileCounter::build() const {
  std::unordered_map<uint64_t, uint32_t> out;
  out.reserve(counts_.size());
  for (const auto& [key, c] : counts_) {
    uint32_t casing = 1;
    if (c.inner > 0) {
      const double share = static_cast<double>(c.capitalised) / static_cast<double>(c.inner);
      casing = share < 0.05 ? 2 : share < 0.3 ? 3 : share < 0.7 ? 4 : share < 0.95 ? 5 : 6;
    }
    const uint32_t frequency = std::min<uint32_t>(8, static_cast<uint32_t>(std::bit_width(c.total)));
    out.emplace(key, (frequency << 8) | casing);
  }
  return out;
}

}  // namespace aimara::nlp
