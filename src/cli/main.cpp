// aimara: one binary, several roles (ARCHITECTURE.md "One binary, several roles").
#include <cstdio>
#include <exception>
#include <vector>

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/logging.h"

int main(int argc, char** argv) {
  CLI::App app{
      "aimara: turn hours of video and audio into timestamped, searchable transcripts and "
      "entity mentions."};
  app.require_subcommand(1);
  app.set_version_flag("--version", AIMARA_VERSION);
  bool verbose = false;
  app.add_flag("-v,--verbose", verbose, "Log what is happening in detail (also AIMARA_LOG=debug)");

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
