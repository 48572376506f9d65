// How a resolved media item travels through the store: the pipeline keeps the MediaItem of each
// child job (a playlist entry, a file of a folder) in the job's options, so a worker that claims
// the child later can fetch it without resolving the playlist again. A segment comes back out of
// the store as the transcript writers take it.
// Thread-safety: pure functions.
#pragma once

#include <optional>

#include <nlohmann/json.hpp>

#include "asr/transcript.h"
#include "jobs/job.h"
#include "media/source.h"
#include "store/store.h"

namespace aimara::pipeline {

nlohmann::json item_to_json(const media::MediaItem& item);
std::optional<media::MediaItem> item_from_json(const nlohmann::json& j);

// The store's view of an item: title (the file stem when there is none), platform, extractor and
// video id (which make the job unique among live jobs), duration, uploader, dates, page URL.
jobs::MediaInfo media_info_of(const media::MediaItem& item);

// A stored segment as a transcript segment: times in the media's timeline, text, probabilities.
asr::Segment segment_of(const store::StoredSegment& stored);

}  // namespace aimara::pipeline
