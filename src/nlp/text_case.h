// Case mapping and word shapes for the tagger's features, fast and allocation-light.
//
// Covers the scripts the shipped models meet: ASCII, Latin-1 Supplement, Latin Extended-A, basic
// Greek and Cyrillic. Other code points pass through unchanged; invalid UTF-8 bytes are copied as
// they are. (Full Unicode case folding with ICU belongs to canonicalisation, not to the hot path
// of tagging.)
//
// Thread-safety: pure functions; safe from any thread.
#pragma once

#include <string>
#include <string_view>

namespace aimara::nlp {

// "Nicolás MADURO" -> "nicolás maduro"
std::string to_lower_utf8(std::string_view s);
// "Nicolás Maduro" -> "NICOLÁS MADURO"
std::string to_upper_utf8(std::string_view s);

// How a word is cased, one of a few classes (the tagger's casing features).
enum class WordCase {
  kNoLetters,   // "1.500", ","
  kLower,       // "presidente"
  kInitCap,     // "Maduro", "McDonald" is kMixed
  kAllCaps,     // "FANB", "EE.UU." (at least two letters, all upper)
  kMixed,       // "McDonald", "iPhone", "eBay"
};
WordCase word_case(std::string_view word);

// Word shape: upper -> X, lower -> x, digit -> d, other characters kept; runs of one class are
// collapsed ("Nicolás" -> "Xx", "EE.UU." -> "X.X.", "1.500" -> "d.d", "H-2" -> "X-d").
std::string word_shape(std::string_view word);

}  // namespace aimara::nlp
