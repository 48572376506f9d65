#include "nlp/word_profiles.h"

#include <algorithm>
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
    if (wc == WordCase::kAllCaps) ++c.all_caps;
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
    const uint32_t acronym = c.capitalised > 0 && c.all_caps * 2 > c.capitalised ? 1 : 0;
    out.emplace(key, (acronym << 16) | (frequency << 8) | casing);
  }
  return out;
}

TextCasing detect_casing(std::span<const std::string_view> words) {
  size_t letters = 0, with_upper = 0, with_lower = 0, all_caps = 0;
  for (std::string_view w : words) {
    const WordCase wc = word_case(w);
    if (wc == WordCase::kNoLetters) continue;
    ++letters;
    if (wc != WordCase::kLower) ++with_upper;
    if (wc == WordCase::kAllCaps) ++all_caps;
    if (to_upper_utf8(w) != w) ++with_lower;
  }
  if (letters == 0) return TextCasing::kNormal;
  // at most one word in 50 with a capital ("I" in English) is still lowercase text
  if (letters < 3 ? with_upper == 0 : with_upper * 50 <= letters) return TextCasing::kLower;
  if (all_caps >= 2 && all_caps * 10 >= (all_caps + with_lower) * 9) return TextCasing::kUpper;
  return TextCasing::kNormal;
}

std::string truecase(std::string_view word, bool first_in_sentence,
                     const std::unordered_map<uint64_t, uint32_t>& profiles) {
  std::string lower = to_lower_utf8(word);
  auto it = profiles.find(word_key(lower));
  const uint32_t profile = it == profiles.end() ? 0 : it->second;
  if (profile != 0 && casing_bucket(profile) >= 5) {
    if (mostly_all_caps(profile)) return to_upper_utf8(lower);
  } else if (!first_in_sentence) {
    return lower;
  }
  // capitalise the first character
  size_t first_len = 1;
  if (!lower.empty()) {
    const auto b = static_cast<unsigned char>(lower[0]);
    first_len = b < 0x80 ? 1 : (b & 0xE0) == 0xC0 ? 2 : (b & 0xF0) == 0xE0 ? 3 : 4;
    first_len = std::min(first_len, lower.size());
  }
  return to_upper_utf8(std::string_view(lower).substr(0, first_len)) + lower.substr(first_len);
}

}  // namespace aimara::nlp
