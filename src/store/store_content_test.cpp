// The store suite, part two: what the store keeps about the work (checkpoints, the job log and
// change feeds, statistics, full-text search, entity mentions). See store_test.h.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "store/store_test.h"

namespace aimara::store::test_suite {

using jobs::JobState;

// ----- checkpoints -----

TEST_P(StoreTest, ChunkCheckpointsAreIdempotentAndResumable) {
  const int64_t id = add_job("talk");
  auto w1 = must_claim("w1", 10'000);
  ASSERT_TRUE(store_->set_stage(w1.lease, JobState::kTranscribing).has_value());
  std::vector<ChunkSpan> plan = {{0, 0, 30'000}, {1, 30'000, 60'000}, {2, 60'000, 90'000}};
  ASSERT_TRUE(store_->plan_chunks(w1.lease, plan).has_value());
  auto saved = store_->save_chunk_result(w1.lease, chunk(1, {"hola", "mundo"}));
  ASSERT_TRUE(saved.has_value()) << saved.error().to_string();
  EXPECT_TRUE(*saved);
  // Saving it again (a resumed run that redid it) changes nothing.
  auto again = store_->save_chunk_result(w1.lease, chunk(1, {"otra", "cosa", "distinta"}));
  ASSERT_TRUE(again.has_value());
  EXPECT_FALSE(*again);
  EXPECT_EQ(*store_->completed_chunks(id), std::vector<int>{1});
  auto segs = store_->segments(id);
  ASSERT_TRUE(segs.has_value());
  ASSERT_EQ(segs->size(), 2u);
  EXPECT_EQ((*segs)[0].segment.text, "hola");
  EXPECT_EQ((*segs)[1].segment.text, "mundo");
  EXPECT_EQ((*segs)[1].seq, 1);
  EXPECT_EQ((*segs)[1].chunk_index, 1);
  EXPECT_EQ((*segs)[0].segment.start_ms, 30'000);

  auto chunks = store_->chunks(id);
  ASSERT_TRUE(chunks.has_value());
  ASSERT_EQ(chunks->size(), 3u);
  EXPECT_EQ((*chunks)[0].state, ChunkState::kPending);
  EXPECT_EQ((*chunks)[1].state, ChunkState::kDone);
  EXPECT_EQ((*chunks)[1].done_at_ms, kStart);
  EXPECT_EQ((*chunks)[2].end_ms, 90'000);

  // The worker dies; the next one resumes: chunk 1 is skipped, the others are added.
  clock_->advance(10'000);
  auto w2 = must_claim("w2", 10'000);
  ASSERT_EQ(w2.job.id, id);
  ASSERT_TRUE(store_->plan_chunks(w2.lease, plan).has_value());  // replanning keeps chunk 1 done
  auto done = *store_->completed_chunks(id);
  EXPECT_EQ(done, std::vector<int>{1});
  for (const auto& span : plan) {
    if (std::find(done.begin(), done.end(), span.index) != done.end()) continue;
    std::vector<std::string> texts = {"chunk " + std::to_string(span.index)};
    ASSERT_TRUE(*store_->save_chunk_result(w2.lease, chunk(span.index, texts)));
  }
  // A silent chunk: done with no segments.
  ASSERT_TRUE(*store_->save_chunk_result(w2.lease, chunk(3, {})));
  EXPECT_EQ(*store_->completed_chunks(id), (std::vector<int>{0, 1, 2, 3}));
  segs = store_->segments(id);
  ASSERT_EQ(segs->size(), 4u);
  EXPECT_EQ((*segs)[0].segment.text, "chunk 0");
  EXPECT_EQ((*segs)[1].segment.text, "hola");
  EXPECT_EQ((*segs)[2].segment.text, "mundo");
  EXPECT_EQ((*segs)[3].segment.text, "chunk 2");
  EXPECT_EQ(store_->completed_chunks(777).error().code, ErrorCode::kNotFound);
}

// kill -9 at any moment: every chunk is either done with all its segments, or absent with none.
TEST_P(StoreTest, AKilledWriterLeavesWholeCheckpointsOnly) {
  constexpr int kChunks = 4'000;  // far more than are written before the kill, even on a busy machine
  constexpr int kSegmentsPerChunk = 8;
  const int64_t id = add_job("long recording");
  auto claimed = must_claim("writer", 3'600'000);
  const jobs::Lease lease = claimed.lease;
  int killed_mid_way = 0;
  for (int round = 0; round < 3; ++round) {
    // No connection may be open across fork(): the child must start with no SQLite state.
    store_.reset();
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // The child: its own store handle; writes until killed.
      auto s = GetParam().open(dir_->path(), options_);
      if (!s) _exit(3);
      for (int i = 0; i < kChunks; ++i) {
        std::vector<std::string> texts;
        for (int k = 0; k < kSegmentsPerChunk; ++k) {
          texts.push_back("chunk " + std::to_string(i) + " segment " + std::to_string(k));
        }
        if (!(*s)->save_chunk_result(lease, chunk(i, texts))) _exit(4);
      }
      _exit(0);
    }
    store_ = open_another();
    ASSERT_NE(store_, nullptr);
    // Wait until the child is mid-way through, then kill it without warning.
    const size_t target = static_cast<size_t>(20 + round * 60);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      auto done = store_->completed_chunks(id);
      ASSERT_TRUE(done.has_value());
      if (done->size() >= target) break;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    kill(pid, SIGKILL);
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) ||
                (WIFEXITED(status) && WEXITSTATUS(status) == 0))
        << "child status " << status;
    if (WIFSIGNALED(status)) ++killed_mid_way;

    auto reopened = open_another();
    ASSERT_NE(reopened, nullptr);
    auto done = reopened->completed_chunks(id);
    auto segs = reopened->segments(id);
    ASSERT_TRUE(done.has_value() && segs.has_value());
    std::map<int, int> per_chunk;
    for (const auto& s : *segs) ++per_chunk[s.chunk_index];
    std::set<int> done_set(done->begin(), done->end());
    EXPECT_GE(done_set.size(), target);
    for (int i : done_set) EXPECT_EQ(per_chunk[i], kSegmentsPerChunk) << "chunk " << i;
    for (const auto& [i, n] : per_chunk) {
      EXPECT_TRUE(done_set.count(i)) << "segments of chunk " << i << " without its checkpoint";
    }
    // Chunks are written in order, so the done ones are a prefix.
    if (!done_set.empty()) {
      EXPECT_EQ(*done_set.rbegin() + 1, static_cast<int>(done_set.size()));
    }
  }
  EXPECT_GE(killed_mid_way, 2) << "the writer finished before it could be killed";
}

// ----- the job log and change feeds -----

TEST_P(StoreTest, StagesAreLoggedWithTimesOutcomesAndWorkers) {
  const int64_t id = add_job("a");
  auto c = must_claim("host:9:w3");
  clock_->advance(1'000);
  ASSERT_TRUE(store_->set_stage(c.lease, JobState::kDownloading).has_value());
  ASSERT_TRUE(store_->set_stage(c.lease, JobState::kDownloading).has_value());  // no-op
  clock_->advance(4'000);
  ASSERT_TRUE(store_->set_stage(c.lease, JobState::kTranscribing).has_value());
  EXPECT_EQ(must_get(id).state, JobState::kTranscribing);
  EXPECT_EQ(must_get(id).stage_started_at_ms, kStart + 5'000);
  clock_->advance(10'000);
  ASSERT_TRUE(store_->set_progress(c.lease, 0.75).has_value());
  EXPECT_DOUBLE_EQ(must_get(id).progress, 0.75);
  ASSERT_TRUE(store_->complete(c.lease).has_value());
  EXPECT_EQ(store_->set_stage(c.lease, JobState::kCompleted).error().code,
            ErrorCode::kInvalidArgument);

  auto log = log_of(*store_, id);
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].stage, JobState::kResolving);
  EXPECT_EQ(log[0].ended_at_ms - log[0].started_at_ms, 1'000);
  EXPECT_EQ(log[1].stage, JobState::kDownloading);
  EXPECT_EQ(log[1].ended_at_ms - log[1].started_at_ms, 4'000);
  EXPECT_EQ(log[2].stage, JobState::kTranscribing);
  EXPECT_EQ(log[2].ended_at_ms - log[2].started_at_ms, 10'000);
  for (const auto& e : log) {
    EXPECT_EQ(e.outcome, EventOutcome::kOk);
    EXPECT_EQ(e.worker, "host:9:w3");
    EXPECT_EQ(e.attempt, 1);
    EXPECT_EQ(e.job_id, id);
    EXPECT_FALSE(e.error.has_value());
  }
  EXPECT_LT(log[0].id, log[1].id);
  EXPECT_LT(log[1].id, log[2].id);
  auto j = must_get(id);
  EXPECT_EQ(j.state, JobState::kCompleted);
  EXPECT_DOUBLE_EQ(j.progress, 1.0);
  EXPECT_EQ(j.finished_at_ms, kStart + 15'000);
  EXPECT_EQ(store_->job_log(4711).error().code, ErrorCode::kNotFound);
}

TEST_P(StoreTest, EventsSinceIsAMonotonicFeed) {
  add_job("a");
  add_job("b");
  auto a = must_claim("w");
  auto b = must_claim("w");
  ASSERT_TRUE(store_->set_stage(a.lease, JobState::kDownloading).has_value());
  auto first = store_->events_since(0, 100);
  ASSERT_TRUE(first.has_value());
  ASSERT_EQ(first->size(), 1u);
  const int64_t seen = first->back().id;
  ASSERT_TRUE(store_->set_stage(b.lease, JobState::kDownloading).has_value());
  ASSERT_TRUE(store_->complete(a.lease).has_value());
  ASSERT_TRUE(store_->fail(b.lease, Error{ErrorCode::kNetwork, "x"}, true).has_value());
  auto next = store_->events_since(seen, 100);
  ASSERT_TRUE(next.has_value());
  ASSERT_EQ(next->size(), 3u);
  int64_t prev = seen;
  for (const auto& e : *next) {
    EXPECT_GT(e.id, prev);
    prev = e.id;
  }
  EXPECT_EQ((*next)[2].outcome, EventOutcome::kRetry);
  auto limited = store_->events_since(0, 2);
  ASSERT_TRUE(limited.has_value());
  EXPECT_EQ(limited->size(), 2u);
  auto all = store_->job_log(std::nullopt);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->size(), 4u);
}

TEST_P(StoreTest, JobsChangedSinceReportsEachChangedJobOnce) {
  const int64_t a = add_job("a");
  const int64_t b = add_job("b");
  auto feed = store_->jobs_changed_since(0, 100);
  ASSERT_TRUE(feed.has_value());
  ASSERT_EQ(feed->size(), 2u);
  const int64_t seq = feed->back().seq;
  EXPECT_GT(feed->back().seq, feed->front().seq);

  auto c = must_claim("w");
  ASSERT_EQ(c.job.id, a);
  ASSERT_TRUE(store_->set_stage(c.lease, JobState::kDownloading).has_value());
  ASSERT_TRUE(store_->set_progress(c.lease, 0.5).has_value());
  feed = store_->jobs_changed_since(seq, 100);
  ASSERT_TRUE(feed.has_value());
  ASSERT_EQ(feed->size(), 1u);  // three changes to one job: reported once, as it is now
  EXPECT_EQ(feed->front().job.id, a);
  EXPECT_EQ(feed->front().job.state, JobState::kDownloading);
  EXPECT_DOUBLE_EQ(feed->front().job.progress, 0.5);
  const int64_t seq2 = feed->front().seq;

  // A heartbeat is not a change; cancelling b is.
  ASSERT_TRUE(store_->heartbeat(c.lease, 10'000).has_value());
  feed = store_->jobs_changed_since(seq2, 100);
  ASSERT_TRUE(feed.has_value());
  EXPECT_TRUE(feed->empty());
  ASSERT_TRUE(store_->cancel(b).has_value());
  feed = store_->jobs_changed_since(seq2, 100);
  ASSERT_EQ(feed->size(), 1u);
  EXPECT_EQ(feed->front().job.id, b);
  EXPECT_EQ(feed->front().job.state, JobState::kCancelled);
}

TEST_P(StoreTest, StatsGiveSuccessRateAndMeanTimePerStage) {
  auto empty = store_->stats();
  ASSERT_TRUE(empty.has_value());
  EXPECT_EQ(empty->total, 0);
  EXPECT_FALSE(empty->success_rate.has_value());
  EXPECT_EQ(empty->by_state.size(), std::size(jobs::kAllJobStates));

  for (int i = 0; i < 4; ++i) add_job("j" + std::to_string(i), 0, 1);
  // Three complete: resolving takes 1, 2, 3 s; transcribing 10 s each.
  for (int i = 1; i <= 3; ++i) {
    auto c = must_claim("w");
    clock_->advance(i * 1000);
    ASSERT_TRUE(store_->set_stage(c.lease, JobState::kTranscribing).has_value());
    clock_->advance(10'000);
    ASSERT_TRUE(store_->complete(c.lease).has_value());
  }
  // One dies in resolving after 6 s.
  auto c = must_claim("w");
  clock_->advance(6'000);
  ASSERT_EQ(*store_->fail(c.lease, Error{ErrorCode::kDownloadUnavailable, "gone"}, true),
            JobState::kDead);

  auto st = store_->stats();
  ASSERT_TRUE(st.has_value()) << st.error().to_string();
  EXPECT_EQ(st->total, 4);
  ASSERT_TRUE(st->success_rate.has_value());
  EXPECT_DOUBLE_EQ(*st->success_rate, 0.75);
  ASSERT_EQ(st->stages.size(), 2u);
  const auto& resolving = st->stages[0];
  EXPECT_EQ(resolving.stage, JobState::kResolving);
  EXPECT_EQ(resolving.runs, 4);
  EXPECT_EQ(resolving.ok, 3);
  EXPECT_EQ(resolving.errors, 1);
  EXPECT_EQ(resolving.retries, 0);
  EXPECT_DOUBLE_EQ(resolving.mean_ms, 3'000.0);  // (1 + 2 + 3 + 6) / 4
  EXPECT_DOUBLE_EQ(resolving.mean_ok_ms, 2'000.0);
  EXPECT_EQ(resolving.max_ms, 6'000);
  const auto& transcribing = st->stages[1];
  EXPECT_EQ(transcribing.stage, JobState::kTranscribing);
  EXPECT_EQ(transcribing.runs, 3);
  EXPECT_DOUBLE_EQ(transcribing.mean_ms, 10'000.0);
  for (const auto& sc : st->by_state) {
    const int64_t want = sc.state == JobState::kCompleted ? 3 : sc.state == JobState::kDead ? 1 : 0;
    EXPECT_EQ(sc.jobs, want) << state_name(sc.state);
  }
}

// ----- search and mentions -----

TEST_P(StoreTest, FullTextSearchFindsSegmentsWithSnippets) {
  NewJob j{.source = "https://example.com/v/1",
           .media = {.title = "Entrevista", .webpage_url = "https://example.com/v/1"}};
  auto e = store_->enqueue(j);
  ASSERT_TRUE(e.has_value());
  const int64_t other = add_job("other");
  auto c = must_claim("w");
  ASSERT_EQ(c.job.id, e->id);
  ASSERT_TRUE(
      store_
          ->save_chunk_result(c.lease, chunk(0, {"Buenas noches a todos.",
                                                 "La política económica de Maduro en Venezuela.",
                                                 "Hablamos del presupuesto nacional."}))
          .has_value());
  auto d = must_claim("w");
  ASSERT_EQ(d.job.id, other);
  ASSERT_TRUE(
      store_->save_chunk_result(d.lease, chunk(2, {"Venezuela y Colombia firmaron."})).has_value());

  // Accents and case do not matter; all words must match.
  auto hits = store_->search({.text = "politica MADURO"});
  ASSERT_TRUE(hits.has_value()) << hits.error().to_string();
  ASSERT_EQ(hits->size(), 1u);
  const auto& h = hits->front();
  EXPECT_EQ(h.job_id, e->id);
  EXPECT_EQ(h.title, "Entrevista");
  EXPECT_EQ(h.webpage_url, "https://example.com/v/1");
  EXPECT_EQ(h.chunk_index, 0);
  EXPECT_EQ(h.seq, 1);
  EXPECT_EQ(h.start_ms, 2'000);
  EXPECT_EQ(h.end_ms, 4'000);
  EXPECT_NE(h.snippet.find("[política]"), std::string::npos) << h.snippet;
  EXPECT_NE(h.snippet.find("[Maduro]"), std::string::npos) << h.snippet;

  hits = store_->search({.text = "venezuela"});
  ASSERT_TRUE(hits.has_value());
  EXPECT_EQ(hits->size(), 2u);
  hits = store_->search(
      {.text = "venezuela", .job_id = other, .mark_open = "<b>", .mark_close = "</b>"});
  ASSERT_EQ(hits->size(), 1u);
  EXPECT_EQ(hits->front().job_id, other);
  EXPECT_EQ(hits->front().start_ms, 60'000);
  EXPECT_NE(hits->front().snippet.find("<b>Venezuela</b>"), std::string::npos);

  EXPECT_EQ(store_->search({.text = "presu*"})->size(), 1u);              // prefix
  EXPECT_EQ(store_->search({.text = "\"noches a todos\""})->size(), 1u);  // phrase
  EXPECT_EQ(store_->search({.text = "\"todos a noches\""})->size(), 0u);
  EXPECT_EQ(store_->search({.text = "maduro colombia"})->size(), 0u);
  // Query syntax in user input is never an error.
  for (const char* odd : {"\"", "AND", "(", "política)", "a:b", "-x", "NEAR(", "*", "^"}) {
    auto r = store_->search({.text = odd});
    EXPECT_TRUE(r.has_value()) << odd << ": " << r.error().to_string();
  }
  EXPECT_TRUE(store_->search({.text = "   "})->empty());
}

TEST_P(StoreTest, MentionsAreReplacedPerJobAndCounted) {
  const int64_t a = add_job("a");
  const int64_t b = add_job("b");
  auto ca = must_claim("w");
  auto cb = must_claim("w");
  std::vector<Mention> ma = {
      {"Maduro", "Nicolás Maduro", "PER", "tagger", 1000, 1500, "dijo Maduro hoy"},
      {"presidente Maduro", "Nicolás Maduro", "PER", "tagger", 5000, 6000, "el presidente Maduro"},
      {"Caracas", "Caracas", "LOC", "tagger", 7000, 7500, "en Caracas"},
  };
  ASSERT_TRUE(store_->save_mentions(ca.lease, ma).has_value());
  ASSERT_TRUE(store_->save_mentions(ca.lease, ma).has_value());  // replaced, not doubled
  std::vector<Mention> mb = {
      {"Nicolás Maduro", "Nicolás Maduro", "PER", "watchlist:politics", 100, 900, "..."},
  };
  ASSERT_TRUE(store_->save_mentions(cb.lease, mb).has_value());

  auto top = store_->top_entities({});
  ASSERT_TRUE(top.has_value()) << top.error().to_string();
  ASSERT_EQ(top->size(), 2u);
  EXPECT_EQ((*top)[0].canonical, "Nicolás Maduro");
  EXPECT_EQ((*top)[0].type, "PER");
  EXPECT_EQ((*top)[0].mentions, 3);
  EXPECT_EQ((*top)[0].jobs, 2);
  EXPECT_EQ((*top)[1].canonical, "Caracas");
  EXPECT_EQ((*top)[1].mentions, 1);
  EXPECT_EQ(store_->top_entities({.type = std::string("LOC")})->size(), 1u);
  auto of_b = store_->top_entities({.job_id = b});
  ASSERT_EQ(of_b->size(), 1u);
  EXPECT_EQ(of_b->front().mentions, 1);

  auto by_name = store_->mentions({.name = std::string("nicolás maduro")});
  ASSERT_TRUE(by_name.has_value());
  // Case-insensitive (NOCASE folds ASCII letters; the accented one is written the same).
  ASSERT_EQ(by_name->size(), 3u);
  EXPECT_EQ((*by_name)[0].job_id, a);
  EXPECT_EQ((*by_name)[0].mention.start_ms, 1000);
  EXPECT_EQ((*by_name)[0].title, "title of a");
  EXPECT_EQ((*by_name)[2].job_id, b);
  EXPECT_EQ((*by_name)[2].mention.source, "watchlist:politics");
  auto surface = store_->mentions({.name = std::string("CARACAS")});
  ASSERT_EQ(surface->size(), 1u);
  EXPECT_EQ(surface->front().mention.context, "en Caracas");
  EXPECT_EQ(store_->mentions({.job_id = a})->size(), 3u);
}

}  // namespace aimara::store::test_suite
