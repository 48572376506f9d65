// `aimara ner train|eval|tag`: train the statistical entity tagger on CoNLL files, score it
// (entity-level P/R/F1, tokens per second) and try it on text. The work is in nlp/.
#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <iostream>
#include <iterator>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "nlp/conll.h"
#include "nlp/evaluation.h"
#include "nlp/model_data.h"
#include "nlp/tagger.h"
#include "nlp/trainer.h"

namespace aimara::cli {

namespace {

struct NerTrainArgs {
  std::string language;
  std::vector<std::string> train_files;
  std::string dev_file;
  std::string output;
  nlp::TrainOptions options;
};

struct NerEvalArgs {
  std::string language;
  std::string file;
  std::string model;
  bool json = false;
};

struct NerTagArgs {
  std::string language;
  std::string model;
  std::vector<std::string> text;
};

int fail(std::string_view what, const Error& e) {
  fmt::print(stderr, "aimara ner {}: {}\n", what, e.to_string());
  return exit_code_for(e.code);
}

Result<std::vector<nlp::ConllSentence>> read_all(const std::vector<std::string>& files) {
  std::vector<nlp::ConllSentence> all;
  for (const std::string& f : files) {
    auto s = nlp::read_conll(f);
    if (!s) return std::unexpected(s.error());
    std::move(s->begin(), s->end(), std::back_inserter(all));
  }
  return all;
}

Result<std::unique_ptr<nlp::NerModel>> load_model(const std::string& model,
                                                  const std::string& language) {
  std::filesystem::path path = model;
  if (path.empty()) {
    auto found = nlp::find_shipped_model(language);
    if (!found) return std::unexpected(found.error());
    path = *found;
  }
  auto m = nlp::NerModel::load(path);
  if (m && (*m)->language() != language) {
    fmt::print(stderr, "aimara ner: warning: model '{}' is for language '{}', not '{}'\n",
               path.string(), (*m)->language(), language);
  }
  return m;
}

int run_train(NerTrainArgs& a) {
  auto train = read_all(a.train_files);
  if (!train) return fail("train", train.error());
  std::vector<nlp::ConllSentence> dev;
  if (!a.dev_file.empty()) {
    auto d = nlp::read_conll(a.dev_file);
    if (!d) return fail("train", d.error());
    dev = std::move(*d);
  }
  size_t tokens = 0;
  for (const auto& s : *train) tokens += s.words.size();
  fmt::print("training '{}' on {} sentences ({} tokens){}\n", a.language, train->size(), tokens,
             dev.empty() ? "" : fmt::format(", dev {} sentences", dev.size()));

  std::string files;
  for (const std::string& f : a.train_files) {
    files += (files.empty() ? "" : " + ") + std::filesystem::path(f).filename().string();
  }
  // the best dev epoch of each phase that is scored ("stage 1", "stage 2"), in phase order
  std::vector<std::pair<std::string, std::pair<int, double>>> best;
  auto on_epoch = [&](const nlp::EpochReport& r) {
    std::string dev_text;
    if (r.dev) {
      dev_text = fmt::format("  dev P {:.4f} R {:.4f} F1 {:.4f}", r.dev->precision,
                             r.dev->recall, r.dev->f1);
      auto it = std::find_if(best.begin(), best.end(),
                             [&](const auto& b) { return b.first == r.phase; });
      if (it == best.end()) {
        best.emplace_back(r.phase, std::pair{r.epoch, r.dev->f1});
      } else if (r.dev->f1 > it->second.second) {
        it->second = {r.epoch, r.dev->f1};
      }
    }
    fmt::print("{:>8} epoch {:2}/{}: {:5} of {} sentences updated{}  ({:.1f}s)\n", r.phase,
               r.epoch, a.options.epochs, r.sentences_wrong, r.sentences, dev_text, r.seconds);
    std::fflush(stdout);
  };
  a.options.language = a.language;
  a.options.description = fmt::format(
      "aimara ner train --lang {} on {} ({} sentences, {} tokens), {} epochs, seed {}, "
      "lowercase {:.2f}, uppercase {:.2f}, min count {}, prune {:.3f}",
      a.language, files, train->size(), tokens, a.options.epochs, a.options.seed,
      a.options.lowercase_fraction, a.options.uppercase_fraction, a.options.min_feature_count,
      a.options.prune_below);
  auto model = nlp::train_model(*train, dev, a.options, on_epoch);
  if (!model) return fail("train", model.error());
  for (const auto& [phase, kept] : best) {
    fmt::print("{}: kept epoch {} (dev F1 {:.4f})\n", phase, kept.first, kept.second);
  }
  if (auto saved = (*model)->save(a.output); !saved) return fail("train", saved.error());
  std::error_code ec;
  fmt::print("wrote {} ({:.2f} MB, {} weight rows, {} gazetteer names)\n", a.output,
             static_cast<double>(std::filesystem::file_size(a.output, ec)) / 1e6,
             (*model)->feature_rows((*model)->data().stages.size() - 1),
             (*model)->data().gazetteer.size());
  if (!dev.empty()) {
    const nlp::EvalReport r = nlp::evaluate(**model, dev);
    fmt::print("saved model on dev: P {:.4f} R {:.4f} F1 {:.4f}, {:.0f} tokens/s\n", r.precision,
               r.recall, r.f1, r.tokens_per_second);
  }
  return 0;
}

int run_eval(const NerEvalArgs& a) {
  auto model = load_model(a.model, a.language);
  if (!model) return fail("eval", model.error());
  auto data = nlp::read_conll(a.file);
  if (!data) return fail("eval", data.error());
  const nlp::EvalReport r = nlp::evaluate(**model, *data);
  if (a.json) {
    fmt::print("{{\"precision\": {:.6f}, \"recall\": {:.6f}, \"f1\": {:.6f}, "
               "\"tokens_per_second\": {:.1f}}}\n",
               r.precision, r.recall, r.f1, r.tokens_per_second);
    return 0;
  }
  fmt::print("{} sentences, {} tokens, {} entities ({} predicted, {} correct)\n", r.sentences,
             r.tokens, r.total.gold, r.total.predicted, r.total.correct);
  fmt::print("precision {:.4f}  recall {:.4f}  F1 {:.4f}  token accuracy {:.4f}\n", r.precision,
             r.recall, r.f1, r.token_accuracy);
  for (const auto& [type, c] : r.by_type) {
    fmt::print("  {:5} precision {:.4f}  recall {:.4f}  F1 {:.4f}  ({} gold)\n", type,
               c.precision(), c.recall(), c.f1(), c.gold);
  }
  fmt::print("{:.0f} tokens per second ({:.3f}s, one thread)\n", r.tokens_per_second, r.seconds);
  return 0;
}

int run_tag(const NerTagArgs& a) {
  auto model = load_model(a.model, a.language);
  if (!model) return fail("tag", model.error());
  std::string text;
  if (a.text.empty()) {
    text.assign(std::istreambuf_iterator<char>(std::cin), std::istreambuf_iterator<char>());
  } else {
    for (const std::string& t : a.text) text += (text.empty() ? "" : " ") + t;
  }
  for (const nlp::EntitySpan& e : (*model)->tag(text)) {
    fmt::print("{}\t{:.3f}\t{}\t{}-{}\n", e.type, e.score, e.text, e.begin, e.end);
  }
  return 0;
}

}  // namespace

Command add_ner_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand(
      "ner", "Train, evaluate and try the statistical entity tagger (PER, ORG, LOC, MISC).");
  sub->require_subcommand(1);

  auto train = std::make_shared<NerTrainArgs>();
  CLI::App* t = sub->add_subcommand(
      "train", "Train a tagger on CoNLL files (IOB1/IOB2/IO tags, with or without POS columns).");
  t->add_option("--lang", train->language, "Language code stored in the model (es, en, ...)")
      ->required();
  t->add_option("--train", train->train_files, "Training file (repeat for several)")
      ->required()
      ->check(CLI::ExistingFile);
  t->add_option("--dev", train->dev_file, "Dev file: scores each epoch and keeps the best")
      ->check(CLI::ExistingFile);
  t->add_option("--epochs", train->options.epochs, "Passes over the training data")
      ->check(CLI::Range(1, 200))
      ->capture_default_str();
  t->add_option("--seed", train->options.seed, "Seed of the shuffles and augmentation")
      ->capture_default_str();
  t->add_option("--lowercase-fraction", train->options.lowercase_fraction,
                "Share of sentences added again lowercased (transcripts lose casing)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  t->add_option("--uppercase-fraction", train->options.uppercase_fraction,
                "Share of sentences added again uppercased")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  t->add_option("--min-count", train->options.min_feature_count,
                "Drop features seen fewer times in training")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  t->add_option("--prune", train->options.prune_below,
                "Drop weights below this share of the largest (smaller file)")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  t->add_flag("--no-gazetteer", [train](int64_t) { train->options.gazetteer = false; },
              "Do not use gazetteer features");
  t->add_option("-o,--output", train->output, "Model file to write")->required();

  auto eval = std::make_shared<NerEvalArgs>();
  CLI::App* e = sub->add_subcommand(
      "eval", "Entity-level precision, recall and F1 (conlleval) and tokens per second.");
  e->add_option("--lang", eval->language, "Language (chooses the shipped model)")->required();
  e->add_option("file", eval->file, "CoNLL file with gold tags")
      ->required()
      ->check(CLI::ExistingFile);
  e->add_option("--model", eval->model, "Model file (default: the shipped ner-<lang>.bin)");
  e->add_flag("--json", eval->json,
              "One JSON object {precision, recall, f1, tokens_per_second}");

  auto tag = std::make_shared<NerTagArgs>();
  CLI::App* g = sub->add_subcommand(
      "tag", "Print the entities of a text (arguments, or standard input): type, score, text, "
             "byte offsets.");
  g->add_option("--lang", tag->language, "Language (chooses the shipped model)")->required();
  g->add_option("--model", tag->model, "Model file (default: the shipped ner-<lang>.bin)");
  g->add_option("text", tag->text, "Text to tag (default: standard input)");

  return Command{sub, [=] {
                   if (t->parsed()) return run_train(*train);
                   if (e->parsed()) return run_eval(*eval);
                   return run_tag(*tag);
                 }};
}

}  // namespace aimara::cli
