// The store test suite: every test in store_test.cpp is written against the Store interface only
// and runs once per backend. A backend adds itself with its factory, e.g. in
// sqlite/sqlite_store_test.cpp:
//
//   using test_suite::StoreTest;
//   INSTANTIATE_TEST_SUITE_P(Sqlite, StoreTest,
//       ::testing::Values(test_suite::StoreBackend{"sqlite", &open_sqlite_for_test}),
//       test_suite::store_backend_name);
//
// Thread-safety: a fixture is used by one test at a time; the tests themselves start threads and
// child processes that open their own Store.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/fs.h"
#include "jobs/clock.h"
#include "store/store.h"

namespace aimara::store::test_suite {

struct StoreBackend {
  std::string name;
  // Opens the database that belongs to the test folder `dir`: the first call for a `dir` gets an
  // empty database, later calls with the same `dir` open the same one (another handle, as another
  // process would). Must be callable in a forked child process.
  std::function<Result<std::unique_ptr<Store>>(const std::filesystem::path& dir,
                                               const StoreOptions& options)>
      open;
};

std::string store_backend_name(const ::testing::TestParamInfo<StoreBackend>& info);
// How GoogleTest prints the parameter in test names and failures: the backend's name.
inline void PrintTo(const StoreBackend& backend, std::ostream* os) { *os << backend.name; }

class StoreTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  static constexpr int64_t kStart = 1'700'000'000'000;  // the test clock's start (ms)

  void SetUp() override;

  // Another handle on the same database (as a second process would have).
  std::unique_ptr<Store> open_another();

  // Enqueues a media job (created) and returns its id.
  int64_t add_job(const std::string& source, int64_t priority = 0, int max_attempts = 0,
                  const std::string& extractor = {}, const std::string& video_id = {});
  // Claims the next job as `worker` (lease 10 s); fails the test when none is claimable.
  ClaimedJob must_claim(const std::string& worker, int64_t lease_ms = 10'000);
  jobs::Job must_get(int64_t id);

  std::shared_ptr<jobs::ManualClock> clock_;
  StoreOptions options_;
  std::optional<TempDir> dir_;
  std::unique_ptr<Store> store_;
};

// The job log of `id`, failing the test on an error.
std::vector<JobEvent> log_of(Store& s, int64_t id);
// Chunk `index` (30 s long at index * 30 s) with one 2 s segment per text.
ChunkResult chunk(int index, std::vector<std::string> texts);

}  // namespace aimara::store::test_suite
