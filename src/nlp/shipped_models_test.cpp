// The shipped taggers (models/ner-<lang>.bin) on the full dev sets: the figures models/README.md
// states (well under a second). Tokens per second is printed, never asserted.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <ostream>
#include <string>

#include "nlp/conll.h"
#include "nlp/evaluation.h"
#include "nlp/tagger.h"

namespace aimara::nlp {
namespace {

namespace fs = std::filesystem;

struct DevSet {
  const char* language;
  const char* file;   // under ../shared/ner
  double min_f1;      // entity-level, conlleval exact match
};

// Names the ctest cases ".../es", ".../en" instead of the parameter's bytes.
void PrintTo(const DevSet& d, std::ostream* os) { *os << d.language; }

class ShippedModelOnDevSet : public ::testing::TestWithParam<DevSet> {};

TEST_P(ShippedModelOnDevSet, ReachesItsTargetF1) {
  const DevSet& d = GetParam();
  const fs::path dev_file = fs::path(AIMARA_SHARED_DIR) / "ner" / d.file;
  ASSERT_TRUE(fs::exists(dev_file)) << "dev set missing: " << dev_file;
  auto path = find_shipped_model(d.language);
  ASSERT_TRUE(path.has_value()) << path.error().to_string();
  auto model = NerModel::load(*path);
  ASSERT_TRUE(model.has_value()) << model.error().to_string();
  auto dev = read_conll(dev_file);
  ASSERT_TRUE(dev.has_value()) << dev.error().to_string();

  const EvalReport r = evaluate(**model, *dev);
  std::printf("%s on %s: P %.4f R %.4f F1 %.4f, %zu tokens, %.0f tokens/s (one thread)\n",
              path->string().c_str(), d.file, r.precision, r.recall, r.f1, r.tokens,
              r.tokens_per_second);
  EXPECT_GE(r.f1, d.min_f1);
  EXPECT_GT(r.tokens, 50000u);  // the whole dev set was read
}

INSTANTIATE_TEST_SUITE_P(Dev, ShippedModelOnDevSet,
                         ::testing::Values(DevSet{"es", "es/esp.testa", 0.80},
                                           DevSet{"en", "en/eng.testa", 0.85}),
                         [](const auto& info) { return std::string(info.param.language); });

}  // namespace
}  // namespace aimara::nlp
