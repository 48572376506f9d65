// The store suite on SQLite, plus what only SQLite has: the file on disk, WAL, migrations, the
// FTS5 query builder, the URI factory.
#include "store/sqlite/sqlite_store.h"

#include <sqlite3.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "store/sqlite/migrations.h"
#include "store/sqlite/rows.h"
#include "store/store_test.h"

namespace aimara::store {
namespace {

Result<std::unique_ptr<Store>> open_sqlite_for_test(const std::filesystem::path& dir,
                                                    const StoreOptions& options) {
  return open_store("sqlite:" + (dir / "store.db").string(), options);
}

using test_suite::StoreTest;
INSTANTIATE_TEST_SUITE_P(Sqlite, StoreTest,
                         ::testing::Values(test_suite::StoreBackend{"sqlite",
                                                                    &open_sqlite_for_test}),
                         test_suite::store_backend_name);

// Runs one SQL statement on the file with a plain sqlite3 connection (outside the store).
std::string raw_query(const std::filesystem::path& db, const std::string& sql) {
  sqlite3* raw = nullptr;
  EXPECT_EQ(sqlite3_open_v2(db.c_str(), &raw, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr),
            SQLITE_OK);
  sqlite::DbHandle handle(raw);
  std::string out;
  char* err = nullptr;
  auto cb = [](void* p, int n, char** values, char**) {
    auto* s = static_cast<std::string*>(p);
    for (int i = 0; i < n; ++i) {
      if (!s->empty()) *s += '|';
      *s += values[i] != nullptr ? values[i] : "NULL";
    }
    return 0;
  };
  EXPECT_EQ(sqlite3_exec(raw, sql.c_str(), cb, &out, &err), SQLITE_OK) << (err ? err : "");
  sqlite3_free(err);
  return out;
}

class SqliteStoreFile : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = TempDir::create("aimara-sqlite-test");
    ASSERT_TRUE(dir.has_value());
    dir_.emplace(std::move(*dir));
    path_ = dir_->path() / "sub" / "dir" / "jobs.db";
  }
  std::optional<TempDir> dir_;
  std::filesystem::path path_;
};

TEST_F(SqliteStoreFile, CreatesARealWalFileWithItsFolder) {
  auto s = open_store("sqlite:" + path_.string());
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  EXPECT_TRUE(std::filesystem::is_regular_file(path_));
  EXPECT_EQ((*s)->describe(), "sqlite:" + path_.string());
  ASSERT_TRUE((*s)->enqueue(NewJob{.source = "a"}).has_value());
  EXPECT_EQ(raw_query(path_, "PRAGMA journal_mode"), "wal");
  EXPECT_TRUE(std::filesystem::exists(path_.string() + "-wal"));
  EXPECT_EQ(raw_query(path_, "SELECT source, state FROM jobs"), "a|queued");
}

TEST_F(SqliteStoreFile, OpeningForReadingDoesNotCreateAStore) {
  StoreOptions o;
  o.create_if_missing = false;
  auto s = open_store("sqlite:" + path_.string(), o);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(path_));
  EXPECT_FALSE(std::filesystem::exists(path_.parent_path()));
  ASSERT_TRUE(open_store("sqlite:" + path_.string()).has_value());
  EXPECT_TRUE(open_store("sqlite:" + path_.string(), o).has_value());
}

TEST_F(SqliteStoreFile, MigrationsOnAnExistingFileAreIdempotent) {
  int64_t id = 0;
  {
    auto s = sqlite::SqliteStore::open(path_, {});
    ASSERT_TRUE(s.has_value()) << s.error().to_string();
    EXPECT_EQ(*(*s)->schema_version(), sqlite::latest_schema_version());
    auto e = (*s)->enqueue(NewJob{.source = "kept"});
    ASSERT_TRUE(e.has_value());
    id = e->id;
  }
  for (int i = 0; i < 3; ++i) {
    auto s = sqlite::SqliteStore::open(path_, {});
    ASSERT_TRUE(s.has_value()) << s.error().to_string();
    EXPECT_EQ(*(*s)->schema_version(), sqlite::latest_schema_version());
    auto j = (*s)->get_job(id);
    ASSERT_TRUE(j.has_value());
    EXPECT_EQ(j->source, "kept");
  }
  // One row per migration, applied once.
  EXPECT_EQ(raw_query(path_, "SELECT COUNT(*), MAX(version) FROM schema_version"),
            std::to_string(sqlite::migrations().size()) + "|" +
                std::to_string(sqlite::latest_schema_version()));
}

TEST_F(SqliteStoreFile, AVersionOneFileIsUpgradedWithItsJobsKept) {
  // A store as the first release wrote it: schema version 1, one finished job.
  const auto v1 = sqlite::migrations()[0];
  ASSERT_EQ(v1.version, 1);
  std::filesystem::create_directories(path_.parent_path());
  raw_query(path_, std::string(v1.sql) +
                       "CREATE TABLE schema_version (version INTEGER PRIMARY KEY, description "
                       "TEXT NOT NULL, applied_at INTEGER NOT NULL);"
                       "INSERT INTO schema_version VALUES (1, 'v1', 0);"
                       "INSERT INTO jobs (source, kind, state, title, max_attempts, run_at, "
                       "created_at, updated_at) VALUES ('old.mp3', 'media', 'completed', 'Old', 3, "
                       "0, 0, 0);");
  auto s = sqlite::SqliteStore::open(path_, {});
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  EXPECT_EQ(*(*s)->schema_version(), sqlite::latest_schema_version());
  auto j = (*s)->get_job(1);
  ASSERT_TRUE(j.has_value()) << j.error().to_string();
  EXPECT_EQ(j->media.title, "Old");
  EXPECT_EQ(j->state, jobs::JobState::kCompleted);
  EXPECT_EQ(j->media.language, "");  // not known for jobs finished before version 2
}

TEST_F(SqliteStoreFile, ASchemaNewerThanThisBuildIsRefused) {
  { ASSERT_TRUE(sqlite::SqliteStore::open(path_, {}).has_value()); }
  const int newer = sqlite::latest_schema_version() + 1;
  raw_query(path_, "INSERT INTO schema_version (version, description, applied_at) VALUES (" +
                       std::to_string(newer) + ", 'from the future', 0)");
  auto s = open_store("sqlite:" + path_.string());
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kStoreError);
  EXPECT_NE(s.error().message.find("newer"), std::string::npos) << s.error().message;
  // Untouched: the future version is still recorded and nothing was rolled back.
  EXPECT_EQ(raw_query(path_, "SELECT MAX(version) FROM schema_version"), std::to_string(newer));
}

TEST_F(SqliteStoreFile, AnSqliteFileThatIsNotOursYetGetsTheSchemaBesideItsTables) {
  std::filesystem::create_directories(path_.parent_path());
  raw_query(path_.parent_path() / "plain.db", "CREATE TABLE unrelated (x)");
  auto s = sqlite::SqliteStore::open(path_.parent_path() / "plain.db", {});
  ASSERT_TRUE(s.has_value()) << s.error().to_string();
  EXPECT_EQ(raw_query(path_.parent_path() / "plain.db",
                      "SELECT COUNT(*) FROM sqlite_master WHERE name IN ('jobs', 'segments_fts', "
                      "'job_events', 'mentions', 'chunks', 'segments', 'unrelated')"),
            "7");
}

TEST_F(SqliteStoreFile, NotADatabaseIsAClearError) {
  std::filesystem::create_directories(path_.parent_path());
  {
    std::FILE* f = std::fopen(path_.c_str(), "wb");
    ASSERT_NE(f, nullptr);
    std::fputs("this is not an sqlite file, just some text that is long enough......", f);
    std::fclose(f);
  }
  auto s = open_store("sqlite:" + path_.string());
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().code, ErrorCode::kStoreError);
  EXPECT_NE(s.error().message.find(path_.filename().string()), std::string::npos)
      << s.error().message;
}

TEST(OpenStore, UriSchemes) {
  auto pg = open_store("postgres://user@localhost/aimara");
  ASSERT_FALSE(pg.has_value());
  EXPECT_EQ(pg.error().code, ErrorCode::kStoreError);
  EXPECT_NE(pg.error().message.find("not built"), std::string::npos);
  EXPECT_FALSE(open_store("postgresql://x").has_value());
  auto unknown = open_store("mysql://x");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(open_store("/tmp/x.db").error().code, ErrorCode::kInvalidArgument);
}

TEST(OpenStore, BareSqliteSchemeMeansAimaraDbInTheCurrentFolder) {
  auto dir = TempDir::create("aimara-sqlite-cwd");
  ASSERT_TRUE(dir.has_value());
  const auto old = std::filesystem::current_path();
  std::filesystem::current_path(dir->path());
  {
    auto s = open_store("sqlite:");
    EXPECT_TRUE(s.has_value()) << s.error().to_string();
    auto d = open_store(kDefaultStoreUri);
    EXPECT_TRUE(d.has_value());
  }
  std::filesystem::current_path(old);
  EXPECT_TRUE(std::filesystem::is_regular_file(dir->path() / "aimara.db"));
}

TEST(Fts5Query, QuotesEveryTermSoInputIsNeverSyntax) {
  using sqlite::fts5_query;
  EXPECT_EQ(fts5_query("hola mundo"), R"("hola" "mundo")");
  EXPECT_EQ(fts5_query("  política  "), R"("política")");
  EXPECT_EQ(fts5_query("presu*"), R"("presu"*)");
  EXPECT_EQ(fts5_query(R"("buenas noches" a)"), R"("buenas noches" "a")");
  EXPECT_EQ(fts5_query(R"("buenas noches"* x)"), R"("buenas noches"* "x")");
  EXPECT_EQ(fts5_query(R"(say"what)"), R"("say""what")");
  EXPECT_EQ(fts5_query(R"("unclosed phrase)"), R"("unclosed phrase")");
  EXPECT_EQ(fts5_query("AND OR NOT"), R"("AND" "OR" "NOT")");
  EXPECT_EQ(fts5_query("- ( ) * ^ :"), "");
  EXPECT_EQ(fts5_query(""), "");
}

}  // namespace
}  // namespace aimara::store
