#pragma once
// `symp eval-prosody`: prosody features for many responses (in parallel) and their Spearman correlation
// with the target valence and arousal, per system, written as features.csv, correlations.csv, a
// markdown table shaped like the paper's and PNG scatter plots.
//
//   symp::prosody::EvalOptions opt;
//   opt.manifests = {"runs/lora/responses.jsonl"};
//   opt.out_dir = "eval/prosody";
//   auto result = symp::prosody::run_eval(opt);   // result.failed rows carry their reason in `error`
#include "symp/affect/affect.h"
#include "symp/prosody/features.h"
#include "symp/prosody/stats.h"

#include <cstdint>
#include <string>
#include <vector>

namespace symp::prosody {

struct EvalOptions {
  std::vector<std::string> audio;      // audio files, or folders searched recursively for audio files
  std::vector<std::string> manifests;  // JSONL manifests (gen-data's manifest.jsonl, infer's responses.jsonl)
  std::string out_dir;                 // output folder (created)
  std::string system;                  // system name for every record; "" = the record's `system` (or
                                       // `checkpoint`, `adapter`) field, else the manifest's name
  FeatureOptions features;             // per-response measurement
  int threads = 0;                     // worker threads; 0 = every core of the machine
  int permutations = 0;                // permutation p-values from this many shuffles; 0 = none
  uint64_t seed = 42;                  // seeds the permutations
  bool plots = true;                   // write the PNG scatter plots
  std::string split;                   // keep only manifest records whose 'split' is this ("" = all)
  std::string partition;               // keep only manifest records whose 'partition' is this ("" = all)
  void validate() const;               // UsageError naming the bad field
};

// One response to measure.
struct EvalItem {
  std::string id;          // record id, or the file name for --audio input
  std::string system;      // group in the correlation table
  std::string audio_path;  // resolved path
  std::string text;        // transcript (response_text), may be empty
  std::string emotion;  // target emotion name (the nearest anchor when only VA is given); "" without target
  bool has_target = false;
  affect::VA target;    // target valence and arousal
  std::string error;    // a problem found while reading the record itself (e.g. no audio field)
  std::string warning;  // a remark that does not fail the row (e.g. no target)
};

struct EvalRow {
  EvalItem item;
  Features features;
  std::string error;  // why this row has no features; empty when measured
};

struct CorrelationRow {
  std::string system, feature, target;  // target: "valence" or "arousal"
  Correlation c;
};

struct EvalResult {
  std::vector<EvalRow> rows;
  std::vector<CorrelationRow> correlations;
  size_t failed = 0;  // rows with an error
};

// The feature columns, in features.csv order.
const std::vector<std::string>& feature_names();
double feature_value(const Features& f, const std::string& name);

// Reads a manifest. Audio: `response_audio`, `audio`, `wav` or `audio_path`, relative to the manifest's
// folder; text: `response_text` or `text`; target: `requested_valence` + `requested_arousal` (infer's
// condition before VA noise), else `valence` + `arousal`, else `emotion` resolved through `anchors` (null
// counts as absent; a record without any target is measured but not correlated). InputError
// "path:line: ..." for a line without an id; other record problems go to item.error. A non-empty `split`
// or `partition` keeps only the records whose field of that name equals it.
std::vector<EvalItem> load_manifest(const std::string& path, const std::string& system_override,
                                    const affect::AnchorSet& anchors, const std::string& split = "",
                                    const std::string& partition = "");
// Files and folders to items (no target); folders are searched recursively for known audio extensions.
std::vector<EvalItem> collect_audio(const std::vector<std::string>& paths, const std::string& system);

// Measures every item on `threads` workers; failures become rows with an error, never exceptions.
std::vector<EvalRow> measure_all(const std::vector<EvalItem>& items, const FeatureOptions& options,
                                 int threads);

// Spearman of each feature with target valence and arousal, per system, over rows without error that
// have a target.
std::vector<CorrelationRow> correlate(const std::vector<EvalRow>& rows, int permutations, uint64_t seed);

// The whole command: read, measure, correlate, write features.csv, correlations.csv, correlations.md
// and plots/ under out_dir. Returns the result; the caller decides the exit code from result.failed.
EvalResult run_eval(const EvalOptions& options);

// Writers, used by run_eval.
void write_features_csv(const std::string& path, const std::vector<EvalRow>& rows);
void write_correlations_csv(const std::string& path, const std::vector<CorrelationRow>& rows);
std::string correlations_markdown(const std::vector<CorrelationRow>& rows);  // no rows: a line saying so
void write_scatter_plots(const std::string& dir, const std::vector<EvalRow>& rows);

}  // namespace symp::prosody
