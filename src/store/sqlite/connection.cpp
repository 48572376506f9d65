#include "store/sqlite/connection.h"

#include <fmt/format.h>

namespace aimara::store::sqlite {

Error sqlite_error(int rc, std::string_view what, std::string_view detail) {
  const int primary = rc & 0xff;
  const ErrorCode code = (primary == SQLITE_BUSY || primary == SQLITE_LOCKED)
                             ? ErrorCode::kStoreBusy
                             : ErrorCode::kStoreError;
  const std::string_view generic = sqlite3_errstr(rc);
  if (detail == generic) return Error{code, fmt::format("{}: {}", what, detail)};
  return Error{code, fmt::format("{}: {} ({})", what, detail, generic)};
}

// ----- Query -----

Query::~Query() {
  if (stmt_ != nullptr) {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
}

void Query::bind_one(int i, std::nullopt_t) { sqlite3_bind_null(stmt_, i); }
void Query::bind_one(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
void Query::bind_int(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
void Query::bind_one(int i, std::string_view v) {
  sqlite3_bind_text64(stmt_, i, v.data(), v.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
}

Result<bool> Query::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return std::unexpected(sqlite_error(rc, "sqlite", sqlite3_errmsg(db_)));
}

Result<int> Query::run() {
  for (;;) {
    auto row = step();
    if (!row) return std::unexpected(row.error());
    if (!*row) break;
  }
  return sqlite3_changes(db_);
}

std::string Query::text(int col) const {
  const auto* p = sqlite3_column_text(stmt_, col);
  if (p == nullptr) return {};
  return std::string(reinterpret_cast<const char*>(p),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

std::optional<int64_t> Query::opt_int64(int col) const {
  if (is_null(col)) return std::nullopt;
  return int64(col);
}

std::optional<std::string> Query::opt_text(int col) const {
  if (is_null(col)) return std::nullopt;
  return text(col);
}

// ----- Connection -----

Result<Connection> Connection::open(const std::filesystem::path& path, int busy_timeout_ms,
                                    bool read_only) {
  sqlite3* raw = nullptr;
  const int flags =
      (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
      SQLITE_OPEN_NOMUTEX;
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  DbHandle db(raw);
  if (rc != SQLITE_OK) {
    std::string detail = raw != nullptr ? sqlite3_errmsg(raw) : "out of memory";
    return std::unexpected(
        sqlite_error(rc, fmt::format("cannot open '{}'", path.string()), detail));
  }
  sqlite3_extended_result_codes(raw, 1);
  sqlite3_busy_timeout(raw, busy_timeout_ms);
  Connection conn(std::move(db));
  // journal_mode=WAL is persistent in the file; readers only check it.
  std::string pragmas =
      "PRAGMA foreign_keys = ON;"
      "PRAGMA synchronous = NORMAL;"
      "PRAGMA recursive_triggers = OFF;";
  if (!read_only) pragmas = "PRAGMA journal_mode = WAL;" + pragmas;
  if (auto r = conn.exec(pragmas); !r) return std::unexpected(r.error());
  return conn;
}

Connection::~Connection() = default;

Result<void> Connection::exec(std::string_view sql) {
  std::string s(sql);
  char* msg = nullptr;
  const int rc = sqlite3_exec(db_.get(), s.c_str(), nullptr, nullptr, &msg);
  if (rc != SQLITE_OK) {
    std::string detail = msg != nullptr ? msg : sqlite3_errmsg(db_.get());
    sqlite3_free(msg);
    return std::unexpected(sqlite_error(rc, "sqlite", detail));
  }
  return {};
}

Result<Query> Connection::query(std::string_view sql) {
  auto it = statements_.find(std::string(sql));
  if (it == statements_.end()) {
    sqlite3_stmt* raw = nullptr;
    const int rc = sqlite3_prepare_v3(db_.get(), sql.data(), static_cast<int>(sql.size()),
                                      SQLITE_PREPARE_PERSISTENT, &raw, nullptr);
    StmtHandle stmt(raw);
    if (rc != SQLITE_OK) {
      return std::unexpected(
          sqlite_error(rc, "sqlite: cannot prepare statement", sqlite3_errmsg(db_.get())));
    }
    it = statements_.emplace(std::string(sql), std::move(stmt)).first;
  }
  return Query(db_.get(), it->second.get());
}

Error Connection::last_error(std::string_view what) const {
  return sqlite_error(sqlite3_extended_errcode(db_.get()), what, sqlite3_errmsg(db_.get()));
}

// ----- Transaction -----

Result<Transaction> Transaction::begin(Connection& conn, Kind kind) {
  auto r = conn.exec(kind == Kind::kWrite ? "BEGIN IMMEDIATE" : "BEGIN");
  if (!r) return std::unexpected(r.error());
  return Transaction(&conn);
}

Transaction::~Transaction() {
  if (conn_ != nullptr) {
    // Nothing useful can be done if the rollback itself fails: the connection is then in
    // autocommit mode already (SQLite rolled back on its own).
    (void)conn_->exec("ROLLBACK");
  }
}

Result<void> Transaction::commit() {
  auto r = conn_->exec("COMMIT");
  if (!r) return r;  // still open: the destructor rolls back
  conn_ = nullptr;
  return {};
}

}  // namespace aimara::store::sqlite
