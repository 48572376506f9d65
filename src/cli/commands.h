// The subcommands of the `aimara` binary. Each lives in its own file (transcribe_command.cpp, ...),
// parses its flags into the options struct of a library and calls it: no logic a test would want
// lives here (CONVENTIONS: "Programs are thin").
//
// add_X_command registers the subcommand and its flags on `app` and returns the function main()
// calls when the user chose it; that function returns the process exit code.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace aimara::cli {

struct Command {
  CLI::App* app = nullptr;
  std::function<int()> run;
};

Command add_transcribe_command(CLI::App& app);
Command add_run_command(CLI::App& app);
Command add_models_command(CLI::App& app);
Command add_doctor_command(CLI::App& app);
Command add_jobs_command(CLI::App& app);
Command add_ner_command(CLI::App& app);
Command add_entities_command(CLI::App& app);
Command add_serve_command(CLI::App& app);

}  // namespace aimara::cli
