// Watchlists: the labelled phrases and regular expressions a user tracks, and the phrase matcher.
//
// A watchlist file is JSON or a small YAML subset (chosen by the first non-blank character: '{'
// means JSON). Both have the same shape:
//
//   {"entities": [{"name": "Nicolás Maduro", "label": "PERSON",
//                  "aliases": ["Maduro", "presidente Maduro"],   // optional
//                  "case_sensitive": false,                      // optional, default false
//                  "names": {"en": "..."}}],  // optional: the canonical name per language
//                                             // (also matched, like an alias)
//    "patterns": [{"label": "PROGRAM", "regex": "programa\\s+(?<num>\\d+)",
//                  "canonical": "Programa ${num}",               // optional (nlp/patterns.h)
//                  "caseless": true, "fold": false}]}            // optional
//
//   # the same in YAML: '#' comments, block mappings and "- " lists, nesting by indentation,
//   # flow lists [a, b], plain, 'single' and "double" quoted scalars. No anchors, tags, flow
//   # mappings or multi-line scalars.
//   entities:
//     - name: Nicolás Maduro
//       label: PERSON
//       aliases: [Maduro, presidente Maduro]
//   patterns:
//     - label: PROGRAM
//       regex: 'programa\s+\d+'
//
// Phrase matching (Watchlist::find) is case- and accent-insensitive and on word boundaries: names
// and aliases are folded (nlp/canonical.h) into word sequences and kept in a hash of word n-grams
// (every prefix of every phrase is a key, so the scan stops as soon as no phrase can continue);
// the text is folded once and, at each word, the longest phrase starting there is taken, left to
// right, without overlaps. Cost: O(words x longest phrase) hash lookups, whatever the number of
// phrases. Words inside a phrase may be separated by whitespace and at most one of - ' ’ .
// A case_sensitive entry still ignores accents but its words must match with their case ("MUD"
// the party, not "mud").
//
// Thread-safety: a built Watchlist is immutable; find() and the accessors may be called from many
// threads at once. Ownership: the Watchlist owns copies of its entries; matches are values.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/error.h"
#include "nlp/canonical.h"

namespace aimara::nlp {

struct WatchlistEntry {
  std::string name;                  // the canonical name
  std::string label;                 // "PERSON", "COUNTRY", ...
  std::vector<std::string> aliases;  // other phrases that name it
  bool case_sensitive = false;
  std::map<std::string, std::string> names;  // language -> name in that language

  // `names[lang]` when present, else `name`.
  const std::string& name_for(std::string_view lang) const;
};

// A regular expression with a label (compiled by nlp/patterns.h).
struct PatternSpec {
  std::string label;
  std::string regex;
  std::string canonical;  // template with $name / ${name} / $1 groups; empty: the whole match
  bool caseless = true;   // PCRE2_CASELESS
  bool fold = false;      // match against the folded text (lowercase, no accents) instead
};

struct WatchlistSpec {
  std::vector<WatchlistEntry> entities;
  std::vector<PatternSpec> patterns;
};

// Parses a watchlist document; `origin` names it in errors ("watchlist.yaml"). Errors:
// kInvalidArgument with the line (YAML) or JSON position and what is wrong.
Result<WatchlistSpec> parse_watchlist(std::string_view document, std::string_view origin);

// Reads and parses a watchlist file. Errors: kNotFound, kIo, kInvalidArgument.
Result<WatchlistSpec> load_watchlist_file(const std::filesystem::path& path);

// The built-in default (nlp/default_watchlist.json, embedded at build time): POLITICAL_TITLE
// followed by a name, ORGANIZATION acronyms, PROGRAM numbers and COUNTRY names in Spanish and
// English. Its text (what `aimara entities default-watchlist` prints), and the parsed form.
// Everyday words that are also names ("Chile", "Argentina", "Ecuador", "MUD", "CIA", ...) are
// case_sensitive entries there; ambiguous forms ("UN", "US", "WHO") are left out.
std::string_view default_watchlist_document();
WatchlistSpec default_watchlist();

// One phrase match; begin/end are byte offsets into the original text.
struct PhraseMatch {
  size_t begin = 0;
  size_t end = 0;
  uint32_t entry = 0;  // index into Watchlist::entries()
};

class Watchlist {
 public:
  // Indexes the entries' names and aliases. When two entries share a phrase, the first one keeps
  // it (put a user's entries before the default's). Entries whose every phrase folds to nothing
  // are an error (kInvalidArgument).
  static Result<Watchlist> build(std::vector<WatchlistEntry> entries);

  Watchlist() = default;

  // Matches in `text`, whose folded form is `folded` (fold_text(text)); left to right, longest
  // first, not overlapping.
  std::vector<PhraseMatch> find(std::string_view text, const FoldedText& folded) const;
  std::vector<PhraseMatch> find(std::string_view text) const { return find(text, fold_text(text)); }

  // The entry one of whose phrases folds to exactly `fold_key(phrase)`; nullptr when none
  // (case_sensitive entries are checked with their case).
  const WatchlistEntry* lookup(std::string_view phrase) const;

  const std::vector<WatchlistEntry>& entries() const { return entries_; }
  size_t phrase_count() const { return phrase_count_; }

 private:
  struct Phrase {
    uint32_t entry = 0;
    bool case_sensitive = false;
    std::string cased_key;  // case_sensitive: fold_key(phrase, kAccentsOnly), which must match
  };

  std::vector<WatchlistEntry> entries_;
  // Folded word n-gram ("nicolas maduro") -> the phrases ending there; prefixes have none.
  std::unordered_map<std::string, std::vector<Phrase>> index_;
  size_t max_words_ = 0;
  size_t phrase_count_ = 0;
};

}  // namespace aimara::nlp
