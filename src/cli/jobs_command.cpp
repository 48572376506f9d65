// `aimara jobs list|show|log|stats|retry|cancel`: inspect and manage the job store.
#include <fmt/format.h>

#include <cstdio>
#include <optional>

#include "cli/commands.h"
#include "core/terminal.h"
#include "store/store.h"
#include "store/store_json.h"

namespace aimara::cli {

namespace {

struct JobsArgs {
  std::string store_uri{store::kDefaultStoreUri};
  int64_t id = 0;
  std::optional<int64_t> log_id;
  std::vector<std::string> states;
  std::optional<int64_t> parent;
  bool top_level = false;
  int limit = 0;
  bool json = false;
  bool csv = false;
};

int fail(std::string_view what, const Error& e) {
  fmt::print(stderr, "aimara jobs {}: {}\n", what, e.to_string());
  return exit_code_for(e.code);
}

// Opens the store for a command; read-only commands never create one.
Result<std::unique_ptr<store::Store>> open(const JobsArgs& a) {
  store::StoreOptions o;
  o.create_if_missing = false;
  return store::open_store(a.store_uri, o);
}

// Text output shows every value from outside through terminal_safe(); --json carries it exactly.
std::string label(const jobs::Job& j) {
  return terminal_safe(j.media.title.empty() ? j.source : j.media.title);
}

std::string error_text(const std::optional<jobs::JobError>& e) {
  return e ? terminal_safe(e->to_string()) : std::string();
}

void print_json(const nlohmann::json& v) { fmt::print("{}\n", v.dump(2)); }

int run_list(const JobsArgs& a) {
  auto s = open(a);
  if (!s) return fail("list", s.error());
  store::JobFilter f;
  for (const auto& name : a.states) {
    auto st = jobs::parse_state(name);
    if (!st) {
      fmt::print(stderr, "aimara jobs list: invalid_argument: unknown state '{}'\n", name);
      return 2;
    }
    f.states.push_back(*st);
  }
  f.parent_id = a.parent;
  f.top_level_only = a.top_level;
  f.limit = a.limit;
  auto list = (*s)->list_jobs(f);
  if (!list) return fail("list", list.error());
  if (a.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& j : *list) out.push_back(store::to_json(j));
    print_json(out);
    return 0;
  }
  fmt::print("{:>6} {:>6} {:<19} {:>5} {:>5} {:<9} {} {}\n", "ID", "PARENT", "STATE", "DONE",
             "TRIES", "LENGTH", fit_columns("TITLE", 40), "ERROR");
  for (const auto& j : *list) {
    fmt::print("{:>6} {:>6} {:<19} {:>4.0f}% {:>2}/{:<2} {:<9} {} {}\n", j.id,
               j.parent_id ? std::to_string(*j.parent_id) : "-", jobs::state_name(j.state),
               j.progress * 100.0, j.attempts, j.max_attempts,
               j.media.duration_ms > 0
                   ? human_duration(static_cast<double>(j.media.duration_ms) / 1000.0)
                   : "-",
               fit_columns(label(j), 40), error_text(j.last_error));
  }
  return 0;
}

void print_event(const store::JobEvent& e) {
  fmt::print("{:>6} {:>6} {:<19} {} {:>9.1f}s {:<9} {:>3} {:<20} {}\n", e.id, e.job_id,
             jobs::state_name(e.stage), store::format_time_ms(e.started_at_ms),
             static_cast<double>(e.ended_at_ms - e.started_at_ms) / 1000.0,
             store::outcome_name(e.outcome), e.attempt, terminal_safe(e.worker),
             error_text(e.error));
}

void print_event_header() {
  fmt::print("{:>6} {:>6} {:<19} {:<24} {:>10} {:<9} {:>3} {:<20} {}\n", "EVENT", "JOB", "STAGE",
             "STARTED", "TOOK", "OUTCOME", "TRY", "WORKER", "ERROR");
}

int run_show(const JobsArgs& a) {
  auto s = open(a);
  if (!s) return fail("show", s.error());
  auto job = (*s)->get_job(a.id);
  if (!job) return fail("show", job.error());
  auto log = (*s)->job_log(a.id);
  if (!log) return fail("show", log.error());
  auto chunks = (*s)->chunks(a.id);
  if (!chunks) return fail("show", chunks.error());
  auto children = (*s)->children(a.id);
  if (!children) return fail("show", children.error());
  size_t done = 0;
  for (const auto& c : *chunks) done += c.state == store::ChunkState::kDone ? 1 : 0;
  if (a.json) {
    auto v = store::to_json(*job);
    v["chunks"] = {{"done", done}, {"total", chunks->size()}};
    v["children"] = nlohmann::json::array();
    for (const auto& c : *children) v["children"].push_back(c.id);
    v["log"] = nlohmann::json::array();
    for (const auto& e : *log) v["log"].push_back(store::to_json(e));
    print_json(v);
    return 0;
  }
  const auto& j = *job;
  const auto& m = j.media;
  fmt::print("job {}: {}\n", j.id, label(j));
  fmt::print("  state      {}{}\n", jobs::state_name(j.state),
             j.stage && *j.stage != j.state && j.state != jobs::JobState::kCompleted
                 ? fmt::format(" (at {})", jobs::state_name(*j.stage))
                 : "");
  fmt::print("  source     {}\n", terminal_safe(j.source));
  if (!m.webpage_url.empty()) fmt::print("  url        {}\n", terminal_safe(m.webpage_url));
  if (j.parent_id) fmt::print("  parent     {}\n", *j.parent_id);
  fmt::print("  kind       {}\n", jobs::kind_name(j.kind));
  if (!m.platform.empty() || !m.video_id.empty()) {
    fmt::print(
        "  platform   {}{}\n", m.platform.empty() ? "-" : m.platform,
        m.video_id.empty() ? "" : terminal_safe(fmt::format(" ({} {})", m.extractor, m.video_id)));
  }
  if (m.duration_ms > 0) {
    fmt::print("  duration   {}\n", human_duration(static_cast<double>(m.duration_ms) / 1000.0));
  }
  if (!m.language.empty()) fmt::print("  language   {}\n", terminal_safe(m.language));
  if (!m.uploader.empty()) fmt::print("  uploader   {}\n", terminal_safe(m.uploader));
  if (!m.upload_date.empty()) fmt::print("  uploaded   {}\n", terminal_safe(m.upload_date));
  if (chunks->empty()) {
    fmt::print("  progress   {:.0f}%\n", j.progress * 100.0);
  } else {
    fmt::print("  progress   {:.0f}% ({} of {} chunks done)\n", j.progress * 100.0, done,
               chunks->size());
  }
  fmt::print("  attempts   {} of {}\n", j.attempts, j.max_attempts);
  if (j.last_error) fmt::print("  error      {}\n", error_text(j.last_error));
  if (j.state == jobs::JobState::kFailed) {
    fmt::print("  retry at   {}\n", store::format_time_ms(j.run_at_ms));
  }
  if (j.lease_owner) {
    fmt::print("  worker     {} (lease until {})\n", *j.lease_owner,
               store::format_time_ms(j.lease_expires_at_ms.value_or(0)));
  }
  fmt::print("  created    {}\n", store::format_time_ms(j.created_at_ms));
  if (j.finished_at_ms) fmt::print("  finished   {}\n", store::format_time_ms(*j.finished_at_ms));
  if (!children->empty()) fmt::print("  entries    {} child jobs\n", children->size());
  if (!log->empty()) {
    fmt::print("\n");
    print_event_header();
    for (const auto& e : *log) print_event(e);
  }
  return 0;
}

int run_log(const JobsArgs& a) {
  if (a.json && a.csv) {
    fmt::print(stderr, "aimara jobs log: invalid_argument: choose --json or --csv, not both\n");
    return 2;
  }
  auto s = open(a);
  if (!s) return fail("log", s.error());
  auto log = (*s)->job_log(a.log_id);
  if (!log) return fail("log", log.error());
  if (a.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& e : *log) out.push_back(store::to_json(e));
    print_json(out);
  } else if (a.csv) {
    fmt::print("{}", store::events_to_csv(*log));
  } else {
    print_event_header();
    for (const auto& e : *log) print_event(e);
  }
  return 0;
}

int run_stats(const JobsArgs& a) {
  auto s = open(a);
  if (!s) return fail("stats", s.error());
  auto st = (*s)->stats();
  if (!st) return fail("stats", st.error());
  if (a.json) {
    print_json(store::to_json(*st));
    return 0;
  }
  fmt::print("jobs: {}\n", st->total);
  for (const auto& sc : st->by_state) {
    if (sc.jobs > 0) fmt::print("  {:<20} {}\n", jobs::state_name(sc.state), sc.jobs);
  }
  if (st->success_rate) {
    fmt::print("success rate: {:.1f}% (completed of completed + dead)\n",
               *st->success_rate * 100.0);
  } else {
    fmt::print("success rate: - (no job has finished yet)\n");
  }
  if (!st->stages.empty()) {
    fmt::print("\n{:<20} {:>6} {:>6} {:>6} {:>7} {:>10} {:>10} {:>10}\n", "STAGE", "RUNS", "OK",
               "ERRORS", "RETRIES", "MEAN", "MEAN OK", "MAX");
    for (const auto& x : st->stages) {
      fmt::print("{:<20} {:>6} {:>6} {:>6} {:>7} {:>9.2f}s {:>9.2f}s {:>9.2f}s\n",
                 jobs::state_name(x.stage), x.runs, x.ok, x.errors, x.retries, x.mean_ms / 1000.0,
                 x.mean_ok_ms / 1000.0, static_cast<double>(x.max_ms) / 1000.0);
    }
  }
  return 0;
}

int run_retry(const JobsArgs& a) {
  auto s = open(a);
  if (!s) return fail("retry", s.error());
  if (auto r = (*s)->retry(a.id); !r) return fail("retry", r.error());
  fmt::print("job {} queued again\n", a.id);
  return 0;
}

int run_cancel(const JobsArgs& a) {
  auto s = open(a);
  if (!s) return fail("cancel", s.error());
  if (auto r = (*s)->cancel(a.id); !r) return fail("cancel", r.error());
  fmt::print("job {} cancelled\n", a.id);
  return 0;
}

}  // namespace

Command add_jobs_command(CLI::App& app) {
  auto args = std::make_shared<JobsArgs>();
  CLI::App* jobs = app.add_subcommand(
      "jobs",
      "Inspect and manage the job store: list jobs, show one, its stage log, statistics,\n"
      "retry failed or dead jobs, cancel queued or running ones.");
  jobs->require_subcommand(1);

  auto store_option = [&](CLI::App* sub) {
    sub->add_option("--store", args->store_uri, "Job store: sqlite:PATH")->capture_default_str();
  };
  auto dispatch = std::make_shared<std::function<int()>>();

  CLI::App* list = jobs->add_subcommand("list", "List jobs (oldest first)");
  store_option(list);
  list->add_flag("--json", args->json,
                 "A JSON array of jobs (id, parent_id, state, title, url, error, ...)");
  list->add_option("--state", args->states, "Only jobs in this state (repeatable)");
  list->add_option("--parent", args->parent, "Only the entries of this playlist job");
  list->add_flag("--top", args->top_level, "Only top-level jobs (no playlist entries)");
  list->add_option("--limit", args->limit, "At most this many jobs (0: all)")
      ->check(CLI::NonNegativeNumber);
  list->callback([dispatch, args] { *dispatch = [args] { return run_list(*args); }; });

  CLI::App* show = jobs->add_subcommand("show", "One job: its media, state, error and stage log");
  store_option(show);
  show->add_option("id", args->id, "Job id")->required();
  show->add_flag("--json", args->json, "As JSON");
  show->callback([dispatch, args] { *dispatch = [args] { return run_show(*args); }; });

  CLI::App* log = jobs->add_subcommand(
      "log", "The stage log: every stage run with its times, outcome, worker, attempt, error");
  store_option(log);
  log->add_option("id", args->log_id, "Only this job");
  log->add_flag("--json", args->json, "As a JSON array");
  log->add_flag("--csv", args->csv, "As CSV");
  log->callback([dispatch, args] { *dispatch = [args] { return run_log(*args); }; });

  CLI::App* stats = jobs->add_subcommand("stats", "Success rate and mean time per stage");
  store_option(stats);
  stats->add_flag("--json", args->json, "As JSON");
  stats->callback([dispatch, args] { *dispatch = [args] { return run_stats(*args); }; });

  CLI::App* retry = jobs->add_subcommand("retry", "Queue a dead, failed or cancelled job again");
  store_option(retry);
  retry->add_option("id", args->id, "Job id")->required();
  retry->callback([dispatch, args] { *dispatch = [args] { return run_retry(*args); }; });

  CLI::App* cancel = jobs->add_subcommand("cancel", "Cancel a queued, running or failed job");
  store_option(cancel);
  cancel->add_option("id", args->id, "Job id")->required();
  cancel->callback([dispatch, args] { *dispatch = [args] { return run_cancel(*args); }; });

  return Command{jobs, [dispatch] { return *dispatch ? (*dispatch)() : 2; }};
}

}  // namespace aimara::cli
