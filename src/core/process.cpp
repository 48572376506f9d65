#include "core/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <thread>

extern char** environ;

namespace aimara {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string errno_text(int e) { return std::strerror(e); }

class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) {
      reset();
      fd_ = std::exchange(o.fd_, -1);
    }
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  UniqueFd read_end;
  UniqueFd write_end;
};

Result<Pipe> make_pipe() {
  int fds[2];
  // Close-on-exec on both ends: the child gets its copy through dup2, which clears the flag.
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return make_error(ErrorCode::kIo, "cannot create a pipe: " + errno_text(errno));
  }
  Pipe p{UniqueFd(fds[0]), UniqueFd(fds[1])};
  // Only our end is non-blocking (the flag lives on the open file description, which the child
  // would otherwise share).
  int flags = ::fcntl(p.read_end.get(), F_GETFL);
  if (flags < 0 || ::fcntl(p.read_end.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    return make_error(ErrorCode::kIo, "cannot configure a pipe: " + errno_text(errno));
  }
  return p;
}

class SpawnFileActions {
 public:
  SpawnFileActions() { ::posix_spawn_file_actions_init(&fa_); }
  ~SpawnFileActions() { ::posix_spawn_file_actions_destroy(&fa_); }
  SpawnFileActions(const SpawnFileActions&) = delete;
  SpawnFileActions& operator=(const SpawnFileActions&) = delete;
  posix_spawn_file_actions_t* get() { return &fa_; }

 private:
  posix_spawn_file_actions_t fa_;
};

class SpawnAttr {
 public:
  SpawnAttr() { ::posix_spawnattr_init(&attr_); }
  ~SpawnAttr() { ::posix_spawnattr_destroy(&attr_); }
  SpawnAttr(const SpawnAttr&) = delete;
  SpawnAttr& operator=(const SpawnAttr&) = delete;
  posix_spawnattr_t* get() { return &attr_; }

 private:
  posix_spawnattr_t attr_;
};

// Owns a started child: until it is reaped, destroying this kills the child's process group and
// waits for the child, so neither a running child nor a zombie outlives its owner.
class ChildProcess {
 public:
  explicit ChildProcess(pid_t pid) : pid_(pid) {}
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() {
    if (!reaped_) {
      kill_group();
      wait_blocking();
    }
  }

  // The child leads its own group (POSIX_SPAWN_SETPGROUP with pgid 0), so -pid is the group.
  void kill_group() const { ::kill(-pid_, SIGKILL); }

  // True once the child has been reaped (its status is then in status()).
  bool try_reap() {
    if (reaped_) return true;
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      status_ = st;
    } else if (r < 0 && errno != EINTR) {
      // Someone else reaped it (a SIGCHLD handler with waitpid(-1)): nothing left to wait for.
      reaped_ = true;
      status_ = -1;
    }
    return reaped_;
  }

  void wait_blocking() {
    while (!reaped_) {
      int st = 0;
      pid_t r = ::waitpid(pid_, &st, 0);
      if (r == pid_) {
        reaped_ = true;
        status_ = st;
      } else if (r < 0 && errno != EINTR) {
        reaped_ = true;
        status_ = -1;
      }
    }
  }

  int status() const { return status_; }

 private:
  pid_t pid_;
  bool reaped_ = false;
  int status_ = -1;
};

std::vector<std::string> child_environment(
    const std::vector<std::pair<std::string, std::string>>& additions) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view key = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& [k, v] : additions) {
      if (k == key) {
        replaced = true;
        break;
      }
    }
    if (!replaced) env.emplace_back(entry);
  }
  for (const auto& [k, v] : additions) env.push_back(k + "=" + v);
  return env;
}

std::vector<char*> c_strings(std::vector<std::string>& strings) {
  std::vector<char*> out;
  out.reserve(strings.size() + 1);
  for (auto& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

struct Capture {
  UniqueFd fd;
  std::string* sink;
  bool* truncated;
  size_t limit;

  // Reads what is available now. False once the writer side is closed (EOF) or broken.
  bool drain() {
    std::array<char, 65536> buf;
    for (;;) {
      ssize_t n = ::read(fd.get(), buf.data(), buf.size());
      if (n > 0) {
        size_t room = sink->size() < limit ? limit - sink->size() : 0;
        size_t take = std::min(room, static_cast<size_t>(n));
        sink->append(buf.data(), take);
        if (take < static_cast<size_t>(n)) *truncated = true;
        continue;
      }
      if (n == 0) return false;
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return true;
      return false;
    }
  }
};

}  // namespace

Result<ProcessResult> run_process(const std::vector<std::string>& argv,
                                  const ProcessOptions& opts) {
  if (argv.empty() || argv.front().empty()) {
    return make_error(ErrorCode::kInvalidArgument, "no program to run");
  }
  const std::string& program = argv.front();
  if (opts.stop.stop_requested()) {
    return make_error(ErrorCode::kCancelled, "'" + program + "' was not started: cancelled");
  }

  if (!opts.working_dir.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(opts.working_dir, ec)) {
      return make_error(ErrorCode::kNotFound, "cannot run '" + program + "': working folder '" +
                                                  opts.working_dir.string() + "' does not exist");
    }
  }

  auto out_pipe = make_pipe();
  if (!out_pipe) return std::unexpected(out_pipe.error());
  auto err_pipe = make_pipe();
  if (!err_pipe) return std::unexpected(err_pipe.error());
  UniqueFd wake(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!wake.valid()) {
    return make_error(ErrorCode::kIo, "cannot create an eventfd: " + errno_text(errno));
  }

  SpawnFileActions actions;
  ::posix_spawn_file_actions_addopen(actions.get(), STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(actions.get(), out_pipe->write_end.get(), STDOUT_FILENO);
  ::posix_spawn_file_actions_adddup2(actions.get(), err_pipe->write_end.get(), STDERR_FILENO);
  ::posix_spawn_file_actions_addclosefrom_np(actions.get(), STDERR_FILENO + 1);
  if (!opts.working_dir.empty()) {
    ::posix_spawn_file_actions_addchdir_np(actions.get(), opts.working_dir.c_str());
  }

  SpawnAttr attr;
  sigset_t empty_mask;
  sigemptyset(&empty_mask);
  sigset_t defaults;
  sigemptyset(&defaults);
  // Ignored signals survive exec; the child should see the usual dispositions.
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD, SIGUSR1, SIGUSR2, SIGALRM}) {
    sigaddset(&defaults, sig);
  }
  ::posix_spawnattr_setflags(
      attr.get(), POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  ::posix_spawnattr_setpgroup(attr.get(), 0);
  ::posix_spawnattr_setsigmask(attr.get(), &empty_mask);
  ::posix_spawnattr_setsigdefault(attr.get(), &defaults);

  std::vector<std::string> args(argv.begin(), argv.end());
  std::vector<char*> c_args = c_strings(args);
  std::vector<std::string> env = child_environment(opts.env);
  std::vector<char*> c_env = c_strings(env);

  const auto start = Clock::now();
  pid_t pid = -1;
  int rc =
      ::posix_spawnp(&pid, program.c_str(), actions.get(), attr.get(), c_args.data(), c_env.data());
  if (rc != 0) {
    if (rc == ENOENT || rc == ENOTDIR) {
      return make_error(ErrorCode::kNotFound, "cannot run '" + program + "': program not found");
    }
    return make_error(ErrorCode::kIo, "cannot run '" + program + "': " + errno_text(rc));
  }
  ChildProcess child(pid);
  out_pipe->write_end.reset();
  err_pipe->write_end.reset();

  std::stop_callback on_stop(opts.stop, [fd = wake.get()] {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(fd, &one, sizeof one);
  });

  ProcessResult result;
  std::array<Capture, 2> captures{Capture{std::move(out_pipe->read_end), &result.out,
                                          &result.out_truncated, opts.max_output_bytes},
                                  Capture{std::move(err_pipe->read_end), &result.err,
                                          &result.err_truncated, opts.max_output_bytes}};

  // No std::optional here: g++ 12 at -O2 wrongly warns it may be used uninitialized.
  const bool has_deadline = opts.timeout.has_value();
  const Clock::time_point deadline_at =
      has_deadline ? start + *opts.timeout : Clock::time_point::max();
  // After the child is gone, grandchildren that still hold the pipes get this long.
  constexpr milliseconds kOrphanGrace{200};
  std::optional<Clock::time_point> reaped_at;
  bool cancelled = false;

  auto kill_now = [&] {
    child.kill_group();
    child.wait_blocking();
  };

  while (captures[0].fd.valid() || captures[1].fd.valid()) {
    auto now = Clock::now();
    if (has_deadline && now >= deadline_at) {
      result.timed_out = true;
      kill_now();
      break;
    }
    if (!reaped_at && child.try_reap()) reaped_at = now;
    if (reaped_at && now - *reaped_at >= kOrphanGrace) {
      child.kill_group();  // the orphans in its group; the child itself is already reaped
      break;
    }
    milliseconds wait{100};
    if (has_deadline) {
      auto left = std::chrono::ceil<milliseconds>(deadline_at - now);
      wait = std::min(wait, std::max(left, milliseconds{1}));
    }

    std::array<pollfd, 3> fds{};
    nfds_t n = 0;
    std::array<Capture*, 2> polled{};
    for (auto& c : captures) {
      if (!c.fd.valid()) continue;
      polled[n] = &c;
      fds[n++] = pollfd{c.fd.get(), POLLIN, 0};
    }
    const nfds_t wake_index = n;
    fds[n++] = pollfd{wake.get(), POLLIN, 0};
    int pr = ::poll(fds.data(), n, static_cast<int>(wait.count()));
    if (pr < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      kill_now();
      return make_error(ErrorCode::kIo, "waiting for '" + program + "' failed: " + errno_text(e));
    }
    if (fds[wake_index].revents != 0 || opts.stop.stop_requested()) {
      cancelled = true;
      kill_now();
      break;
    }
    for (nfds_t i = 0; i < wake_index; ++i) {
      if (fds[i].revents == 0) continue;
      if (!polled[i]->drain()) polled[i]->fd.reset();
    }
  }
  // Whatever is still buffered in the pipes belongs to the result.
  for (auto& c : captures) {
    if (c.fd.valid()) c.drain();
    c.fd.reset();
  }

  // Both pipes are closed; the child may still run (it closed its stdout/stderr itself).
  milliseconds nap{1};
  while (!child.try_reap()) {
    auto now = Clock::now();
    if (opts.stop.stop_requested()) {
      cancelled = true;
      kill_now();
      break;
    }
    if (has_deadline && now >= deadline_at) {
      result.timed_out = true;
      kill_now();
      break;
    }
    std::this_thread::sleep_for(nap);
    nap = std::min(nap * 2, milliseconds{50});
  }
  result.elapsed = std::chrono::duration_cast<milliseconds>(Clock::now() - start);

  if (cancelled) {
    return make_error(ErrorCode::kCancelled, "'" + program + "' was stopped: cancelled");
  }
  int st = child.status();
  if (st == -1) {
    result.exit_code = -1;
  } else if (WIFEXITED(st)) {
    result.exit_code = WEXITSTATUS(st);
  } else if (WIFSIGNALED(st)) {
    result.exit_code = -1;
    result.term_signal = WTERMSIG(st);
  }
  return result;
}

}  // namespace aimara
