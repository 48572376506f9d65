#include "nlp/evaluation.h"

#include <time.h>

#include <iterator>
#include <set>
#include <string_view>
#include <tuple>

#include "nlp/tagger.h"

namespace aimara::nlp {

namespace {

struct Parsed {
  char prefix;  // 'B', 'I' or 'O'
  std::string_view type;
};

Parsed parse(const std::string& tag) {
  if (tag.size() >= 2 && tag[1] == '-') return {tag[0], std::string_view(tag).substr(2)};
  return {'O', {}};
}

// conlleval's endOfChunk / startOfChunk for B, I and O.
bool end_of_chunk(Parsed prev, Parsed cur) {
  if (prev.prefix == 'B' && (cur.prefix == 'B' || cur.prefix == 'O')) return true;
  if (prev.prefix == 'I' && (cur.prefix == 'B' || cur.prefix == 'O')) return true;
  return prev.prefix != 'O' && prev.type != cur.type;
}

bool start_of_chunk(Parsed prev, Parsed cur) {
  if (cur.prefix == 'B') return true;
  if (prev.prefix == 'O' && cur.prefix == 'I') return true;
  return cur.prefix != 'O' && prev.type != cur.type;
}

}  // namespace

std::vector<Chunk> extract_chunks(const std::vector<std::string>& tags) {
  std::vector<Chunk> chunks;
  Parsed prev{'O', {}};
  bool open = false;
  Chunk current;
  for (size_t i = 0; i <= tags.size(); ++i) {
    const Parsed cur = i < tags.size() ? parse(tags[i]) : Parsed{'O', {}};
    if (open && end_of_chunk(prev, cur)) {
      current.end = i;
      chunks.push_back(current);
      open = false;
    }
    if (i < tags.size() && start_of_chunk(prev, cur)) {
      current = Chunk{i, i, std::string(cur.type)};
      open = true;
    }
    prev = cur;
  }
  return chunks;
}

double ChunkCounts::precision() const {
  return predicted == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(predicted);
}
double ChunkCounts::recall() const {
  return gold == 0 ? 0.0 : static_cast<double>(correct) / static_cast<double>(gold);
}
double ChunkCounts::f1() const {
  const double p = precision(), r = recall();
  return p + r == 0 ? 0.0 : 2 * p * r / (p + r);
}

void ChunkScorer::add(const std::vector<std::string>& gold,
                      const std::vector<std::string>& predicted) {
  const size_t n = std::min(gold.size(), predicted.size());
  tokens_ += n;
  for (size_t i = 0; i < n; ++i) correct_tags_ += gold[i] == predicted[i] ? 1 : 0;
  const std::vector<Chunk> g = extract_chunks(
      n == gold.size() ? gold : std::vector<std::string>(gold.begin(), gold.begin() + static_cast<ptrdiff_t>(n)));
  const std::vector<Chunk> p = extract_chunks(
      n == predicted.size()
          ? predicted
          : std::vector<std::string>(predicted.begin(), predicted.begin() + static_cast<ptrdiff_t>(n)));
  std::set<std::tuple<size_t, size_t, std::string>> gold_set;
  for (const Chunk& c : g) {
    gold_set.emplace(c.begin, c.end, c.type);
    ++total_.gold;
    ++by_type_[c.type].gold;
  }
  for (const Chunk& c : p) {
    ++total_.predicted;
    ChunkCounts& t = by_type_[c.type];
    ++t.predicted;
    if (gold_set.count({c.begin, c.end, c.type}) != 0) {
      ++total_.correct;
      ++t.correct;
    }
  }
}

namespace {

// CPU time of the calling thread: tagging speed on one core, undisturbed by other processes.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

}  // namespace

EvalReport ChunkScorer::report(size_t sentences) const {
  EvalReport r;
  r.total = total_;
  r.by_type = by_type_;
  r.precision = r.total.precision();
  r.recall = r.total.recall();
  r.f1 = r.total.f1();
  r.sentences = sentences;
  r.tokens = tokens_;
  r.token_accuracy =
      tokens_ == 0 ? 0.0 : static_cast<double>(correct_tags_) / static_cast<double>(tokens_);
  return r;
}

EvalReport score(const std::vector<ConllSentence>& sentences,
                 const std::vector<std::vector<std::string>>& predicted) {
  ChunkScorer scorer;
  for (size_t i = 0; i < sentences.size() && i < predicted.size(); ++i) {
    scorer.add(sentences[i].tags, predicted[i]);
  }
  return scorer.report(sentences.size());
}

EvalReport evaluate(const NerModel& model, const std::vector<ConllSentence>& sentences) {
  std::vector<std::vector<std::string>> predicted;
  predicted.reserve(sentences.size());
  std::vector<std::vector<std::string>> document;
  double seconds = 0;
  // Sentences of one document are tagged together, as the model was trained.
  for (size_t first = 0; first < sentences.size();) {
    size_t last = first + 1;
    while (last < sentences.size() && sentences[last].document == sentences[first].document) ++last;
    document.clear();
    for (size_t i = first; i < last; ++i) document.push_back(sentences[i].words);
    const double t0 = thread_cpu_seconds();
    std::vector<std::vector<std::string>> tags = model.tag_document(document);
    seconds += thread_cpu_seconds() - t0;
    std::move(tags.begin(), tags.end(), std::back_inserter(predicted));
    first = last;
  }
  EvalReport r = score(sentences, predicted);
  r.seconds = seconds;
  r.tokens_per_second = seconds > 0 ? static_cast<double>(r.tokens) / seconds : 0.0;
  return r;
}

}  // namespace aimara::nlp
