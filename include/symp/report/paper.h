#pragma once
// The paper's tables from one run of recipes/paper/run.sh, with the paper's own figures beside symp's
// (data/paper/figures.json, PAPER.md section 7). Written to the output folder:
//   tables.md    every table, the paper's figure in brackets beside each of ours
//   tables.json  one object per table: {title, source, status, columns, rows, notes}
//   <table>.csv  one CSV per table (same columns as the JSON rows)
//   judge_vs_sigma.png, va_plane.png  the noise ablation and the replies on the VA plane
// A table whose inputs are missing (a stage not run) is kept with status "missing" and names the file.
//
// Run folder layout read (what recipes/paper/run.sh writes):
//   judge/main/judge.json        judge over the Neutral, Emotional and CommonEval replies of every system
//   judge/main/judge_items.jsonl per-reply scores (the VA-plane figure)
//   prosody/correlations.csv     eval-prosody over the Neutral-setting replies (system column)
//   judge/noise/judge.json       judge over the noise-ablation replies, one system per sigma: "sigma_<s>"
//   judge/sensing/judge_items.jsonl + replies/sensing/<modality>/responses.jsonl  the sensing experiment,
//                                one judge system per modality; a reply's cue_modality says with or without
#include <string>

namespace symp::report {

struct PaperReportOptions {
  std::string run_dir;                // the recipe's run folder
  std::string out_dir;                // where the tables and figures go (default: RUN/report)
  std::string figures;                // the paper's figures (default: data/paper/figures.json)
  std::string method = "sympatheia";  // system compared with the paper's Sympatheia row
  std::string base = "base";          // system compared with the paper's GLM-4-Voice (base) row
  void validate() const;
};

// Writes the tables and figures; returns the path of tables.md.
std::string write_paper_report(const PaperReportOptions& options);

}  // namespace symp::report
