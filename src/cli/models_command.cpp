// `aimara models list | download NAME | path NAME | make-test PATH`.
#include <fmt/format.h>

#include "asr/model_catalog.h"
#include "asr/model_generator.h"
#include "cli/commands.h"
#include "core/paths.h"
#include "core/terminal.h"

namespace aimara::cli {

namespace {

struct ModelsArgs {
  std::string name;
  std::string sha256;
  std::string path;
  std::string dims = "micro";
  uint64_t seed = 1;
  bool no_progress = false;
};

int list_models() {
  fmt::print("models folder: {}\n\n", models_dir().string());
  fmt::print("{:<22} {:>9}  {:<10} {}\n", "name", "size", "state", "path");
  for (const auto& e : asr::model_catalog()) {
    auto p = asr::model_file_path(e);
    bool present = std::filesystem::exists(p);
    fmt::print("{:<22} {:>6} MiB  {:<10} {}\n", e.name, e.approx_mib,
               present ? "downloaded" : "-", present ? p.string() : "");
  }
  fmt::print("\nDownload one with `aimara models download NAME`; use it with `-m NAME`.\n");
  return 0;
}

int download(const ModelsArgs& a) {
  const asr::CatalogEntry* e = asr::find_model(a.name);
  if (e == nullptr) {
    fmt::print(stderr, "aimara models: invalid_argument: unknown model '{}' (see `aimara models list`)\n",
               a.name);
    return 2;
  }
  ProgressBar bar(fmt::format("{}", e->name), !a.no_progress && stderr_is_tty());
  auto r = asr::download_model(*e, a.sha256, [&](int64_t now, int64_t total) {
    bar.update(total > 0 ? static_cast<double>(now) / static_cast<double>(total) : 0.0,
               total > 0 ? fmt::format("{} of {}", human_bytes(static_cast<double>(now)),
                                       human_bytes(static_cast<double>(total)))
                         : human_bytes(static_cast<double>(now)));
  });
  bar.finish();
  if (!r) {
    fmt::print(stderr, "aimara models: {}\n", r.error().to_string());
    return 1;
  }
  fmt::print("{} ({}{}) -> {}\n", e->name, human_bytes(static_cast<double>(r->bytes)),
             r->resumed_from > 0 ? fmt::format(", resumed at {}",
                                               human_bytes(static_cast<double>(r->resumed_from)))
                                 : std::string(),
             r->path.string());
  return 0;
}

int path(const ModelsArgs& a) {
  auto p = asr::resolve_model(a.name);
  if (!p) {
    fmt::print(stderr, "aimara models: {}\n", p.error().to_string());
    return 1;
  }
  fmt::print("{}\n", p->string());
  return 0;
}

int make_test(const ModelsArgs& a) {
  auto dims = asr::parse_test_model_dims(a.dims);
  if (!dims) {
    fmt::print(stderr, "aimara models: {}\n", dims.error().to_string());
    return 2;
  }
  auto r = asr::write_test_model(a.path, asr::TestModelOptions{.seed = a.seed, .dims = *dims});
  if (!r) {
    fmt::print(stderr, "aimara models: {}\n", r.error().to_string());
    return 1;
  }
  fmt::print("wrote {} ({} dims, seed {}): a test model with deterministic random weights\n",
             a.path, a.dims, a.seed);
  return 0;
}

}  // namespace

Command add_models_command(CLI::App& app) {
  auto args = std::make_shared<ModelsArgs>();
  CLI::App* sub = app.add_subcommand("models", "List, download and locate models");
  sub->require_subcommand(1);
  auto* list = sub->add_subcommand("list", "Known models and which are downloaded");
  auto* dl = sub->add_subcommand(
      "download", "Download a model into the models folder (resumes, verifies the digest)");
  dl->add_option("name", args->name, "Model name (`aimara models list`)")->required();
  dl->add_option("--sha256", args->sha256, "Expected digest (hex) to verify instead of the catalog's");
  dl->add_flag("--no-progress", args->no_progress, "No progress bar");
  auto* p = sub->add_subcommand("path", "Print where a model is (non-zero if it is missing)");
  p->add_option("name", args->name, "Model name or file")->required();
  auto* mt = sub->add_subcommand(
      "make-test",
      "Write a whisper model with the real tensor layout and deterministic random weights\n"
      "(for tests: the same output every run, no real weights needed)");
  mt->add_option("path", args->path, "Output file")->required();
  mt->add_option("--seed", args->seed, "Random seed")->capture_default_str();
  mt->add_option("--dims", args->dims, "micro, tiny or base")->capture_default_str();
  return Command{sub, [args, list, dl, p, mt] {
                   if (list->parsed()) return list_models();
                   if (dl->parsed()) return download(*args);
                   if (p->parsed()) return path(*args);
                   if (mt->parsed()) return make_test(*args);
                   return 2;
                 }};
}

}  // namespace aimara::cli
