// Labelled regular expressions over transcript text (PCRE2, JIT-compiled when the CPU allows).
//
// Every pattern is compiled with PCRE2_UTF | PCRE2_UCP (Unicode letters, digits and \b) and
// PCRE2_MATCH_INVALID_UTF (whisper text may hold broken UTF-8), plus PCRE2_CASELESS unless the
// spec says "caseless": false (inline (?i:...) still works then). A spec with "fold": true is
// matched against the folded text (nlp/canonical.h: lowercase, no accents), so "peru" finds
// "Perú"; offsets are mapped back to the original.
//
// Matches are whole words: a match that starts or ends inside a word ("programa 5" inside
// "subprograma 5") is dropped and the search goes on from the next character. Empty matches are
// ignored. Within one pattern, matches do not overlap (left to right).
//
// A user's regex cannot hang a run: every match runs under a match limit (backtracking steps),
// a depth limit and a heap limit; a pattern that hits one on a text is reported as a failure for
// that text (its other matches there are dropped) and the caller decides what to say.
//
// A match's canonical text comes from the spec's template: "$name", "${name}" or "$1" are replaced
// by that group's text ("Programa ${num}" -> "Programa 548"), "$$" is a dollar sign; an empty
// template means the whole match. A group that did not take part expands to nothing.
//
// Thread-safety: a compiled PatternSet is immutable; find() may be called from many threads at
// once (each call uses its own match data). Ownership: the set owns its PCRE2 code; results are
// values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "nlp/canonical.h"
#include "nlp/watchlist.h"

namespace aimara::nlp {

struct PatternLimits {
  uint32_t match_limit = 1'000'000;  // pcre2_set_match_limit
  uint32_t depth_limit = 10'000;     // pcre2_set_depth_limit (interpreter only)
  uint32_t heap_limit_kib = 20'000;  // pcre2_set_heap_limit (interpreter only)
};

struct PatternMatch {
  size_t begin = 0;  // byte offsets into the original text
  size_t end = 0;
  uint32_t pattern = 0;   // index into PatternSet::specs()
  std::string canonical;  // the template expanded (the whole match when there is none)
};

// A pattern that failed on one text (a limit hit, an internal PCRE2 error).
struct PatternFailure {
  uint32_t pattern = 0;
  Error error;
};

struct PatternScan {
  std::vector<PatternMatch> matches;  // sorted by begin, then pattern index
  std::vector<PatternFailure> failures;
};

class PatternSet {
 public:
  // Compiles every spec. Errors: kInvalidArgument naming the pattern (label and regex), the
  // position and PCRE2's message; or a template naming a group the regex lacks.
  static Result<PatternSet> compile(std::vector<PatternSpec> specs, PatternLimits limits = {});

  PatternSet();
  ~PatternSet();
  PatternSet(PatternSet&&) noexcept;
  PatternSet& operator=(PatternSet&&) noexcept;

  // Every pattern over `text`; `folded` must be fold_text(text) (used by "fold" patterns only).
  PatternScan find(std::string_view text, const FoldedText& folded) const;
  PatternScan find(std::string_view text) const { return find(text, fold_text(text)); }

  const std::vector<PatternSpec>& specs() const { return specs_; }
  size_t size() const { return specs_.size(); }
  // True when pattern i was JIT-compiled (false where the CPU or build lacks JIT).
  bool jit(size_t i) const;

 private:
  struct Compiled;
  std::vector<PatternSpec> specs_;
  std::vector<std::unique_ptr<Compiled>> compiled_;
  PatternLimits limits_;
};

}  // namespace aimara::nlp
