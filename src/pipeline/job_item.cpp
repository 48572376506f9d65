#include "pipeline/job_item.h"

#include <filesystem>

namespace aimara::pipeline {

namespace {
std::string_view kind_name(media::SourceKind k) {
  switch (k) {
    case media::SourceKind::kYtDlp: return "ytdlp";
    case media::SourceKind::kDirectHttp: return "http";
    case media::SourceKind::kLocalFile: return "local";
  }
  return "ytdlp";
}
}  // namespace

nlohmann::json item_to_json(const media::MediaItem& item) {
  nlohmann::json meta = {{"id", item.meta.id},
                         {"extractor", item.meta.extractor},
                         {"title", item.meta.title},
                         {"uploader", item.meta.uploader},
                         {"upload_date", item.meta.upload_date},
                         {"webpage_url", item.meta.webpage_url},
                         {"url", item.meta.url},
                         {"direct", item.meta.direct}};
  if (item.meta.duration_ms) meta["duration_ms"] = *item.meta.duration_ms;
  return {{"kind", kind_name(item.kind)},
          {"platform", media::platform_name(item.platform)},
          {"input", item.input},
          {"meta", std::move(meta)}};
}

std::optional<media::MediaItem> item_from_json(const nlohmann::json& j) {
  if (!j.is_object() || !j.contains("input") || !j.contains("kind")) return std::nullopt;
  media::MediaItem item;
  const std::string kind = j.value("kind", "ytdlp");
  item.kind = kind == "local" ? media::SourceKind::kLocalFile
              : kind == "http" ? media::SourceKind::kDirectHttp
                               : media::SourceKind::kYtDlp;
  item.platform = media::platform_from_name(j.value("platform", "generic"))
                      .value_or(media::Platform::kGeneric);
  item.input = j.value("input", "");
  const auto& m = j.contains("meta") ? j["meta"] : nlohmann::json::object();
  item.meta.id = m.value("id", "");
  item.meta.extractor = m.value("extractor", "");
  item.meta.title = m.value("title", "");
  item.meta.uploader = m.value("uploader", "");
  item.meta.upload_date = m.value("upload_date", "");
  item.meta.webpage_url = m.value("webpage_url", "");
  item.meta.url = m.value("url", "");
  item.meta.direct = m.value("direct", false);
  if (m.contains("duration_ms") && m["duration_ms"].is_number()) {
    item.meta.duration_ms = m["duration_ms"].get<int64_t>();
  }
  return item;
}

jobs::MediaInfo media_info_of(const media::MediaItem& item) {
  jobs::MediaInfo info;
  info.title = item.meta.title.empty() ? std::filesystem::path(item.input).stem().string()
                                       : item.meta.title;
  info.platform = item.kind == media::SourceKind::kLocalFile
                      ? "local"
                      : std::string(media::platform_name(item.platform));
  std::string key = item.dedup_key();
  size_t colon = key.find(':');
  info.extractor = colon == std::string::npos ? "input" : key.substr(0, colon);
  info.video_id = colon == std::string::npos ? key : key.substr(colon + 1);
  info.duration_ms = item.meta.duration_ms.value_or(0);
  info.uploader = item.meta.uploader;
  info.upload_date = item.meta.upload_date;
  info.webpage_url = item.meta.webpage_url.empty() ? item.input : item.meta.webpage_url;
  return info;
}

asr::Segment segment_of(const store::StoredSegment& stored) {
  return asr::Segment{.start_ms = stored.segment.start_ms,
                      .end_ms = stored.segment.end_ms,
                      .text = stored.segment.text,
                      .no_speech_prob = static_cast<float>(stored.segment.no_speech_prob),
                      .avg_logprob = static_cast<float>(stored.segment.avg_logprob)};
}

}  // namespace aimara::pipeline
