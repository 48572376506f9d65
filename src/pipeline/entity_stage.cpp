#include "pipeline/entity_stage.h"

#include <chrono>
#include <cstdio>
#include <ctime>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/fs.h"
#include "media/platform.h"

namespace aimara::pipeline {

namespace fs = std::filesystem;

namespace {

std::string timestamp_now(const char* format) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof(buf), format, &tm);
  return buf;
}

// Appends lines to the mention stream and flushes each batch, so readers always see whole lines.
Result<void> append_lines(const fs::path& path, const std::string& lines) {
  std::FILE* f = std::fopen(path.c_str(), "a");
  if (f == nullptr) return make_error(ErrorCode::kIo, "cannot append to '" + path.string() + "'");
  bool ok = std::fwrite(lines.data(), 1, lines.size(), f) == lines.size();
  ok = std::fflush(f) == 0 && ok;
  std::fclose(f);
  if (!ok) return make_error(ErrorCode::kIo, "cannot append to '" + path.string() + "'");
  return {};
}

std::string link_at(const VideoRef& v, int64_t ms) {
  auto platform = media::platform_from_name(v.platform).value_or(media::Platform::kGeneric);
  if (v.url.empty() || !media::is_http_url(v.url)) return v.url;
  return media::deep_link(v.url, platform, ms / 1000);
}

}  // namespace

EntityStage::EntityStage(const output::RunLayout& layout, EntityStageOptions options,
                         std::string stamp)
    : layout_(layout), options_(std::move(options)), stamp_(std::move(stamp)) {
  stream_path_ = layout_.transcripts() / fmt::format("entities_{}.jsonl", stamp_);
}

Result<std::unique_ptr<EntityStage>> EntityStage::create(const output::RunLayout& layout,
                                                         EntityStageOptions options) {
  if (options.buffer_size == 0) options.buffer_size = 50;
  std::unique_ptr<EntityStage> stage(
      new EntityStage(layout, std::move(options), timestamp_now("%Y%m%d_%H%M%S")));
  // Check the watchlists now, so that a bad one stops the run before any work is done. The
  // taggers (12-18 MiB each) are loaded when a video in their language first needs one.
  if (stage->options_.enabled) {
    nlp::ExtractorOptions check;
    check.use_model = false;
    check.watchlist_files = stage->options_.watchlists;
    auto e = nlp::EntityExtractor::create(std::move(check));
    if (!e) return std::unexpected(e.error());
  }
  return stage;
}

Result<const nlp::EntityExtractor*> EntityStage::extractor_for(const std::string& language) {
  const std::string lang = language == "en" ? "en" : "es";
  auto it = extractors_.find(lang);
  if (it != extractors_.end()) return it->second.get();
  nlp::ExtractorOptions eo;
  eo.language = lang;
  eo.watchlist_files = options_.watchlists;
  auto ex = nlp::EntityExtractor::create(std::move(eo));
  if (!ex) return std::unexpected(ex.error());
  for (const auto& w : ex->warnings()) warnings_.push_back(w);
  spdlog::debug("entities: the extractor for '{}' is loaded", lang);
  auto owned = std::make_unique<nlp::EntityExtractor>(std::move(*ex));
  const nlp::EntityExtractor* raw = owned.get();
  extractors_[lang] = std::move(owned);
  return raw;
}

Result<EntityStage::VideoResult> EntityStage::process_video(const VideoRef& video,
                                                            const std::string& language,
                                                            const std::vector<SegmentRef>& segments,
                                                            const std::string& stem) {
  std::lock_guard lock(mu_);
  VideoResult result;
  if (!options_.enabled) return result;
  auto ex = extractor_for(language);
  if (!ex) return std::unexpected(ex.error());
  nlp::EntityIndex index;
  nlohmann::json per_mention = nlohmann::json::array();
  const std::string extraction_time = timestamp_now("%Y-%m-%dT%H:%M:%S");
  const nlohmann::json video_info = {{"title", video.title},
                                     {"video_id", video.video_id},
                                     {"url", video.url},
                                     {"platform", video.platform}};
  std::vector<std::pair<std::string, nlohmann::json>> kept;  // canonical -> mention json
  for (size_t b = 0; b < segments.size(); b += options_.buffer_size) {
    size_t e = std::min(segments.size(), b + options_.buffer_size);
    std::vector<nlp::SegmentText> batch;
    for (size_t i = b; i < e; ++i) {
      batch.push_back(nlp::SegmentText{.text = segments[i].text,
                                       .start_ms = segments[i].start_ms,
                                       .end_ms = segments[i].end_ms,
                                       .no_speech_prob = segments[i].no_speech_prob,
                                       .avg_logprob = segments[i].avg_logprob});
    }
    nlp::ExtractionBatch out = (*ex)->extract(batch, index);
    for (const auto& v : out.segments) {
      if (v.flagged) ++result.flagged_segments;
    }
    std::string lines;
    for (const auto& m : out.mentions) {
      if (m.hallucination) continue;
      nlohmann::json j = {{"entity", m.entity},
                          {"canonical", m.canonical},
                          {"type", m.type},
                          {"source", nlp::source_name(m.source)},
                          {"video_info", video_info},
                          {"timestamp_start", static_cast<double>(m.start_ms) / 1000.0},
                          {"timestamp_end", static_cast<double>(m.end_ms) / 1000.0},
                          {"context", m.context},
                          {"link", link_at(video, m.start_ms)},
                          {"extraction_time", extraction_time}};
      lines += j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      result.mentions.push_back(store::Mention{.entity = m.entity,
                                               .canonical = m.canonical,
                                               .type = m.type,
                                               .source = std::string(nlp::source_name(m.source)),
                                               .start_ms = m.start_ms,
                                               .end_ms = m.end_ms,
                                               .context = m.context});
      kept.emplace_back(m.canonical, std::move(j));
    }
    if (!lines.empty()) {
      if (auto r = append_lines(stream_path_, lines); !r) return std::unexpected(r.error());
    }
  }

  // Per video: entity -> type, count, first and last time, aliases, mentions. Canonical names
  // are final only now (a later "Nicolás Maduro" renames an earlier "Maduro").
  nlohmann::json entities = nlohmann::json::object();
  std::map<std::string, std::string> canonical_of;  // folded surface -> final canonical
  auto final_entities = index.entities();
  for (const auto& ent : final_entities) {
    nlohmann::json aliases = ent.aliases;
    entities[ent.canonical] = {{"type", ent.type},
                               {"count", ent.count},
                               {"first_seconds", static_cast<double>(ent.first_ms) / 1000.0},
                               {"last_seconds", static_cast<double>(ent.last_ms) / 1000.0},
                               {"aliases", aliases},
                               {"by_source", ent.count_by_source},
                               {"mentions", nlohmann::json::array()}};
    canonical_of[nlp::fold_key(ent.canonical)] = ent.canonical;
    for (const auto& a : ent.aliases) canonical_of[nlp::fold_key(a)] = ent.canonical;
  }
  for (auto& [canonical, j] : kept) {
    auto c = canonical_of.find(nlp::fold_key(canonical));
    if (c == canonical_of.end()) c = canonical_of.find(nlp::fold_key(j["entity"].get<std::string>()));
    if (c == canonical_of.end() || !entities.contains(c->second)) continue;
    entities[c->second]["mentions"].push_back({{"entity", j["entity"]},
                                              {"start_seconds", j["timestamp_start"]},
                                              {"end_seconds", j["timestamp_end"]},
                                              {"source", j["source"]},
                                              {"context", j["context"]},
                                              {"link", j["link"]}});
  }
  for (auto& m : result.mentions) {
    auto c = canonical_of.find(nlp::fold_key(m.canonical));
    if (c != canonical_of.end()) m.canonical = c->second;
  }
  nlohmann::json doc = {{"video_info", video_info},
                        {"language", language},
                        {"segments", segments.size()},
                        {"flagged_segments", result.flagged_segments},
                        {"mentions", result.mentions.size()},
                        {"entities", std::move(entities)}};
  result.file = layout_.video_transcripts() / (stem + "_entities.json");
  if (auto w = write_file_atomic(result.file,
                                 doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) +
                                     "\n");
      !w) {
    return std::unexpected(w.error());
  }

  ++videos_;
  segments_ += static_cast<int64_t>(segments.size());
  flagged_ += result.flagged_segments;
  mentions_ += static_cast<int64_t>(result.mentions.size());
  for (const auto& ent : final_entities) {
    if (ent.count == 0) continue;
    by_type_[ent.type] += ent.count;
    auto& t = top_[{ent.canonical, ent.type}];
    t.first += ent.count;
    t.second += 1;
  }
  return result;
}

Result<fs::path> EntityStage::write_summary() {
  std::lock_guard lock(mu_);
  std::vector<std::pair<std::pair<std::string, std::string>, std::pair<int64_t, int64_t>>> top(
      top_.begin(), top_.end());
  std::sort(top.begin(), top.end(), [](const auto& a, const auto& b) {
    return a.second.first != b.second.first ? a.second.first > b.second.first : a.first < b.first;
  });
  nlohmann::json top_j = nlohmann::json::array();
  for (size_t i = 0; i < top.size() && i < 50; ++i) {
    top_j.push_back({{"entity", top[i].first.first},
                     {"type", top[i].first.second},
                     {"count", top[i].second.first},
                     {"videos", top[i].second.second}});
  }
  nlohmann::json doc = {{"videos_processed", videos_},
                        {"segments_processed", segments_},
                        {"segments_flagged", flagged_},
                        {"entities_found", mentions_},
                        {"unique_entities", top_.size()},
                        {"counts_by_type", by_type_},
                        {"top_entities", std::move(top_j)},
                        {"mention_stream", stream_path_.filename().string()}};
  fs::path p = layout_.transcripts() / fmt::format("entities_summary_{}.json", stamp_);
  if (auto w = write_file_atomic(p, doc.dump(2, ' ', false,
                                             nlohmann::json::error_handler_t::replace) + "\n");
      !w) {
    return std::unexpected(w.error());
  }
  return p;
}

std::vector<std::string> EntityStage::take_warnings() {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  out.swap(warnings_);
  return out;
}

}  // namespace aimara::pipeline
