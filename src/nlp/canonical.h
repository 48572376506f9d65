// Canonical forms: how aimara decides that two pieces of text name the same thing.
//
// 1. Text folding. fold_text() turns UTF-8 text into its case- and accent-insensitive form (ICU:
//    full case folding, canonical decomposition (NFD), nonspacing marks removed), keeping for every
//    folded byte the original bytes it came from, so a match found in folded text maps back to a
//    span of the original ("NICOLÁS" -> "nicolas", and folded [0, 7) -> original [0, 8)). Folded
//    words are the maximal runs of letters and digits; matching whole folded words is matching on
//    word boundaries. fold_key() is the folded words joined by single spaces ("Nicolás  MADURO" ->
//    "nicolas maduro"): the key under which mentions, watchlist phrases and aliases are compared.
//
// 2. Entity merging. An EntityIndex collects the mentions of one video (or one text file) and
//    merges those that name one entity:
//      - same folded key ("Nicolás Maduro", "NICOLAS MADURO");
//      - a mention given a preset canonical name (a watchlist alias) goes under that name;
//      - a person-like mention (types PER, PERSON, PERSONA, or a POLITICAL_TITLE mention, whose
//        base is the name after the title: "presidente Maduro" -> "Maduro") whose words are the
//        last word(s) of a longer person-like name seen in the same video goes under that name
//        ("Maduro" -> "Nicolás Maduro"); when several longer names qualify, the most mentioned wins
//        (then the one with more words, then the one seen first).
//    An entity's display name is its watchlist name when it has one, else its most frequent base
//    form (ties: the first seen). Its type is the most frequent type among its watchlist mentions,
//    else among its model mentions, else among its pattern mentions. Its aliases are the surface
//    forms of its mentions other than the display name.
//
//    add_batch() returns each mention's canonical name as known after that batch: names are merged
//    within a batch in both directions, but a longer name first seen in a later batch cannot
//    change what an earlier batch was told. entities() always reflects everything added so far.
//
// Thread-safety: the folding functions are pure and safe from any thread. An EntityIndex is not
// synchronised: one per video, used by one thread at a time.
// Ownership: results are values owned by the caller; MentionForm views must outlive the call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace aimara::nlp {

enum class FoldMode {
  kCaseAndAccents,  // "Perú" -> "peru"
  kAccentsOnly,     // "Perú" -> "Peru" (case kept; for case-sensitive watchlist entries)
};

// Folded text with a map back to the original bytes.
struct FoldedText {
  std::string text;                  // folded UTF-8
  std::vector<size_t> source_begin;  // per folded byte: first byte of the original code point
  std::vector<size_t> source_end;    // per folded byte: one past the last byte of that code point

  // The original byte span [begin, end) that the folded byte span [folded_begin, folded_end)
  // came from; folded_begin < folded_end <= text.size().
  std::pair<size_t, size_t> to_original(size_t folded_begin, size_t folded_end) const {
    return {source_begin[folded_begin], source_end[folded_end - 1]};
  }
};

// Invalid UTF-8 bytes fold to a space (a word break) mapped to that byte.
FoldedText fold_text(std::string_view utf8, FoldMode mode = FoldMode::kCaseAndAccents);

// True for the code points words are made of: letters and decimal digits (u_isalnum).
bool is_word_code_point(int32_t c);

// The words of folded (or any UTF-8) text as byte spans: maximal runs of letters and digits.
std::vector<std::pair<size_t, size_t>> word_spans(std::string_view utf8);

// The folded words of `utf8` joined by single spaces; "" when it has no word.
std::string fold_key(std::string_view utf8, FoldMode mode = FoldMode::kCaseAndAccents);

// True when the text between two words may sit inside one phrase: only whitespace plus at most one
// of - ' ’ . ("Jean-Pierre", "EE. UU.", "O'Brien"); a comma, a colon or a question mark separates.
bool joins_words(std::string_view gap);

// True for the types whose short forms merge into longer names ("PER", "PERSON", "PERSONA",
// "POLITICAL_TITLE").
bool is_person_type(std::string_view type);

// Where a mention came from, in the order of trust used when spans overlap.
enum class MentionSource { kWatchlist, kPattern, kModel };

// "watchlist", "pattern", "model".
std::string_view source_name(MentionSource source);

// A mention as canonicalisation sees it.
struct MentionForm {
  std::string_view text;  // the surface form ("presidente Maduro")
  std::string_view type;  // "PER", "COUNTRY", ...
  MentionSource source = MentionSource::kModel;
  std::string_view base;              // the name it stands for ("Maduro"); empty: `text`
  std::string_view preset_canonical;  // a watchlist name it must go under; empty: none
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  bool counted = true;  // false: gets a canonical name but does not count
};

// One merged entity of a video.
struct Entity {
  std::string canonical;
  std::string type;
  std::vector<std::string> aliases;  // surface forms other than `canonical`, most frequent first
  int64_t count = 0;                 // counted mentions
  int64_t first_ms = 0;              // start of the first counted mention
  int64_t last_ms = 0;               // start of the last counted mention
  std::map<std::string, int64_t> count_by_source;  // "model" -> n, ...
};

class EntityIndex {
 public:
  EntityIndex() = default;

  // Adds one batch of mentions (in time order) and returns the canonical name of each.
  std::vector<std::string> add_batch(const std::vector<MentionForm>& mentions);

  // The entities seen so far, most mentioned first (ties: by name).
  std::vector<Entity> entities() const;

  // Number of counted mentions added.
  int64_t mention_count() const { return mentions_; }

 private:
  struct Group {
    std::string key;   // folded key
    size_t order = 0;  // when first seen
    size_t words = 0;  // words in the key
    bool person = false;
    std::string preset;                         // watchlist name, if any
    std::map<std::string, int64_t> base_forms;  // base form -> count
    std::map<std::string, size_t> base_first;   // base form -> first-seen order
    std::map<std::string, int64_t> surfaces;    // surface form -> count
    std::map<std::pair<MentionSource, std::string>, int64_t> types;
    int64_t count = 0;
    int64_t first_ms = 0;
    int64_t last_ms = 0;
  };

  std::string key_of(const MentionForm& m) const;
  Group& touch(const std::string& key, const MentionForm& m);
  // The key of the group this key merges into (itself when none).
  std::string root_of(const std::string& key, bool person) const;
  std::string display_name(const Group& g) const;

  std::unordered_map<std::string, Group> groups_;
  // For person groups: every proper word suffix of the key -> the keys that end with it.
  std::unordered_map<std::string, std::vector<std::string>> suffixes_;
  size_t next_order_ = 0;
  size_t next_form_order_ = 0;
  int64_t mentions_ = 0;
};

}  // namespace aimara::nlp
