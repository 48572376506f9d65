// The plain values the entity subsystem (aimara::nlp) passes around: tokens of a text and the
// entity spans found in it.
//
// Offsets are BYTE offsets into the UTF-8 text the caller gave (begin inclusive, end exclusive), so
// `text.substr(begin, end - begin)` is the surface form. Types are the CoNLL labels "PER", "ORG",
// "LOC" and "MISC" for the statistical tagger; other units (watchlists, patterns) may use their own
// labels in the same struct.
//
// Thread-safety: plain values; safe to copy between threads. Ownership: each value owns its strings.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <string_view>

namespace aimara::nlp {

// One token of a text: its characters and where they are.
struct TextToken {
  std::string text;    // the token's bytes, exactly as in the input (no case change)
  size_t begin = 0;    // byte offset of the first byte in the input
  size_t end = 0;      // byte offset one past the last byte
};

// One entity mention found in a text.
struct EntitySpan {
  size_t begin = 0;    // byte offset of the mention's first byte in the input text
  size_t end = 0;      // byte offset one past its last byte
  std::string text;    // the input's bytes in [begin, end)
  std::string type;    // "PER", "ORG", "LOC", "MISC" (tagger); a watchlist/pattern label otherwise
  float score = 0.0f;  // confidence in [0, 1]: higher is surer; comparable within one model only
};

// The entity types the statistical tagger knows, in the order of its label set.
inline constexpr std::array<std::string_view, 4> kEntityTypes = {"PER", "ORG", "LOC", "MISC"};

}  // namespace aimara::nlp
