// Entity-level evaluation with the conlleval definition: a predicted entity counts only when a
// gold entity has exactly the same first word, last word and type. Chunk boundaries follow
// conlleval's rules, so IOB1 and IOB2 tag sequences are both read correctly.
//
//   precision = correct / predicted, recall = correct / gold, F1 = 2PR / (P + R)  (0 when empty)
//
// evaluate() tags the sentences of each document together (as NerModel::tag_document) and times
// the tagger for tokens per second on one core: the calling thread's CPU time (features and
// decoding), so other busy processes on the machine do not distort the figure.
// Thread-safety: ChunkScorer is used by one thread; evaluate() only reads the model.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "nlp/conll.h"

namespace aimara::nlp {

class NerModel;

struct Chunk {
  size_t begin = 0;  // first word
  size_t end = 0;    // one past the last word
  std::string type;
  bool operator==(const Chunk&) const = default;
};

// The entities in a tag sequence (IOB1, IOB2 or IO), conlleval's way.
std::vector<Chunk> extract_chunks(const std::vector<std::string>& tags);

struct ChunkCounts {
  size_t gold = 0;
  size_t predicted = 0;
  size_t correct = 0;
  double precision() const;
  double recall() const;
  double f1() const;
};

struct EvalReport;

class ChunkScorer {
 public:
  // One sentence; gold and predicted must have the same length (extra tags are ignored).
  void add(const std::vector<std::string>& gold, const std::vector<std::string>& predicted);
  const ChunkCounts& total() const { return total_; }
  const std::map<std::string, ChunkCounts>& by_type() const { return by_type_; }
  size_t tokens() const { return tokens_; }
  size_t correct_tags() const { return correct_tags_; }
  // The scores so far, for `sentences` sentences (no timing).
  EvalReport report(size_t sentences) const;

 private:
  ChunkCounts total_;
  std::map<std::string, ChunkCounts> by_type_;
  size_t tokens_ = 0;
  size_t correct_tags_ = 0;
};

struct EvalReport {
  double precision = 0;
  double recall = 0;
  double f1 = 0;
  double tokens_per_second = 0;
  double token_accuracy = 0;
  size_t sentences = 0;
  size_t tokens = 0;
  double seconds = 0;  // CPU seconds spent tagging (one thread)
  ChunkCounts total;
  std::map<std::string, ChunkCounts> by_type;
};

// Tags every sentence with `model` and scores it against the gold tags.
EvalReport evaluate(const NerModel& model, const std::vector<ConllSentence>& sentences);

// Scores predictions already made (one tag vector per sentence).
EvalReport score(const std::vector<ConllSentence>& sentences,
                 const std::vector<std::vector<std::string>>& predicted);

}  // namespace aimara::nlp
