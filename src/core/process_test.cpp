#include "core/process.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/fs.h"

namespace aimara {
namespace {

using std::chrono::milliseconds;

ProcessResult must_run(const std::vector<std::string>& argv, const ProcessOptions& opts = {}) {
  auto r = run_process(argv, opts);
  EXPECT_TRUE(r.has_value()) << (r ? "" : r.error().to_string());
  return r ? *r : ProcessResult{};
}

// True when `pid` no longer runs (gone, or a zombie waiting for its reaper).
bool process_gone(pid_t pid) {
  for (int i = 0; i < 200; ++i) {
    if (::kill(pid, 0) != 0) return true;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(stat, line);
    auto close = line.rfind(')');
    if (close != std::string::npos && close + 2 < line.size() && line[close + 2] == 'Z') {
      return true;
    }
    std::this_thread::sleep_for(milliseconds{10});
  }
  return false;
}

TEST(RunProcess, CapturesStdoutAndExitCode) {
  auto r = must_run({"echo", "hello", "world"});
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.out, "hello world\n");
  EXPECT_EQ(r.err, "");
}

TEST(RunProcess, ArgumentsAreNeverInterpretedByAShell) {
  auto r = must_run({"printf", "%s|", "$(echo injected)", "a b;c", "`id`", "*"});
  EXPECT_EQ(r.out, "$(echo injected)|a b;c|`id`|*|");
}

TEST(RunProcess, CapturesStderrSeparatelyAndNonZeroExit) {
  auto r = must_run({"sh", "-c", "echo to-out; echo oops >&2; exit 3"});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_EQ(r.term_signal, 0);
  EXPECT_EQ(r.out, "to-out\n");
  EXPECT_EQ(r.err, "oops\n");
}

TEST(RunProcess, ReportsDeathBySignal) {
  auto r = must_run({"sh", "-c", "kill -TERM $$"});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.term_signal, SIGTERM);
  EXPECT_EQ(r.exit_code, -1);
}

TEST(RunProcess, MissingProgramIsNotFound) {
  auto r = run_process({"aimara-no-such-program-xyz", "--help"});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
  EXPECT_NE(r.error().message.find("aimara-no-such-program-xyz"), std::string::npos);

  auto abs = run_process({"/nonexistent/dir/prog"});
  ASSERT_FALSE(abs.has_value());
  EXPECT_EQ(abs.error().code, ErrorCode::kNotFound);
}

TEST(RunProcess, EmptyArgvIsInvalid) {
  auto r = run_process({});
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kInvalidArgument);
}

TEST(RunProcess, StdinIsEmpty) {
  // `cat` with no arguments copies stdin: /dev/null gives EOF at once instead of hanging.
  ProcessOptions opts;
  opts.timeout = milliseconds{5000};
  auto r = must_run({"cat"}, opts);
  EXPECT_TRUE(r.ok());
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.out, "");
}

TEST(RunProcess, TimeoutKillsTheWholeProcessGroup) {
  ProcessOptions opts;
  opts.timeout = milliseconds{300};
  // The shell starts a grandchild, prints its pid and waits: both must die at the timeout.
  auto start = std::chrono::steady_clock::now();
  auto r = must_run({"sh", "-c", "sleep 30 & echo $!; wait"}, opts);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(r.timed_out);
  EXPECT_FALSE(r.ok());
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  EXPECT_GE(elapsed, milliseconds(300));
  ASSERT_FALSE(r.out.empty());
  pid_t grandchild = static_cast<pid_t>(std::stol(r.out));
  EXPECT_TRUE(process_gone(grandchild)) << "grandchild " << grandchild << " survived";
}

TEST(RunProcess, OrphanHoldingThePipesIsKilledAfterTheChildExits) {
  // The shell exits at once; its background sleep keeps stdout open. run_process must not wait
  // 30 s for it.
  ProcessOptions opts;
  opts.timeout = milliseconds{20000};
  auto start = std::chrono::steady_clock::now();
  auto r = must_run({"sh", "-c", "sleep 30 & echo $!"}, opts);
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_TRUE(r.ok());
  EXPECT_FALSE(r.timed_out);
  EXPECT_LT(elapsed, std::chrono::seconds(5));
  ASSERT_FALSE(r.out.empty());
  EXPECT_TRUE(process_gone(static_cast<pid_t>(std::stol(r.out))));
}

TEST(RunProcess, ChildThatClosesItsPipesIsStillWaitedFor) {
  auto start = std::chrono::steady_clock::now();
  auto r = must_run({"sh", "-c", "exec >&- 2>&-; sleep 0.3; exit 4"});
  auto elapsed = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.exit_code, 4);
  EXPECT_GE(elapsed, milliseconds(300));
}

TEST(RunProcess, StopTokenCancelsPromptly) {
  std::stop_source stop;
  ProcessOptions opts;
  opts.stop = stop.get_token();
  std::jthread canceller([&] {
    std::this_thread::sleep_for(milliseconds{150});
    stop.request_stop();
  });
  auto start = std::chrono::steady_clock::now();
  auto r = run_process({"sleep", "30"}, opts);
  auto elapsed = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kCancelled);
  EXPECT_LT(elapsed, std::chrono::seconds(5));
}

TEST(RunProcess, AlreadyStoppedTokenDoesNotStart) {
  std::stop_source stop;
  stop.request_stop();
  ProcessOptions opts;
  opts.stop = stop.get_token();
  auto r = run_process({"echo", "x"}, opts);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kCancelled);
}

// A reader that waits for stdout's end before touching stderr deadlocks here: the child fills
// the stderr pipe first and blocks. Both orders, megabytes each.
TEST(RunProcess, LargeOutputOnBothStreamsDoesNotDeadlock) {
  ProcessOptions opts;
  opts.timeout = milliseconds{60000};
  auto r = must_run({"sh", "-c",
                     "head -c 6000000 /dev/zero | tr '\\0' e >&2; "
                     "head -c 9000000 /dev/zero | tr '\\0' o; "
                     "head -c 3000000 /dev/zero | tr '\\0' E >&2"},
                    opts);
  EXPECT_TRUE(r.ok());
  EXPECT_FALSE(r.timed_out);
  ASSERT_EQ(r.out.size(), 9000000u);
  ASSERT_EQ(r.err.size(), 9000000u);
  EXPECT_EQ(r.out.find_first_not_of('o'), std::string::npos);
  EXPECT_EQ(r.err.find_first_not_of('e', 0), 6000000u);
  EXPECT_EQ(r.err.substr(6000000).find_first_not_of('E'), std::string::npos);
}

TEST(RunProcess, OutputBeyondTheLimitIsDroppedButTheChildFinishes) {
  ProcessOptions opts;
  opts.max_output_bytes = 1000;
  opts.timeout = milliseconds{30000};
  auto r = must_run({"sh", "-c", "head -c 2000000 /dev/zero; echo done >&2"}, opts);
  EXPECT_TRUE(r.ok()) << "exit " << r.exit_code << " signal " << r.term_signal;
  EXPECT_EQ(r.out.size(), 1000u);
  EXPECT_TRUE(r.out_truncated);
  EXPECT_FALSE(r.err_truncated);
  EXPECT_EQ(r.err, "done\n");
}

TEST(RunProcess, WorkingDirAndEnvironmentAdditions) {
  auto dir = TempDir::create("aimara-process-test");
  ASSERT_TRUE(dir.has_value());
  ProcessOptions opts;
  opts.working_dir = dir->path();
  opts.env = {{"AIMARA_PROCESS_TEST", "value with spaces"}, {"HOME", "/nowhere"}};
  auto r = must_run({"sh", "-c",
                     "pwd; echo \"$AIMARA_PROCESS_TEST\"; echo \"$HOME\"; env | "
                     "grep -c '^HOME='"},
                    opts);
  auto canonical = std::filesystem::canonical(dir->path()).string();
  EXPECT_EQ(r.out, canonical + "\nvalue with spaces\n/nowhere\n1\n");
}

TEST(RunProcess, MissingWorkingDirIsNotFound) {
  ProcessOptions opts;
  opts.working_dir = "/nonexistent-aimara-dir";
  auto r = run_process({"true"}, opts);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, ErrorCode::kNotFound);
}

TEST(RunProcess, OnlyStandardDescriptorsReachTheChild) {
  // An fd we hold without O_CLOEXEC must not leak into the child.
  int fd = ::dup(STDOUT_FILENO);
  ASSERT_GE(fd, 3);
  auto r = must_run({"sh", "-c", "ls /proc/self/fd | sort -n | tr '\\n' ' '"});
  ::close(fd);
  // ls itself opens one descriptor to read the folder (3).
  EXPECT_EQ(r.out, "0 1 2 3 ");
}

TEST(RunProcess, ManyConcurrentCallsEachGetTheirOwnOutput) {
  std::vector<std::jthread> threads;
  std::vector<std::string> outs(8);
  for (size_t i = 0; i < outs.size(); ++i) {
    threads.emplace_back([&, i] {
      auto r = run_process({"printf", "%s", "worker-" + std::to_string(i)});
      if (r) outs[i] = r->out;
    });
  }
  threads.clear();
  for (size_t i = 0; i < outs.size(); ++i) EXPECT_EQ(outs[i], "worker-" + std::to_string(i));
}

}  // namespace
}  // namespace aimara
