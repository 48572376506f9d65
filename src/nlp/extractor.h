// The entity extractor: who and what a batch of transcript segments mentions, and when.
//
// It combines three finders over each segment's text:
//   - the statistical tagger (nlp/tagger.h: PER, ORG, LOC, MISC), optional: a missing or broken
//     model file never stops extraction; create() succeeds without it and says so once in
//     warnings() (watchlists and patterns still work);
//   - the watchlist phrases (nlp/watchlist.h): the user's files first, then the built-in default;
//   - the labelled regular expressions (nlp/patterns.h) of those same files.
// Overlapping spans are resolved per segment: the longest span wins; between spans of one length,
// watchlist beats pattern beats model. Each kept span becomes a Mention with the segment's times,
// a bounded context (the segment's text, or a window of it around the mention, at most
// `context_chars` characters) and a canonical name from the video's EntityIndex
// (nlp/canonical.h): watchlist mentions go under their entry's name (in the extraction language
// when the entry has one: "names": {"en": ...}), pattern mentions under their expanded canonical
// template (or the watchlist name it matches), model mentions under their text, then merged.
//
// Segments that look like hallucination (nlp/hallucination.h) keep their mentions, marked
// `hallucination`, but those do not count in the video's EntityIndex.
//
// A pattern that gives up on a text (a match limit) loses its matches in that text only; the
// extractor logs a warning the first time each pattern does so.
//
// Thread-safety: a created EntityExtractor is immutable; extract() and find_spans() may be called
// from many threads at once (share one extractor between workers). Each call's EntityIndex belongs
// to the caller (one per video, one thread at a time).
// Ownership: the extractor owns its watchlist and patterns and shares the tagger model
// (std::shared_ptr<const NerModel>); SegmentText views must outlive the call; results are values.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "nlp/canonical.h"
#include "nlp/hallucination.h"
#include "nlp/patterns.h"
#include "nlp/watchlist.h"

namespace aimara::nlp {

class NerModel;

struct ExtractorOptions {
  std::string language = "es";
  bool use_model = true;
  std::shared_ptr<const NerModel> model;  // an already loaded model; else loaded from below
  std::filesystem::path model_path;       // empty: the shipped model for `language`
  std::vector<std::filesystem::path> watchlist_files;
  WatchlistSpec watchlist;  // entries and patterns given in code (before files)
  bool use_default_watchlist = true;
  PatternLimits limits;
  HallucinationOptions hallucination;
  size_t context_chars = 300;
};

// One transcript segment (or one line/paragraph of a text file).
struct SegmentText {
  std::string_view text;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  std::optional<float> no_speech_prob;
  std::optional<float> avg_logprob;
};

// A span found in one text, after overlaps are resolved.
struct EntityCandidate {
  size_t begin = 0;  // byte offsets into the text
  size_t end = 0;
  std::string type;
  MentionSource source = MentionSource::kModel;
  std::string base;    // the name it stands for (pattern template, watchlist name, text)
  std::string preset;  // the watchlist name it goes under; empty: none
  float score = 1.0f;  // the tagger's confidence; 1 for watchlist and pattern spans
};

struct Mention {
  std::string entity;  // the surface form in the segment
  std::string canonical;
  std::string type;
  MentionSource source = MentionSource::kModel;
  int64_t start_ms = 0;  // the segment's times
  int64_t end_ms = 0;
  std::string context;
  size_t segment = 0;  // index of the segment in the batch
  size_t begin = 0;    // byte offsets into the segment's text
  size_t end = 0;
  float score = 1.0f;
  bool hallucination = false;  // the segment was flagged: not counted
};

struct ExtractionBatch {
  std::vector<Mention> mentions;               // in segment order, then text order
  std::vector<HallucinationVerdict> segments;  // one per input segment
};

class EntityExtractor {
 public:
  // Builds the watchlist and patterns (errors: a watchlist file missing (kNotFound), unreadable
  // (kIo) or malformed, a bad regex (kInvalidArgument naming the pattern)) and loads the tagger
  // model when asked (its failures become warnings(), never errors).
  static Result<EntityExtractor> create(ExtractorOptions options);

  EntityExtractor(EntityExtractor&&) noexcept;
  EntityExtractor& operator=(EntityExtractor&&) noexcept;
  ~EntityExtractor();

  // Extracts the mentions of `segments` (one batch of one video, in time order) and gives them
  // canonical names from, and adds them to, `video`.
  ExtractionBatch extract(std::span<const SegmentText> segments, EntityIndex& video) const;

  // The spans of one text, overlaps resolved, in text order.
  std::vector<EntityCandidate> find_spans(std::string_view text) const;

  bool has_model() const { return model_ != nullptr; }
  const std::string& language() const { return options_.language; }
  // What the user should hear once (a missing or broken model, a model for another language).
  const std::vector<std::string>& warnings() const { return warnings_; }
  const Watchlist& watchlist() const { return watchlist_; }
  const PatternSet& patterns() const { return patterns_; }

 private:
  EntityExtractor() = default;

  ExtractorOptions options_;
  std::shared_ptr<const NerModel> model_;
  Watchlist watchlist_;
  PatternSet patterns_;
  std::vector<std::string> warnings_;
  // One flag per pattern: whether its first failure was logged.
  std::unique_ptr<std::atomic<bool>[]> pattern_warned_;
};

// The segments of a plain text file: each non-empty line (trimmed), or with `paragraphs` each run
// of non-empty lines (a paragraph, up to a blank line). Views into `text`.
std::vector<std::string_view> text_segments(std::string_view text, bool paragraphs = false);

// The context of a mention at byte span [begin, end) of `text`: the whole text (trimmed) when it
// has at most `max_chars` characters, else a window of `max_chars` characters around the mention
// with "…" where it was cut.
std::string bounded_context(std::string_view text, size_t begin, size_t end, size_t max_chars);

}  // namespace aimara::nlp
