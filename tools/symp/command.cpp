#include "command.h"

#include <cstdlib>
#include <filesystem>

#include "symp/core/fs.h"
#include "symp/core/log.h"

namespace symp::cli {

std::vector<Command>& command_registry() {
  static std::vector<Command> registry;
  return registry;
}

bool register_command(Command command) {
  command_registry().push_back(std::move(command));
  return true;
}

namespace {

std::string toml_value(const std::string& v) {
  if (v == "true" || v == "false") return v;
  char* end = nullptr;
  std::strtod(v.c_str(), &end);
  if (!v.empty() && end && *end == '\0') return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// Writes the options of `app` that have a value (given, or a non-empty default) as `prefix.name=value` lines.
// Empty defaults are left out so that reading the file back changes nothing.
void append_options(std::string& out, const CLI::App& app, const std::string& prefix) {
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->get_lnames().empty()) continue;  // positional arguments are not configuration
    const std::string name = opt->get_lnames().front();
    if (name == "help" || name == "config" || name == "version") continue;
    std::vector<std::string> values;
    if (opt->count() > 0) {
      values = opt->results();
      if (opt->get_expected_min() == 0) values = {"true"};  // a flag that was given
    } else if (opt->get_expected_min() > 0 && !opt->get_default_str().empty()) {
      values = {opt->get_default_str()};
    }
    if (values.empty()) continue;
    if (!opt->get_description().empty()) out += "# " + opt->get_description() + "\n";
    out += prefix + name + "=";
    if (values.size() == 1) {
      out += toml_value(values[0]);
    } else {
      out += "[";
      for (size_t i = 0; i < values.size(); ++i) out += (i ? "," : "") + toml_value(values[i]);
      out += "]";
    }
    out += "\n";
  }
}

}  // namespace

namespace {

// The global options, then the command's own under its dotted path (e.g. "tokenize.fit."), which is what
// `symp --config FILE <command>` reads back.
void save_config_as(const CLI::App& command_app, const std::filesystem::path& path) {
  std::vector<const CLI::App*> chain;
  for (const CLI::App* a = &command_app; a; a = a->get_parent()) chain.insert(chain.begin(), a);
  std::string text =
      "# Effective configuration written by symp; rerun with: symp --config THIS_FILE <command>\n";
  append_options(text, *chain.front(), "");
  std::string prefix;
  for (size_t i = 1; i < chain.size(); ++i) {
    prefix += chain[i]->get_name() + ".";
    append_options(text, *chain[i], prefix);
  }
  if (path.has_parent_path()) ensure_dir(path.parent_path());
  write_file_atomic(path, text);
  log_info("config", "effective configuration saved to {}", path.string());
}

}  // namespace

void save_effective_config(const CLI::App& command_app, const std::string& out_dir) {
  save_config_as(command_app, std::filesystem::path(out_dir) / "symp-config.toml");
}

void save_effective_config_for_file(const CLI::App& command_app, const std::string& out_file) {
  save_config_as(command_app, out_file + ".symp-config.toml");
}

}  // namespace symp::cli
