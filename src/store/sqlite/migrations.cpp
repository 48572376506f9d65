#include "store/sqlite/migrations.h"

#include <fmt/format.h>

namespace aimara::store::sqlite {

namespace {

// Version 1: jobs, chunks (checkpoints), segments + FTS5, the job log, entity mentions.
//
// Notes on the design:
// - jobs.change_seq is bumped by triggers on every insert and update, one distinct value per
//   changed row, so jobs_changed_since() is a complete change feed. A heartbeat (only
//   lease_expires_at changes) is not a change.
// - jobs_live_video is a partial unique index: (extractor, video_id) is unique among live jobs
//   (every state except dead and cancelled).
// - segments_fts is an external-content FTS5 table over segments.text kept in sync by triggers;
//   unicode61 with remove_diacritics folds case and accents ("politica" finds "política").
constexpr std::string_view kSchemaV1 = R"sql(
CREATE TABLE jobs (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  parent_id          INTEGER REFERENCES jobs(id) ON DELETE CASCADE,
  source             TEXT    NOT NULL,
  kind               TEXT    NOT NULL CHECK (kind IN ('media', 'playlist')),
  state              TEXT    NOT NULL CHECK (state IN ('queued', 'resolving', 'downloading',
                       'extracting_audio', 'transcribing', 'extracting_entities', 'analyzing',
                       'storing', 'completed', 'failed', 'dead', 'cancelled')),
  stage              TEXT,
  stage_started_at   INTEGER,
  attempts           INTEGER NOT NULL DEFAULT 0,
  max_attempts       INTEGER NOT NULL CHECK (max_attempts >= 1),
  priority           INTEGER NOT NULL DEFAULT 0,
  run_at             INTEGER NOT NULL,
  last_error_code    TEXT,
  last_error_message TEXT,
  lease_token        TEXT,
  lease_owner        TEXT,
  lease_expires_at   INTEGER,
  progress           REAL    NOT NULL DEFAULT 0,
  options            TEXT    NOT NULL DEFAULT '{}',
  title              TEXT    NOT NULL DEFAULT '',
  platform           TEXT    NOT NULL DEFAULT '',
  extractor          TEXT    NOT NULL DEFAULT '',
  video_id           TEXT,
  duration_ms        INTEGER NOT NULL DEFAULT 0,
  uploader           TEXT    NOT NULL DEFAULT '',
  upload_date        TEXT    NOT NULL DEFAULT '',
  webpage_url        TEXT    NOT NULL DEFAULT '',
  created_at         INTEGER NOT NULL,
  updated_at         INTEGER NOT NULL,
  finished_at        INTEGER,
  change_seq         INTEGER NOT NULL DEFAULT 0
);
CREATE UNIQUE INDEX jobs_live_video ON jobs(extractor, video_id)
  WHERE video_id IS NOT NULL AND state NOT IN ('dead', 'cancelled');
CREATE INDEX jobs_claimable ON jobs(priority, id) WHERE state IN ('queued', 'failed');
CREATE INDEX jobs_leased ON jobs(lease_expires_at) WHERE lease_token IS NOT NULL;
CREATE INDEX jobs_parent ON jobs(parent_id);
CREATE INDEX jobs_state ON jobs(state);
CREATE INDEX jobs_source ON jobs(source);
CREATE INDEX jobs_change_seq ON jobs(change_seq);

CREATE TRIGGER jobs_change_seq_insert AFTER INSERT ON jobs BEGIN
  UPDATE jobs SET change_seq = (SELECT IFNULL(MAX(change_seq), 0) + 1 FROM jobs)
    WHERE id = NEW.id;
END;
CREATE TRIGGER jobs_change_seq_update AFTER UPDATE OF parent_id, source, kind, state, stage,
    stage_started_at, attempts, max_attempts, priority, run_at, last_error_code,
    last_error_message, lease_token, lease_owner, progress, options, title, platform, extractor,
    video_id, duration_ms, uploader, upload_date, webpage_url, finished_at ON jobs
  WHEN NEW.change_seq = OLD.change_seq BEGIN
  UPDATE jobs SET change_seq = (SELECT IFNULL(MAX(change_seq), 0) + 1 FROM jobs)
    WHERE id = NEW.id;
END;

CREATE TABLE chunks (
  job_id    INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  idx       INTEGER NOT NULL,
  start_ms  INTEGER NOT NULL,
  end_ms    INTEGER NOT NULL,
  state     TEXT    NOT NULL CHECK (state IN ('pending', 'done')),
  done_at   INTEGER,
  PRIMARY KEY (job_id, idx)
) WITHOUT ROWID;

CREATE TABLE segments (
  id             INTEGER PRIMARY KEY,
  job_id         INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  chunk_index    INTEGER NOT NULL,
  seq            INTEGER NOT NULL,
  start_ms       INTEGER NOT NULL,
  end_ms         INTEGER NOT NULL,
  text           TEXT    NOT NULL,
  no_speech_prob REAL    NOT NULL DEFAULT 0,
  avg_logprob    REAL    NOT NULL DEFAULT 0,
  flags          INTEGER NOT NULL DEFAULT 0,
  UNIQUE (job_id, chunk_index, seq)
);

CREATE VIRTUAL TABLE segments_fts USING fts5(
  text, content = 'segments', content_rowid = 'id',
  tokenize = 'unicode61 remove_diacritics 2');
CREATE TRIGGER segments_fts_insert AFTER INSERT ON segments BEGIN
  INSERT INTO segments_fts(rowid, text) VALUES (NEW.id, NEW.text);
END;
CREATE TRIGGER segments_fts_delete AFTER DELETE ON segments BEGIN
  INSERT INTO segments_fts(segments_fts, rowid, text) VALUES ('delete', OLD.id, OLD.text);
END;
CREATE TRIGGER segments_fts_update AFTER UPDATE OF text ON segments BEGIN
  INSERT INTO segments_fts(segments_fts, rowid, text) VALUES ('delete', OLD.id, OLD.text);
  INSERT INTO segments_fts(rowid, text) VALUES (NEW.id, NEW.text);
END;

CREATE TABLE job_events (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id        INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  stage         TEXT    NOT NULL,
  started_at    INTEGER NOT NULL,
  ended_at      INTEGER NOT NULL,
  outcome       TEXT    NOT NULL CHECK (outcome IN ('ok', 'error', 'retry', 'cancelled')),
  worker        TEXT    NOT NULL DEFAULT '',
  attempt       INTEGER NOT NULL DEFAULT 0,
  error_code    TEXT,
  error_message TEXT
);
CREATE INDEX job_events_job ON job_events(job_id, id);

CREATE TABLE mentions (
  id        INTEGER PRIMARY KEY,
  job_id    INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,
  entity    TEXT    NOT NULL,
  canonical TEXT    NOT NULL,
  type      TEXT    NOT NULL,
  source    TEXT    NOT NULL DEFAULT '',
  start_ms  INTEGER NOT NULL,
  end_ms    INTEGER NOT NULL,
  context   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX mentions_job ON mentions(job_id, start_ms);
CREATE INDEX mentions_canonical ON mentions(canonical COLLATE NOCASE);
CREATE INDEX mentions_entity ON mentions(entity COLLATE NOCASE);
)sql";

// Version 2: the language a media job was transcribed in (given, or detected from its audio), so
// that its files can be written again from the store alone.
constexpr std::string_view kSchemaV2 = R"sql(
ALTER TABLE jobs ADD COLUMN language TEXT NOT NULL DEFAULT '';
)sql";

constexpr Migration kMigrations[] = {
    {1, "jobs, chunks, segments with full-text search, job log, mentions", kSchemaV1},
    {2, "jobs.language", kSchemaV2},
};

}  // namespace

std::span<const Migration> migrations() { return kMigrations; }

int latest_schema_version() { return kMigrations[std::size(kMigrations) - 1].version; }

Result<int> schema_version(Connection& conn) {
  auto exists =
      conn.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'");
  if (!exists) return std::unexpected(exists.error());
  auto row = exists->step();
  if (!row) return std::unexpected(row.error());
  if (!*row) return 0;
  auto q = conn.query("SELECT IFNULL(MAX(version), 0) FROM schema_version");
  if (!q) return std::unexpected(q.error());
  auto r = q->step();
  if (!r) return std::unexpected(r.error());
  return *r ? q->int32(0) : 0;
}

Result<int> migrate(Connection& conn, int64_t now_ms) {
  auto tx = Transaction::begin(conn, Transaction::Kind::kWrite);
  if (!tx) return std::unexpected(tx.error());
  if (auto r = conn.exec("CREATE TABLE IF NOT EXISTS schema_version ("
                         "  version INTEGER PRIMARY KEY,"
                         "  description TEXT NOT NULL,"
                         "  applied_at INTEGER NOT NULL)");
      !r) {
    return std::unexpected(r.error());
  }
  auto before = schema_version(conn);
  if (!before) return std::unexpected(before.error());
  const int latest = latest_schema_version();
  if (*before > latest) {
    return std::unexpected(
        Error{ErrorCode::kStoreError,
              fmt::format("the database's schema is version {}, newer than this aimara knows ({}); "
                          "use a newer aimara with it",
                          *before, latest)});
  }
  for (const Migration& m : kMigrations) {
    if (m.version <= *before) continue;
    if (auto r = conn.exec(m.sql); !r) {
      return std::unexpected(Error{r.error().code, fmt::format("migration {} ({}): {}", m.version,
                                                               m.description, r.error().message)});
    }
    auto ins = conn.query(
        "INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)");
    if (!ins) return std::unexpected(ins.error());
    if (auto r = ins->bind(m.version, m.description, now_ms).run(); !r) {
      return std::unexpected(r.error());
    }
  }
  if (*before == latest) {
    // Nothing to do: let the transaction roll back (no write happened besides IF NOT EXISTS).
    return *before;
  }
  if (auto r = tx->commit(); !r) return std::unexpected(r.error());
  return *before;
}

}  // namespace aimara::store::sqlite
