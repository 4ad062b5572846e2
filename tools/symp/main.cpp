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
#include "symp/core/fs.h"
#include "symp/core/log.h"
#include "symp/core/process.h"
#include "symp/io/toml_check.h"
#include "symp/nn/runtime.h"
#include "symp/records/manifest.h"

namespace {

// Groups that hold nested commands (symp tokenize fit|encode|...).
const std::map<std::string, std::string> kGroups = {
    {"tokenize", "Speech codecs, text tokenizers and training sequences"},
};

std::string version_text() {
  return std::string("symp ") + SYMP_VERSION_STRING + " (torch " + symp::nn::torch_version() + ")";
}

// The file after --config (or in --config=FILE), "" when there is none.
std::string config_argument(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) return argv[i + 1];
    if (a.rfind("--config=", 0) == 0) return a.substr(9);
  }
  return "";
}

// CLI11 names an unknown key "section.key" in its message; say it as the section and the key.
std::string config_error(const CLI::ConfigError& e) {
  const std::string what = e.what();
  const std::string marker = "INI was not able to parse ";
  const auto at = what.find(marker);
  if (at == std::string::npos) return what;
  const std::string full = what.substr(at + marker.size());
  const auto dot = full.rfind('.');
  if (dot == std::string::npos)
    return "unknown key '" + full + "' at the top level (the global options are seed, threads, log-level)";
  std::string section = full.substr(0, dot);
  return "unknown key '" + full.substr(dot + 1) + "' in section [" + section + "]: no option of `symp " +
         [&] {
           std::string cmd = section;
           for (auto& c : cmd) c = c == '.' ? ' ' : c;
           return cmd;
         }() +
         "` has that name (see its --help)";
}

}  // namespace

// One symp command line: parse, then run (or with --check-args only report whether it parses).
int symp_main(int argc, char** argv) {
  CLI::App app{
      "symp: reproduce the Sympatheia emotionally adaptive speech-to-speech assistant, end to end.\n"
      "Run `symp <command> --help` for a command's options and their defaults."};
  app.require_subcommand(1);
  app.fallthrough();
  app.set_version_flag("--version", version_text());
  symp::cli::GlobalOptions global;
  app.set_config("--config", "", "Read options from a TOML file (e.g. a symp-config.toml a run saved)");
  // A key in the file that no option knows is an error, not silently ignored (subcommands inherit this).
  app.allow_config_extras(CLI::config_extras_mode::error);
  app.add_option("--seed", global.seed, "Seed for every random choice")->capture_default_str();
  app.add_option("--threads", global.threads, "CPU threads (0 = all cores)")->capture_default_str();
  app.add_option("--log-level", global.log_level, "debug, info, warn, error or off")->capture_default_str();
  bool allow_outside = false;
  app.add_flag(
         "--allow-outside-paths", allow_outside,
         "Let audio paths in manifests and reply files leave their file's folder (absolute paths, '..'); "
         "refused by default, so a file from elsewhere cannot make symp read outside it")
      ->envname("SYMP_ALLOW_OUTSIDE_PATHS");
  bool check_args = false;
  app.add_flag("--check-args", check_args,
               "Only check the command line and --config (unknown options or keys, wrong types), then exit "
               "0 without running: what recipes' --dry-run does for every stage");

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

  const std::string config_file = config_argument(argc, argv);
  try {
    // CLI11 reads TOML leniently (a header without its bracket, a key without a value); check it first.
    if (!config_file.empty()) symp::io::check_toml_file(config_file);
  } catch (const symp::Error& e) {
    std::fprintf(stderr, "symp: error: --config %s\n", e.what());
    return 2;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ConfigError& e) {
    std::fprintf(stderr, "symp: error: --config %s: %s\n", config_file.c_str(), config_error(e).c_str());
    return 2;
  } catch (const CLI::ConversionError& e) {
    if (config_file.empty()) {
      app.exit(e);
      return 2;
    }
    std::fprintf(stderr, "symp: error: %s (a value from --config %s or the command line)\n", e.what(),
                 config_file.c_str());
    return 2;
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

  if (check_args) {
    for (auto& [sub, run] : runners) {
      if (!sub->parsed()) continue;
      std::string path;
      for (const CLI::App* a = sub; a && a->get_parent(); a = a->get_parent())
        path = a->get_name() + (path.empty() ? "" : " " + path);
      std::printf("symp %s: arguments%s OK\n", path.c_str(),
                  config_file.empty() ? "" : (" and --config " + config_file).c_str());
      return 0;
    }
  }
  try {
    symp::set_log_level(symp::parse_log_level(global.log_level));
    symp::records::allow_outside_paths(allow_outside);
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

namespace {

// `symp --check-args-batch FILE`: FILE holds command lines, each argument followed by a NUL byte and each
// command ended by an empty argument (what `printf '%s\0' ARGS...; printf '\0'` writes). Each is checked as
// `symp --check-args ARGS` would check it, in this one process (recipes' --dry-run checks dozens of stages;
// starting symp for each costs seconds). Prints "command K: OK" or "command K: refused" (after the error)
// per command, K from 1; exits 0 when every command parses, 2 otherwise.
int check_args_batch(const char* path) {
  std::string bytes;
  try {
    bytes = symp::read_text_file(path);
  } catch (const symp::Error& e) {
    std::fprintf(stderr, "symp: error: --check-args-batch %s\n", e.what());
    return 2;
  }
  std::vector<std::vector<std::string>> commands(1);
  std::string arg;
  for (const char c : bytes) {
    if (c != '\0') {
      arg += c;
    } else if (arg.empty()) {
      commands.emplace_back();
    } else {
      commands.back().push_back(arg);
      arg.clear();
    }
  }
  if (!commands.back().empty() || !arg.empty()) {
    std::fprintf(stderr,
                 "symp: error: --check-args-batch %s: the last command has no terminating empty argument\n",
                 path);
    return 2;
  }
  commands.pop_back();
  int refused = 0;
  for (size_t k = 0; k < commands.size(); ++k) {
    std::vector<std::string> args = {"symp", "--check-args"};
    args.insert(args.end(), commands[k].begin(), commands[k].end());
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::fflush(stdout);
    const int rc = symp_main(static_cast<int>(args.size()), argv.data());
    std::fflush(stdout);
    std::fflush(stderr);
    std::printf("command %zu: %s\n", k + 1, rc == 0 ? "OK" : "refused");
    refused += rc != 0;
  }
  return refused ? 2 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  symp::configure_process(argv);  // may start the program again, before torch's OpenMP runtime runs
  if (argc == 3 && std::string(argv[1]) == "--check-args-batch") return check_args_batch(argv[2]);
  return symp_main(argc, argv);
}
