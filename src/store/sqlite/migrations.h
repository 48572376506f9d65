// The SQLite store's schema, as an ordered list of versioned migrations.
//
// The database records the versions applied in `schema_version`. migrate() applies the missing
// ones in order, each with its version row in the same write transaction, so a crash leaves the
// file at the old version or the new one; running it again on an up-to-date file changes nothing.
// A file whose version is newer than any this build knows is refused (kStoreError), never touched.
// Thread-safety: migrate() takes the database write lock (BEGIN IMMEDIATE), so processes opening
// the same file at once apply each migration exactly once.
#pragma once

#include <span>
#include <string_view>

#include "core/error.h"
#include "store/sqlite/connection.h"

namespace aimara::store::sqlite {

struct Migration {
  int version;
  std::string_view description;
  std::string_view sql;
};

// All migrations this build knows, in version order (1, 2, ...).
std::span<const Migration> migrations();

// The newest version this build knows.
int latest_schema_version();

// The file's version now (0 for a fresh file).
Result<int> schema_version(Connection& conn);

// Brings the file to latest_schema_version(); returns the version it was at before.
Result<int> migrate(Connection& conn, int64_t now_ms);

}  // namespace aimara::store::sqlite
