// symp report: a run folder's stage outputs laid out for reading. --recipe quickstart (report.md +
// report.html) or --recipe paper (the paper's tables as Markdown, CSV and JSON, with figures).
#include <iostream>

#include "command.h"
#include "symp/core/error.h"
#include "symp/report/paper.h"
#include "symp/report/quickstart.h"

namespace {

struct ReportCli {
  std::string recipe = "quickstart";  // which recipe made the run
  std::string run_dir, out_dir;       // --run, --out (the default depends on the recipe)
  symp::report::PaperReportOptions paper;
};

symp::cli::Runner setup(CLI::App& app) {
  auto o = std::make_shared<ReportCli>();
  app.add_option("--run", o->run_dir, "Run folder made by recipes/quickstart/run.sh or recipes/paper/run.sh")
      ->required();
  app.add_option("--recipe", o->recipe,
                 "Which recipe made the run: quickstart (report.md + report.html) or paper (tables.md, "
                 "tables.json, one CSV per table, figures)")
      ->capture_default_str();
  app.add_option("--out", o->out_dir,
                 "Where the report goes (default: --run for quickstart, RUN/report for paper)");
  app.add_option("--figures", o->paper.figures,
                 "paper: the paper's figures to show beside symp's (default: data/paper/figures.json)");
  app.add_option("--method", o->paper.method, "paper: the system compared with the paper's Sympatheia row")
      ->capture_default_str();
  app.add_option("--base-system", o->paper.base, "paper: the system compared with the paper's base row")
      ->capture_default_str();
  return [o, &app](const symp::cli::GlobalOptions&) {
    if (o->recipe == "quickstart") {
      const symp::report::QuickstartReportOptions quickstart{o->run_dir, o->out_dir};
      quickstart.validate();
      symp::cli::save_effective_config(app, o->out_dir.empty() ? o->run_dir : o->out_dir);
      std::cout << symp::report::write_quickstart_report(quickstart) << "\n";
      return 0;
    }
    if (o->recipe != "paper")
      throw symp::UsageError("--recipe: expected quickstart or paper, got '" + o->recipe + "'");
    o->paper.run_dir = o->run_dir;
    o->paper.out_dir = o->out_dir.empty() ? o->run_dir + "/report" : o->out_dir;
    o->paper.validate();
    symp::cli::save_effective_config(app, o->paper.out_dir);
    std::cout << symp::report::write_paper_report(o->paper) << "\n";
    return 0;
  };
}

}  // namespace

SYMP_COMMAND(report, "report", 80,
             "Write a run folder's report: the quickstart's page, or the paper's tables (--recipe paper)",
             setup)
