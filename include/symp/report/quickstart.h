#pragma once
// The quickstart report: the paper's claim in miniature, from the files the pipeline's stages wrote in
// one run folder. report.md (tables and PNG figures) and report.html (the same, with an audio player per
// query x emotion x system, like the paper's demo page). A section whose inputs are missing says so.
//
// Run folder layout (recipes/quickstart/run.sh makes it):
//   corpus/            gen-data            tok/     tokenize fit        enc/, enc_base/  tokenize encode
//   base/, lora/       train-lora          replies/ infer (--all-emotions, systems base and lora)
//   sweep/             infer (happy->sad)  prosody/, sweep_prosody/  eval-prosody   judge/  judge
#include <string>

namespace symp::report {

struct QuickstartReportOptions {
  std::string run_dir;  // the run folder
  std::string out_dir;  // where report.md, report.html and figures go (default: run_dir)
  void validate() const;
};

// Writes the report; returns the path of report.md.
std::string write_quickstart_report(const QuickstartReportOptions& options);

}  // namespace symp::report
