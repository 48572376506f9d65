// A thin RAII layer over the sqlite3 C API for the SQLite store: connections, cached prepared
// statements, typed binding and column access, and transactions that roll back unless committed.
//
// Errors become aimara Errors: SQLITE_BUSY / SQLITE_LOCKED -> kStoreBusy, everything else ->
// kStoreError with SQLite's message.
// Thread-safety: none. A Connection (and the statements it hands out) is used by one thread at a
// time; the store guards each connection with its own mutex. Connections are opened with
// SQLITE_OPEN_NOMUTEX for that reason.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>

#include "core/error.h"

namespace aimara::store::sqlite {

struct DbCloser {
  void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
};
struct StmtFinalizer {
  void operator()(sqlite3_stmt* s) const { sqlite3_finalize(s); }
};
using DbHandle = std::unique_ptr<sqlite3, DbCloser>;
using StmtHandle = std::unique_ptr<sqlite3_stmt, StmtFinalizer>;

// A prepared statement in use: bound, stepped, read, and reset when it goes out of scope so the
// cached statement can be used again. Move-only; does not own the statement.
class Query {
 public:
  Query(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  Query(Query&& other) noexcept : db_(other.db_), stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Query& operator=(Query&&) = delete;
  Query(const Query&) = delete;
  Query& operator=(const Query&) = delete;
  ~Query();

  // Binds parameters 1..N in order. Accepts integers, double, strings, std::nullopt and
  // std::optional of those.
  template <typename... Args>
  Query& bind(const Args&... args) {
    int i = 1;
    (bind_one(i++, args), ...);
    return *this;
  }

  // Binds parameter i (1-based); for statements whose parameter count varies.
  template <typename T>
  Query& bind_at(int i, const T& v) {
    bind_one(i, v);
    return *this;
  }

  // True when a row is ready to read, false when the statement is done.
  Result<bool> step();
  // Runs a statement that returns no rows (or ignores them); returns sqlite3_changes().
  Result<int> run();

  int64_t int64(int col) const { return sqlite3_column_int64(stmt_, col); }
  int int32(int col) const { return sqlite3_column_int(stmt_, col); }
  double real(int col) const { return sqlite3_column_double(stmt_, col); }
  bool is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  std::string text(int col) const;
  std::optional<int64_t> opt_int64(int col) const;
  std::optional<std::string> opt_text(int col) const;

 private:
  void bind_one(int i, std::nullopt_t);
  void bind_one(int i, double v);
  void bind_one(int i, std::string_view v);
  void bind_one(int i, const std::string& v) { bind_one(i, std::string_view(v)); }
  void bind_one(int i, const char* v) { bind_one(i, std::string_view(v)); }
  void bind_int(int i, int64_t v);
  template <typename T>
  requires std::is_integral_v<T>
  void bind_one(int i, T v) { bind_int(i, static_cast<int64_t>(v)); }
  template <typename T>
  void bind_one(int i, const std::optional<T>& v) {
    if (v) {
      bind_one(i, *v);
    } else {
      bind_one(i, std::nullopt);
    }
  }

  sqlite3* db_;
  sqlite3_stmt* stmt_;
};

class Connection {
 public:
  // Opens (creating if needed) the database file with the store's pragmas: WAL, foreign keys,
  // synchronous NORMAL (a committed transaction survives a process crash), busy timeout.
  static Result<Connection> open(const std::filesystem::path& path, int busy_timeout_ms,
                                 bool read_only);

  Connection(Connection&&) noexcept = default;
  Connection& operator=(Connection&&) noexcept = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection();

  // Runs one or more statements that return no rows (schema scripts, pragmas).
  Result<void> exec(std::string_view sql);
  // A cached prepared statement for `sql` (prepared once per connection, then reused).
  Result<Query> query(std::string_view sql);

  sqlite3* get() const { return db_.get(); }
  // The connection's last error as an aimara Error, prefixed with `what`.
  Error last_error(std::string_view what) const;

 private:
  explicit Connection(DbHandle db) : db_(std::move(db)) {}

  // Declared after db_, so the statements are finalised before the connection closes.
  DbHandle db_;
  std::unordered_map<std::string, StmtHandle> statements_;
};

// BEGIN IMMEDIATE (writes: takes the write lock up front, so a transaction never fails half-way
// because another writer got there first) or BEGIN (reads: one consistent snapshot).
// Rolls back on destruction unless commit() succeeded.
class Transaction {
 public:
  enum class Kind { kWrite, kRead };
  static Result<Transaction> begin(Connection& conn, Kind kind);
  Transaction(Transaction&& other) noexcept : conn_(other.conn_) { other.conn_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();

  Result<void> commit();

 private:
  explicit Transaction(Connection* conn) : conn_(conn) {}
  Connection* conn_;
};

// Maps an SQLite result code to an aimara Error.
Error sqlite_error(int rc, std::string_view what, std::string_view detail);

}  // namespace aimara::store::sqlite
