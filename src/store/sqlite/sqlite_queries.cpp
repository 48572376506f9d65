// The SQLite store's reads: jobs, the job log, change feeds, stats, checkpoints, segments,
// full-text search and entity mentions. All run on pooled read-only connections.
#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "store/sqlite/rows.h"
#include "store/sqlite/sqlite_store.h"

namespace aimara::store::sqlite {

// ----- rows -----

std::string sql(std::initializer_list<std::string_view> parts) {
  std::string out;
  for (auto p : parts) out += p;
  return out;
}

std::optional<std::string> null_if_empty(std::string_view s) {
  if (s.empty()) return std::nullopt;
  return std::string(s);
}

jobs::Job read_job(const Query& q, int c) {
  jobs::Job j;
  j.id = q.int64(c + 0);
  j.parent_id = q.opt_int64(c + 1);
  j.source = q.text(c + 2);
  j.kind = jobs::parse_kind(q.text(c + 3)).value_or(jobs::JobKind::kMedia);
  j.state = jobs::parse_state(q.text(c + 4)).value_or(jobs::JobState::kQueued);
  if (auto stage = q.opt_text(c + 5)) j.stage = jobs::parse_state(*stage);
  j.attempts = q.int32(c + 6);
  j.max_attempts = q.int32(c + 7);
  j.priority = q.int64(c + 8);
  j.run_at_ms = q.int64(c + 9);
  if (!q.is_null(c + 10)) j.last_error = jobs::JobError{q.text(c + 10), q.text(c + 11)};
  j.lease_owner = q.opt_text(c + 12);
  j.lease_expires_at_ms = q.opt_int64(c + 13);
  j.progress = q.real(c + 14);
  j.options = nlohmann::json::parse(q.text(c + 15), nullptr, /*allow_exceptions=*/false);
  if (j.options.is_discarded()) j.options = nlohmann::json::object();
  j.media.title = q.text(c + 16);
  j.media.platform = q.text(c + 17);
  j.media.extractor = q.text(c + 18);
  j.media.video_id = q.text(c + 19);
  j.media.duration_ms = q.int64(c + 20);
  j.media.uploader = q.text(c + 21);
  j.media.upload_date = q.text(c + 22);
  j.media.webpage_url = q.text(c + 23);
  j.created_at_ms = q.int64(c + 24);
  j.updated_at_ms = q.int64(c + 25);
  j.stage_started_at_ms = q.opt_int64(c + 26);
  j.finished_at_ms = q.opt_int64(c + 27);
  j.media.language = q.text(c + 28);
  return j;
}

JobEvent read_event(const Query& q, int c) {
  JobEvent e;
  e.id = q.int64(c + 0);
  e.job_id = q.int64(c + 1);
  e.stage = jobs::parse_state(q.text(c + 2)).value_or(jobs::JobState::kResolving);
  e.started_at_ms = q.int64(c + 3);
  e.ended_at_ms = q.int64(c + 4);
  e.outcome = parse_outcome(q.text(c + 5)).value_or(EventOutcome::kError);
  e.worker = q.text(c + 6);
  e.attempt = q.int32(c + 7);
  if (!q.is_null(c + 8)) e.error = jobs::JobError{q.text(c + 8), q.text(c + 9)};
  return e;
}

std::string fts5_query(std::string_view text) {
  auto has_word_char = [](std::string_view t) {
    return std::any_of(t.begin(), t.end(), [](char ch) {
      const auto u = static_cast<unsigned char>(ch);
      return u >= 0x80 || (u >= '0' && u <= '9') || (u >= 'a' && u <= 'z') ||
             (u >= 'A' && u <= 'Z');
    });
  };
  auto is_space = [](char ch) {
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
  };
  std::string out;
  auto add = [&](std::string_view term, bool prefix) {
    if (!has_word_char(term)) return;
    if (!out.empty()) out += ' ';
    out += '"';
    for (char ch : term) {
      if (ch == '"') out += '"';  // FTS5 escapes a quote inside a string by doubling it
      out += ch;
    }
    out += '"';
    if (prefix) out += '*';
  };
  size_t i = 0;
  const size_t n = text.size();
  while (i < n) {
    while (i < n && is_space(text[i])) ++i;
    if (i >= n) break;
    if (text[i] == '"') {
      const size_t close = text.find('"', i + 1);
      const size_t end = close == std::string_view::npos ? n : close;
      std::string_view phrase = text.substr(i + 1, end - i - 1);
      i = close == std::string_view::npos ? n : close + 1;
      bool prefix = false;
      if (i < n && text[i] == '*') {
        prefix = true;
        ++i;
      }
      add(phrase, prefix);
      continue;
    }
    size_t end = i;
    while (end < n && !is_space(text[end])) ++end;
    std::string_view word = text.substr(i, end - i);
    i = end;
    bool prefix = false;
    while (!word.empty() && word.back() == '*') {
      prefix = true;
      word.remove_suffix(1);
    }
    add(word, prefix);
  }
  return out;
}

namespace {

std::unexpected<Error> no_job(int64_t id) {
  return make_error(ErrorCode::kNotFound, fmt::format("no job {}", id));
}

Result<bool> job_exists(Connection& c, int64_t id) {
  auto q = c.query("SELECT 1 FROM jobs WHERE id = ?1");
  if (!q) return std::unexpected(q.error());
  return q->bind(id).step();
}

// Runs `q` and turns every row into a value with `read`.
template <typename T, typename ReadRow>
Result<std::vector<T>> collect(Query& q, ReadRow read) {
  std::vector<T> out;
  for (;;) {
    auto row = q.step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    out.push_back(read(q));
  }
  return out;
}

int page(int limit, int fallback) { return limit > 0 ? limit : fallback; }

Result<std::vector<StateCount>> count_states(Connection& c) {
  auto q = c.query("SELECT state, COUNT(*) FROM jobs GROUP BY state");
  if (!q) return std::unexpected(q.error());
  std::map<jobs::JobState, int64_t> counts;
  for (;;) {
    auto row = q->step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
    if (auto s = jobs::parse_state(q->text(0))) counts[*s] = q->int64(1);
  }
  std::vector<StateCount> out;
  for (jobs::JobState s : jobs::kAllJobStates) out.push_back(StateCount{s, counts[s]});
  return out;
}

}  // namespace

// ----- jobs -----

Result<jobs::Job> SqliteStore::get_job(int64_t job_id) {
  return read([&](Connection& c) -> Result<jobs::Job> {
    static const std::string kSql = sql({"SELECT ", kJobColumns, " FROM jobs WHERE id = ?1"});
    auto q = c.query(kSql);
    if (!q) return std::unexpected(q.error());
    auto row = q->bind(job_id).step();
    if (!row) return std::unexpected(row.error());
    if (!*row) return no_job(job_id);
    return read_job(*q);
  });
}

Result<std::vector<jobs::Job>> SqliteStore::list_jobs(const JobFilter& f) {
  std::string text = sql({"SELECT ", kJobColumns, " FROM jobs WHERE 1 = 1"});
  if (!f.states.empty()) {
    text += " AND state IN (";
    for (size_t i = 0; i < f.states.size(); ++i) text += i == 0 ? "?" : ", ?";
    text += ")";
  }
  if (f.parent_id) text += " AND parent_id = ?";
  if (f.top_level_only) text += " AND parent_id IS NULL";
  if (f.source) text += " AND source = ?";
  text += f.newest_first ? " ORDER BY id DESC" : " ORDER BY id";
  text += " LIMIT ? OFFSET ?";
  return read([&](Connection& c) -> Result<std::vector<jobs::Job>> {
    auto q = c.query(text);
    if (!q) return std::unexpected(q.error());
    int i = 1;
    for (auto s : f.states) q->bind_at(i++, jobs::state_name(s));
    if (f.parent_id) q->bind_at(i++, *f.parent_id);
    if (f.source) q->bind_at(i++, *f.source);
    q->bind_at(i++, f.limit > 0 ? int64_t{f.limit} : int64_t{-1});
    q->bind_at(i++, std::max(0, f.offset));
    return collect<jobs::Job>(*q, [](const Query& r) { return read_job(r); });
  });
}

Result<std::vector<JobChange>> SqliteStore::jobs_changed_since(int64_t after_seq, int limit) {
  return read([&](Connection& c) -> Result<std::vector<JobChange>> {
    static const std::string kSql = sql({"SELECT ", kJobColumns,
                                         ", change_seq FROM jobs WHERE change_seq > ?1 "
                                         "ORDER BY change_seq LIMIT ?2"});
    auto q = c.query(kSql);
    if (!q) return std::unexpected(q.error());
    q->bind(after_seq, page(limit, 1000));
    return collect<JobChange>(*q, [](const Query& r) {
      return JobChange{r.int64(kJobColumnCount), read_job(r)};
    });
  });
}

Result<std::vector<StateCount>> SqliteStore::counts_by_state() {
  return read([&](Connection& c) { return count_states(c); });
}

// ----- the job log -----

Result<std::vector<JobEvent>> SqliteStore::job_log(std::optional<int64_t> job_id) {
  return read([&](Connection& c) -> Result<std::vector<JobEvent>> {
    if (job_id) {
      auto exists = job_exists(c, *job_id);
      if (!exists) return std::unexpected(exists.error());
      if (!*exists) return no_job(*job_id);
    }
    static const std::string kSql =
        sql({"SELECT ", kEventColumns,
             " FROM job_events WHERE (?1 IS NULL OR job_id = ?1) ORDER BY id"});
    auto q = c.query(kSql);
    if (!q) return std::unexpected(q.error());
    q->bind(job_id);
    return collect<JobEvent>(*q, [](const Query& r) { return read_event(r); });
  });
}

Result<std::vector<JobEvent>> SqliteStore::events_since(int64_t after_id, int limit) {
  return read([&](Connection& c) -> Result<std::vector<JobEvent>> {
    static const std::string kSql =
        sql({"SELECT ", kEventColumns, " FROM job_events WHERE id > ?1 ORDER BY id LIMIT ?2"});
    auto q = c.query(kSql);
    if (!q) return std::unexpected(q.error());
    q->bind(after_id, page(limit, 1000));
    return collect<JobEvent>(*q, [](const Query& r) { return read_event(r); });
  });
}

Result<StoreStats> SqliteStore::stats() {
  return read([&](Connection& c) -> Result<StoreStats> {
    // One snapshot for both queries.
    auto tx = Transaction::begin(c, Transaction::Kind::kRead);
    if (!tx) return std::unexpected(tx.error());
    StoreStats st;
    auto counts = count_states(c);
    if (!counts) return std::unexpected(counts.error());
    st.by_state = std::move(*counts);
    int64_t completed = 0, dead = 0;
    for (const auto& sc : st.by_state) {
      st.total += sc.jobs;
      if (sc.state == jobs::JobState::kCompleted) completed = sc.jobs;
      if (sc.state == jobs::JobState::kDead) dead = sc.jobs;
    }
    if (completed + dead > 0) {
      st.success_rate = static_cast<double>(completed) / static_cast<double>(completed + dead);
    }
    auto q = c.query(
        "SELECT stage, COUNT(*), SUM(outcome = 'ok'), SUM(outcome = 'error'), "
        "SUM(outcome = 'retry'), AVG(ended_at - started_at), "
        "IFNULL(AVG(CASE WHEN outcome = 'ok' THEN ended_at - started_at END), 0), "
        "MAX(ended_at - started_at) FROM job_events GROUP BY stage");
    if (!q) return std::unexpected(q.error());
    auto rows = collect<StageStats>(*q, [](const Query& r) {
      StageStats s;
      s.stage = jobs::parse_state(r.text(0)).value_or(jobs::JobState::kResolving);
      s.runs = r.int64(1);
      s.ok = r.int64(2);
      s.errors = r.int64(3);
      s.retries = r.int64(4);
      s.mean_ms = r.real(5);
      s.mean_ok_ms = r.real(6);
      s.max_ms = r.int64(7);
      return s;
    });
    if (!rows) return std::unexpected(rows.error());
    st.stages = std::move(*rows);
    std::sort(st.stages.begin(), st.stages.end(),
              [](const StageStats& a, const StageStats& b) { return a.stage < b.stage; });
    return st;
  });
}

// ----- checkpoints and segments -----

Result<std::vector<ChunkRecord>> SqliteStore::chunks(int64_t job_id) {
  return read([&](Connection& c) -> Result<std::vector<ChunkRecord>> {
    auto exists = job_exists(c, job_id);
    if (!exists) return std::unexpected(exists.error());
    if (!*exists) return no_job(job_id);
    auto q = c.query(
        "SELECT idx, start_ms, end_ms, state, done_at FROM chunks WHERE job_id = ?1 ORDER BY idx");
    if (!q) return std::unexpected(q.error());
    q->bind(job_id);
    return collect<ChunkRecord>(*q, [](const Query& r) {
      return ChunkRecord{r.int32(0), r.int64(1), r.int64(2),
                         r.text(3) == "done" ? ChunkState::kDone : ChunkState::kPending,
                         r.opt_int64(4)};
    });
  });
}

Result<std::vector<int>> SqliteStore::completed_chunks(int64_t job_id) {
  return read([&](Connection& c) -> Result<std::vector<int>> {
    auto exists = job_exists(c, job_id);
    if (!exists) return std::unexpected(exists.error());
    if (!*exists) return no_job(job_id);
    auto q = c.query("SELECT idx FROM chunks WHERE job_id = ?1 AND state = 'done' ORDER BY idx");
    if (!q) return std::unexpected(q.error());
    q->bind(job_id);
    return collect<int>(*q, [](const Query& r) { return r.int32(0); });
  });
}

Result<std::vector<StoredSegment>> SqliteStore::segments(int64_t job_id) {
  return read([&](Connection& c) -> Result<std::vector<StoredSegment>> {
    auto exists = job_exists(c, job_id);
    if (!exists) return std::unexpected(exists.error());
    if (!*exists) return no_job(job_id);
    auto q = c.query(
        "SELECT job_id, chunk_index, seq, start_ms, end_ms, text, no_speech_prob, avg_logprob, "
        "flags FROM segments WHERE job_id = ?1 ORDER BY chunk_index, seq");
    if (!q) return std::unexpected(q.error());
    q->bind(job_id);
    return collect<StoredSegment>(*q, [](const Query& r) {
      return StoredSegment{r.int64(0), r.int32(1), r.int32(2),
                           NewSegment{r.int64(3), r.int64(4), r.text(5), r.real(6), r.real(7),
                                      static_cast<uint32_t>(r.int64(8))}};
    });
  });
}

Result<std::vector<SearchHit>> SqliteStore::search(const SearchQuery& query) {
  const std::string match = fts5_query(query.text);
  if (match.empty()) return std::vector<SearchHit>{};
  return read([&](Connection& c) -> Result<std::vector<SearchHit>> {
    auto q = c.query(
        "SELECT s.job_id, j.title, j.webpage_url, s.chunk_index, s.seq, s.start_ms, s.end_ms, "
        "snippet(segments_fts, 0, ?2, ?3, '…', 16) "
        "FROM segments_fts JOIN segments s ON s.id = segments_fts.rowid "
        "JOIN jobs j ON j.id = s.job_id "
        "WHERE segments_fts MATCH ?1 AND (?4 IS NULL OR s.job_id = ?4) "
        "ORDER BY segments_fts.rank, s.job_id, s.chunk_index, s.seq LIMIT ?5 OFFSET ?6");
    if (!q) return std::unexpected(q.error());
    q->bind(match, query.mark_open, query.mark_close, query.job_id, page(query.limit, 20),
            std::max(0, query.offset));
    return collect<SearchHit>(*q, [](const Query& r) {
      return SearchHit{r.int64(0), r.text(1),  r.text(2),  r.int32(3),
                       r.int32(4), r.int64(5), r.int64(6), r.text(7)};
    });
  });
}

// ----- mentions -----

Result<std::vector<EntityCount>> SqliteStore::top_entities(const EntityQuery& query) {
  return read([&](Connection& c) -> Result<std::vector<EntityCount>> {
    auto q = c.query(
        "SELECT canonical, type, COUNT(*) AS n, COUNT(DISTINCT job_id) FROM mentions "
        "WHERE (?1 IS NULL OR type = ?1) AND (?2 IS NULL OR job_id = ?2) "
        "GROUP BY canonical, type ORDER BY n DESC, canonical, type LIMIT ?3");
    if (!q) return std::unexpected(q.error());
    q->bind(query.type, query.job_id, page(query.limit, 50));
    return collect<EntityCount>(*q, [](const Query& r) {
      return EntityCount{r.text(0), r.text(1), r.int64(2), r.int64(3)};
    });
  });
}

Result<std::vector<StoredMention>> SqliteStore::mentions(const MentionQuery& query) {
  return read([&](Connection& c) -> Result<std::vector<StoredMention>> {
    auto q = c.query(
        "SELECT m.id, m.job_id, j.title, j.webpage_url, m.entity, m.canonical, m.type, m.source, "
        "m.start_ms, m.end_ms, m.context FROM mentions m JOIN jobs j ON j.id = m.job_id "
        "WHERE (?1 IS NULL OR m.canonical = ?1 COLLATE NOCASE OR m.entity = ?1 COLLATE NOCASE) "
        "AND (?2 IS NULL OR m.job_id = ?2) "
        "ORDER BY m.job_id, m.start_ms, m.id LIMIT ?3 OFFSET ?4");
    if (!q) return std::unexpected(q.error());
    q->bind(query.name, query.job_id, page(query.limit, 100), std::max(0, query.offset));
    return collect<StoredMention>(*q, [](const Query& r) {
      return StoredMention{
          r.int64(0), r.int64(1), r.text(2), r.text(3),
          Mention{r.text(4), r.text(5), r.text(6), r.text(7), r.int64(8), r.int64(9), r.text(10)}};
    });
  });
}

}  // namespace aimara::store::sqlite
