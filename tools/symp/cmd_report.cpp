// symp report: the quickstart report (report.md + report.html) from a run folder's stage outputs.
#include <iostream>

#include "command.h"
#include "symp/report/quickstart.h"

namespace {

symp::cli::Runner setup(CLI::App& app) {
  auto o = std::make_shared<symp::report::QuickstartReportOptions>();
  app.add_option("--run", o->run_dir, "Run folder made by recipes/quickstart/run.sh")->required();
  app.add_option("--out", o->out_dir, "Where report.md, report.html and figures go (default: --run)");
  return [o, &app](const symp::cli::GlobalOptions&) {
    o->validate();
    symp::cli::save_effective_config(app, o->out_dir.empty() ? o->run_dir : o->out_dir);
    std::cout << symp::report::write_quickstart_report(*o) << "\n";
    return 0;
  };
}

}  // namespace

SYMP_COMMAND(report, "report", 80,
             "Write the quickstart report (tables, figures, audio page) from a run folder", setup)
