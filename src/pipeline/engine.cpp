#include "pipeline/engine.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <chrono>
#include <condition_variable>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "asr/model_catalog.h"
#include "asr/worker_pool.h"
#include "core/bounded_queue.h"
#include "core/fs.h"
#include "core/paths.h"
#include "media/chunker.h"
#include "media/decoder.h"
#include "media/source.h"
#include "media/vad.h"
#include "nlp/hallucination.h"
#include "output/run_layout.h"
#include "pipeline/entity_stage.h"
#include "pipeline/file_transcriber.h"
#include "pipeline/job_item.h"
#include "store/store.h"

namespace aimara::pipeline {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using jobs::JobState;

namespace {

std::string local_host() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0) return "localhost";
  return buf;
}

bool auto_language(const std::string& l) { return l.empty() || l == "auto"; }

// The spoken language asked for this job (a submission's "language" option, e.g. from the
// server), else the engine's.
std::string job_language(const jobs::Job& job, const std::string& engine_language) {
  auto it = job.options.find("language");
  if (it != job.options.end() && it->is_string() && !it->get<std::string>().empty()) {
    return it->get<std::string>();
  }
  return engine_language;
}

// One media job between fetch and completion. Fields without a guard are set before the context
// is shared and never change after.
struct JobContext {
  jobs::Lease lease;
  jobs::Job job;
  fs::path media_path;
  fs::path job_dir;
  bool owns_job_dir = true;
  std::string stem;
  std::stop_source stop;                 // lease lost, or the run is stopping
  Clock::time_point started = Clock::now();

  std::mutex mu;
  std::condition_variable_any cv;        // language known, or an error
  std::string language;                  // guarded by mu
  bool language_known = false;           // guarded by mu
  bool detecting = false;                // guarded by mu: a language task is on the pool
  std::optional<Error> error;            // guarded by mu
  int submitted = 0;                     // guarded by mu
  int done = 0;                          // guarded by mu
  bool stream_finished = false;          // guarded by mu
  bool finalizing = false;               // guarded by mu
  int64_t duration_ms = 0;               // guarded by mu (known when the stream finished)
  int64_t estimated_ms = 0;              // guarded by mu: the container's duration estimate
  int64_t transcribed_ms = 0;            // guarded by mu: chunk audio done (or found done)
  std::unique_ptr<output::BuildingTranscript> building;  // guarded by mu
};
using JobContextPtr = std::shared_ptr<JobContext>;

}  // namespace

struct Engine::Impl {
  Impl(const RunOptions& o, std::shared_ptr<store::Store> store, RunObserver& observer)
      : o_(o), observer_(observer), store_(std::move(store)), fetched_(2), finalize_(4096) {}

  Result<void> prepare();
  void start();
  void stop(bool graceful);
  void take_back_stale_leases();
  void fetch_loop();
  void process_claim(store::ClaimedJob claimed);
  void chunk_loop();
  void process_media(const JobContextPtr& ctx);
  void submit_language_task(const JobContextPtr& ctx, std::vector<float> samples);
  void submit_chunk_task(const JobContextPtr& ctx, media::AudioChunk chunk);
  void chunk_finished(const JobContextPtr& ctx, int64_t chunk_ms);
  void finalize_loop();
  void finalize(const JobContextPtr& ctx);
  // A finished video's entities (its entities file and the run's mention stream) and its
  // transcript files, from its stored segments.
  Result<std::vector<store::Mention>> extract_entities(
      const jobs::Job& job, const std::vector<store::StoredSegment>& stored,
      const std::string& language, const std::string& stem);
  Result<void> write_transcript_files(const std::vector<store::StoredSegment>& stored,
                                      int64_t duration_ms, const std::string& language,
                                      const std::string& stem);
  // Both of the above for a job completed earlier, from what the store keeps.
  Result<void> write_files_from_store(const jobs::Job& job, const std::string& stem);
  int write_missing_files(const std::vector<int64_t>& job_ids);
  void heartbeat_loop(std::stop_token stop);
  void fail_job(const jobs::Lease& lease, const jobs::Job& job, const Error& error);
  bool reserve_claim_slot();
  void return_claim_slot();
  void register_lease(const jobs::Lease& lease, const JobContextPtr& ctx);
  void unregister_lease(int64_t job_id);
  std::string stem_for(const jobs::Job& job);
  void status(const jobs::Job& job, std::string_view stage, double progress = 0.0,
              double eta_s = -1.0, const std::string& error = {});
  bool stopping() const { return stop_all_.load() || abandon_.stop_requested(); }
  bool abandoning() const { return abandon_.stop_requested(); }

  RunOptions o_;
  RunObserver& observer_;
  std::stop_source abandon_;              // a non-graceful stop: drop work, hand jobs back
  std::string worker_id_;
  output::RunLayout layout_;
  fs::path work_dir_;
  std::shared_ptr<store::Store> store_;
  std::shared_ptr<asr::WhisperModel> model_;
  std::unique_ptr<asr::WorkerPool> pool_;
  std::unique_ptr<media::VadModel> vad_;  // used by the chunker thread only
  std::unique_ptr<media::IngestSource> source_;
  std::unique_ptr<EntityStage> entities_;
  asr::TranscribeOptions asr_;
  std::atomic<bool> stop_all_{false};
  std::atomic<bool> started_{false};
  std::atomic<bool> stopped_{false};
  std::atomic<int> active_{0};
  std::atomic<int64_t> audio_ms_{0};
  std::atomic<int64_t> asr_us_{0};
  std::filesystem::path vad_path_;
  std::vector<std::jthread> fetchers_;
  std::jthread chunker_;
  std::jthread finalizer_;
  std::jthread heartbeat_;
  BoundedQueue<JobContextPtr> fetched_;
  BoundedQueue<JobContextPtr> finalize_;

  mutable std::mutex leases_mu_;
  std::map<int64_t, std::pair<jobs::Lease, std::weak_ptr<JobContext>>> leases_;  // guarded
  // The run-time limit on jobs held at once (set_max_active_jobs) and the fetchers between
  // reserving a place under it and holding the lease they claimed. Both guarded by leases_mu_.
  int max_active_ = std::numeric_limits<int>::max();
  int claiming_ = 0;
  std::condition_variable slots_cv_;  // a lease was given up, the limit changed, or stopping

  std::mutex stems_mu_;
  std::map<std::string, int64_t> stems_;  // guarded by stems_mu_: stem -> job id

};

Result<void> Engine::Impl::prepare() {
  worker_id_ = fmt::format("run@{}:{}", local_host(), ::getpid());
  layout_.root = o_.out_dir;
  if (auto r = layout_.create_dirs(); !r) return r;
  work_dir_ = o_.work_dir.empty() ? o_.out_dir / ".work" : o_.work_dir;
  if (auto made = create_folder(work_dir_, "work folder"); !made) {
    return std::unexpected(made.error());
  }

  auto model_path = asr::resolve_model(o_.model);
  if (!model_path) return std::unexpected(model_path.error());
  auto model = asr::WhisperModel::load({.model_path = *model_path, .device = o_.device});
  if (!model) return std::unexpected(model.error());
  model_ = std::move(*model);

  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  auto shape = asr::choose_pool_shape(cores, o_.workers, o_.threads);
  asr_ = o_.asr;
  asr_.threads = shape.threads;
  auto pool = asr::WorkerPool::create(model_, shape.workers, static_cast<size_t>(shape.workers) * 2);
  if (!pool) return std::unexpected(pool.error());
  pool_ = std::move(*pool);

  if (o_.chunk_length_s <= 0.0 && !o_.no_vad) {
    fs::path vad_path = o_.vad_model;
    if (vad_path.empty()) {
      auto found = asr::resolve_model("silero-v6.2.0");
      if (found) vad_path = *found;
    }
    if (vad_path.empty()) {
      observer_.on_message(
          "no VAD model found: cutting fixed 30 s chunks (get one with `aimara models download "
          "silero-v6.2.0`, or pass --vad-model PATH; --no-vad silences this)");
    } else {
      auto vad = media::VadModel::load(vad_path);
      if (!vad) return std::unexpected(vad.error());
      vad_ = std::move(*vad);
      vad_path_ = vad_path;
    }
  }

  EntityStageOptions eo;
  eo.watchlists = o_.watchlists;
  eo.buffer_size = static_cast<size_t>(std::max(1, o_.buffer_size));
  eo.enabled = o_.entities;
  auto stage = EntityStage::create(layout_, eo);
  if (!stage) return std::unexpected(stage.error());
  entities_ = std::move(*stage);
  for (const auto& w : entities_->take_warnings()) observer_.on_message("entities: " + w);

  media::IngestOptions io;
  if (!o_.ytdlp.empty()) io.ytdlp = o_.ytdlp;
  io.cookies = o_.cookies;
  io.max_videos = o_.max_videos;
  io.sort_shortest = o_.sort_shortest;
  source_ = std::make_unique<media::IngestSource>(io);
  observer_.on_message(fmt::format("model {} ({}), {} worker{} x {} thread{}, store {}",
                                   model_->name(), model_->on_gpu() ? "gpu" : "cpu", shape.workers,
                                   shape.workers == 1 ? "" : "s", shape.threads,
                                   shape.threads == 1 ? "" : "s", store_->describe()));
  return {};
}

void Engine::Impl::take_back_stale_leases() {
  // Leases held by an earlier run on this machine whose process is gone (killed, crashed) are
  // expired now, so this run can claim those jobs at once instead of waiting for the expiry.
  store::JobFilter f;
  f.limit = 0;
  for (JobState s : jobs::kAllJobStates) {
    if (jobs::is_running(s)) f.states.push_back(s);
  }
  auto running = store_->list_jobs(f);
  if (!running) return;
  const std::string prefix = fmt::format("run@{}:", local_host());
  std::set<std::string> owners;
  for (const auto& j : *running) {
    if (j.lease_owner && j.lease_owner->starts_with(prefix)) owners.insert(*j.lease_owner);
  }
  for (const auto& owner : owners) {
    const std::string_view digits = std::string_view(owner).substr(prefix.size());
    pid_t pid = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pid);
    if (ec != std::errc() || end != digits.data() + digits.size() || pid <= 0) continue;
    if (pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH) {
      auto n = store_->expire_leases_of(owner);
      if (n && *n > 0) {
        observer_.on_message(fmt::format("took back {} job(s) left by an interrupted run", *n));
      }
    }
  }
}

void Engine::Impl::fetch_loop() {
  while (!stopping()) {
    // A place under the limit of jobs held at once, reserved before the claim so that fetchers
    // claiming together cannot pass it.
    if (!reserve_claim_slot()) break;
    // Do not claim more work than the chunker can take soon: a claimed job holds a lease.
    auto claimed = store_->claim(worker_id_, o_.lease_ms);
    if (!claimed) {
      return_claim_slot();
      observer_.on_message("store: " + claimed.error().to_string());
      std::this_thread::sleep_for(std::chrono::seconds(1));
      continue;
    }
    if (!claimed->has_value()) {
      return_claim_slot();
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      continue;
    }
    process_claim(std::move(**claimed));  // its register_lease takes over the reserved place
  }
}

bool Engine::Impl::reserve_claim_slot() {
  std::unique_lock lock(leases_mu_);
  slots_cv_.wait(lock, [&] {
    return stopping() || static_cast<int>(leases_.size()) + claiming_ < max_active_;
  });
  if (stopping()) return false;
  ++claiming_;
  return true;
}

void Engine::Impl::return_claim_slot() {
  {
    std::lock_guard lock(leases_mu_);
    --claiming_;
  }
  slots_cv_.notify_all();
}

void Engine::Impl::process_claim(store::ClaimedJob claimed) {
  auto ctx = std::make_shared<JobContext>();
  ctx->lease = claimed.lease;
  ctx->job = std::move(claimed.job);
  jobs::Job& job = ctx->job;
  register_lease(ctx->lease, ctx);
  status(job, "resolving");

  std::optional<media::MediaItem> item;
  if (job.options.contains("item")) item = item_from_json(job.options["item"]);
  if (!item) {
    auto resolved = source_->resolve(job.source, ctx->stop.get_token());
    if (!resolved) return fail_job(ctx->lease, job, resolved.error());
    for (const auto& u : resolved->unreadable) {
      observer_.on_message(fmt::format("skipped {}: {}", u.path.string(), u.error.to_string()));
    }
    std::error_code ec;
    const bool single = resolved->kind == media::ResolvedKind::kSingle ||
                        (resolved->kind == media::ResolvedKind::kLocalFiles &&
                         resolved->items.size() == 1 && !fs::is_directory(job.source, ec));
    if (resolved->items.empty()) {
      return fail_job(ctx->lease, job,
                      Error{ErrorCode::kMediaNotFound, "no media found in '" + job.source + "'"});
    }
    if (single) {
      item = resolved->items.front();
      jobs::MediaInfo info = media_info_of(*item);
      info.extractor = job.media.extractor;  // keep the job's identity
      info.video_id = job.media.video_id;
      // An upload keeps the title its client's file name gave it (the file on disk has an
      // ASCII-only name).
      if (info.title.empty() || (job.options.contains("upload") && !job.media.title.empty())) {
        info.title = job.media.title;
      }
      auto u = store_->set_media_info(ctx->lease, info);
      if (!u) return fail_job(ctx->lease, job, u.error());
      job.media = info;
    } else {
      std::vector<store::NewJob> kids;
      int64_t order = 0;
      for (const auto& it : resolved->items) {
        store::NewJob nj;
        nj.source = it.input;
        nj.parent_id = job.id;
        nj.priority = order++;  // the source already sorted them (shortest first or as listed)
        nj.max_attempts = o_.max_attempts;
        nj.options = {{"item", item_to_json(it)}};
        if (job.options.contains("language")) nj.options["language"] = job.options["language"];
        nj.media = media_info_of(it);
        kids.push_back(std::move(nj));
      }
      auto added = store_->add_children(ctx->lease, kids);
      if (!added) return fail_job(ctx->lease, job, added.error());
      auto info = job.media;
      if (!resolved->collection.title.empty()) info.title = resolved->collection.title;
      (void)store_->set_media_info(ctx->lease, info);
      observer_.on_message(fmt::format("{}: {} item(s){}", job.source, kids.size(),
                                       resolved->total_items > kids.size()
                                           ? fmt::format(" of {}", resolved->total_items)
                                           : std::string()));
      auto c = store_->complete(ctx->lease);
      unregister_lease(job.id);
      if (!c) observer_.on_message("store: " + c.error().to_string());
      status(job, "expanded", 1.0);
      return;
    }
  }

  ctx->job_dir = work_dir_ / std::to_string(job.id);
  if (item->kind == media::SourceKind::kLocalFile) {
    ctx->media_path = item->input;
    ctx->owns_job_dir = false;
  } else {
    if (auto s = store_->set_stage(ctx->lease, JobState::kDownloading); !s) {
      return fail_job(ctx->lease, job, s.error());
    }
    status(job, "downloading");
    auto path = source_->fetch(*item, ctx->job_dir, ctx->stop.get_token());
    if (!path) return fail_job(ctx->lease, job, path.error());
    ctx->media_path = *path;
  }
  status(job, "queued for audio");
  if (!fetched_.push(ctx)) {
    // The run is stopping: hand the job back untouched.
    (void)store_->release(ctx->lease);
    unregister_lease(job.id);
  }
}

void Engine::Impl::chunk_loop() {
  while (auto ctx = fetched_.pop()) {
    if (stopping() && abandoning()) {
      (void)store_->release((*ctx)->lease);
      unregister_lease((*ctx)->job.id);
      continue;
    }
    process_media(*ctx);
  }
}

void Engine::Impl::process_media(const JobContextPtr& ctx) {
  const jobs::Job& job = ctx->job;
  if (auto s = store_->set_stage(ctx->lease, JobState::kExtractingAudio); !s) {
    return fail_job(ctx->lease, job, s.error());
  }
  status(job, "extracting_audio");
  media::DecodeOptions dopts;
  dopts.max_duration_ms = static_cast<int64_t>(o_.max_duration_h * 3600.0 * 1000.0);
  auto decoder = media::AudioDecoder::open(ctx->media_path, dopts);
  if (!decoder) return fail_job(ctx->lease, job, decoder.error());

  // What an earlier, interrupted run already finished.
  auto records = store_->chunks(job.id);
  if (!records) return fail_job(ctx->lease, job, records.error());
  std::map<int, std::pair<int64_t, int64_t>> done_spans;
  for (const store::ChunkRecord& r : *records) {
    if (r.state == store::ChunkState::kDone) done_spans[r.index] = {r.start_ms, r.end_ms};
  }
  std::map<int, std::vector<asr::Segment>> done_segments;
  if (!done_spans.empty()) {
    auto segs = store_->segments(job.id);
    if (!segs) return fail_job(ctx->lease, job, segs.error());
    for (const auto& s : *segs) done_segments[s.chunk_index].push_back(segment_of(s));
    for (const auto& [index, span] : done_spans) done_segments.try_emplace(index);
  }
  ctx->stem = stem_for(job);
  auto building = output::BuildingTranscript::open(layout_.building(ctx->stem), done_segments);
  if (!building) return fail_job(ctx->lease, job, building.error());
  {
    std::lock_guard lock(ctx->mu);
    ctx->building = std::move(*building);
    ctx->estimated_ms = (*decoder)->info().duration_ms > 0 ? (*decoder)->info().duration_ms
                                                           : job.media.duration_ms;
    if (const std::string asked = job_language(job, asr_.language); !auto_language(asked)) {
      ctx->language = asked;
      ctx->language_known = true;
    }
  }
  if (auto s = store_->set_stage(ctx->lease, JobState::kTranscribing); !s) {
    return fail_job(ctx->lease, job, s.error());
  }
  status(job, "transcribing");

  media::SpeechChunkingOptions copts;
  copts.chunks.max_pause_ms = static_cast<int64_t>(o_.max_pause_s * 1000.0);
  if (o_.chunk_length_s > 0.0 || vad_ == nullptr) {
    copts.fixed_chunk_ms = o_.chunk_length_s > 0.0
                               ? static_cast<int64_t>(o_.chunk_length_s * 1000.0)
                               : 30'000;
  }
  media::SpeechChunkStream stream(**decoder, vad_.get(), copts);
  std::optional<Error> stream_error;
  while (!ctx->stop.stop_requested() && !abandoning()) {
    auto next = stream.next();
    if (!next) {
      stream_error = next.error();
      break;
    }
    if (!next->has_value()) break;
    media::AudioChunk chunk = std::move(**next);
    spdlog::debug("job {}: chunk {} [{}, {}) ms, {} ms of audio, {} pauses cut", job.id,
                  chunk.chunk.index, chunk.chunk.start_ms, chunk.chunk.end_ms,
                  chunk.chunk.audio_ms(), chunk.chunk.cuts.size());
    bool need_language = false;
    {
      std::lock_guard lock(ctx->mu);
      need_language = !ctx->language_known && !ctx->detecting && chunk.chunk.index == 0;
      if (need_language) ctx->detecting = true;
    }
    if (need_language) submit_language_task(ctx, chunk.samples);
    if (auto it = done_spans.find(chunk.chunk.index); it != done_spans.end()) {
      if (it->second != std::pair{chunk.chunk.start_ms, chunk.chunk.end_ms}) {
        // Finished chunks of another plan must not be mixed with this one's.
        stream_error = Error{
            ErrorCode::kInvalidArgument,
            fmt::format("this job was started with other chunking settings (--max-pause, "
                        "--chunk-length, --no-vad, --vad-model): its chunk {} was [{}, {}) ms and "
                        "is now [{}, {}) ms; run it again with the settings it started with "
                        "(its finished chunks are kept)",
                        chunk.chunk.index, it->second.first, it->second.second,
                        chunk.chunk.start_ms, chunk.chunk.end_ms)};
        break;
      }
      std::lock_guard lock(ctx->mu);
      ctx->transcribed_ms += chunk.chunk.length_ms();
      continue;
    }
    submit_chunk_task(ctx, std::move(chunk));
  }
  bool hand_over = false;
  {
    std::lock_guard lock(ctx->mu);
    if (stream_error && !ctx->error) ctx->error = stream_error;
    if (abandoning() && !ctx->error) {
      ctx->error = Error{ErrorCode::kCancelled, "interrupted"};
    }
    ctx->duration_ms = stream.duration_ms();
    ctx->stream_finished = true;
    if (!ctx->language_known && !ctx->detecting) {
      // No speech chunk at all: nothing to detect. (A detection still running sets it when it
      // is done; the chunks wait for it.)
      ctx->language_known = true;
      const std::string asked = job_language(ctx->job, asr_.language);
      ctx->language = auto_language(asked) ? std::string() : asked;
    }
    ctx->cv.notify_all();
    if (ctx->done == ctx->submitted && !ctx->finalizing) {
      ctx->finalizing = true;
      hand_over = true;
    }
  }
  if (hand_over) finalize_.push(ctx);
}

void Engine::Impl::submit_language_task(const JobContextPtr& ctx, std::vector<float> samples) {
  auto task = [this, ctx, samples = std::move(samples)](asr::WhisperWorker& worker,
                                                        std::stop_token) {
    auto lang = worker.detect_language(samples, asr_.threads);
    std::lock_guard lock(ctx->mu);
    ctx->language = lang ? *lang : "en";
    ctx->language_known = true;
    ctx->cv.notify_all();
  };
  if (!pool_->submit(std::move(task), abandon_.get_token())) {
    std::lock_guard lock(ctx->mu);
    ctx->language_known = true;
    if (!ctx->error) ctx->error = Error{ErrorCode::kCancelled, "interrupted"};
    ctx->cv.notify_all();
  }
}

void Engine::Impl::submit_chunk_task(const JobContextPtr& ctx, media::AudioChunk chunk) {
  {
    std::lock_guard lock(ctx->mu);
    ++ctx->submitted;
  }
  auto task = [this, ctx, chunk = std::move(chunk)](asr::WhisperWorker& worker,
                                                    std::stop_token wstop) {
    std::string language;
    bool skip = false;
    {
      std::unique_lock lock(ctx->mu);
      // The language first (a detection task may still be running); a worker told to stop
      // (cancel() drops the tasks not yet run, that one included) stops waiting.
      ctx->cv.wait(lock, wstop, [&] { return ctx->language_known || ctx->error.has_value(); });
      skip = ctx->error.has_value() || ctx->stop.stop_requested() || wstop.stop_requested();
      // A chunk left undone must never let the job complete without it.
      if (skip && !ctx->error) ctx->error = Error{ErrorCode::kCancelled, "interrupted"};
      language = ctx->language;
    }
    if (!skip) {
      asr::TranscribeOptions opts = asr_;
      opts.language = language.empty() ? "en" : language;
      std::stop_callback forward(wstop, [ctx] { ctx->stop.request_stop(); });
      const auto t0 = Clock::now();
      auto segs = worker.transcribe(chunk.samples, chunk.chunk.time_map(), opts,
                                    nullptr, {}, ctx->stop.get_token());
      asr_us_ += std::chrono::duration_cast<std::chrono::microseconds>(Clock::now() - t0).count();
      if (segs) audio_ms_ += chunk.chunk.audio_ms();
      std::optional<Error> err;
      if (segs) {
        store::ChunkResult cr;
        cr.chunk = {chunk.chunk.index, chunk.chunk.start_ms, chunk.chunk.end_ms};
        for (const auto& s : *segs) {
          // Hallucinations (no speech, loops, low-entropy text) are stored flagged: kept out of
          // entity counts.
          auto verdict = nlp::check_hallucination(
              nlp::SegmentSignals{s.text, s.no_speech_prob, s.avg_logprob});
          cr.segments.push_back(store::NewSegment{
              .start_ms = s.start_ms,
              .end_ms = s.end_ms,
              .text = s.text,
              .no_speech_prob = s.no_speech_prob,
              .avg_logprob = s.avg_logprob,
              .flags = verdict.flagged ? store::kSegmentHallucination : 0u});
        }
        // The checkpoint: committed before anything depends on it.
        auto saved = store_->save_chunk_result(ctx->lease, cr);
        if (!saved) err = saved.error();
      } else {
        err = segs.error();
      }
      std::lock_guard lock(ctx->mu);
      if (err) {
        if (!ctx->error) ctx->error = err;
        ctx->cv.notify_all();
      } else if (ctx->building) {
        if (auto a = ctx->building->add(chunk.chunk.index, *segs); !a) {
          spdlog::warn("{}", a.error().to_string());
        }
      }
    }
    chunk_finished(ctx, chunk.chunk.length_ms());
  };
  if (!pool_->submit(std::move(task), abandon_.get_token())) {
    std::lock_guard lock(ctx->mu);
    --ctx->submitted;
    if (!ctx->error) ctx->error = Error{ErrorCode::kCancelled, "interrupted"};
    ctx->cv.notify_all();
  }
}

void Engine::Impl::chunk_finished(const JobContextPtr& ctx, int64_t chunk_ms) {
  bool hand_over = false;
  double fraction = 0.0;
  double eta = -1.0;
  {
    std::lock_guard lock(ctx->mu);
    ++ctx->done;
    ctx->transcribed_ms += chunk_ms;
    const int64_t total = ctx->stream_finished ? ctx->duration_ms : ctx->estimated_ms;
    fraction = total > 0 ? std::min(1.0, static_cast<double>(ctx->transcribed_ms) /
                                             static_cast<double>(total))
                         : 0.0;
    double elapsed = std::chrono::duration<double>(Clock::now() - ctx->started).count();
    if (fraction > 0.02) eta = elapsed * (1.0 - fraction) / fraction;
    if (ctx->stream_finished && ctx->done == ctx->submitted && !ctx->finalizing) {
      ctx->finalizing = true;
      hand_over = true;
    }
  }
  (void)store_->set_progress(ctx->lease, fraction);
  status(ctx->job, "transcribing", fraction, eta);
  if (hand_over) finalize_.push(ctx);
}

void Engine::Impl::finalize_loop() {
  while (auto ctx = finalize_.pop()) finalize(*ctx);
}

void Engine::Impl::finalize(const JobContextPtr& ctx) {
  const jobs::Job& job = ctx->job;
  std::optional<Error> err;
  int64_t duration_ms = 0;
  std::string language;
  {
    std::lock_guard lock(ctx->mu);
    err = ctx->error;
    duration_ms = ctx->duration_ms;
    language = ctx->language;
  }
  if (err) {
    if (err->code == ErrorCode::kCancelled && abandoning()) {
      (void)store_->release(ctx->lease);  // interrupted: resumable, no attempt spent
      unregister_lease(job.id);
      return;
    }
    return fail_job(ctx->lease, job, *err);
  }
  if (auto s = store_->set_stage(ctx->lease, JobState::kExtractingEntities); !s) {
    return fail_job(ctx->lease, job, s.error());
  }
  status(job, "extracting_entities", 1.0);
  auto stored = store_->segments(job.id);
  if (!stored) return fail_job(ctx->lease, job, stored.error());
  if (language.empty()) language = job_language(job, asr_.language);
  if (o_.entities) {
    auto found = extract_entities(job, *stored, language, ctx->stem);
    if (!found) return fail_job(ctx->lease, job, found.error());
    if (auto m = store_->save_mentions(ctx->lease, *found); !m) {
      return fail_job(ctx->lease, job, m.error());
    }
  }
  if (auto s = store_->set_stage(ctx->lease, JobState::kStoring); !s) {
    return fail_job(ctx->lease, job, s.error());
  }
  status(job, "storing", 1.0);
  if (auto w = write_transcript_files(*stored, duration_ms, language, ctx->stem); !w) {
    return fail_job(ctx->lease, job, w.error());
  }
  {
    std::lock_guard lock(ctx->mu);
    if (ctx->building) ctx->building->remove();
  }
  jobs::MediaInfo info = job.media;
  info.duration_ms = duration_ms;  // the decoded duration, not the container's estimate
  info.language = language;        // given or detected: the files can be written again from it
  (void)store_->set_media_info(ctx->lease, info);
  if (auto c = store_->complete(ctx->lease); !c) {
    unregister_lease(job.id);
    observer_.on_message(fmt::format("{}: {}", job.media.title, c.error().to_string()));
    return;
  }
  unregister_lease(job.id);
  if (ctx->owns_job_dir && !o_.keep_media) {
    std::error_code ec;
    fs::remove_all(ctx->job_dir, ec);
  }
  jobs::Job done = job;
  done.media.duration_ms = duration_ms;
  status(done, "completed", 1.0, 0.0);
}

Result<std::vector<store::Mention>> Engine::Impl::extract_entities(
    const jobs::Job& job, const std::vector<store::StoredSegment>& stored,
    const std::string& language, const std::string& stem) {
  std::vector<SegmentRef> refs;
  refs.reserve(stored.size());
  for (const auto& s : stored) {
    refs.push_back(SegmentRef{.start_ms = s.segment.start_ms,
                              .end_ms = s.segment.end_ms,
                              .text = s.segment.text,
                              .no_speech_prob = static_cast<float>(s.segment.no_speech_prob),
                              .avg_logprob = static_cast<float>(s.segment.avg_logprob)});
  }
  VideoRef ref{job.media.title, job.media.video_id,
               job.media.webpage_url.empty() ? job.source : job.media.webpage_url,
               job.media.platform};
  auto found = entities_->process_video(ref, language, refs, stem);
  for (const auto& w : entities_->take_warnings()) observer_.on_message("entities: " + w);
  if (!found) return std::unexpected(found.error());
  return std::move(found->mentions);
}

Result<void> Engine::Impl::write_transcript_files(const std::vector<store::StoredSegment>& stored,
                                                  int64_t duration_ms, const std::string& language,
                                                  const std::string& stem) {
  asr::Transcript t;
  t.duration_ms = duration_ms;
  t.language = language;
  t.model = model_->name();
  t.options = asr_.to_json();
  t.options.erase("threads");  // the machine's shape, not the transcript's
  t.options["chunking"] = (o_.chunk_length_s > 0.0 || vad_ == nullptr) ? "fixed" : "vad";
  for (const auto& s : stored) t.segments.push_back(segment_of(s));
  auto written = output::write_transcript(t, layout_.video_transcripts(),
                                          layout_.final_stem(stem).filename().string(), o_.formats);
  if (!written) return std::unexpected(written.error());
  return {};
}

Result<void> Engine::Impl::write_files_from_store(const jobs::Job& job, const std::string& stem) {
  auto stored = store_->segments(job.id);
  if (!stored) return std::unexpected(stored.error());
  const std::string language =
      job.media.language.empty() ? job_language(job, asr_.language) : job.media.language;
  if (o_.entities) {
    if (auto found = extract_entities(job, *stored, language, stem); !found) {
      return std::unexpected(found.error());
    }
  }
  return write_transcript_files(*stored, job.media.duration_ms, language, stem);
}

int Engine::Impl::write_missing_files(const std::vector<int64_t>& job_ids) {
  if (o_.formats.empty()) return 0;
  auto all = store_->jobs_under(job_ids);
  if (!all) {
    observer_.on_message("cannot write the files of finished videos: " + all.error().to_string());
    return 0;
  }
  int written = 0;
  for (const jobs::Job& job : *all) {
    if (job.kind == jobs::JobKind::kPlaylist || job.state != JobState::kCompleted) continue;
    // Its files are there under its title, or under its title and id (a title two jobs share).
    const std::string stem = stem_for(job);
    const std::string ext = "." + std::string(output::format_extension(o_.formats.front()));
    const std::string base =
        output::safe_title(job.media.title.empty() ? job.source : job.media.title);
    std::error_code ec;
    if (fs::exists(layout_.final_stem(stem).string() + ext, ec) ||
        fs::exists(layout_.final_stem(output::stem_with_id(base, job.id)).string() + ext, ec)) {
      continue;
    }
    if (auto w = write_files_from_store(job, stem); !w) {
      observer_.on_message(fmt::format("cannot write the files of {}: {}",
                                       job.media.title.empty() ? job.source : job.media.title,
                                       w.error().to_string()));
      continue;
    }
    ++written;
  }
  return written;
}

void Engine::Impl::heartbeat_loop(std::stop_token stop) {
  const auto period = std::chrono::milliseconds(std::max<int64_t>(500, o_.lease_ms / 3));
  while (!stop.stop_requested()) {
    std::vector<std::pair<jobs::Lease, std::weak_ptr<JobContext>>> held;
    {
      std::lock_guard lock(leases_mu_);
      for (auto& [id, entry] : leases_) held.push_back(entry);
    }
    for (auto& [lease, weak] : held) {
      auto r = store_->heartbeat(lease, o_.lease_ms);
      if (!r && r.error().code == ErrorCode::kLeaseLost) {
        if (auto ctx = weak.lock()) {
          std::lock_guard lock(ctx->mu);
          if (!ctx->error) ctx->error = r.error();
          ctx->stop.request_stop();
          ctx->cv.notify_all();
        }
      }
    }
    std::mutex m;
    std::unique_lock lock(m);
    std::condition_variable_any cv;
    cv.wait_for(lock, stop, period, [] { return false; });
  }
}

void Engine::Impl::fail_job(const jobs::Lease& lease, const jobs::Job& job, const Error& error) {
  if (error.code == ErrorCode::kLeaseLost) {
    unregister_lease(job.id);
    // Cancelled meanwhile (`aimara jobs cancel`, the API): say so, not that a lease was lost.
    if (auto now = store_->get_job(job.id); now && now->state == JobState::kCancelled) {
      status(job, "cancelled", 0.0, -1.0);
      return;
    }
    status(job, "failed", 0.0, -1.0, error.to_string());
    return;  // another worker owns it now
  }
  // The store says failed before the place is given up, so the next job never overlaps it.
  auto state = store_->fail(lease, error, !jobs::is_permanent(error.code));
  unregister_lease(job.id);
  std::string stage = state ? std::string(jobs::state_name(*state)) : "failed";
  status(job, stage, 0.0, -1.0, error.to_string());
  observer_.on_message(fmt::format("{} {}: {}{}", stage == "dead" ? "FAILED" : "retrying",
                                   job.media.title.empty() ? job.source : job.media.title,
                                   error.to_string(),
                                   stage == "failed" ? " (will retry)" : ""));
}

// Called by the fetcher that claimed the job: its reserved place becomes this lease.
void Engine::Impl::register_lease(const jobs::Lease& lease, const JobContextPtr& ctx) {
  std::lock_guard lock(leases_mu_);
  leases_[lease.job_id] = {lease, ctx};
  --claiming_;
}

// Called once the store no longer shows the job as running here (completed, failed, released):
// a fetcher waiting under the limit may claim the next job.
void Engine::Impl::unregister_lease(int64_t job_id) {
  {
    std::lock_guard lock(leases_mu_);
    leases_.erase(job_id);
  }
  slots_cv_.notify_all();
}

std::string Engine::Impl::stem_for(const jobs::Job& job) {
  std::string base = output::safe_title(job.media.title.empty() ? job.source : job.media.title);
  std::lock_guard lock(stems_mu_);
  auto [it, inserted] = stems_.try_emplace(base, job.id);
  if (inserted || it->second == job.id) return base;
  std::string unique = output::stem_with_id(base, job.id);
  stems_[unique] = job.id;
  return unique;
}

void Engine::Impl::status(const jobs::Job& job, std::string_view stage, double progress,
                         double eta_s, const std::string& error) {
  JobStatus s;
  s.id = job.id;
  s.title = job.media.title.empty() ? job.source : job.media.title;
  s.platform = job.media.platform;
  s.duration_ms = job.media.duration_ms;
  s.stage = std::string(stage);
  s.progress = progress;
  s.eta_s = eta_s;
  s.error = error;
  observer_.on_job(s);
}

void Engine::Impl::start() {
  if (started_.exchange(true)) return;
  take_back_stale_leases();
  for (int i = 0; i < o_.fetchers; ++i) {
    fetchers_.emplace_back([this] { fetch_loop(); });
  }
  if (o_.fetchers > 0) {
    chunker_ = std::jthread([this] { chunk_loop(); });
    finalizer_ = std::jthread([this] { finalize_loop(); });
    heartbeat_ = std::jthread([this](std::stop_token st) { heartbeat_loop(st); });
  }
}

void Engine::Impl::stop(bool graceful) {
  if (stopped_.exchange(true)) return;
  if (!graceful) abandon_.request_stop();
  {
    std::lock_guard lock(leases_mu_);  // a fetcher waiting for a place sees it before it sleeps
    stop_all_ = true;
  }
  slots_cv_.notify_all();
  for (auto& f : fetchers_) {
    if (f.joinable()) f.join();
  }
  fetched_.close();
  if (chunker_.joinable()) chunker_.join();
  if (graceful) {
    pool_->drain();
  } else {
    pool_->cancel();
  }
  finalize_.close();
  if (finalizer_.joinable()) finalizer_.join();
  if (heartbeat_.joinable()) {
    heartbeat_.request_stop();
    heartbeat_.join();
  }
  {
    // Jobs still held (an interrupted run) are given back without spending an attempt.
    std::lock_guard lock(leases_mu_);
    for (auto& [id, entry] : leases_) (void)store_->release(entry.first);
    leases_.clear();
  }
  if (o_.entities && entities_) {
    if (auto p = entities_->write_summary(); !p) {
      observer_.on_message("cannot write the entity summary: " + p.error().to_string());
    }
  }
  std::error_code ec;
  fs::remove(work_dir_, ec);  // only when empty: nothing is left to resume from
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Engine::~Engine() {
  if (impl_) impl_->stop(true);
}

Result<std::unique_ptr<Engine>> Engine::create(const RunOptions& options,
                                               std::shared_ptr<store::Store> store,
                                               RunObserver& observer) {
  if (!store) return make_error(ErrorCode::kInvalidArgument, "the engine needs a store");
  auto impl = std::make_unique<Impl>(options, std::move(store), observer);
  if (auto r = impl->prepare(); !r) return std::unexpected(r.error());
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

void Engine::start() { impl_->start(); }
int Engine::write_missing_files(const std::vector<int64_t>& job_ids) {
  return impl_->write_missing_files(job_ids);
}
void Engine::stop(bool graceful) { impl_->stop(graceful); }
store::Store& Engine::store() { return *impl_->store_; }
const asr::WhisperModel& Engine::model() const { return *impl_->model_; }
int Engine::active_jobs() const {
  std::lock_guard lock(impl_->leases_mu_);
  return static_cast<int>(impl_->leases_.size());
}
void Engine::set_max_active_jobs(int n) {
  {
    std::lock_guard lock(impl_->leases_mu_);
    impl_->max_active_ = std::max(1, n);
  }
  impl_->slots_cv_.notify_all();
}
int Engine::max_active_jobs() const {
  std::lock_guard lock(impl_->leases_mu_);
  return impl_->max_active_;
}
size_t Engine::queued_chunks() const { return impl_->pool_->queued(); }
int64_t Engine::audio_ms_transcribed() const { return impl_->audio_ms_.load(); }
double Engine::asr_seconds() const { return static_cast<double>(impl_->asr_us_.load()) / 1e6; }

Result<asr::Transcript> Engine::transcribe_file(const fs::path& media,
                                                const asr::TranscribeOptions& options,
                                                std::stop_token stop) {
  FileTranscribeOptions fo;
  fo.asr = options;
  fo.asr.threads = impl_->asr_.threads;
  fo.vad_model = impl_->vad_path_;
  fo.max_pause_ms = static_cast<int64_t>(impl_->o_.max_pause_s * 1000.0);
  fo.decode.max_duration_ms = static_cast<int64_t>(impl_->o_.max_duration_h * 3600.0 * 1000.0);
  FileTranscriber transcriber(impl_->model_, *impl_->pool_, fo);
  auto outcomes = transcriber.transcribe({media}, {}, {}, stop);
  if (outcomes.empty()) return make_error(ErrorCode::kInternal, "no result");
  if (outcomes.front().transcript) {
    impl_->audio_ms_ += outcomes.front().transcript->duration_ms;
  }
  return std::move(outcomes.front().transcript);
}

}  // namespace aimara::pipeline
