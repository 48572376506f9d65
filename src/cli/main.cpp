// aimara: one binary, several roles (ARCHITECTURE.md "One binary, several roles").
#include <malloc.h>

#include <cstdio>
#include <exception>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/logging.h"

int main(int argc, char** argv) {
  // glibc serves a block of at least this size with its own mapping, returned on free. By default
  // the threshold rises to the size of the largest such block freed (up to 32 MiB): once a worker
  // replaces its whisper state (whisper_engine.h), the next state's buffers would come from the
  // heap instead, where whisper.cpp's calloc'ed scheduler arrays (1 MB each, 16 per state, mostly
  // never touched) are zeroed and become resident, and freed buffers fragment it: +60-90 MiB peak
  // for two workers. A fixed threshold keeps them untouched mappings.
  mallopt(M_MMAP_THRESHOLD, 512 * 1024);
  CLI::App app{
      "aimara: turn hours of video and audio into timestamped, searchable transcripts and "
      "entity mentions."};
  app.require_subcommand(1);
  app.set_version_flag("--version", AIMARA_VERSION);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Log what is happening in detail (also AIMARA_LOG=debug)");
  app.fallthrough();  // `aimara run ... -v` as well as `aimara -v run ...`

  std::vector<aimara::cli::Command> commands;
  commands.push_back(aimara::cli::add_run_command(app));
  commands.push_back(aimara::cli::add_transcribe_command(app));
  commands.push_back(aimara::cli::add_models_command(app));
  commands.push_back(aimara::cli::add_doctor_command(app));
  commands.push_back(aimara::cli::add_jobs_command(app));
  commands.push_back(aimara::cli::add_ner_command(app));
  commands.push_back(aimara::cli::add_entities_command(app));
  commands.push_back(aimara::cli::add_serve_command(app));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // A command that takes a subcommand and got none (`aimara`, `aimara jobs`, `aimara nosuch`):
    // say which word was not one, and show the commands there are.
    CLI::App* at = &app;
    while (!at->get_subcommands().empty()) at = at->get_subcommands().front();
    if (dynamic_cast<const CLI::RequiredError*>(&e) != nullptr &&
        at->get_require_subcommand_min() > 0 && at->get_subcommands().empty()) {
      std::string where = "aimara";
      for (const CLI::App* a = at; a != &app; a = a->get_parent()) {
        where.insert(6, " " + a->get_name());
      }
      // The word is left over where it was given, or (options fall through) above it.
      for (const CLI::App* a = at; a != nullptr; a = a->get_parent()) {
        const auto rest = a->remaining();
        if (rest.empty()) continue;
        fmt::print(stderr, "{}: '{}' is not a command\n\n", where, rest.front());
        break;
      }
      fmt::print(stderr, "{}", at->help());
      return 2;
    }
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  aimara::cli::init_logging(verbose);

  try {
    for (auto& c : commands) {
      if (c.app->parsed()) return c.run();
    }
  } catch (const std::exception& e) {
    fmt::print(stderr, "aimara: internal: {}\n", e.what());
    return 1;
  }
  return 2;
}
