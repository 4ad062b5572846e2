// symp: one binary, one subcommand per stage. This file only parses options and dispatches; every
// cmd_*.cpp registers its subcommand (command.h) and calls into the library.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "command.h"
#include "symp/core/build_info.h"
#include "symp/core/error.h"
#include "symp/core/log.h"
#include "symp/core/process.h"
#include "symp/nn/runtime.h"

namespace {

// Groups that hold nested commands (symp tokenize fit|encode|...).
const std::map<std::string, std::string> kGroups = {
    {"tokenize", "Speech codecs, text tokenizers and training sequences"},
};

std::string version_text() {
  return std::string("symp ") + SYMP_VERSION_STRING + " (torch " + symp::nn::torch_version() + ")";
}

}  // namespace

int main(int argc, char** argv) {
  symp::configure_process(argv);  // may start the program again, before torch's OpenMP runtime runs
  CLI::App app{
      "symp: reproduce the Sympatheia emotionally adaptive speech-to-speech assistant, end to end.\n"
      "Run `symp <command> --help` for a command's options and their defaults."};
  app.require_subcommand(1);
  app.fallthrough();
  app.set_version_flag("--version", version_text());
  symp::cli::GlobalOptions global;
  app.set_config("--config", "", "Read options from a TOML file (e.g. a symp-config.toml a run saved)");
  app.add_option("--seed", global.seed, "Seed for every random choice")->capture_default_str();
  app.add_option("--threads", global.threads, "CPU threads (0 = all cores)")->capture_default_str();
  app.add_option("--log-level", global.log_level, "debug, info, warn, error or off")->capture_default_str();

  auto commands = symp::cli::command_registry();
  std::stable_sort(commands.begin(), commands.end(),
                   [](const auto& a, const auto& b) { return a.order < b.order; });
  std::map<std::string, CLI::App*> groups;
  std::vector<std::pair<CLI::App*, symp::cli::Runner>> runners;
  for (const auto& cmd : commands) {
    CLI::App* parent = &app;
    if (!cmd.parent.empty()) {
      auto& group = groups[cmd.parent];
      if (!group) {
        auto it = kGroups.find(cmd.parent);
        group = app.add_subcommand(cmd.parent, it != kGroups.end() ? it->second : cmd.parent);
        group->require_subcommand(1);
        group->fallthrough();
      }
      parent = group;
    }
    CLI::App* sub = parent->add_subcommand(cmd.name, cmd.description);
    sub->fallthrough();
    runners.emplace_back(sub, cmd.setup(*sub));
  }

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return 2;
  }

  try {
    symp::set_log_level(symp::parse_log_level(global.log_level));
    if (global.threads < 0)
      throw symp::UsageError("--threads: must be >= 0, got " + std::to_string(global.threads));
    const int threads = symp::nn::set_num_threads(global.threads);
    const char* wait = std::getenv("OMP_WAIT_POLICY");
    symp::log_debug("runtime", "{} torch threads, OMP_WAIT_POLICY={}", threads, wait ? wait : "(unset)");
    for (auto& [sub, run] : runners) {
      if (sub->parsed()) return run(global);
    }
    throw symp::UsageError("no command given (see symp --help)");
  } catch (const symp::Error& e) {
    std::fprintf(stderr, "symp: error: %s\n", e.what());
    return e.kind() == symp::ErrorKind::Usage ? 2 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "symp: error: %s\n", e.what());
    return 1;
  }
}
