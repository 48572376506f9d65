#include "nlp/patterns.h"

#include <gtest/gtest.h>

#include <chrono>

namespace aimara::nlp {
namespace {

PatternSet compile(std::vector<PatternSpec> specs, PatternLimits limits = {}) {
  auto set = PatternSet::compile(std::move(specs), limits);
  EXPECT_TRUE(set.has_value()) << set.error().to_string();
  return std::move(*set);
}

std::string span(std::string_view text, const PatternMatch& m) {
  return std::string(text.substr(m.begin, m.end - m.begin));
}

TEST(PatternSet, CaselessUnicodeMatchesWithCanonicalTemplate) {
  PatternSet set =
      compile({{"PROGRAM", "programa\\s+(?:número\\s+)?(?<num>\\d+)", "Programa ${num}"}});
  const std::string text = "En el PROGRAMA 548 y en el programa número 12 hablamos.";
  PatternScan scan = set.find(text);
  EXPECT_TRUE(scan.failures.empty());
  ASSERT_EQ(scan.matches.size(), 2u);
  EXPECT_EQ(span(text, scan.matches[0]), "PROGRAMA 548");
  EXPECT_EQ(scan.matches[0].canonical, "Programa 548");
  EXPECT_EQ(span(text, scan.matches[1]), "programa número 12");
  EXPECT_EQ(scan.matches[1].canonical, "Programa 12");
}

TEST(PatternSet, WholeMatchIsTheDefaultCanonicalAndGroupsExpand) {
  PatternSet set = compile({{"CODE", "([A-Z]+)-(\\d+)", "$2/$1 $$"}, {"WORD", "hola"}});
  PatternScan scan = set.find("Ref AB-12, Hola");
  ASSERT_EQ(scan.matches.size(), 2u);
  EXPECT_EQ(scan.matches[0].canonical, "12/AB $");
  EXPECT_EQ(scan.matches[1].canonical, "Hola");
  EXPECT_EQ(scan.matches[1].pattern, 1u);
}

TEST(PatternSet, MatchesMustSitOnWordBoundaries) {
  PatternSet set = compile({{"PROGRAM", "programa\\s+\\d+"}});
  const std::string text = "el subprograma 5, el programa 77b y el programa 9.";
  PatternScan scan = set.find(text);
  ASSERT_EQ(scan.matches.size(), 1u);
  EXPECT_EQ(span(text, scan.matches[0]), "programa 9");
}

TEST(PatternSet, FoldedPatternsIgnoreAccentsAndMapBack) {
  PatternSpec spec{"COUNTRY", "peru|estados unidos"};
  spec.fold = true;
  PatternSet set = compile({spec});
  const std::string text = "De PERÚ a Estados Unidos";
  PatternScan scan = set.find(text);
  ASSERT_EQ(scan.matches.size(), 2u);
  EXPECT_EQ(span(text, scan.matches[0]), "PERÚ");
  EXPECT_EQ(scan.matches[0].canonical, "PERÚ");
  EXPECT_EQ(span(text, scan.matches[1]), "Estados Unidos");
}

TEST(PatternSet, CaseSensitiveWhenAsked) {
  PatternSpec spec{"NAME", "\\p{Lu}\\p{Ll}+\\s+\\p{Lu}\\p{Ll}+"};
  spec.caseless = false;
  PatternSet set = compile({spec});
  const std::string text = "dijo Julián Virrueta y otros dijeron cosas";
  PatternScan scan = set.find(text);
  ASSERT_EQ(scan.matches.size(), 1u);
  EXPECT_EQ(span(text, scan.matches[0]), "Julián Virrueta");
}

TEST(PatternSet, BadRegexNamesThePattern) {
  auto set = PatternSet::compile({{"OK", "fine"}, {"BROKEN", "programa\\s+(\\d+"}});
  ASSERT_FALSE(set.has_value());
  EXPECT_EQ(set.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(set.error().message.find("'BROKEN'"), std::string::npos) << set.error().message;
  EXPECT_NE(set.error().message.find("programa\\s+(\\d+"), std::string::npos);
  EXPECT_NE(set.error().message.find("offset"), std::string::npos);
}

TEST(PatternSet, TemplateNamingAMissingGroupIsAnError) {
  auto set = PatternSet::compile({{"P", "programa\\s+(?<num>\\d+)", "Programa ${number}"}});
  ASSERT_FALSE(set.has_value());
  EXPECT_NE(set.error().message.find("'number'"), std::string::npos) << set.error().message;
}

TEST(PatternSet, CatastrophicBacktrackingGivesUpQuickly) {
  PatternSet set = compile({{"BAD", "(a+)+$"}, {"GOOD", "hola"}}, {.match_limit = 100'000});
  const std::string text = "hola " + std::string(40, 'a') + "!";
  auto start = std::chrono::steady_clock::now();
  PatternScan scan = set.find(text);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_LT(elapsed, std::chrono::seconds(2));  // 2^40 steps unbounded: hours
  ASSERT_EQ(scan.failures.size(), 1u);
  EXPECT_EQ(scan.failures[0].pattern, 0u);
  EXPECT_NE(scan.failures[0].error.message.find("'BAD'"), std::string::npos);
  // The other pattern still matched.
  ASSERT_EQ(scan.matches.size(), 1u);
  EXPECT_EQ(scan.matches[0].pattern, 1u);
}

TEST(PatternSet, DefaultLimitsAlsoStopCatastrophicBacktracking) {
  PatternSet set = compile({{"BAD", "(\\w+\\s?)*$"}});
  const std::string text = std::string(5000, 'x') + " y " + std::string(30, 'z') + "!";
  auto start = std::chrono::steady_clock::now();
  PatternScan scan = set.find(text);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_TRUE(scan.matches.empty());
}

TEST(PatternSet, EmptyMatchesAndBrokenUtf8AreHandled) {
  PatternSet set = compile({{"ANY", "x*"}, {"WORD", "caf\\w"}});
  const std::string text = "ab \xC3 café \xFF\xFE";
  PatternScan scan = set.find(text);
  EXPECT_TRUE(scan.failures.empty());
  ASSERT_EQ(scan.matches.size(), 1u);
  EXPECT_EQ(span(text, scan.matches[0]), "café");
}

}  // namespace
}  // namespace aimara::nlp
