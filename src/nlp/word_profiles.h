// How words are usually written, learned from text: for each word (features.h word_key), how
// often it appears and how often it is capitalised where capitals are not forced (not first in
// the sentence). A capitalised word that is mostly written lowercase is probably not a name; a
// lowercase word usually written with a capital probably is ("maduro" in an uncased transcript).
// The tagger uses the profile as features; a model file stores the profiles it was trained with.
//
// Profile value: (all-caps flag << 16) | (frequency bucket << 8) | casing bucket, see the
// accessors below.
//
// Thread-safety: WordProfileCounter is used by one thread; the built map is a plain value.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

namespace aimara::nlp {

class WordProfileCounter {
 public:
  void add_sentence(std::span<const std::string> words);
  // word_key -> profile value for every word seen.
  std::unordered_map<uint64_t, uint32_t> build() const;

 private:
  struct Counts {
    uint32_t total = 0;
    uint32_t inner = 0;       // occurrences not first in the sentence, with letters
    uint32_t capitalised = 0;  // ... of which start with a capital
    uint32_t all_caps = 0;     // ... of which are all capitals ("FANB")
  };
  std::unordered_map<uint64_t, Counts> counts_;
};

// 1..6: no inner occurrence with letters, then capitalised share < 5%, < 30%, < 70%, < 95%, else.
inline uint32_t casing_bucket(uint32_t profile) { return profile & 0xFF; }
// 1..8: log2 of the occurrences, capped.
inline uint32_t frequency_bucket(uint32_t profile) { return (profile >> 8) & 0xFF; }
// True when the capitalised occurrences are mostly all capitals (an acronym).
inline bool mostly_all_caps(uint32_t profile) { return (profile >> 16) & 1; }

// How a text is cased, judged over its words: normal, all lowercase (some transcripts) or all
// capitals (headlines, some subtitles).
enum class TextCasing { kNormal, kLower, kUpper };
TextCasing detect_casing(std::span<const std::string_view> words);

// The word as it is usually written according to `profiles` (word_key -> profile): how the
// tagger reads uncased text. Words it does not know stay lowercase unless first in a sentence.
std::string truecase(std::string_view word, bool first_in_sentence,
                     const std::unordered_map<uint64_t, uint32_t>& profiles);

}  // namespace aimara::nlp
