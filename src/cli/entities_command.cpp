// `aimara entities ...`: entity mentions.
//   extract FILE... --lang L [--watchlist F] [--json] [--model M]: the pipeline's extraction
//     (nlp/extractor.h) over plain text files, each non-empty line (or paragraph) a segment with
//     unknown times;
//   top [--type T] [--video ID] [--store S]: the most mentioned entities in the job store;
//   mentions NAME [--store S]: every stored mention of an entity, with video, time and link;
//   default-watchlist: prints the built-in watchlist.
#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/fs.h"
#include "core/terminal.h"
#include "media/platform.h"
#include "nlp/canonical.h"
#include "nlp/extractor.h"
#include "store/store.h"

namespace aimara::cli {

namespace {

struct ExtractArgs {
  std::vector<std::string> files;
  std::string language;
  std::vector<std::string> watchlists;
  std::string model;
  bool no_model = false;
  bool no_default_watchlist = false;
  bool json = false;
  bool paragraphs = false;
  size_t context_chars = 300;
};

struct QueryArgs {
  std::string store_uri{store::kDefaultStoreUri};
  std::string name;
  std::string type;
  std::string video;
  int limit = 0;
  bool json = false;
};

int fail(std::string_view what, const Error& e) {
  fmt::print(stderr, "aimara entities {}: {}\n", what, e.to_string());
  return exit_code_for(e.code);
}

std::string utc_now_iso8601() {
  auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", now);
}

// 1-based line number of byte `offset` in `text`.
size_t line_of(std::string_view text, size_t offset) {
  return 1 + static_cast<size_t>(
                 std::count(text.begin(), text.begin() + static_cast<long>(offset), '\n'));
}

void print_table_header() {
  fmt::print("{:<28} {:<16} {:<9} {}\n", "where", "type", "source", "entity");
}

void print_summary(const std::string& file, const nlp::EntityIndex& index, size_t segments,
                   size_t flagged) {
  auto entities = index.entities();
  fmt::print("\n{}: {} segments ({} flagged as hallucination), {} mentions, {} entities\n",
             terminal_safe(file), segments, flagged, index.mention_count(), entities.size());
  for (const nlp::Entity& e : entities) {
    std::string aliases;
    for (const auto& a : e.aliases) aliases += (aliases.empty() ? "" : "; ") + a;
    fmt::print("  {:>5}  {:<16} {}{}\n", e.count, e.type, terminal_safe(e.canonical),
               aliases.empty() ? std::string() : " (" + terminal_safe(aliases) + ")");
  }
}

int run_extract(const ExtractArgs& a) {
  nlp::ExtractorOptions o;
  o.language = a.language;
  o.use_model = !a.no_model;
  o.model_path = a.model;
  o.use_default_watchlist = !a.no_default_watchlist;
  o.context_chars = a.context_chars;
  for (const auto& w : a.watchlists) o.watchlist_files.emplace_back(w);
  auto extractor = nlp::EntityExtractor::create(std::move(o));
  if (!extractor) {
    fmt::print(stderr, "aimara entities extract: {}\n", extractor.error().to_string());
    return exit_code_for(extractor.error().code);
  }
  for (const auto& w : extractor->warnings()) {
    fmt::print(stderr, "aimara entities extract: warning: {}\n", w);
  }

  bool header = false;
  for (const std::string& file : a.files) {
    auto text = read_file(file);
    if (!text) {
      fmt::print(stderr, "aimara entities extract: {}\n", text.error().to_string());
      return exit_code_for(text.error().code);
    }
    const std::vector<std::string_view> pieces = nlp::text_segments(*text, a.paragraphs);
    std::vector<nlp::SegmentText> segments;
    segments.reserve(pieces.size());
    for (std::string_view p : pieces) segments.push_back({p, 0, 0});
    nlp::EntityIndex index;
    const nlp::ExtractionBatch batch = extractor->extract(segments, index);
    const std::string when = utc_now_iso8601();

    for (const nlp::Mention& m : batch.mentions) {
      const size_t line =
          line_of(*text, static_cast<size_t>(pieces[m.segment].data() - text->data()) + m.begin);
      if (a.json) {
        nlohmann::ordered_json j;
        j["entity"] = m.entity;
        j["canonical"] = m.canonical;
        j["type"] = m.type;
        j["source"] = nlp::source_name(m.source);
        j["file"] = file;
        j["line"] = line;
        j["timestamp_start"] = static_cast<double>(m.start_ms) / 1000.0;
        j["timestamp_end"] = static_cast<double>(m.end_ms) / 1000.0;
        j["context"] = m.context;
        j["hallucination"] = m.hallucination;
        j["extraction_time"] = when;
        fmt::print("{}\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
      } else {
        if (!header) print_table_header();
        header = true;
        std::string where =
            fmt::format("{}:{}", std::filesystem::path(file).filename().string(), line);
        std::string entity = m.entity;
        if (m.canonical != m.entity) entity += " -> " + m.canonical;
        if (m.hallucination) entity += "  [hallucination: not counted]";
        fmt::print("{} {:<16} {:<9} {}\n", fit_columns(where, 28), m.type,
                   nlp::source_name(m.source), terminal_safe(entity));
      }
    }
    if (!a.json) {
      size_t flagged = 0;
      for (const auto& v : batch.segments) flagged += v.flagged ? 1 : 0;
      print_summary(file, index, segments.size(), flagged);
    }
    std::fflush(stdout);
  }
  return 0;
}

// Read-only: a store that does not exist is an error, not a new empty database.
Result<std::unique_ptr<store::Store>> open_existing(const QueryArgs& a) {
  store::StoreOptions o;
  o.create_if_missing = false;
  return store::open_store(a.store_uri, o);
}

// --video ID: a job id, or a platform video id of a stored job.
Result<std::optional<int64_t>> job_of(store::Store& s, const std::string& video) {
  if (video.empty()) return std::optional<int64_t>();
  int64_t id = 0;
  auto [end, ec] = std::from_chars(video.data(), video.data() + video.size(), id);
  if (ec == std::errc() && end == video.data() + video.size() && id > 0) {
    auto job = s.get_job(id);
    if (job) return std::optional<int64_t>(job->id);
  }
  store::JobFilter all;
  all.limit = 0;
  auto jobs = s.list_jobs(all);
  if (!jobs) return std::unexpected(jobs.error());
  for (const auto& j : *jobs) {
    if (j.media.video_id == video) return std::optional<int64_t>(j.id);
  }
  return make_error(ErrorCode::kNotFound, fmt::format("no job or video '{}' in the store", video));
}

std::string clock_time(int64_t ms) {
  const int64_t s = std::max<int64_t>(ms, 0) / 1000;
  return fmt::format("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
}

std::string link_at(const std::string& url, int64_t ms) {
  if (url.empty()) return url;
  return media::deep_link(url, media::detect_platform(url).platform,
                          std::max<int64_t>(ms, 0) / 1000);
}

int run_top(const QueryArgs& a) {
  auto s = open_existing(a);
  if (!s) return fail("top", s.error());
  auto job = job_of(**s, a.video);
  if (!job) return fail("top", job.error());
  store::EntityQuery q;
  if (!a.type.empty()) q.type = a.type;
  q.job_id = *job;
  if (a.limit > 0) q.limit = a.limit;
  auto top = (*s)->top_entities(q);
  if (!top) return fail("top", top.error());
  if (a.json) {
    auto out = nlohmann::ordered_json::array();
    for (const auto& e : *top) {
      out.push_back({{"canonical", e.canonical},
                     {"type", e.type},
                     {"mentions", e.mentions},
                     {"videos", e.jobs}});
    }
    fmt::print("{}\n", out.dump(2));
    return 0;
  }
  if (top->empty()) {
    fmt::print("no entity mentions in {}\n", (*s)->describe());
    return 0;
  }
  fmt::print("{:>8} {:>7}  {:<16} {}\n", "mentions", "videos", "type", "entity");
  for (const auto& e : *top) {
    fmt::print("{:>8} {:>7}  {:<16} {}\n", e.mentions, e.jobs, e.type, terminal_safe(e.canonical));
  }
  return 0;
}

int run_mentions(const QueryArgs& a) {
  if (nlp::fold_key(a.name).empty()) {
    fmt::print(stderr,
               "aimara entities mentions: invalid_argument: give a name with a letter or "
               "digit in it, not '{}'\n",
               terminal_safe(a.name));
    return 2;
  }
  auto s = open_existing(a);
  if (!s) return fail("mentions", s.error());
  auto job = job_of(**s, a.video);
  if (!job) return fail("mentions", job.error());
  store::MentionQuery q;
  q.name = a.name;
  q.job_id = *job;
  if (a.limit > 0) q.limit = a.limit;
  auto found = (*s)->mentions(q);
  if (!found) return fail("mentions", found.error());
  if (a.json) {
    auto out = nlohmann::ordered_json::array();
    for (const auto& m : *found) {
      out.push_back({{"entity", m.mention.entity},
                     {"canonical", m.mention.canonical},
                     {"type", m.mention.type},
                     {"source", m.mention.source},
                     {"job_id", m.job_id},
                     {"title", m.title},
                     {"timestamp_start", static_cast<double>(m.mention.start_ms) / 1000.0},
                     {"timestamp_end", static_cast<double>(m.mention.end_ms) / 1000.0},
                     {"context", m.mention.context},
                     {"link", link_at(m.webpage_url, m.mention.start_ms)}});
    }
    fmt::print("{}\n", out.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
    return 0;
  }
  if (found->empty()) {
    fmt::print("no mentions of '{}' in {}\n", a.name, (*s)->describe());
    return 0;
  }
  for (const auto& m : *found) {
    fmt::print("{}  job {}  {}\n  {} ({}, {}): {}\n", clock_time(m.mention.start_ms), m.job_id,
               m.title.empty() ? std::string("(untitled)") : terminal_safe(m.title),
               terminal_safe(m.mention.entity), terminal_safe(m.mention.canonical), m.mention.type,
               terminal_safe(m.mention.context));
    std::string link = link_at(m.webpage_url, m.mention.start_ms);
    if (!link.empty()) fmt::print("  {}\n", terminal_safe(link));
  }
  return 0;
}

}  // namespace

Command add_entities_command(CLI::App& app) {
  CLI::App* sub = app.add_subcommand("entities", "Extract and inspect entity mentions");
  sub->require_subcommand(1);

  auto args = std::make_shared<ExtractArgs>();
  CLI::App* x = sub->add_subcommand(
      "extract", "Extract entity mentions from plain text files (one segment per non-empty line)");
  x->add_option("files", args->files, "Text files (UTF-8)")->required()->check(CLI::ExistingFile);
  x->add_option("--lang", args->language, "Language of the text: es, en, ... (chooses the model)")
      ->required();
  x->add_option("--watchlist", args->watchlists,
                "Watchlist file (JSON or YAML) of labelled phrases, aliases and regexes; "
                "may be repeated")
      ->check(CLI::ExistingFile);
  x->add_option("--model", args->model, "Tagger model file (default: the shipped one for --lang)");
  x->add_flag("--no-model", args->no_model, "Do not use the statistical tagger");
  x->add_flag("--no-default-watchlist", args->no_default_watchlist,
              "Do not use the built-in watchlist (titles, acronyms, programmes, countries)");
  x->add_flag("--json", args->json, "One JSON object per mention per line");
  x->add_flag("--paragraphs", args->paragraphs,
              "A segment is a paragraph (lines up to a blank line), not a line");
  x->add_option("--context", args->context_chars, "Most characters of context per mention")
      ->capture_default_str();

  auto query = std::make_shared<QueryArgs>();
  CLI::App* top = sub->add_subcommand("top", "The most mentioned entities in the job store");
  top->add_option("--type", query->type, "Only this type (PER, ORG, COUNTRY, ...)");
  top->add_option("--video", query->video, "Only this job (id) or video (platform video id)");
  top->add_option("--limit", query->limit, "At most this many entities (default 50)")
      ->check(CLI::NonNegativeNumber);
  top->add_option("--store", query->store_uri, "Job store: sqlite:PATH")->capture_default_str();
  top->add_flag("--json", query->json, "A JSON array of {canonical, type, mentions, videos}");

  CLI::App* men =
      sub->add_subcommand("mentions",
                          "Every stored mention of an entity (canonical or surface form), with its "
                          "video, time and link");
  men->add_option("name", query->name, "Entity name (case-insensitive)")->required();
  men->add_option("--video", query->video, "Only this job (id) or video (platform video id)");
  men->add_option("--limit", query->limit, "At most this many mentions (default 100)")
      ->check(CLI::NonNegativeNumber);
  men->add_option("--store", query->store_uri, "Job store: sqlite:PATH")->capture_default_str();
  men->add_flag("--json", query->json, "A JSON array of mentions with their links");

  CLI::App* d = sub->add_subcommand(
      "default-watchlist", "Print the built-in watchlist (JSON): a starting point for your own");

  return Command{sub, [=] {
                   if (x->parsed()) return run_extract(*args);
                   if (top->parsed()) return run_top(*query);
                   if (men->parsed()) return run_mentions(*query);
                   if (d->parsed()) {
                     fmt::print("{}", nlp::default_watchlist_document());
                     return 0;
                   }
                   return 2;
                 }};
}

}  // namespace aimara::cli
