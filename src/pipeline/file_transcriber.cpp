#include "pipeline/file_transcriber.h"

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <optional>

#include <spdlog/spdlog.h>

#include "media/chunker.h"
#include "media/vad.h"

namespace aimara::pipeline {

namespace {

using Clock = std::chrono::steady_clock;

// Everything the chunks of one file share. Guarded by `mu`.
struct FileState {
  size_t index = 0;
  std::filesystem::path path;
  std::mutex mu;
  std::condition_variable language_ready;
  std::string language;                 // pinned language ("" until known)
  std::vector<std::optional<std::vector<asr::Segment>>> chunks;
  int submitted = 0;
  int done = 0;
  bool decode_finished = false;
  bool finalized = false;
  std::optional<Error> error;
  int64_t duration_ms = 0;
  Clock::time_point started = Clock::now();
};

}  // namespace

Result<std::unique_ptr<FileTranscriber>> FileTranscriber::create(
    std::shared_ptr<asr::WhisperModel> model, FileTranscribeOptions options) {
  if (options.chunk_length_ms < 1000) {
    return make_error(ErrorCode::kInvalidArgument, "the chunk length must be at least 1 second");
  }
  auto pool = asr::WorkerPool::create(model, options.workers);
  if (!pool) return std::unexpected(pool.error());
  return std::unique_ptr<FileTranscriber>(
      new FileTranscriber(std::move(model), std::move(options), std::move(*pool)));
}

std::vector<FileOutcome> FileTranscriber::transcribe(
    const std::vector<std::filesystem::path>& files,
    const std::function<void(const FileOutcome&)>& on_file_done,
    const std::function<void(const BatchProgress&)>& on_progress, std::stop_token stop) {
  std::vector<FileOutcome> outcomes(files.size());
  std::mutex batch_mu;  // guards outcomes, progress, callbacks
  std::condition_variable all_done;
  BatchProgress progress;
  progress.files_total = static_cast<int>(files.size());

  auto report_progress = [&] {
    if (on_progress) on_progress(progress);
  };

  // Called with st.mu held when the last chunk of a fully decoded file is done.
  auto finalize = [&](FileState& st) {
    st.finalized = true;
    FileOutcome out;
    out.path = st.path;
    out.wall_seconds = std::chrono::duration<double>(Clock::now() - st.started).count();
    if (st.error) {
      out.transcript = std::unexpected(*st.error);
    } else {
      asr::Transcript t;
      t.duration_ms = st.duration_ms;
      t.language = st.language.empty() ? options_.asr.language : st.language;
      t.model = model_->name();
      t.options = options_.asr.to_json();
      t.options["chunk_length_ms"] = options_.chunk_length_ms;
      t.options["max_pause_ms"] = options_.max_pause_ms;
      t.options["workers"] = options_.workers;
      for (auto& c : st.chunks) {
        if (!c) continue;
        for (auto& s : *c) t.segments.push_back(std::move(s));
      }
      out.transcript = std::move(t);
    }
    std::lock_guard lock(batch_mu);
    outcomes[st.index] = std::move(out);
    ++progress.files_done;
    if (on_file_done) on_file_done(outcomes[st.index]);
    report_progress();
    all_done.notify_all();
  };

  // VAD runs on this (the calling) thread only: one model for the whole batch.
  std::unique_ptr<media::VadModel> vad;
  if (!options_.vad_model.empty()) {
    auto v = media::VadModel::load(options_.vad_model);
    if (v) {
      vad = std::move(*v);
    } else {
      spdlog::warn("{}; cutting fixed {} s chunks", v.error().to_string(),
                   options_.chunk_length_ms / 1000);
    }
  }
  media::SpeechChunkingOptions copts;
  copts.chunks.max_pause_ms = options_.max_pause_ms;
  if (!vad) copts.fixed_chunk_ms = options_.chunk_length_ms;
  const bool auto_language = options_.asr.language.empty() || options_.asr.language == "auto";

  for (size_t i = 0; i < files.size(); ++i) {
    auto st = std::make_shared<FileState>();
    st->index = i;
    st->path = files[i];
    if (!auto_language) st->language = options_.asr.language;

    auto fail_whole_file = [&](Error e) {
      std::lock_guard lock(st->mu);
      st->error = std::move(e);
      st->decode_finished = true;
      st->language_ready.notify_all();
      if (st->done == st->submitted) finalize(*st);
    };

    if (stop.stop_requested()) {
      fail_whole_file(Error{ErrorCode::kCancelled, "cancelled before it started"});
      continue;
    }
    auto decoder = media::AudioDecoder::open(files[i], options_.decode);
    if (!decoder) {
      fail_whole_file(decoder.error());
      continue;
    }
    {
      std::lock_guard lock(batch_mu);
      if ((*decoder)->info().duration_ms > 0) progress.audio_ms_known += (*decoder)->info().duration_ms;
    }

    media::SpeechChunkStream stream(**decoder, vad.get(), copts);
    bool ok = true;
    for (;;) {
      auto next = stream.next();
      if (!next) {
        fail_whole_file(next.error());
        ok = false;
        break;
      }
      if (!next->has_value()) break;
      media::AudioChunk chunk = std::move(**next);
      const int index = chunk.chunk.index;
      const int64_t span_ms = chunk.chunk.length_ms();
      TimeMap map = chunk.chunk.time_map();
      std::vector<float> pcm = std::move(chunk.samples);
      {
        std::lock_guard lock(st->mu);
        st->chunks.resize(static_cast<size_t>(index) + 1);
        ++st->submitted;
      }
      auto task = [this, st, index, span_ms, map = std::move(map), auto_language, &finalize,
                   &batch_mu, &progress, &report_progress,
                   pcm = std::move(pcm)](asr::WhisperWorker& worker, std::stop_token wstop) {
        std::optional<Error> err;
        std::vector<asr::Segment> segs;
        std::string language;
        {
          std::unique_lock lock(st->mu);
          if (auto_language && index == 0) {
            lock.unlock();
            auto lang = worker.detect_language(pcm, options_.asr.threads);
            lock.lock();
            st->language = lang ? *lang : "en";
            if (!lang) spdlog::warn("{}: {}; assuming English", st->path.string(), lang.error().message);
            st->language_ready.notify_all();
          }
          st->language_ready.wait(lock, [&] { return !st->language.empty() || st->error; });
          if (st->error) err = st->error;
          language = st->language;
        }
        if (!err) {
          asr::TranscribeOptions o = options_.asr;
          o.language = language;
          auto r = worker.transcribe(pcm, map, o, nullptr, {}, wstop);
          if (r) {
            segs = std::move(*r);
          } else {
            err = r.error();
          }
        }
        {
          std::lock_guard plock(batch_mu);
          progress.audio_ms_done += span_ms;
          report_progress();
        }
        std::lock_guard lock(st->mu);
        if (err && !st->error) st->error = err;
        st->chunks[static_cast<size_t>(index)] = std::move(segs);
        ++st->done;
        if (st->decode_finished && st->done == st->submitted && !st->finalized) finalize(*st);
      };
      if (!pool_->submit(std::move(task), stop)) {
        std::lock_guard lock(st->mu);
        --st->submitted;
        ok = false;
        st->error = Error{ErrorCode::kCancelled, "cancelled"};
        st->decode_finished = true;
        st->language_ready.notify_all();
        if (st->done == st->submitted && !st->finalized) finalize(*st);
        break;
      }
    }
    if (ok) {
      std::lock_guard lock(st->mu);
      st->duration_ms = stream.duration_ms();
      st->decode_finished = true;
      if (st->submitted == 0 && st->language.empty()) st->language = auto_language ? "" : options_.asr.language;
      if (st->done == st->submitted && !st->finalized) finalize(*st);
    }
  }

  std::unique_lock lock(batch_mu);
  all_done.wait(lock, [&] { return progress.files_done == progress.files_total; });
  return outcomes;
}

}  // namespace aimara::pipeline
