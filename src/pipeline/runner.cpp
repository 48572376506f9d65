#include "pipeline/runner.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include <fmt/format.h>

#include "asr/model_catalog.h"
#include "media/platform.h"
#include "media/vad.h"
#include "pipeline/engine.h"
#include "pipeline/run_summary.h"
#include "store/store.h"

namespace aimara::pipeline {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

// One top-level job per input. The input itself is the job's identity (extractor "input"), so
// running the same command again finds the same jobs, and resumes or skips them, instead of
// adding new ones; an input given twice is one job, listed once. A playlist, feed or folder
// expanded by an earlier run is expanded again: what was added since is picked up (up to
// --max-videos), what it had is not redone.
Result<std::vector<int64_t>> enqueue_inputs(store::Store& store, const RunOptions& o) {
  std::vector<int64_t> ids;
  for (const auto& input : o.inputs) {
    store::NewJob nj;
    std::error_code ec;
    if (media::is_http_url(input)) {
      nj.source = input;
      auto link = media::detect_platform(input);
      nj.kind = (link.kind == media::LinkKind::kPlaylist || link.kind == media::LinkKind::kChannel)
                    ? jobs::JobKind::kPlaylist
                    : jobs::JobKind::kMedia;
      nj.media.platform = std::string(media::platform_name(link.platform));
      nj.media.webpage_url = input;
    } else if (fs::exists(input, ec)) {
      nj.source = fs::absolute(input).lexically_normal().string();
      nj.kind = fs::is_directory(input, ec) ? jobs::JobKind::kPlaylist : jobs::JobKind::kMedia;
      nj.media.platform = "local";
      nj.media.title = nj.kind == jobs::JobKind::kMedia ? fs::path(nj.source).stem().string()
                                                        : fs::path(nj.source).filename().string();
    } else {
      return make_error(ErrorCode::kInvalidArgument,
                        "'" + input + "' is neither an http(s) URL nor an existing file or folder");
    }
    nj.media.extractor = "input";
    nj.media.video_id = nj.source;
    nj.max_attempts = o.max_attempts;
    auto e = store.enqueue_input(nj);
    if (!e) return std::unexpected(e.error());
    if (std::ranges::find(ids, e->id) == ids.end()) ids.push_back(e->id);
  }
  return ids;
}

// True when every job of this run (the inputs and everything they expanded to) is completed,
// dead or cancelled.
bool run_finished(store::Store& store, const std::vector<int64_t>& top_jobs) {
  std::vector<int64_t> todo = top_jobs;
  while (!todo.empty()) {
    int64_t id = todo.back();
    todo.pop_back();
    auto job = store.get_job(id);
    if (!job || !jobs::is_terminal(job->state)) return false;
    if (job->kind == jobs::JobKind::kPlaylist) {
      auto kids = store.children(id);
      if (!kids) return false;
      for (const auto& k : *kids) todo.push_back(k.id);
    }
  }
  return true;
}

}  // namespace

Result<void> check_models(const RunOptions& options) {
  if (auto model = asr::resolve_model(options.model); !model) {
    return std::unexpected(model.error());
  }
  if (!options.no_vad && options.chunk_length_s <= 0.0 && !options.vad_model.empty()) {
    if (auto vad = media::VadModel::load(options.vad_model); !vad) {
      return std::unexpected(vad.error());
    }
  }
  return {};
}

Result<std::unique_ptr<store::Store>> open_run_store(const RunOptions& options) {
  store::StoreOptions so;
  so.retry.max_attempts = std::max(1, options.max_attempts);
  so.retry.base_delay_ms = options.retry_base_ms;
  so.retry.max_delay_ms = std::max<int64_t>(options.retry_base_ms, 5 * 60'000);
  return store::open_store(options.store_uri, so);
}

Result<RunResult> run_pipeline(const RunOptions& options, RunObserver& observer,
                               std::stop_token stop) {
  if (options.inputs.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "nothing to do: give URLs, files or folders");
  }
  for (const auto& input : options.inputs) {
    std::error_code ec;
    if (!media::is_http_url(input) && !fs::exists(input, ec)) {
      return make_error(ErrorCode::kInvalidArgument,
                        "'" + input + "' is neither an http(s) URL nor an existing file or folder");
    }
  }
  // A model that is not there is said before anything is created (store, output folders).
  if (auto ok = check_models(options); !ok) return std::unexpected(ok.error());
  const auto started = Clock::now();
  const int64_t started_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                 std::chrono::system_clock::now().time_since_epoch())
                                 .count();
  auto opened = open_run_store(options);
  if (!opened) return std::unexpected(opened.error());
  std::shared_ptr<store::Store> store = std::move(*opened);

  RunOptions eo = options;
  eo.fetchers = std::max(1, options.fetchers);
  auto engine = Engine::create(eo, store, observer);
  if (!engine) return std::unexpected(engine.error());
  auto top = enqueue_inputs(*store, options);
  if (!top) return std::unexpected(top.error());

  (*engine)->start();
  while (!run_finished(*store, *top) && !stop.stop_requested()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  if (!stop.stop_requested()) {
    // Videos finished earlier (into another --out, or whose files were removed) get their files
    // here too, from the store.
    if (int n = (*engine)->write_missing_files(*top); n > 0) {
      observer.on_message(
          fmt::format("wrote the files of {} video(s) finished by an earlier run", n));
    }
  }
  (*engine)->stop(!stop.stop_requested());

  RunResult result;
  result.wall_s = std::chrono::duration<double>(Clock::now() - started).count();
  output::RunLayout layout{options.out_dir};
  auto summary =
      build_run_summary(*store, *top, layout, options.formats, result.wall_s, started_ms);
  if (!summary) return std::unexpected(summary.error());
  result.summary = std::move(summary->json);
  result.videos = summary->videos;
  result.completed = summary->completed;
  result.failed = summary->failed;
  result.inputs_failed = summary->inputs_failed;
  result.segments = summary->segments;
  result.audio_ms = summary->audio_ms;
  result.audio_ms_run = summary->audio_ms_run;
  result.files = std::move(summary->files);
  if (auto w = write_run_summary(layout, result.summary); !w) {
    observer.on_message("cannot write the run summary: " + w.error().to_string());
  }
  if (stop.stop_requested()) {
    return make_error(ErrorCode::kCancelled,
                      "interrupted; finished chunks are saved: run the same command to resume");
  }
  return result;
}

}  // namespace aimara::pipeline
