#include "nlp/tagger.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "core/fs.h"
#include "core/paths.h"
#include "nlp/features.h"
#include "nlp/model_data.h"
#include "nlp/model_file.h"
#include "nlp/sequence_decoder.h"
#include "nlp/tokenizer.h"
#include "nlp/word_profiles.h"

namespace aimara::nlp {

// Every feature key of every stage in one open-addressing table whose row holds the scores of
// all stages side by side, so a feature is looked up once however many stages use it; a small
// bit filter answers most lookups of features the model does not know without touching the table.
// Scores are kept as the model file stores them, int16 steps of a per-stage scale: a weight is
// float(step) * scale, the very value decoding the file gives, in half the memory. The model's
// own weight tables are released once compiled (this is the only copy); weights() rebuilds them.
struct NerModel::Compiled {
  struct Slot {
    uint64_t key = 0;  // 0: empty
    uint32_t row = 0;
  };
  size_t labels = 0;
  size_t stages = 0;
  size_t mask = 0;
  size_t count = 0;  // rows
  std::vector<Slot> slots;
  std::vector<int16_t> rows;  // stages * labels steps per row
  std::vector<float> scales;  // per stage
  size_t filter_mask = 0;
  std::vector<uint64_t> filter;

  static uint64_t filter_bit(uint64_t key) { return (key >> 32) ^ (key >> 13); }

  const int16_t* find(uint64_t key) const {
    if (key == 0) key = 1;
    const uint64_t bit = filter_bit(key) & filter_mask;
    if ((filter[bit >> 6] & (uint64_t{1} << (bit & 63))) == 0) return nullptr;
    for (size_t i = static_cast<size_t>(key) & mask;; i = (i + 1) & mask) {
      const Slot& s = slots[i];
      if (s.key == key) return &rows[static_cast<size_t>(s.row) * stages * labels];
      if (s.key == 0) return nullptr;
    }
  }

  float weight(const int16_t* row, size_t stage, size_t label) const {
    return static_cast<float>(row[stage * labels + label]) * scales[stage];
  }

  explicit Compiled(const ModelData& m) : labels(m.labels.size()), stages(m.stages.size()) {
    // Every key once (stages share most of theirs), in key order: the table is sized for them
    // and the rows are allocated once, at their final size.
    std::vector<uint64_t> keys;
    for (const ModelStage& st : m.stages) {
      keys.reserve(keys.size() + st.weights.size());
      st.weights.for_each([&](uint64_t key, const float*) { keys.push_back(key == 0 ? 1 : key); });
    }
    std::sort(keys.begin(), keys.end());
    keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
    count = keys.size();
    size_t cap = 16;
    while (cap < count * 2) cap <<= 1;
    slots.assign(cap, Slot{});
    mask = cap - 1;
    size_t bits = 1 << 16;
    while (bits < count * 16) bits <<= 1;
    filter.assign(bits / 64, 0);
    filter_mask = bits - 1;
    for (size_t r = 0; r < count; ++r) {
      size_t i = static_cast<size_t>(keys[r]) & mask;
      while (slots[i].key != 0) i = (i + 1) & mask;
      slots[i] = Slot{keys[r], static_cast<uint32_t>(r)};
      const uint64_t bit = filter_bit(keys[r]) & filter_mask;
      filter[bit >> 6] |= uint64_t{1} << (bit & 63);
    }
    rows.assign(count * stages * labels, 0);
    for (size_t stage = 0; stage < stages; ++stage) {
      const ModelStage& st = m.stages[stage];
      float scale = st.scale;
      if (scale <= 0) {  // weights not read from a file: quantise them as saving would
        float max_abs = 0;
        st.weights.for_each([&](uint64_t, const float* w) {
          for (size_t l = 0; l < labels; ++l) max_abs = std::max(max_abs, std::fabs(w[l]));
        });
        scale = max_abs > 0 ? max_abs / 32767.0f : 1.0f;
      }
      scales.push_back(scale);
      st.weights.for_each([&](uint64_t key, const float* w) {
        int16_t* row = &rows[static_cast<size_t>(slot(key).row) * stages * labels + stage * labels];
        for (size_t l = 0; l < labels; ++l) {
          row[l] = static_cast<int16_t>(std::clamp<long>(std::lround(w[l] / scale), -32767, 32767));
        }
      });
    }
  }

  const Slot& slot(uint64_t key) const {
    if (key == 0) key = 1;
    size_t i = static_cast<size_t>(key) & mask;
    while (slots[i].key != key) i = (i + 1) & mask;
    return slots[i];
  }

  // The keys with a non-zero score in `stage`, with their scores, as a weight table.
  WeightTable table(size_t stage) const {
    WeightTable t(labels);
    t.reserve(rows_in(stage));
    for (const Slot& s : slots) {
      if (s.key == 0) continue;
      const int16_t* row = &rows[static_cast<size_t>(s.row) * stages * labels];
      if (!any_in(row, stage)) continue;
      float* w = t.insert(s.key);
      for (size_t l = 0; l < labels; ++l) w[l] = weight(row, stage, l);
    }
    return t;
  }

  size_t rows_in(size_t stage) const {
    size_t n = 0;
    for (size_t r = 0; r < count; ++r) n += any_in(&rows[r * stages * labels], stage) ? 1 : 0;
    return n;
  }

  bool any_in(const int16_t* row, size_t stage) const {
    return std::any_of(row + stage * labels, row + (stage + 1) * labels,
                       [](int16_t q) { return q != 0; });
  }
};

namespace {

// Per-thread buffers so that concurrent tagging never shares state and rarely allocates.
struct DocumentScratch {
  std::vector<SentenceFeatures> features;   // stage-1 features per sentence
  std::vector<std::vector<const int16_t*>> rows;  // their weight rows (nullptr: unknown feature)
  std::vector<SentenceFeatures> stacked;    // stage-2 extra features per sentence
  std::vector<std::vector<uint64_t>> word_keys;
  std::vector<std::vector<int>> paths;      // final labels per sentence
  std::vector<std::vector<float>> emissions;  // final-stage emissions per sentence
  std::vector<float> delta;
  std::vector<int> back;
  std::vector<std::string_view> all_words;
  std::vector<std::vector<std::string>> recased;
  std::vector<std::vector<std::string_view>> recased_views;
};

DocumentScratch& scratch() {
  thread_local DocumentScratch s;
  return s;
}

// Uncased documents (all lowercase or all capitals) are read as the training text usually wrote
// their words (word_profiles.h truecase); returns the words to tag.
const std::vector<std::vector<std::string_view>>& recase(
    const ModelData& m, const std::vector<std::vector<std::string_view>>& sentences,
    DocumentScratch& s) {
  if (m.word_profiles.empty()) return sentences;
  s.all_words.clear();
  for (const auto& sentence : sentences) {
    s.all_words.insert(s.all_words.end(), sentence.begin(), sentence.end());
  }
  if (detect_casing(s.all_words) == TextCasing::kNormal) return sentences;
  s.recased.resize(sentences.size());
  s.recased_views.resize(sentences.size());
  for (size_t d = 0; d < sentences.size(); ++d) {
    s.recased[d].clear();
    for (size_t i = 0; i < sentences[d].size(); ++i) {
      s.recased[d].push_back(truecase(sentences[d][i], i == 0, m.word_profiles));
    }
    s.recased_views[d].assign(s.recased[d].begin(), s.recased[d].end());
  }
  return s.recased_views;
}

// Tags sentences[0..n) as one document; results in s.paths / s.emissions.
void decode_document(const ModelData& m, const NerModel::Compiled& c,
                     const std::vector<std::vector<std::string_view>>& original,
                     DocumentScratch& s) {
  const std::vector<std::vector<std::string_view>>& sentences = recase(m, original, s);
  const size_t n = sentences.size();
  const size_t L = m.labels.size();
  s.features.resize(n);
  s.rows.resize(n);
  s.paths.resize(n);
  s.emissions.resize(n);
  const FeatureResources resources = m.resources();
  for (size_t d = 0; d < n; ++d) {
    const SentenceFeatures& f = s.features[d];
    extract_features(sentences[d], resources, s.features[d]);
    std::vector<const int16_t*>& rows = s.rows[d];
    rows.resize(f.keys.size());
    for (size_t k = 0; k < f.keys.size(); ++k) rows[k] = c.find(f.keys[k]);
    std::vector<float>& em = s.emissions[d];
    em.assign(sentences[d].size() * L, 0.0f);
    for (size_t i = 0; i < sentences[d].size(); ++i) {
      float* e = &em[i * L];
      for (uint32_t k = f.offsets[i]; k < f.offsets[i + 1]; ++k) {
        if (const int16_t* row = rows[k]) {
          for (size_t l = 0; l < L; ++l) e[l] += c.weight(row, 0, l);
        }
      }
    }
    const ModelStage& st = m.stages[0];
    viterbi(m.labels, em.data(), sentences[d].size(), st.transitions.data(), st.start.data(),
            s.paths[d], s.delta, s.back);
  }
  if (m.stages.size() < 2) return;

  s.word_keys.resize(n);
  for (size_t d = 0; d < n; ++d) s.word_keys[d] = s.features[d].word_keys;
  extract_stacked_features(m.labels, std::span(s.word_keys.data(), n),
                           std::span(s.paths.data(), n), s.stacked);
  const ModelStage& st = m.stages[1];
  for (size_t d = 0; d < n; ++d) {
    const SentenceFeatures& f = s.features[d];
    const SentenceFeatures& g = s.stacked[d];
    std::vector<float>& em = s.emissions[d];
    std::fill(em.begin(), em.end(), 0.0f);
    for (size_t i = 0; i < sentences[d].size(); ++i) {
      float* e = &em[i * L];
      for (uint32_t k = f.offsets[i]; k < f.offsets[i + 1]; ++k) {
        if (const int16_t* row = s.rows[d][k]) {
          for (size_t l = 0; l < L; ++l) e[l] += c.weight(row, 1, l);
        }
      }
      for (uint32_t k = g.offsets[i]; k < g.offsets[i + 1]; ++k) {
        if (const int16_t* row = c.find(g.keys[k])) {
          for (size_t l = 0; l < L; ++l) e[l] += c.weight(row, 1, l);
        }
      }
    }
    viterbi(m.labels, em.data(), sentences[d].size(), st.transitions.data(), st.start.data(),
            s.paths[d], s.delta, s.back);
  }
}

}  // namespace

NerModel::NerModel(std::unique_ptr<ModelData> data)
    : data_(std::move(data)), compiled_(std::make_unique<Compiled>(*data_)) {
  for (ModelStage& st : data_->stages) st.weights = WeightTable(data_->labels.size());
}
NerModel::~NerModel() = default;

Result<std::unique_ptr<NerModel>> NerModel::load(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return make_error(ErrorCode::kModelMissing,
                      fmt::format("no tagger model at '{}'", path.string()));
  }
  auto bytes = read_file(path);
  if (!bytes) return std::unexpected(bytes.error());
  auto data = decode_model(*bytes);
  if (!data) {
    return make_error(data.error().code,
                      fmt::format("'{}': {}", path.string(), data.error().message));
  }
  return std::make_unique<NerModel>(std::move(*data));
}

Result<void> NerModel::save(const std::filesystem::path& path) const {
  return write_file_atomic(path, encode_model(weights()));
}

ModelData NerModel::weights() const {
  ModelData m = *data_;
  for (size_t stage = 0; stage < m.stages.size(); ++stage) {
    m.stages[stage].weights = compiled_->table(stage);
    m.stages[stage].scale = compiled_->scales[stage];
  }
  return m;
}

size_t NerModel::feature_rows(size_t stage) const {
  return stage < compiled_->stages ? compiled_->rows_in(stage) : 0;
}

const std::string& NerModel::language() const { return data_->language; }

std::vector<std::vector<std::string>> NerModel::tag_document(
    const std::vector<std::vector<std::string>>& sentences) const {
  DocumentScratch& s = scratch();
  std::vector<std::vector<std::string>> out;
  out.reserve(sentences.size());
  std::vector<std::vector<std::string_view>> views;
  for (size_t first = 0; first < sentences.size(); first += kDocumentSentences) {
    const size_t last = std::min(sentences.size(), first + kDocumentSentences);
    views.assign(last - first, {});
    for (size_t d = first; d < last; ++d) {
      views[d - first].assign(sentences[d].begin(), sentences[d].end());
    }
    decode_document(*data_, *compiled_, views, s);
    for (size_t d = 0; d < views.size(); ++d) {
      std::vector<std::string>& tags = out.emplace_back();
      tags.reserve(s.paths[d].size());
      for (int p : s.paths[d]) tags.push_back(data_->labels.name(static_cast<size_t>(p)));
    }
  }
  return out;
}

std::vector<std::string> NerModel::tag_tokens(const std::vector<std::string>& words) const {
  if (words.empty()) return {};
  return std::move(tag_document({words})[0]);
}

namespace {

// Spans of one decoded sentence whose words are tokens[first ...].
void collect_spans(const ModelData& m, std::string_view text, const std::vector<TextToken>& tokens,
                   size_t first, const std::vector<int>& path, const std::vector<float>& emissions,
                   std::vector<EntitySpan>& spans) {
  const size_t n = path.size();
  if (std::all_of(path.begin(), path.end(), [](int p) { return p == 0; })) return;
  const ModelStage& st = m.stages.back();
  const std::vector<float> confidence = path_confidence(
      m.labels, emissions.data(), n, st.transitions.data(), st.start.data(), path, m.temperature);
  for (size_t i = 0; i < n;) {
    const auto label = static_cast<size_t>(path[i]);
    if (label == 0) {
      ++i;
      continue;
    }
    const std::string_view type = m.labels.type(label);
    size_t j = i + 1;
    while (j < n && path[j] != 0 && !m.labels.is_begin(static_cast<size_t>(path[j]))) ++j;
    EntitySpan span;
    span.begin = tokens[first + i].begin;
    span.end = tokens[first + j - 1].end;
    if (span.end <= text.size() && span.begin <= span.end) {
      span.text = std::string(text.substr(span.begin, span.end - span.begin));
    } else {
      for (size_t k = i; k < j; ++k) {  // tokens that do not come from `text`: their own bytes
        if (k > i) span.text += ' ';
        span.text += tokens[first + k].text;
      }
    }
    span.type = std::string(type);
    span.score = *std::min_element(confidence.begin() + static_cast<ptrdiff_t>(i),
                                   confidence.begin() + static_cast<ptrdiff_t>(j));
    spans.push_back(std::move(span));
    i = j;
  }
}

}  // namespace

std::vector<EntitySpan> NerModel::tag_sentence(std::string_view text,
                                               const std::vector<TextToken>& tokens, size_t first,
                                               size_t last) const {
  std::vector<EntitySpan> spans;
  last = std::min(last, tokens.size());
  if (first >= last) return spans;
  DocumentScratch& s = scratch();
  std::vector<std::vector<std::string_view>> views(1);
  for (size_t i = first; i < last; ++i) views[0].emplace_back(tokens[i].text);
  decode_document(*data_, *compiled_, views, s);
  collect_spans(*data_, text, tokens, first, s.paths[0], s.emissions[0], spans);
  return spans;
}

std::vector<EntitySpan> NerModel::tag(std::string_view text) const {
  const std::vector<TextToken> tokens = tokenize(text);
  const auto sentences = split_sentences(tokens);
  std::vector<EntitySpan> spans;
  DocumentScratch& s = scratch();
  std::vector<std::vector<std::string_view>> views;
  for (size_t first = 0; first < sentences.size(); first += kDocumentSentences) {
    const size_t last = std::min(sentences.size(), first + kDocumentSentences);
    views.assign(last - first, {});
    for (size_t d = first; d < last; ++d) {
      for (size_t i = sentences[d].first; i < sentences[d].second; ++i) {
        views[d - first].emplace_back(tokens[i].text);
      }
    }
    decode_document(*data_, *compiled_, views, s);
    for (size_t d = first; d < last; ++d) {
      collect_spans(*data_, text, tokens, sentences[d].first, s.paths[d - first],
                    s.emissions[d - first], spans);
    }
  }
  return spans;
}

Result<std::filesystem::path> find_shipped_model(std::string_view lang) {
  if (lang.empty() || lang.size() > 16 ||
      !std::all_of(lang.begin(), lang.end(),
                   [](char c) { return (c >= 'a' && c <= 'z') || c == '-' || c == '_'; })) {
    return make_error(ErrorCode::kInvalidArgument,
                      fmt::format("'{}' is not a language code (e.g. 'es', 'en')", lang));
  }
  const std::string name = fmt::format("ner-{}.bin", lang);
  std::string searched;
  for (const std::filesystem::path& dir : shipped_models_dirs()) {
    std::error_code ec;
    const std::filesystem::path p = dir / name;
    if (std::filesystem::is_regular_file(p, ec)) return p;
    if (!searched.empty()) searched += ", ";
    searched += dir.string();
  }
  return make_error(ErrorCode::kModelMissing,
                    fmt::format("no shipped tagger model {} (looked in: {}; set AIMARA_MODELS_DIR "
                                "or pass --model)",
                                name, searched.empty() ? "nowhere" : searched));
}

}  // namespace aimara::nlp
