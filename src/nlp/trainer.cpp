#include "nlp/trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <span>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>

#include "nlp/entity_gazetteer.h"
#include "nlp/features.h"
#include "nlp/model_data.h"
#include "nlp/model_file.h"
#include "nlp/sequence_decoder.h"
#include "nlp/text_case.h"
#include "nlp/types.h"
#include "nlp/word_profiles.h"

namespace aimara::nlp {

namespace {

// splitmix64: small, fast and the same on every platform and standard library.
class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t next() {
    uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  size_t below(size_t n) { return static_cast<size_t>(next() % n); }

 private:
  uint64_t state_;
};

// Feature keys <-> dense indices of the training run.
class FeatureSpace {
 public:
  uint32_t intern(uint64_t key) {
    auto [it, inserted] = ids_.try_emplace(key, static_cast<uint32_t>(keys_.size()));
    if (inserted) keys_.push_back(key);
    return it->second;
  }
  // -1 when the key was never seen in training
  int64_t find(uint64_t key) const {
    auto it = ids_.find(key);
    return it == ids_.end() ? -1 : static_cast<int64_t>(it->second);
  }
  size_t size() const { return keys_.size(); }
  uint64_t key(size_t id) const { return keys_[id]; }

 private:
  std::unordered_map<uint64_t, uint32_t> ids_;
  std::vector<uint64_t> keys_;
};

// Sentences with their features as dense indices.
struct IndexedCorpus {
  std::vector<uint32_t> features;                // flat feature indices
  std::vector<uint32_t> token_offsets = {0};     // token t: features[[t] .. [t+1])
  std::vector<uint32_t> sentence_offsets = {0};  // sentence s: tokens [[s] .. [s+1])
  std::vector<uint8_t> gold;                     // per token, label index
  std::vector<size_t> document;                  // per sentence
  std::vector<size_t> fold;                      // per sentence
  std::vector<const ConllSentence*> source;      // per sentence (gold tags)
  std::vector<std::vector<uint64_t>> word_keys;  // per sentence

  size_t sentences() const { return sentence_offsets.size() - 1; }
  size_t length(size_t s) const { return sentence_offsets[s + 1] - sentence_offsets[s]; }
};

// One sentence to learn from: the words may be a case-changed copy of the source's.
struct Example {
  std::vector<std::string> words;
  const ConllSentence* source = nullptr;
  size_t document = 0;
  size_t fold = 0;
};

// Weights of a (possibly averaged) perceptron.
struct Weights {
  std::vector<float> w;      // F * L
  std::vector<float> trans;  // L * L
  std::vector<float> start;  // L
};

LabelSet make_labels(const std::vector<ConllSentence>& train, std::string& error) {
  std::vector<std::string> types;
  for (const ConllSentence& s : train) {
    for (const std::string& t : s.tags) {
      if (t.size() > 2 && std::find(types.begin(), types.end(), t.substr(2)) == types.end()) {
        types.push_back(t.substr(2));
      }
    }
  }
  auto rank = [](const std::string& t) {
    auto it = std::find(kEntityTypes.begin(), kEntityTypes.end(), t);
    return static_cast<size_t>(it - kEntityTypes.begin());
  };
  std::sort(types.begin(), types.end(), [&](const std::string& a, const std::string& b) {
    return std::make_pair(rank(a), a) < std::make_pair(rank(b), b);
  });
  if (types.size() > 7) {
    error = fmt::format("{} entity types in the training data; at most 7 are supported",
                        types.size());
    return {};
  }
  std::vector<std::string> labels = {"O"};
  for (const std::string& t : types) {
    labels.push_back("B-" + t);
    labels.push_back("I-" + t);
  }
  return LabelSet(std::move(labels));
}

void add_entities(const ConllSentence& s, const LabelSet& labels, EntityGazetteer& gazetteer) {
  std::vector<uint64_t> keys;
  for (const Chunk& c : extract_chunks(s.tags)) {
    const int b = labels.find("B-" + c.type);
    if (b < 0) continue;
    keys.clear();
    for (size_t i = c.begin; i < c.end; ++i) keys.push_back(word_key(s.words[i]));
    gazetteer.add(keys, static_cast<unsigned>((b - 1) / 2));
  }
}

std::vector<uint8_t> gold_labels(const ConllSentence& s, const LabelSet& labels) {
  std::vector<uint8_t> out(s.tags.size(), 0);
  for (size_t i = 0; i < s.tags.size(); ++i) {
    const int l = labels.find(s.tags[i]);
    out[i] = static_cast<uint8_t>(l < 0 ? 0 : l);
  }
  return out;
}

// Document pieces: a new piece when the CoNLL document changes or a piece is full.
std::vector<size_t> document_pieces(const std::vector<ConllSentence>& sentences) {
  std::vector<size_t> piece(sentences.size());
  size_t id = 0, in_piece = 0;
  for (size_t i = 0; i < sentences.size(); ++i) {
    if (i > 0 && (sentences[i].document != sentences[i - 1].document ||
                  in_piece >= kDocumentSentences)) {
      ++id;
      in_piece = 0;
    }
    ++in_piece;
    piece[i] = id;
  }
  return piece;
}

// Consecutive sentence ranges [first, last) of one document in a corpus.
std::vector<std::pair<size_t, size_t>> documents_of(const IndexedCorpus& c) {
  std::vector<std::pair<size_t, size_t>> out;
  for (size_t first = 0; first < c.sentences();) {
    size_t last = first + 1;
    while (last < c.sentences() && c.document[last] == c.document[first]) ++last;
    out.emplace_back(first, last);
    first = last;
  }
  return out;
}

class Perceptron {
 public:
  Perceptron(const LabelSet& labels, size_t features)
      : labels_(labels),
        L_(labels.size()),
        w_(features * L_, 0.0f),
        u_(features * L_, 0.0f),
        trans_w_(L_ * L_, 0.0f),
        trans_u_(L_ * L_, 0.0f),
        start_w_(L_, 0.0f),
        start_u_(L_, 0.0f) {}

  // One pass over the sentences `order` (already shuffled); returns how many needed an update.
  size_t epoch(const IndexedCorpus& c, const std::vector<size_t>& order) {
    size_t wrong = 0;
    for (size_t s : order) {
      const uint32_t t0 = c.sentence_offsets[s];
      const size_t len = c.length(s);
      if (len > 0) {
        emissions(c, s, w_.data(), em_);
        viterbi(labels_, em_.data(), len, trans_w_.data(), start_w_.data(), path_, delta_, back_);
        if (update(c, t0, len)) ++wrong;
      }
      c_ += 1;
    }
    return wrong;
  }

  Weights averaged() const {
    Weights a;
    const auto c = static_cast<float>(c_);
    a.w.resize(w_.size());
    for (size_t i = 0; i < w_.size(); ++i) a.w[i] = w_[i] - u_[i] / c;
    a.trans.resize(trans_w_.size());
    for (size_t i = 0; i < trans_w_.size(); ++i) a.trans[i] = trans_w_[i] - trans_u_[i] / c;
    a.start.resize(start_w_.size());
    for (size_t i = 0; i < start_w_.size(); ++i) a.start[i] = start_w_[i] - start_u_[i] / c;
    return a;
  }

  void emissions(const IndexedCorpus& c, size_t s, const float* w, std::vector<float>& out) const {
    const uint32_t t0 = c.sentence_offsets[s], t1 = c.sentence_offsets[s + 1];
    out.assign(static_cast<size_t>(t1 - t0) * L_, 0.0f);
    for (uint32_t t = t0; t < t1; ++t) {
      float* e = &out[static_cast<size_t>(t - t0) * L_];
      for (uint32_t k = c.token_offsets[t]; k < c.token_offsets[t + 1]; ++k) {
        const float* row = w + static_cast<size_t>(c.features[k]) * L_;
        for (size_t l = 0; l < L_; ++l) e[l] += row[l];
      }
    }
  }

 private:
  bool update(const IndexedCorpus& c, uint32_t t0, size_t len) {
    bool differs = false;
    const auto cf = static_cast<float>(c_);
    auto bump = [&](float* w, float* u, size_t i, float d) {
      w[i] += d;
      u[i] += d * cf;
    };
    for (size_t i = 0; i < len; ++i) {
      const size_t g = c.gold[t0 + i];
      const auto p = static_cast<size_t>(path_[i]);
      const size_t gp = i > 0 ? c.gold[t0 + i - 1] : 0;
      const size_t pp = i > 0 ? static_cast<size_t>(path_[i - 1]) : 0;
      if (g != p) {
        differs = true;
        for (uint32_t k = c.token_offsets[t0 + i]; k < c.token_offsets[t0 + i + 1]; ++k) {
          const size_t base = static_cast<size_t>(c.features[k]) * L_;
          bump(w_.data(), u_.data(), base + g, 1.0f);
          bump(w_.data(), u_.data(), base + p, -1.0f);
        }
      }
      if (i == 0) {
        if (g != p) {
          bump(start_w_.data(), start_u_.data(), g, 1.0f);
          bump(start_w_.data(), start_u_.data(), p, -1.0f);
        }
      } else if (g != p || gp != pp) {
        bump(trans_w_.data(), trans_u_.data(), gp * L_ + g, 1.0f);
        bump(trans_w_.data(), trans_u_.data(), pp * L_ + p, -1.0f);
      }
    }
    return differs;
  }

  const LabelSet& labels_;
  size_t L_;
  // weights and running sums for averaging (w_avg = w - u / c)
  std::vector<float> w_, u_, trans_w_, trans_u_, start_w_, start_u_;
  double c_ = 1;
  std::vector<float> em_, delta_;
  std::vector<int> back_, path_;
};

class Trainer {
 public:
  Trainer(const TrainOptions& options, LabelSet labels, const EpochCallback& on_epoch)
      : options_(options), labels_(std::move(labels)), L_(labels_.size()), on_epoch_(on_epoch) {}

  Result<std::unique_ptr<NerModel>> run(const std::vector<ConllSentence>& train,
                                        const std::vector<ConllSentence>& dev);

 private:
  size_t fold_count() const { return std::max<size_t>(options_.folds, 2); }
  std::vector<Example> make_examples(const std::vector<ConllSentence>& train);
  // The case-changed copies as the tagger reads uncased text: truecased (word_profiles.h) with
  // the profiles of the other folds.
  void recase_copies(std::vector<Example>& examples) const;
  void index_stage1(const std::vector<Example>& examples, IndexedCorpus& out, bool grow);
  // Forgets the features seen fewer than options_.min_feature_count times in `c` (the stage-1
  // training corpus, indexed first), renumbering the others.
  void drop_rare_features(IndexedCorpus& c);
  void index_stage2(const IndexedCorpus& stage1, const std::vector<std::vector<int>>& paths,
                    IndexedCorpus& out, bool grow);
  // Trains on the sentences for which `use` is true; keeps the best epoch on `dev` (if any).
  Weights train_stage(const std::string& phase, const IndexedCorpus& corpus,
                      const IndexedCorpus* dev, int epochs, uint64_t seed,
                      const std::function<bool(size_t)>& use, int* best_epoch);
  std::vector<int> decode(const IndexedCorpus& c, size_t s, const Weights& w);
  EvalReport score(const IndexedCorpus& c, const Weights& w);
  float calibrate_temperature(const IndexedCorpus& c, const Weights& w);
  void fill_stage(ModelStage& stage, const Weights& w, size_t features) const;

  const TrainOptions& options_;
  LabelSet labels_;
  size_t L_;
  const EpochCallback& on_epoch_;
  EntityGazetteer full_gazetteer_;
  std::vector<EntityGazetteer> fold_gazetteers_;
  std::unordered_map<uint64_t, uint32_t> full_profiles_;
  std::vector<std::unordered_map<uint64_t, uint32_t>> fold_profiles_;
  FeatureSpace space_;
  std::vector<float> em_, delta_;
  std::vector<int> back_;
};

std::vector<Example> Trainer::make_examples(const std::vector<ConllSentence>& train) {
  const std::vector<size_t> pieces = document_pieces(train);
  std::vector<Example> out;
  out.reserve(train.size() * 6 / 5);
  for (size_t i = 0; i < train.size(); ++i) {
    out.push_back(Example{train[i].words, &train[i], pieces[i], pieces[i] % fold_count()});
  }
  // case-changed copies of whole documents, as new documents after the originals
  Rng rng(options_.seed ^ 0xa11ce5eedULL);
  size_t next_document = pieces.empty() ? 0 : pieces.back() + 1;
  for (size_t first = 0; first < train.size();) {
    size_t last = first + 1;
    while (last < train.size() && pieces[last] == pieces[first]) ++last;
    const double r = rng.uniform();
    const bool lower = r < options_.lowercase_fraction;
    const bool upper = !lower && r < options_.lowercase_fraction + options_.uppercase_fraction;
    if (lower || upper) {
      for (size_t i = first; i < last; ++i) {
        Example e{{}, &train[i], next_document, pieces[i] % fold_count()};
        for (const std::string& w : train[i].words) {
          e.words.push_back(lower ? to_lower_utf8(w) : to_upper_utf8(w));
        }
        out.push_back(std::move(e));
      }
      ++next_document;
    }
    first = last;
  }
  return out;
}

void Trainer::recase_copies(std::vector<Example>& examples) const {
  for (Example& e : examples) {
    if (e.words == e.source->words) continue;
    for (size_t i = 0; i < e.words.size(); ++i) {
      e.words[i] = truecase(e.words[i], i == 0, fold_profiles_[e.fold]);
    }
  }
}

void Trainer::index_stage1(const std::vector<Example>& examples, IndexedCorpus& out, bool grow) {
  SentenceFeatures f;
  std::vector<std::string_view> words;
  for (const Example& e : examples) {
    words.assign(e.words.begin(), e.words.end());
    FeatureResources r;
    if (options_.gazetteer) r.gazetteer = grow ? &fold_gazetteers_[e.fold] : &full_gazetteer_;
    if (options_.word_profiles) {
      r.word_profiles = grow ? &fold_profiles_[e.fold] : &full_profiles_;
    }
    extract_features(words, r, f);
    for (size_t t = 0; t < words.size(); ++t) {
      for (uint32_t k = f.offsets[t]; k < f.offsets[t + 1]; ++k) {
        if (grow) {
          out.features.push_back(space_.intern(f.keys[k]));
        } else if (const int64_t id = space_.find(f.keys[k]); id >= 0) {
          out.features.push_back(static_cast<uint32_t>(id));
        }
      }
      out.token_offsets.push_back(static_cast<uint32_t>(out.features.size()));
    }
    const std::vector<uint8_t> gold = gold_labels(*e.source, labels_);
    out.gold.insert(out.gold.end(), gold.begin(), gold.end());
    out.sentence_offsets.push_back(static_cast<uint32_t>(out.gold.size()));
    out.document.push_back(e.document);
    out.fold.push_back(e.fold);
    out.source.push_back(e.source);
    out.word_keys.push_back(f.word_keys);
  }
}

void Trainer::drop_rare_features(IndexedCorpus& c) {
  if (options_.min_feature_count <= 1) return;
  std::vector<uint32_t> count(space_.size(), 0);
  for (uint32_t f : c.features) ++count[f];
  FeatureSpace kept;
  std::vector<int64_t> renumbered(space_.size(), -1);
  for (size_t id = 0; id < space_.size(); ++id) {
    if (count[id] >= options_.min_feature_count) renumbered[id] = kept.intern(space_.key(id));
  }
  std::vector<uint32_t> features;
  std::vector<uint32_t> token_offsets = {0};
  features.reserve(c.features.size());
  token_offsets.reserve(c.token_offsets.size());
  for (size_t t = 0; t + 1 < c.token_offsets.size(); ++t) {
    for (uint32_t k = c.token_offsets[t]; k < c.token_offsets[t + 1]; ++k) {
      if (const int64_t id = renumbered[c.features[k]]; id >= 0) {
        features.push_back(static_cast<uint32_t>(id));
      }
    }
    token_offsets.push_back(static_cast<uint32_t>(features.size()));
  }
  c.features = std::move(features);
  c.token_offsets = std::move(token_offsets);
  space_ = std::move(kept);
}

void Trainer::index_stage2(const IndexedCorpus& c1, const std::vector<std::vector<int>>& paths,
                           IndexedCorpus& out, bool grow) {
  out = IndexedCorpus{};
  out.gold = c1.gold;
  out.sentence_offsets = c1.sentence_offsets;
  out.document = c1.document;
  out.fold = c1.fold;
  out.source = c1.source;
  std::vector<SentenceFeatures> stacked;
  for (const auto& [first, last] : documents_of(c1)) {
    extract_stacked_features(labels_,
                             std::span(c1.word_keys.data() + first, last - first),
                             std::span(paths.data() + first, last - first), stacked);
    for (size_t s = first; s < last; ++s) {
      const SentenceFeatures& f = stacked[s - first];
      for (uint32_t t = c1.sentence_offsets[s]; t < c1.sentence_offsets[s + 1]; ++t) {
        out.features.insert(out.features.end(), c1.features.begin() + c1.token_offsets[t],
                            c1.features.begin() + c1.token_offsets[t + 1]);
        const size_t i = t - c1.sentence_offsets[s];
        for (uint32_t k = f.offsets[i]; k < f.offsets[i + 1]; ++k) {
          if (grow) {
            out.features.push_back(space_.intern(f.keys[k]));
          } else if (const int64_t id = space_.find(f.keys[k]); id >= 0) {
            out.features.push_back(static_cast<uint32_t>(id));
          }
        }
        out.token_offsets.push_back(static_cast<uint32_t>(out.features.size()));
      }
    }
  }
}

std::vector<int> Trainer::decode(const IndexedCorpus& c, size_t s, const Weights& w) {
  std::vector<int> path;
  const size_t len = c.length(s);
  em_.assign(len * L_, 0.0f);
  for (uint32_t t = c.sentence_offsets[s]; t < c.sentence_offsets[s + 1]; ++t) {
    float* e = &em_[static_cast<size_t>(t - c.sentence_offsets[s]) * L_];
    for (uint32_t k = c.token_offsets[t]; k < c.token_offsets[t + 1]; ++k) {
      const size_t base = static_cast<size_t>(c.features[k]) * L_;
      if (base >= w.w.size()) continue;  // a feature the weights do not know yet
      for (size_t l = 0; l < L_; ++l) e[l] += w.w[base + l];
    }
  }
  viterbi(labels_, em_.data(), len, w.trans.data(), w.start.data(), path, delta_, back_);
  return path;
}

EvalReport Trainer::score(const IndexedCorpus& c, const Weights& w) {
  ChunkScorer scorer;
  std::vector<std::string> predicted;
  for (size_t s = 0; s < c.sentences(); ++s) {
    predicted.clear();
    for (int p : decode(c, s, w)) predicted.push_back(labels_.name(static_cast<size_t>(p)));
    scorer.add(c.source[s]->tags, predicted);
  }
  return scorer.report(c.sentences());
}

Weights Trainer::train_stage(const std::string& phase, const IndexedCorpus& corpus,
                             const IndexedCorpus* dev, int epochs, uint64_t seed,
                             const std::function<bool(size_t)>& use, int* best_epoch) {
  Perceptron p(labels_, space_.size());
  std::vector<size_t> order;
  for (size_t s = 0; s < corpus.sentences(); ++s) {
    if (use(s)) order.push_back(s);
  }
  Rng rng(seed);
  Weights best;
  double best_f1 = -1;
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    for (size_t i = order.size(); i > 1; --i) std::swap(order[i - 1], order[rng.below(i)]);
    EpochReport report;
    report.phase = phase;
    report.epoch = epoch;
    report.sentences = order.size();
    report.sentences_wrong = p.epoch(corpus, order);
    if (dev != nullptr) {
      Weights avg = p.averaged();
      report.dev = score(*dev, avg);
      if (report.dev->f1 > best_f1) {
        best_f1 = report.dev->f1;
        best = std::move(avg);
        if (best_epoch != nullptr) *best_epoch = epoch;
      }
    } else if (epoch == epochs) {
      best = p.averaged();
      if (best_epoch != nullptr) *best_epoch = epoch;
    }
    report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (on_epoch_) on_epoch_(report);
  }
  return best;
}

// The softmax temperature whose span-token confidences best match how often those tokens are
// right (least squared error), on up to 3000 sentences.
float Trainer::calibrate_temperature(const IndexedCorpus& c, const Weights& w) {
  const size_t n = std::min<size_t>(c.sentences(), 3000);
  struct Decoded {
    std::vector<float> em;
    std::vector<int> path;
    size_t first;
  };
  std::vector<Decoded> kept;
  for (size_t s = 0; s < n; ++s) {
    std::vector<int> path = decode(c, s, w);
    if (std::any_of(path.begin(), path.end(), [](int p) { return p != 0; })) {
      kept.push_back({em_, std::move(path), c.sentence_offsets[s]});
    }
  }
  float best_t = 1.0f;
  double best_err = -1;
  for (float t = 0.25f; t <= 256.0f; t *= 1.41421356f) {
    double err = 0;
    for (const Decoded& d : kept) {
      const std::vector<float> conf = path_confidence(labels_, d.em.data(), d.path.size(),
                                                      w.trans.data(), w.start.data(), d.path, t);
      for (size_t i = 0; i < d.path.size(); ++i) {
        if (d.path[i] == 0) continue;
        const double right = c.gold[d.first + i] == d.path[i] ? 1.0 : 0.0;
        err += (conf[i] - right) * (conf[i] - right);
      }
    }
    if (best_err < 0 || err < best_err) {
      best_err = err;
      best_t = t;
    }
  }
  return best_t;
}

void Trainer::fill_stage(ModelStage& stage, const Weights& w, size_t features) const {
  stage.transitions = w.trans;
  stage.start = w.start;
  stage.weights = WeightTable(L_);
  auto nonzero = [&](size_t f) {
    const float* row = &w.w[f * L_];
    return std::any_of(row, row + L_, [](float x) { return x != 0.0f; });
  };
  size_t rows = 0;
  for (size_t f = 0; f < features; ++f) rows += nonzero(f) ? 1 : 0;
  stage.weights.reserve(rows);
  for (size_t f = 0; f < features; ++f) {
    if (!nonzero(f)) continue;
    std::copy(&w.w[f * L_], &w.w[f * L_] + L_, stage.weights.insert(space_.key(f)));
  }
}

Result<std::unique_ptr<NerModel>> Trainer::run(const std::vector<ConllSentence>& train,
                                               const std::vector<ConllSentence>& dev) {
  std::vector<Example> examples = make_examples(train);
  if (options_.gazetteer) {
    fold_gazetteers_.assign(fold_count(), EntityGazetteer{});
    for (const Example& e : examples) {
      if (e.words != e.source->words) continue;  // a case-changed copy
      add_entities(*e.source, labels_, full_gazetteer_);
      for (size_t f = 0; f < fold_count(); ++f) {
        if (f != e.fold) add_entities(*e.source, labels_, fold_gazetteers_[f]);
      }
    }
  }

  if (options_.word_profiles) {
    WordProfileCounter all;
    std::vector<WordProfileCounter> folds(fold_count());
    for (const Example& e : examples) {
      if (e.words != e.source->words) continue;  // a case-changed copy
      all.add_sentence(e.words);
      for (size_t f = 0; f < fold_count(); ++f) {
        if (f != e.fold) folds[f].add_sentence(e.words);
      }
    }
    full_profiles_ = all.build();
    for (const WordProfileCounter& c : folds) fold_profiles_.push_back(c.build());
  }

  if (options_.word_profiles) recase_copies(examples);

  IndexedCorpus train1, dev1;
  index_stage1(examples, train1, true);
  drop_rare_features(train1);
  const size_t stage1_features = space_.size();
  if (!dev.empty()) {
    const std::vector<size_t> pieces = document_pieces(dev);
    std::vector<Example> dev_examples;
    for (size_t i = 0; i < dev.size(); ++i) {
      dev_examples.push_back(Example{dev[i].words, &dev[i], pieces[i], 0});
    }
    index_stage1(dev_examples, dev1, false);
  }
  const IndexedCorpus* dev1_ptr = dev.empty() ? nullptr : &dev1;
  auto all = [](size_t) { return true; };

  int epochs1 = options_.epochs;
  Weights stage1 = train_stage("stage 1", train1, dev1_ptr, options_.epochs, options_.seed, all,
                               &epochs1);
  Weights last = stage1;
  const IndexedCorpus* calibration = dev.empty() ? &train1 : &dev1;

  IndexedCorpus train2, dev2;
  Weights stage2;
  if (options_.stacking) {
    // stage-1 labels of each fold from a model that did not see it
    std::vector<std::vector<int>> oof(train1.sentences());
    for (size_t k = 0; k < fold_count(); ++k) {
      const Weights w = train_stage(fmt::format("fold {}/{}", k + 1, fold_count()), train1,
                                    nullptr, epochs1, options_.seed + 1 + k,
                                    [&](size_t s) { return train1.fold[s] != k; }, nullptr);
      for (size_t s = 0; s < train1.sentences(); ++s) {
        if (train1.fold[s] == k) oof[s] = decode(train1, s, w);
      }
    }
    index_stage2(train1, oof, train2, true);
    if (!dev.empty()) {
      std::vector<std::vector<int>> dev_paths(dev1.sentences());
      for (size_t s = 0; s < dev1.sentences(); ++s) dev_paths[s] = decode(dev1, s, stage1);
      index_stage2(dev1, dev_paths, dev2, false);
    }
    stage2 = train_stage("stage 2", train2, dev.empty() ? nullptr : &dev2, options_.epochs,
                         options_.seed + 100, all, nullptr);
    last = stage2;
    calibration = dev.empty() ? &train2 : &dev2;
  }
  if (last.w.empty()) return make_error(ErrorCode::kInternal, "training kept no epoch");

  auto data = std::make_unique<ModelData>();
  data->language = options_.language;
  data->labels = labels_;
  data->description = options_.description;
  data->temperature = calibrate_temperature(*calibration, last);
  fill_stage(data->stages.emplace_back(), stage1, stage1_features);
  if (options_.stacking) fill_stage(data->stages.emplace_back(), stage2, space_.size());
  if (options_.gazetteer) data->gazetteer = full_gazetteer_;
  if (options_.word_profiles) data->word_profiles = full_profiles_;
  // the model as it will be stored: pruned and quantised
  auto stored = decode_model(encode_model(*data, ModelEncodeOptions{options_.prune_below}));
  if (!stored) return std::unexpected(stored.error());
  return std::make_unique<NerModel>(std::move(*stored));
}

}  // namespace

Result<std::unique_ptr<NerModel>> train_model(const std::vector<ConllSentence>& train,
                                              const std::vector<ConllSentence>& dev,
                                              const TrainOptions& options,
                                              const EpochCallback& on_epoch) {
  if (options.language.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "the model's language is required");
  }
  if (train.empty()) return make_error(ErrorCode::kInvalidArgument, "no training sentences");
  if (options.epochs < 1) return make_error(ErrorCode::kInvalidArgument, "epochs must be >= 1");
  std::string error;
  LabelSet labels = make_labels(train, error);
  if (!error.empty()) return make_error(ErrorCode::kInvalidArgument, error);
  if (labels.size() < 3) {
    return make_error(ErrorCode::kInvalidArgument, "the training data has no entities");
  }
  Trainer trainer(options, std::move(labels), on_epoch);
  return trainer.run(train, dev);
}

}  // namespace aimara::nlp
