#include "command.h"

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

void save_effective_config(const CLI::App& command_app, const std::string& out_dir) {
  // Walk up to the root so that the file holds the global options and the command's section; CLI11 writes
  // only the subcommands that were used.
  const CLI::App* root = &command_app;
  while (root->get_parent()) root = root->get_parent();
  std::string text = "# Effective configuration written by symp; rerun with: symp --config THIS_FILE ...\n";
  text += root->config_to_str(/*default_also=*/true, /*write_description=*/true);
  const auto path = std::filesystem::path(out_dir) / "symp-config.toml";
  write_file_atomic(path, text);
  log_info("config", "effective configuration saved to {}", path.string());
}

}  // namespace symp::cli
