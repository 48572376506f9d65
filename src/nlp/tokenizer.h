// Tokenisation and sentence splitting for transcript text (whisper's output) and CoNLL-like text.
//
// tokenize() splits UTF-8 text into words, numbers and punctuation with byte offsets into the
// input. It is built for what whisper writes: leading spaces, punctuation attached to words
// ("Maduro," -> "Maduro" ","), any casing, accented letters (any non-ASCII byte sequence is treated
// as a letter), numbers with separators ("1.500", "3,5", "20:30" stay one token), abbreviations
// with inner dots ("EE.UU.", "U.S."), hyphenated and apostrophe words ("Hewlett-Packard",
// "O'Brien"), and ellipses ("..."). Invalid UTF-8 never breaks it: bytes are kept as they are.
//
// split_sentences() groups tokens into sentences: it ends a sentence after ".", "!", "?", "...",
// ";" is not an end. Abbreviation tokens that carry their own dot ("Sr.", "EE.UU.") do not end a
// sentence.
//
// Thread-safety: pure functions; safe from any thread. Ownership: results own their strings.
#pragma once

#include <string_view>
#include <utility>
#include <vector>

#include "nlp/types.h"

namespace aimara::nlp {

std::vector<TextToken> tokenize(std::string_view utf8_text);

// Sentences as [first, last) index ranges into `tokens`; they cover every token, in order.
std::vector<std::pair<size_t, size_t>> split_sentences(const std::vector<TextToken>& tokens);

}  // namespace aimara::nlp
