// `aimara entities extract` end to end: the real binary over real Spanish transcript text.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <sstream>

#include "core/fs.h"
#include "core/process.h"
#include "nlp/conll.h"
#include "nlp/tagger.h"
#include "nlp/trainer.h"
#include "store/store.h"
#include "support/aimara_cli.h"

namespace aimara {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using testing::run_aimara;
using testing::shared_file;

std::vector<json> parse_lines(const std::string& out) {
  std::vector<json> lines;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    json j = json::parse(line, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << line;
    if (!j.is_discarded()) lines.push_back(std::move(j));
  }
  return lines;
}

std::vector<json> with(const std::vector<json>& all, std::string_view key, std::string_view value) {
  std::vector<json> out;
  for (const json& j : all) {
    if (j.value(std::string(key), std::string()) == value) out.push_back(j);
  }
  return out;
}

size_t count_of(const std::string& haystack, const std::string& needle) {
  size_t n = 0;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + 1))
    ++n;
  return n;
}

// A watchlist for the podcast in whispercpp_es-0-ref.txt: the speaker (his name is mistranscribed
// once at the end) and the topic.
constexpr std::string_view kPodcastWatchlist =
    "# watchlist for the water-pollution podcast\n"
    "entities:\n"
    "  - name: Julián Virrueta Mendoza\n"
    "    label: PERSON\n"
    "    aliases: [Julián Virreta]\n"
    "patterns:\n"
    "  - label: TOPIC\n"
    "    regex: 'contaminaci[oó]n\\s+del\\s+agua'\n"
    "    canonical: contaminación del agua\n";

class EntitiesE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("aimara-e2e-entities");
    ASSERT_TRUE(dir.has_value());
    dir_ = std::make_unique<TempDir>(std::move(*dir));
    watchlist_ = dir_->path() / "podcast.yaml";
    ASSERT_TRUE(write_file_atomic(watchlist_, kPodcastWatchlist).has_value());
  }
  fs::path write(const std::string& name, std::string_view content) {
    fs::path p = dir_->path() / name;
    EXPECT_TRUE(write_file_atomic(p, content).has_value());
    return p;
  }
  std::unique_ptr<TempDir> dir_;
  fs::path watchlist_;
};

TEST_F(EntitiesE2E, JsonMentionsOverRealSpanishTranscript) {
  const fs::path text = shared_file("texts/whispercpp_es-0-ref.txt");
  const std::string original = *read_file(text);
  auto r = run_aimara({"entities", "extract", text.string(), "--lang", "es", "--json", "--no-model",
                       "--watchlist", watchlist_.string()});
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_EQ(r.err, "");
  auto mentions = parse_lines(r.out);

  auto people = with(mentions, "type", "PERSON");
  ASSERT_EQ(people.size(), 2u) << r.out;
  EXPECT_EQ(people[0]["entity"], "Julián Virrueta Mendoza");
  EXPECT_EQ(people[1]["entity"], "Julián Virreta");
  for (const json& p : people) {
    EXPECT_EQ(p["canonical"], "Julián Virrueta Mendoza");
    EXPECT_EQ(p["source"], "watchlist");
  }
  // "contaminación del agua" appears 5 times in the transcript; the pattern finds each.
  auto topics = with(mentions, "type", "TOPIC");
  EXPECT_EQ(topics.size(), count_of(original, "contaminación del agua"));
  EXPECT_EQ(topics.size(), 5u);
  // The built-in watchlist finds nothing else in this text: no country, acronym, title or
  // programme is mentioned, and no everyday word is mistaken for one.
  EXPECT_EQ(mentions.size(), people.size() + topics.size()) << r.out;

  for (const json& m : mentions) {
    for (const char* field :
         {"entity", "canonical", "type", "source", "file", "line", "timestamp_start",
          "timestamp_end", "context", "hallucination", "extraction_time"}) {
      EXPECT_TRUE(m.contains(field)) << field << " in " << m.dump();
    }
    EXPECT_EQ(m["timestamp_start"], 0.0);
    EXPECT_EQ(m["timestamp_end"], 0.0);
    EXPECT_EQ(m["line"], 1);
    EXPECT_EQ(m["hallucination"], false);
    const std::string context = m["context"];
    const std::string entity = m["entity"];
    EXPECT_NE(context.find(entity), std::string::npos) << context;
    // The transcript is one 1,945-byte line: contexts are bounded windows of it.
    EXPECT_LT(context.size(), 700u);
    EXPECT_TRUE(context.starts_with("…") || context.ends_with("…")) << context;
  }
}

TEST_F(EntitiesE2E, TableOutputSummarisesEntities) {
  const fs::path text = shared_file("texts/whispercpp_es-0-ref.txt");
  auto r = run_aimara({"entities", "extract", text.string(), "--lang", "es", "--no-model",
                       "--watchlist", watchlist_.string()});
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_NE(r.out.find("Julián Virreta -> Julián Virrueta Mendoza"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("1 segments (0 flagged as hallucination), 7 mentions, 2 entities"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("5  TOPIC"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("2  PERSON           Julián Virrueta Mendoza (Julián Virreta)"),
            std::string::npos)
      << r.out;
}

TEST_F(EntitiesE2E, BuiltInCategoriesCanonicalisationAndHallucination) {
  const fs::path text =
      write("noticias.txt",
            "El presidente Nicolás Maduro habló con la FANB sobre el programa 548.\n"
            "\n"
            "Después el presidente Maduro viajó a Perú y luego a EE.UU.\n"
            "La fanb y el Sebin respondieron; Estados Unidos no.\n"
            "Perú. Perú. Perú. Perú.\n");
  auto r =
      run_aimara({"entities", "extract", text.string(), "--lang", "es", "--json", "--no-model"});
  ASSERT_TRUE(r.ok()) << r.err;
  auto m = parse_lines(r.out);
  auto titles = with(m, "type", "POLITICAL_TITLE");
  ASSERT_EQ(titles.size(), 2u) << r.out;
  EXPECT_EQ(titles[0]["entity"], "presidente Nicolás Maduro");
  EXPECT_EQ(titles[1]["entity"], "presidente Maduro");
  EXPECT_EQ(titles[0]["canonical"], "Nicolás Maduro");
  EXPECT_EQ(titles[1]["canonical"], "Nicolás Maduro");
  EXPECT_EQ(titles[1]["line"], 3);

  auto orgs = with(m, "canonical", "FANB");
  ASSERT_EQ(orgs.size(), 2u);
  EXPECT_EQ(orgs[1]["entity"], "fanb");
  EXPECT_EQ(with(m, "canonical", "SEBIN").size(), 1u);

  auto programs = with(m, "type", "PROGRAM");
  ASSERT_EQ(programs.size(), 1u);
  EXPECT_EQ(programs[0]["canonical"], "Programa 548");

  auto us = with(m, "canonical", "Estados Unidos");
  ASSERT_EQ(us.size(), 2u);
  EXPECT_EQ(us[0]["entity"], "EE.UU");  // the sentence's final dot is not part of the name

  auto peru = with(m, "canonical", "Perú");
  ASSERT_EQ(peru.size(), 5u);
  EXPECT_EQ(peru[0]["hallucination"], false);
  for (size_t i = 1; i < peru.size(); ++i) {
    EXPECT_EQ(peru[i]["hallucination"], true);
    EXPECT_EQ(peru[i]["line"], 5);
  }
}

TEST_F(EntitiesE2E, TaggerModelFindsThePeopleOfARealTranscript) {
  // A small tagger trained here on the first sentences of CoNLL-2002 (fixed seed): real weights
  // and decoding, so the binary's --model path is exercised end to end.
  auto conll = nlp::read_conll(shared_file("ner/es/esp.train"));
  ASSERT_TRUE(conll.has_value()) << conll.error().to_string();
  std::vector<nlp::ConllSentence> train(conll->begin(), conll->begin() + 1000);
  nlp::TrainOptions options;
  options.language = "es";
  options.epochs = 3;
  auto model = nlp::train_model(train, {}, options);
  ASSERT_TRUE(model.has_value()) << model.error().to_string();
  const fs::path model_path = dir_->path() / "ner-es-small.bin";
  ASSERT_TRUE((*model)->save(model_path).has_value());

  const fs::path text = shared_file("texts/whispercpp_es-0-ref.txt");
  auto r = run_aimara({"entities", "extract", text.string(), "--lang", "es", "--json", "--model",
                       model_path.string(), "--watchlist", watchlist_.string()});
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_EQ(r.err, "");  // the model loaded: no warning
  auto mentions = parse_lines(r.out);
  auto from_model = with(mentions, "source", "model");
  ASSERT_FALSE(from_model.empty()) << r.out;
  for (const json& m : from_model) {
    const std::string type = m["type"];
    EXPECT_TRUE(type == "PER" || type == "ORG" || type == "LOC" || type == "MISC") << type;
  }
  // The watchlist still wins where it matches the same span.
  auto people = with(mentions, "canonical", "Julián Virrueta Mendoza");
  ASSERT_EQ(people.size(), 2u) << r.out;
  EXPECT_EQ(people[0]["source"], "watchlist");

  // Without the watchlist, the tagger alone finds the speaker.
  auto alone = run_aimara({"entities", "extract", text.string(), "--lang", "es", "--json",
                           "--model", model_path.string()});
  ASSERT_TRUE(alone.ok()) << alone.err;
  auto speaker = with(parse_lines(alone.out), "entity", "Julián Virrueta Mendoza");
  ASSERT_EQ(speaker.size(), 1u) << alone.out;
  EXPECT_EQ(speaker[0]["type"], "PER");
  EXPECT_EQ(speaker[0]["source"], "model");
}

TEST_F(EntitiesE2E, ShippedModelIsUsedWithoutBeingNamed) {
  // No --model: the binary finds models/ner-es.bin by itself (core/paths.h) and tags with it.
  const fs::path text = shared_file("texts/whispercpp_es-0-ref.txt");
  auto r = run_aimara({"entities", "extract", text.string(), "--lang", "es", "--json"});
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_EQ(r.err, "");  // found and loaded: no warning
  auto from_model = with(parse_lines(r.out), "source", "model");
  // The only names in the podcast are its speaker's, the second time mistranscribed; a reader
  // finds these two and nothing else.
  ASSERT_EQ(from_model.size(), 2u) << r.out;
  EXPECT_EQ(from_model[0]["entity"], "Julián Virrueta Mendoza");
  EXPECT_EQ(from_model[1]["entity"], "Julián Virreta");
  for (const json& m : from_model) EXPECT_EQ(m["type"], "PER") << m.dump();

  // Plain Spanish with no names: the model invents none.
  auto plain = run_aimara({"entities", "extract", shared_file("texts/picovoice_test_es.txt").string(),
                           "--lang", "es", "--json"});
  ASSERT_TRUE(plain.ok()) << plain.err;
  EXPECT_EQ(plain.err, "");
  EXPECT_EQ(plain.out, "");
}

TEST_F(EntitiesE2E, ShippedModelFindsPeopleAndPlacesOfANewsText) {
  const fs::path text =
      write("noticia.txt",
            "El presidente de Colombia, Gustavo Petro, se reunió ayer en Bogotá con el "
            "secretario general de la ONU, António Guterres.\n");
  auto r = run_aimara({"entities", "extract", text.string(), "--lang", "es", "--json",
                       "--no-default-watchlist"});
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_EQ(r.err, "");
  std::vector<std::pair<std::string, std::string>> got;
  for (const json& m : with(parse_lines(r.out), "source", "model")) {
    got.emplace_back(m["entity"].get<std::string>(), m["type"].get<std::string>());
  }
  for (const auto& want : std::vector<std::pair<std::string, std::string>>{
           {"Colombia", "LOC"}, {"Gustavo Petro", "PER"}, {"Bogotá", "LOC"},
           {"ONU", "ORG"}, {"António Guterres", "PER"}}) {
    EXPECT_NE(std::find(got.begin(), got.end(), want), got.end())
        << want.first << " " << want.second << " in " << r.out;
  }
}

TEST_F(EntitiesE2E, NerEvalWithTheShippedModelPrintsJson) {
  // The first 200 sentences of the CoNLL-2002 Spanish dev set, scored with the shipped model.
  const std::string dev = *read_file(shared_file("ner/es/esp.testa"));
  size_t end = 0;
  for (int sentences = 0; sentences < 200 && end != std::string::npos; ++sentences) {
    end = dev.find("\n\n", end + 1);
  }
  ASSERT_NE(end, std::string::npos);
  const fs::path slice = write("esp.testa.200", dev.substr(0, end + 1));
  auto r = run_aimara({"ner", "eval", "--lang", "es", slice.string(), "--json"});
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_EQ(r.err, "");
  json j = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << r.out;
  ASSERT_TRUE(j.is_object()) << r.out;
  EXPECT_EQ(j.size(), 4u) << r.out;
  for (const char* field : {"precision", "recall", "f1"}) {
    ASSERT_TRUE(j.contains(field) && j[field].is_number()) << field << " in " << r.out;
    EXPECT_GE(j[field].get<double>(), 0.6) << field;  // the shipped model, not an empty one
    EXPECT_LE(j[field].get<double>(), 1.0) << field;
  }
  ASSERT_TRUE(j.contains("tokens_per_second") && j["tokens_per_second"].is_number()) << r.out;
  EXPECT_GT(j["tokens_per_second"].get<double>(), 0.0);
}

TEST_F(EntitiesE2E, InstalledBinaryFindsModelsInItsPrefix) {
  // The layout `cmake --install` makes: <prefix>/bin/aimara, <prefix>/share/aimara/models. A
  // model for a made-up language "xx" exists only there, so finding it proves the lookup.
  const fs::path prefix = dir_->path() / "prefix";
  fs::create_directories(prefix / "bin");
  fs::create_directories(prefix / "share" / "aimara" / "models");
  const fs::path binary = prefix / "bin" / "aimara";
  fs::copy_file(AIMARA_BINARY, binary);
  fs::permissions(binary, fs::perms::owner_exec, fs::perm_options::add);

  auto conll = nlp::read_conll(shared_file("ner/es/esp.train"));
  ASSERT_TRUE(conll.has_value()) << conll.error().to_string();
  std::vector<nlp::ConllSentence> train(conll->begin(), conll->begin() + 300);
  nlp::TrainOptions options;
  options.language = "xx";
  options.epochs = 2;
  options.stacking = false;
  auto model = nlp::train_model(train, {}, options);
  ASSERT_TRUE(model.has_value()) << model.error().to_string();
  ASSERT_TRUE((*model)->save(prefix / "share" / "aimara" / "models" / "ner-xx.bin").has_value());

  ProcessOptions run;
  run.env = {{"AIMARA_MODELS_DIR", ""}};  // empty: not set (core/paths.h)
  run.timeout = std::chrono::seconds(60);
  auto r = run_process({binary.string(), "ner", "tag", "--lang", "xx", "El Real Madrid ganó."}, run);
  ASSERT_TRUE(r.has_value()) << r.error().to_string();
  EXPECT_EQ(r->exit_code, 0) << r->err;
  EXPECT_EQ(r->err, "");

  // and without it, the error names the folders searched, the prefix's among them
  auto missing = run_process({binary.string(), "ner", "tag", "--lang", "yy", "Madrid"}, run);
  ASSERT_TRUE(missing.has_value()) << missing.error().to_string();
  EXPECT_NE(missing->exit_code, 0);
  EXPECT_NE(missing->err.find("model_missing"), std::string::npos) << missing->err;
  EXPECT_NE(missing->err.find((prefix / "share" / "aimara" / "models").string()),
            std::string::npos)
      << missing->err;
}

TEST_F(EntitiesE2E, MissingModelWarnsOnceAndPatternsStillWork) {
  const fs::path text = shared_file("texts/whispercpp_es-0-ref.txt");
  auto r = run_aimara({"entities", "extract", text.string(), "--lang", "es", "--json", "--model",
                       (dir_->path() / "missing-ner-es.bin").string(), "--watchlist",
                       watchlist_.string()});
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_EQ(count_of(r.err, "warning"), 1u) << r.err;
  EXPECT_NE(r.err.find("model_missing"), std::string::npos) << r.err;
  EXPECT_EQ(parse_lines(r.out).size(), 7u) << r.out;
}

TEST_F(EntitiesE2E, NoFalseMentionsInPlainSpanish) {
  const fs::path text = shared_file("texts/picovoice_test_es.txt");
  auto r =
      run_aimara({"entities", "extract", text.string(), "--lang", "es", "--json", "--no-model"});
  ASSERT_TRUE(r.ok()) << r.err;
  EXPECT_EQ(r.out, "");
}

TEST_F(EntitiesE2E, BadRegexIsAUsageErrorNamingThePattern) {
  const fs::path bad = write("bad.json", R"({"patterns": [{"label": "BROKEN", "regex": "(a"}]})");
  const fs::path text = shared_file("texts/picovoice_test_es.txt");
  auto r = run_aimara(
      {"entities", "extract", text.string(), "--lang", "es", "--watchlist", bad.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_NE(r.err.find("'BROKEN'"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("invalid_argument"), std::string::npos) << r.err;
}

TEST_F(EntitiesE2E, DefaultWatchlistPrintsValidJson) {
  auto r = run_aimara({"entities", "default-watchlist"});
  ASSERT_TRUE(r.ok()) << r.err;
  json j = json::parse(r.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded());
  EXPECT_GE(j["entities"].size(), 240u);
  EXPECT_EQ(j["patterns"].size(), 2u);
}

// A store with two finished videos and their mentions, as the pipeline leaves it.
fs::path make_store(const fs::path& dir) {
  const fs::path db = dir / "aimara.db";
  auto s = store::open_store("sqlite:" + db.string());
  EXPECT_TRUE(s.has_value()) << s.error().to_string();
  struct Video {
    std::string id;
    std::string title;
    std::vector<store::Mention> mentions;
  };
  const std::vector<Video> videos = {
      {"abc123def45",
       "Rueda de prensa",
       {{"Nicolás Maduro", "Nicolás Maduro", "PER", "model", 5000, 8000, "habló Nicolás Maduro"},
        {"presidente Maduro", "Nicolás Maduro", "POLITICAL_TITLE", "pattern", 65000, 67000,
         "el presidente Maduro dijo"},
        {"Perú", "Perú", "COUNTRY", "watchlist", 90000, 92000, "viajó a Perú"}}},
      {"zzz987yyy65",
       "Entrevista",
       {{"Maduro", "Nicolás Maduro", "PER", "model", 3000, 4000, "Maduro respondió"}}},
  };
  for (const Video& v : videos) {
    store::NewJob job;
    job.source = "https://www.youtube.com/watch?v=" + v.id;
    EXPECT_TRUE((*s)->enqueue(job).has_value());
    auto claimed = (*s)->claim("e2e-test", 60'000);
    EXPECT_TRUE(claimed.has_value() && claimed->has_value());
    const jobs::Lease lease = (*claimed)->lease;
    jobs::MediaInfo media;
    media.title = v.title;
    media.platform = "youtube";
    media.extractor = "Youtube";
    media.video_id = v.id;
    media.webpage_url = job.source;
    EXPECT_TRUE((*s)->set_media_info(lease, media).has_value());
    EXPECT_TRUE((*s)->save_mentions(lease, v.mentions).has_value());
    EXPECT_TRUE((*s)->complete(lease).has_value());
  }
  return db;
}

TEST_F(EntitiesE2E, TopRanksEntitiesInTheStore) {
  const fs::path db = make_store(dir_->path());
  const std::string uri = "sqlite:" + db.string();
  auto r = run_aimara({"entities", "top", "--store", uri, "--json"});
  ASSERT_TRUE(r.ok()) << r.err;
  json top = json::parse(r.out);
  ASSERT_GE(top.size(), 2u) << r.out;
  EXPECT_EQ(top[0]["canonical"], "Nicolás Maduro");
  EXPECT_EQ(top[0]["type"], "PER");
  EXPECT_EQ(top[0]["mentions"], 2);
  EXPECT_EQ(top[0]["videos"], 2);
  EXPECT_EQ(top.back()["canonical"], "Perú");

  auto by_type = run_aimara({"entities", "top", "--store", uri, "--type", "COUNTRY", "--json"});
  ASSERT_TRUE(by_type.ok()) << by_type.err;
  EXPECT_EQ(json::parse(by_type.out).size(), 1u);

  auto one_video = run_aimara({"entities", "top", "--store", uri, "--video", "zzz987yyy65"});
  ASSERT_TRUE(one_video.ok()) << one_video.err;
  EXPECT_NE(one_video.out.find("Nicolás Maduro"), std::string::npos) << one_video.out;
  EXPECT_EQ(one_video.out.find("Perú"), std::string::npos) << one_video.out;

  // Digits too many for a job id are a video id like any other.
  for (const char* video : {"nope", "99999999999999999999999"}) {
    auto unknown = run_aimara({"entities", "top", "--store", uri, "--video", video});
    EXPECT_EQ(unknown.exit_code, 1);
    EXPECT_NE(unknown.err.find("not_found: no job or video"), std::string::npos) << unknown.err;
  }

  auto missing =
      run_aimara({"entities", "top", "--store", "sqlite:" + (dir_->path() / "none.db").string()});
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_FALSE(fs::exists(dir_->path() / "none.db"));  // a query never creates a store
}

TEST_F(EntitiesE2E, MentionsListVideoTimeAndDeepLink) {
  const fs::path db = make_store(dir_->path());
  auto r = run_aimara(
      {"entities", "mentions", "Nicolás Maduro", "--store", "sqlite:" + db.string(), "--json"});
  ASSERT_TRUE(r.ok()) << r.err;
  json all = json::parse(r.out);
  ASSERT_EQ(all.size(), 3u) << r.out;
  std::vector<std::string> links;
  for (const json& m : all) {
    EXPECT_EQ(m["canonical"], "Nicolás Maduro");
    links.push_back(m["link"]);
  }
  EXPECT_NE(
      std::find(links.begin(), links.end(), "https://www.youtube.com/watch?v=abc123def45&t=65s"),
      links.end())
      << r.out;
  EXPECT_NE(
      std::find(links.begin(), links.end(), "https://www.youtube.com/watch?v=zzz987yyy65&t=3s"),
      links.end())
      << r.out;

  auto table =
      run_aimara({"entities", "mentions", "presidente maduro", "--store", "sqlite:" + db.string()});
  ASSERT_TRUE(table.ok()) << table.err;
  EXPECT_NE(table.out.find("00:01:05"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("Rueda de prensa"), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("&t=65s"), std::string::npos) << table.out;

  // A name without a letter or digit can match nothing: a usage error, not an empty answer.
  for (const char* name : {"", "  ", "?!"}) {
    auto bad = run_aimara({"entities", "mentions", name, "--store", "sqlite:" + db.string()});
    EXPECT_EQ(bad.exit_code, 2) << "'" << name << "': " << bad.out << bad.err;
    EXPECT_NE(bad.err.find("give a name"), std::string::npos) << bad.err;
  }
}

}  // namespace
}  // namespace aimara
