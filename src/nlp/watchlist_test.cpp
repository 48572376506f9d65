#include "nlp/watchlist.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>

#include "core/fs.h"

namespace aimara::nlp {
namespace {

std::string span(std::string_view text, const PhraseMatch& m) {
  return std::string(text.substr(m.begin, m.end - m.begin));
}

Watchlist build(std::vector<WatchlistEntry> entries) {
  auto w = Watchlist::build(std::move(entries));
  EXPECT_TRUE(w.has_value()) << w.error().to_string();
  return std::move(*w);
}

constexpr std::string_view kJson = R"({
  "entities": [
    {"name": "Nicolás Maduro", "label": "PERSON", "aliases": ["Maduro", "presidente Maduro"]},
    {"name": "MUD", "label": "ORGANIZATION", "case_sensitive": true,
     "names": {"en": "Democratic Unity Roundtable"}}
  ],
  "patterns": [{"label": "PROGRAM", "regex": "programa\\s+\\d+"}]
})";

constexpr std::string_view kYaml = R"(# the same watchlist in YAML
entities:
  - name: Nicolás Maduro   # a comment
    label: PERSON
    aliases: [Maduro, 'presidente Maduro']
  - name: "MUD"
    label: ORGANIZATION
    case_sensitive: true
    names:
      en: Democratic Unity Roundtable
patterns:
- label: PROGRAM
  regex: 'programa\s+\d+'
)";

TEST(ParseWatchlist, JsonAndYamlSubsetGiveTheSameSpec) {
  auto json = parse_watchlist(kJson, "w.json");
  ASSERT_TRUE(json.has_value()) << json.error().to_string();
  auto yaml = parse_watchlist(kYaml, "w.yaml");
  ASSERT_TRUE(yaml.has_value()) << yaml.error().to_string();
  for (const WatchlistSpec* s : {&*json, &*yaml}) {
    ASSERT_EQ(s->entities.size(), 2u);
    EXPECT_EQ(s->entities[0].name, "Nicolás Maduro");
    EXPECT_EQ(s->entities[0].label, "PERSON");
    EXPECT_EQ(s->entities[0].aliases, (std::vector<std::string>{"Maduro", "presidente Maduro"}));
    EXPECT_FALSE(s->entities[0].case_sensitive);
    EXPECT_TRUE(s->entities[1].case_sensitive);
    EXPECT_EQ(s->entities[1].name_for("en"), "Democratic Unity Roundtable");
    EXPECT_EQ(s->entities[1].name_for("es"), "MUD");
    ASSERT_EQ(s->patterns.size(), 1u);
    EXPECT_EQ(s->patterns[0].regex, "programa\\s+\\d+");
    EXPECT_TRUE(s->patterns[0].caseless);
  }
}

TEST(ParseWatchlist, YamlBlockListsAndQuotes) {
  auto spec = parse_watchlist(
      "entities:\n"
      "  - name: 'O''Brien'\n"
      "    label: \"PER\\u0053ON\"\n"
      "    aliases:\n"
      "      - Obrien\n"
      "      - \"Mr. O'Brien # not a comment\"\n",
      "w.yaml");
  ASSERT_TRUE(spec.has_value()) << spec.error().to_string();
  ASSERT_EQ(spec->entities.size(), 1u);
  EXPECT_EQ(spec->entities[0].name, "O'Brien");
  EXPECT_EQ(spec->entities[0].label, "PERSON");
  EXPECT_EQ(spec->entities[0].aliases,
            (std::vector<std::string>{"Obrien", "Mr. O'Brien # not a comment"}));
}

TEST(ParseWatchlist, ErrorsSayWhereAndWhat) {
  auto bad_indent = parse_watchlist("entities:\n  - name: X\n      label: Y\n", "w.yaml");
  ASSERT_FALSE(bad_indent.has_value());
  EXPECT_EQ(bad_indent.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad_indent.error().message.find("w.yaml:3"), std::string::npos)
      << bad_indent.error().message;

  auto unknown =
      parse_watchlist(R"({"entities": [{"name": "X", "label": "Y", "alias": "Z"}]})", "w.json");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_NE(unknown.error().message.find("entities[0]"), std::string::npos);
  EXPECT_NE(unknown.error().message.find("'alias'"), std::string::npos);

  auto no_label = parse_watchlist("entities:\n  - name: X\n", "w.yaml");
  ASSERT_FALSE(no_label.has_value());
  EXPECT_NE(no_label.error().message.find("'label' is missing"), std::string::npos);

  auto bad_json = parse_watchlist(R"({"entities": [)", "w.json");
  ASSERT_FALSE(bad_json.has_value());
  EXPECT_NE(bad_json.error().message.find("not valid JSON"), std::string::npos);

  auto flow_map = parse_watchlist("entities:\n  - {name: X, label: Y}\n", "w.yaml");
  ASSERT_FALSE(flow_map.has_value());
  EXPECT_NE(flow_map.error().message.find("flow mappings"), std::string::npos);
}

TEST(LoadWatchlistFile, MissingFileIsNotFound) {
  auto r = load_watchlist_file("/nonexistent/aimara-watchlist.yaml");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

TEST(LoadWatchlistFile, ReadsYamlFromDisk) {
  auto dir = TempDir::create("aimara-watchlist-test");
  ASSERT_TRUE(dir.has_value());
  ASSERT_TRUE(write_file_atomic(dir->path() / "w.yaml", kYaml).has_value());
  auto r = load_watchlist_file(dir->path() / "w.yaml");
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->entities.size(), 2u);
}

TEST(Watchlist, MatchesIgnoringCaseAndAccentsWithOriginalOffsets) {
  Watchlist w = build({{"Nicolás Maduro", "PERSON", {"Maduro"}},
                       {"FANB", "ORGANIZATION", {"Fuerza Armada Nacional Bolivariana"}},
                       {"Perú", "COUNTRY", {}}});
  const std::string text =
      "ayer nicolas maduro habló con la fanb y con la FANB en peru, no en PERÚ.";
  auto m = w.find(text);
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(span(text, m[0]), "nicolas maduro");
  EXPECT_EQ(w.entries()[m[0].entry].name, "Nicolás Maduro");
  EXPECT_EQ(span(text, m[1]), "fanb");
  EXPECT_EQ(span(text, m[2]), "FANB");
  EXPECT_EQ(span(text, m[3]), "peru");
  EXPECT_EQ(span(text, m[4]), "PERÚ");
  EXPECT_EQ(w.entries()[m[4].entry].name, "Perú");
}

TEST(Watchlist, MatchesOnlyWholeWords) {
  Watchlist w = build({{"Perú", "COUNTRY", {}}, {"FANB", "ORGANIZATION", {}}});
  EXPECT_TRUE(w.find("los peruanos y la FANBS, superú").empty());
  EXPECT_EQ(w.find("(Perú)").size(), 1u);
}

TEST(Watchlist, LongestPhraseWinsAndMatchesDoNotOverlap) {
  Watchlist w = build({{"Guinea", "COUNTRY", {}},
                       {"Guinea Ecuatorial", "COUNTRY", {}},
                       {"Papúa Nueva Guinea", "COUNTRY", {}},
                       {"Nicolás Maduro", "PERSON", {"Maduro"}}});
  const std::string text =
      "Guinea Ecuatorial, Papua Nueva Guinea y Guinea; Maduro y Nicolás Maduro";
  auto m = w.find(text);
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(span(text, m[0]), "Guinea Ecuatorial");
  EXPECT_EQ(span(text, m[1]), "Papua Nueva Guinea");
  EXPECT_EQ(span(text, m[2]), "Guinea");
  EXPECT_EQ(span(text, m[3]), "Maduro");
  EXPECT_EQ(span(text, m[4]), "Nicolás Maduro");
}

TEST(Watchlist, PunctuationBreaksPhrasesButConnectorsDoNot) {
  Watchlist w = build({{"Nicolás Maduro", "PERSON", {}},
                       {"Estados Unidos", "COUNTRY", {"EE.UU."}},
                       {"Jean-Pierre", "PERSON", {}}});
  EXPECT_TRUE(w.find("Nicolás, Maduro").empty());
  EXPECT_EQ(w.find("Nicolás-Maduro").size(), 1u);
  EXPECT_EQ(w.find("en EE. UU. y en EEUU").size(), 1u);  // "EEUU" is one word: not "ee uu"
  EXPECT_EQ(w.find("jean pierre").size(), 1u);
}

TEST(Watchlist, CaseSensitiveEntriesKeepCaseButIgnoreAccents) {
  WatchlistEntry mud{"MUD", "ORGANIZATION", {}};
  mud.case_sensitive = true;
  WatchlistEntry iran{"Irán", "COUNTRY", {}};
  iran.case_sensitive = true;
  Watchlist w = build({mud, iran});
  const std::string text = "la MUD y el mud; Iran, irán, Irán";
  auto m = w.find(text);
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(span(text, m[0]), "MUD");
  EXPECT_EQ(span(text, m[1]), "Iran");
  EXPECT_EQ(span(text, m[2]), "Irán");
  EXPECT_NE(w.lookup("MUD"), nullptr);
  EXPECT_EQ(w.lookup("mud"), nullptr);
}

TEST(Watchlist, FirstEntryKeepsASharedPhrase) {
  Watchlist w = build({{"Nicolás Maduro", "PERSON", {"Maduro"}}, {"Maduro", "COUNTRY", {}}});
  auto m = w.find("Maduro");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_EQ(m[0].entry, 0u);
  ASSERT_NE(w.lookup("MADURO"), nullptr);
  EXPECT_EQ(w.lookup("MADURO")->name, "Nicolás Maduro");
  EXPECT_EQ(w.lookup("Nicolás"), nullptr);  // a prefix is not a phrase
}

TEST(Watchlist, EntryWithoutWordsIsAnError) {
  auto w = Watchlist::build({{"¿?", "X", {}}});
  ASSERT_FALSE(w.has_value());
  EXPECT_EQ(w.error().code, ErrorCode::kInvalidArgument);
}

TEST(Watchlist, LargeGazetteerStaysFast) {
  std::vector<WatchlistEntry> entries;
  for (int i = 0; i < 30000; ++i) {
    entries.push_back({"Persona Número " + std::to_string(i) + " Apellido", "PERSON", {}});
  }
  entries.push_back({"Nicolás Maduro", "PERSON", {}});
  Watchlist w = build(std::move(entries));
  EXPECT_EQ(w.phrase_count(), 30001u);
  std::string text;
  for (int i = 0; i < 2000; ++i) text += "la persona numero dijo que Nicolás Maduro habló. ";
  text += "persona numero 4242 apellido";
  auto m = w.find(text);
  ASSERT_EQ(m.size(), 2001u);
  EXPECT_EQ(span(text, m.back()), "persona numero 4242 apellido");
}

TEST(DefaultWatchlist, HasTheOriginalCategories) {
  WatchlistSpec spec = default_watchlist();
  std::set<std::string> labels;
  size_t countries = 0;
  for (const auto& e : spec.entities) {
    labels.insert(e.label);
    if (e.label == "COUNTRY") ++countries;
  }
  EXPECT_TRUE(labels.count("COUNTRY"));
  EXPECT_TRUE(labels.count("ORGANIZATION"));
  EXPECT_GE(countries, 190u);
  std::set<std::string> pattern_labels;
  for (const auto& p : spec.patterns) pattern_labels.insert(p.label);
  EXPECT_TRUE(pattern_labels.count("POLITICAL_TITLE"));
  EXPECT_TRUE(pattern_labels.count("PROGRAM"));

  auto w = Watchlist::build(spec.entities);
  ASSERT_TRUE(w.has_value()) << w.error().to_string();
  for (std::string_view phrase :
       {"Perú",          "peru",   "México",   "Mexico",          "Estados Unidos",
        "United States", "EE.UU.", "Alemania", "Germany",         "Japón",
        "FANB",          "fanb",   "GNB",      "SEBIN",           "CNE",
        "PDVSA",         "ONU",    "OEA",      "Naciones Unidas", "Costa de Marfil",
        "Côte d'Ivoire"}) {
    EXPECT_NE(w->lookup(phrase), nullptr) << phrase;
  }
  EXPECT_EQ(w->lookup("United States")->name_for("es"), "Estados Unidos");
  EXPECT_EQ(w->lookup("Estados Unidos")->name_for("en"), "United States");
  EXPECT_EQ(w->lookup("Naciones Unidas")->name, "ONU");
  // Words that are also everyday words only match with their case.
  EXPECT_EQ(w->lookup("chile"), nullptr);
  EXPECT_NE(w->lookup("Chile"), nullptr);
  EXPECT_EQ(w->lookup("mud"), nullptr);
  // Common words are not countries or organisations.
  for (std::string_view word : {"un", "us", "el", "la", "who", "mauricio"}) {
    EXPECT_EQ(w->lookup(word), nullptr) << word;
  }
}

}  // namespace
}  // namespace aimara::nlp
