// The SQLite backend of the job store (store.h has the contract; this is how SQLite keeps it).
//
// - One writer connection guarded by a mutex; every write is one `BEGIN IMMEDIATE` transaction,
//   so it takes the database's write lock up front and other processes wait (busy timeout)
//   instead of failing half-way. The claim is a single `UPDATE ... WHERE id = (SELECT ... ORDER BY
//   priority, id LIMIT 1) RETURNING ...`.
// - Reads go through a small pool of read-only connections: in WAL mode they run concurrently with
//   each other and with the writer, and see only committed data.
// - The file is in WAL mode with synchronous=NORMAL: a committed transaction survives the process
//   being killed at any moment (a power cut may lose the last commits, never corrupt the file).
// - The schema is versioned (migrations.h) and brought up to date when the store opens.
//
// Thread-safety: safe for concurrent use from many threads; several processes may open the same
// file. Ownership: the store owns its connections; destroying it closes them.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <vector>

#include "store/sqlite/connection.h"
#include "store/store.h"

namespace aimara::store::sqlite {

class SqliteStore final : public Store {
 public:
  // Opens or creates the file (and its folder) and migrates it.
  static Result<std::unique_ptr<SqliteStore>> open(const std::filesystem::path& path,
                                                   StoreOptions options);
  ~SqliteStore() override;

  std::string describe() const override;

  Result<Enqueued> enqueue(const NewJob& job) override;

  Result<std::optional<ClaimedJob>> claim(std::string_view worker_id, int64_t lease_ms,
                                          std::span<const jobs::JobKind> kinds) override;
  Result<void> heartbeat(jobs::Lease& lease, int64_t lease_ms) override;
  Result<void> set_stage(const jobs::Lease& lease, jobs::JobState stage) override;
  Result<void> set_progress(const jobs::Lease& lease, double fraction) override;
  Result<MediaUpdate> set_media_info(const jobs::Lease& lease,
                                     const jobs::MediaInfo& media) override;
  Result<std::vector<Enqueued>> add_children(const jobs::Lease& lease,
                                             std::span<const NewJob> children) override;
  Result<void> plan_chunks(const jobs::Lease& lease, std::span<const ChunkSpan> chunks) override;
  Result<bool> save_chunk_result(const jobs::Lease& lease, const ChunkResult& result) override;
  Result<void> save_mentions(const jobs::Lease& lease, std::span<const Mention> mentions) override;
  Result<void> complete(const jobs::Lease& lease) override;
  Result<jobs::JobState> fail(const jobs::Lease& lease, const Error& error,
                              bool retryable) override;
  Result<void> release(const jobs::Lease& lease) override;

  Result<int> reap_expired_leases() override;
  Result<int> expire_leases_of(std::string_view owner_prefix) override;

  Result<void> retry(int64_t job_id) override;
  Result<bool> refresh_playlist(int64_t job_id) override;
  Result<void> cancel(int64_t job_id) override;

  Result<jobs::Job> get_job(int64_t job_id) override;
  Result<std::vector<jobs::Job>> list_jobs(const JobFilter& filter) override;
  Result<std::vector<JobEvent>> job_log(std::optional<int64_t> job_id) override;
  Result<std::vector<JobEvent>> events_since(int64_t after_id, int limit) override;
  Result<std::vector<JobChange>> jobs_changed_since(int64_t after_seq, int limit) override;
  Result<std::vector<StateCount>> counts_by_state() override;
  Result<StoreStats> stats() override;
  Result<std::vector<ChunkRecord>> chunks(int64_t job_id) override;
  Result<std::vector<int>> completed_chunks(int64_t job_id) override;
  Result<std::vector<StoredSegment>> segments(int64_t job_id) override;
  Result<std::vector<SearchHit>> search(const SearchQuery& query) override;
  Result<std::vector<EntityCount>> top_entities(const EntityQuery& query) override;
  Result<std::vector<StoredMention>> mentions(const MentionQuery& query) override;

  // The schema version of the open file (tests, `aimara doctor`).
  Result<int> schema_version();

 private:
  // Only open() can make one (it migrates the file first).
  struct Passkey {
    explicit Passkey() = default;
  };

 public:
  SqliteStore(Passkey, std::filesystem::path path, StoreOptions options, Connection writer);

 private:
  int64_t now() const { return options_.clock->now_ms(); }

  // Runs `body(Connection&)` in one BEGIN IMMEDIATE transaction on the writer connection and
  // commits when it returns a value (rolls back when it returns an error).
  template <typename F>
  auto write(F&& body) -> decltype(body(std::declval<Connection&>()));

  // Runs `body(Connection&)` on a pooled read-only connection.
  template <typename F>
  auto read(F&& body) -> decltype(body(std::declval<Connection&>()));

  Result<std::unique_ptr<Connection>> acquire_reader();
  void release_reader(std::unique_ptr<Connection> conn);

  const std::filesystem::path path_;
  const StoreOptions options_;

  std::mutex write_mu_;
  Connection writer_;  // guarded by write_mu_

  std::mutex readers_mu_;
  std::vector<std::unique_ptr<Connection>> idle_readers_;  // guarded by readers_mu_
};

template <typename F>
auto SqliteStore::write(F&& body) -> decltype(body(std::declval<Connection&>())) {
  std::lock_guard lock(write_mu_);
  auto tx = Transaction::begin(writer_, Transaction::Kind::kWrite);
  if (!tx) return std::unexpected(tx.error());
  auto result = body(writer_);
  if (!result) return result;  // the transaction rolls back
  if (auto c = tx->commit(); !c) return std::unexpected(c.error());
  return result;
}

template <typename F>
auto SqliteStore::read(F&& body) -> decltype(body(std::declval<Connection&>())) {
  auto conn = acquire_reader();
  if (!conn) return std::unexpected(conn.error());
  struct Return {
    SqliteStore* store;
    std::unique_ptr<Connection>& conn;
    ~Return() { store->release_reader(std::move(conn)); }
  } give_back{this, *conn};
  return body(**conn);
}

}  // namespace aimara::store::sqlite
