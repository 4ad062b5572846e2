#pragma once
// Subcommand registry. Each cmd_<name>.cpp binds CLI11 options to a library options struct and
// registers itself with SYMP_COMMAND; main.cpp only parses and dispatches.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace symp::cli {

// Options every subcommand shares (set on the root app, accepted before or after the subcommand).
struct GlobalOptions {
  std::string config;  // --config FILE: options read from a TOML file
  uint64_t seed = 42;  // --seed: every random choice derives from it
  int threads = 0;     // --threads: 0 = all cores of the machine
  std::string log_level = "info";
};

// Runs the command after parsing; returns the process exit code.
using Runner = std::function<int(const GlobalOptions&)>;

struct Command {
  std::string name;    // as typed: "affect", or "speech" under parent "tokenize"
  std::string parent;  // "" for a top-level command; else the group it lives under (created on demand)
  std::string description;
  int order;  // position in `symp --help`
  // Adds the subcommand's options to `app` and returns the runner bound to them.
  std::function<Runner(CLI::App& app)> setup;
};

std::vector<Command>& command_registry();
bool register_command(Command command);

// Writes the effective configuration of the command that ran (every option, defaults included) as
// `<out_dir>/symp-config.toml`, readable back with --config, and logs where it went.
void save_effective_config(const CLI::App& command_app, const std::string& out_dir);
// For a command whose output is one file: the configuration goes beside it as FILE.symp-config.toml (a
// folder may hold several such files, each from its own run).
void save_effective_config_for_file(const CLI::App& command_app, const std::string& out_file);

}  // namespace symp::cli

// Registers a top-level command:  SYMP_COMMAND(affect, "affect", 10, "Describe a VA point", setup)
#define SYMP_COMMAND(ident, name, order, description, setup_fn)                \
  namespace {                                                                  \
  [[maybe_unused]] const bool symp_command_registered_##ident =                \
      ::symp::cli::register_command({name, "", description, order, setup_fn}); \
  }
// Registers a command inside a group:  SYMP_SUBCOMMAND(tok_fit, "tokenize", "fit", 1, "...", setup)
#define SYMP_SUBCOMMAND(ident, parent, name, order, description, setup_fn)         \
  namespace {                                                                      \
  [[maybe_unused]] const bool symp_command_registered_##ident =                    \
      ::symp::cli::register_command({name, parent, description, order, setup_fn}); \
  }
