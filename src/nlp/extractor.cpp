#include "nlp/extractor.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unicode/utf8.h>

#include <algorithm>

#include "nlp/tagger.h"

namespace aimara::nlp {

namespace {

bool overlaps(const EntityCandidate& a, const EntityCandidate& b) {
  return a.begin < b.end && b.begin < a.end;
}

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace

std::string bounded_context(std::string_view text, size_t begin, size_t end, size_t max_chars) {
  std::vector<size_t> starts;  // byte offset of each code point
  starts.reserve(text.size());
  const auto* s = reinterpret_cast<const uint8_t*>(text.data());
  const auto length = static_cast<int32_t>(text.size());
  for (int32_t i = 0; i < length;) {
    starts.push_back(static_cast<size_t>(i));
    UChar32 c = 0;
    U8_NEXT(s, i, length, c);
  }
  const size_t count = starts.size();
  size_t first = 0;
  size_t last = count;  // code point range [first, last)
  if (count > max_chars && max_chars > 0) {
    auto index_of = [&](size_t byte) {
      return static_cast<size_t>(std::upper_bound(starts.begin(), starts.end(), byte) -
                                 starts.begin()) -
             1;
    };
    const size_t mb = index_of(std::min(begin, text.size() - 1));
    const size_t me = end > begin ? index_of(end - 1) + 1 : mb;
    const size_t span = me - mb;
    first =
        span >= max_chars ? mb : (mb > (max_chars - span) / 2 ? mb - (max_chars - span) / 2 : 0);
    first = std::min(first, count - max_chars);
    last = first + max_chars;
  }
  size_t b = starts.empty() ? 0 : starts[first];
  size_t e = last < count ? starts[last] : text.size();
  while (b < e && is_blank(text[b])) ++b;
  while (e > b && is_blank(text[e - 1])) --e;
  std::string out;
  if (first > 0) out += "…";
  out.append(text.substr(b, e - b));
  if (last < count) out += "…";
  return out;
}

std::vector<std::string_view> text_segments(std::string_view text, bool paragraphs) {
  std::vector<std::string_view> out;
  size_t start = 0;
  size_t para_begin = std::string_view::npos;
  size_t para_end = 0;
  auto flush = [&] {
    if (para_begin != std::string_view::npos)
      out.push_back(text.substr(para_begin, para_end - para_begin));
    para_begin = std::string_view::npos;
  };
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    size_t b = start;
    size_t e = nl;
    while (b < e && is_blank(text[b])) ++b;
    while (e > b && is_blank(text[e - 1])) --e;
    if (b == e) {
      flush();
    } else if (!paragraphs) {
      out.push_back(text.substr(b, e - b));
    } else {
      if (para_begin == std::string_view::npos) para_begin = b;
      para_end = e;
    }
    start = nl + 1;
  }
  flush();
  return out;
}

EntityExtractor::EntityExtractor(EntityExtractor&&) noexcept = default;
EntityExtractor& EntityExtractor::operator=(EntityExtractor&&) noexcept = default;
EntityExtractor::~EntityExtractor() = default;

Result<EntityExtractor> EntityExtractor::create(ExtractorOptions options) {
  EntityExtractor x;
  WatchlistSpec spec = std::move(options.watchlist);
  for (const auto& file : options.watchlist_files) {
    auto more = load_watchlist_file(file);
    if (!more) return std::unexpected(more.error());
    for (auto& e : more->entities) spec.entities.push_back(std::move(e));
    for (auto& p : more->patterns) spec.patterns.push_back(std::move(p));
  }
  if (options.use_default_watchlist) {
    WatchlistSpec builtin = default_watchlist();
    for (auto& e : builtin.entities) spec.entities.push_back(std::move(e));
    for (auto& p : builtin.patterns) spec.patterns.push_back(std::move(p));
  }
  auto watchlist = Watchlist::build(std::move(spec.entities));
  if (!watchlist) return std::unexpected(watchlist.error());
  x.watchlist_ = std::move(*watchlist);
  auto patterns = PatternSet::compile(std::move(spec.patterns), options.limits);
  if (!patterns) return std::unexpected(patterns.error());
  x.patterns_ = std::move(*patterns);
  x.pattern_warned_ = std::make_unique<std::atomic<bool>[]>(x.patterns_.size());

  if (options.model) {
    x.model_ = options.model;
  } else if (options.use_model) {
    Result<std::filesystem::path> path = options.model_path.empty()
                                             ? find_shipped_model(options.language)
                                             : Result<std::filesystem::path>(options.model_path);
    Result<std::unique_ptr<NerModel>> model =
        path ? NerModel::load(*path)
             : Result<std::unique_ptr<NerModel>>(std::unexpected(path.error()));
    if (model) {
      x.model_ = std::shared_ptr<const NerModel>(std::move(*model));
    } else {
      x.warnings_.push_back(fmt::format(
          "the entity model could not be used ({}); extracting with watchlists and patterns only",
          model.error().to_string()));
    }
  }
  if (x.model_ && !options.language.empty() && x.model_->language() != options.language) {
    x.warnings_.push_back(fmt::format("the entity model is for language '{}', the text is '{}'",
                                      x.model_->language(), options.language));
  }
  x.options_ = std::move(options);
  x.options_.watchlist = {};
  return x;
}

std::vector<EntityCandidate> EntityExtractor::find_spans(std::string_view text) const {
  std::vector<EntityCandidate> found;
  const FoldedText folded = fold_text(text);
  const std::string& lang = options_.language;

  for (const PhraseMatch& m : watchlist_.find(text, folded)) {
    const WatchlistEntry& e = watchlist_.entries()[m.entry];
    const std::string& name = e.name_for(lang);
    found.push_back({m.begin, m.end, e.label, MentionSource::kWatchlist, name, name, 1.0f});
  }

  PatternScan scan = patterns_.find(text, folded);
  for (const PatternFailure& f : scan.failures) {
    if (!pattern_warned_[f.pattern].exchange(true)) {
      spdlog::warn("{} (further failures of this pattern are not reported)", f.error.message);
    }
  }
  for (PatternMatch& m : scan.matches) {
    EntityCandidate c{m.begin,
                      m.end,
                      patterns_.specs()[m.pattern].label,
                      MentionSource::kPattern,
                      std::move(m.canonical),
                      {},
                      1.0f};
    if (const WatchlistEntry* e = watchlist_.lookup(c.base)) c.preset = e->name_for(lang);
    found.push_back(std::move(c));
  }

  if (model_) {
    for (EntitySpan& s : model_->tag(text)) {
      if (s.end <= s.begin || fold_key(s.text).empty()) continue;
      EntityCandidate c{
          s.begin, s.end, std::move(s.type), MentionSource::kModel, std::move(s.text), {}, s.score};
      if (const WatchlistEntry* e = watchlist_.lookup(c.base)) c.preset = e->name_for(lang);
      found.push_back(std::move(c));
    }
  }

  // Longest first; then watchlist, pattern, model; then leftmost.
  std::stable_sort(found.begin(), found.end(),
                   [](const EntityCandidate& a, const EntityCandidate& b) {
                     const size_t la = a.end - a.begin;
                     const size_t lb = b.end - b.begin;
                     if (la != lb) return la > lb;
                     if (a.source != b.source) return a.source < b.source;
                     return a.begin < b.begin;
                   });
  std::vector<EntityCandidate> kept;
  for (EntityCandidate& c : found) {
    if (std::none_of(kept.begin(), kept.end(),
                     [&](const EntityCandidate& k) { return overlaps(k, c); })) {
      kept.push_back(std::move(c));
    }
  }
  std::sort(kept.begin(), kept.end(),
            [](const EntityCandidate& a, const EntityCandidate& b) { return a.begin < b.begin; });
  return kept;
}

ExtractionBatch EntityExtractor::extract(std::span<const SegmentText> segments,
                                         EntityIndex& video) const {
  ExtractionBatch batch;
  batch.segments.reserve(segments.size());
  std::vector<EntityCandidate> candidates;  // parallel to batch.mentions
  for (size_t i = 0; i < segments.size(); ++i) {
    const SegmentText& seg = segments[i];
    batch.segments.push_back(check_hallucination({seg.text, seg.no_speech_prob, seg.avg_logprob},
                                                 options_.hallucination));
    const bool flagged = batch.segments.back().flagged;
    for (EntityCandidate& c : find_spans(seg.text)) {
      Mention m;
      m.entity = std::string(seg.text.substr(c.begin, c.end - c.begin));
      m.type = c.type;
      m.source = c.source;
      m.start_ms = seg.start_ms;
      m.end_ms = seg.end_ms;
      m.context = bounded_context(seg.text, c.begin, c.end, options_.context_chars);
      m.segment = i;
      m.begin = c.begin;
      m.end = c.end;
      m.score = c.score;
      m.hallucination = flagged;
      batch.mentions.push_back(std::move(m));
      candidates.push_back(std::move(c));
    }
  }

  std::vector<MentionForm> forms;
  forms.reserve(batch.mentions.size());
  for (size_t i = 0; i < batch.mentions.size(); ++i) {
    const Mention& m = batch.mentions[i];
    const EntityCandidate& c = candidates[i];
    forms.push_back(
        {m.entity, m.type, m.source, c.base, c.preset, m.start_ms, m.end_ms, !m.hallucination});
  }
  std::vector<std::string> canonical = video.add_batch(forms);
  for (size_t i = 0; i < batch.mentions.size(); ++i) {
    batch.mentions[i].canonical = std::move(canonical[i]);
  }
  return batch;
}

}  // namespace aimara::nlp
