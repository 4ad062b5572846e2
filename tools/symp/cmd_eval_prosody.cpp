// symp eval-prosody: prosody features of spoken responses and their Spearman correlation with the
// target valence and arousal (PAPER.md section 7). Binds options to symp::prosody::EvalOptions.
#include "command.h"
#include "symp/prosody/eval.h"

#include <memory>

namespace {

symp::cli::Runner setup(CLI::App& app) {
  auto o = std::make_shared<symp::prosody::EvalOptions>();
  auto rate = std::make_shared<std::string>("auto");
  auto no_plots = std::make_shared<bool>(false);
  auto& f = o->features;
  auto& p = f.pitch;
  app.add_option("--audio", o->audio, "Audio files or folders (features only)");
  app.add_option("--manifest", o->manifests, "JSONL manifests with target VA (adds the correlations)");
  app.add_option("--out", o->out_dir, "Output folder")->required();
  app.add_option("--system", o->system,
                 "System name for every record (default: field 'system', else manifest name)");
  app.add_option(
      "--split", o->split,
      "Keep only manifest records of this split (gen-data's 'neutral' or 'emotional'; default all)");
  app.add_option("--partition", o->partition,
                 "Keep only manifest records of this partition ('train' or 'eval'; default all)");
  app.add_option("--workers", o->threads, "Files measured in parallel (0 = --threads, else all cores)")
      ->capture_default_str();
  app.add_option("--permutations", o->permutations, "Permutation p-values from N shuffles (0 = off)")
      ->capture_default_str();
  app.add_flag("--no-plots", *no_plots, "Skip the PNG scatter plots");
  app.add_option("--rate", *rate, "Speaking rate: auto (transcript syllables, else nuclei), nuclei, words")
      ->capture_default_str();
  app.add_option("--floor", p.floor, "Pitch floor (Hz)")->capture_default_str();
  app.add_option("--ceiling", p.ceiling, "Pitch ceiling (Hz)")->capture_default_str();
  app.add_option("--time-step", p.time_step, "Pitch time step (s; 0 = 0.75 / floor)")->capture_default_str();
  app.add_option("--max-candidates", p.max_candidates, "Pitch candidates per frame")->capture_default_str();
  app.add_option("--silence-threshold", p.silence_threshold, "Pitch silence threshold")
      ->capture_default_str();
  app.add_option("--voicing-threshold", p.voicing_threshold, "Pitch voicing threshold")
      ->capture_default_str();
  app.add_option("--octave-cost", p.octave_cost, "Pitch octave cost")->capture_default_str();
  app.add_option("--octave-jump-cost", p.octave_jump_cost, "Pitch octave-jump cost")->capture_default_str();
  app.add_option("--voiced-unvoiced-cost", p.voiced_unvoiced_cost, "Pitch voiced/unvoiced cost")
      ->capture_default_str();
  app.add_option("--frame", f.frame, "RMS/STFT frame (samples)")->capture_default_str();
  app.add_option("--hop", f.hop, "RMS/STFT hop (samples)")->capture_default_str();
  app.add_option("--centroid-floor-db", f.centroid_floor_db,
                 "Frames this far under the loudest leave the centroid")
      ->capture_default_str();
  app.add_option("--min-duration", f.min_duration, "Shorter files are rejected (s)")->capture_default_str();
  return [o, rate, no_plots, &app](const symp::cli::GlobalOptions& g) {
    o->features.rate = symp::prosody::parse_rate_mode(*rate);
    o->plots = !*no_plots;
    o->seed = g.seed;
    if (o->threads == 0) o->threads = g.threads;
    o->validate();
    symp::cli::save_effective_config(app, o->out_dir);
    const auto result = symp::prosody::run_eval(*o);
    return result.failed > 0 ? 1 : 0;
  };
}

}  // namespace

SYMP_COMMAND(eval_prosody, "eval-prosody", 50, "Prosody features and their correlation with target VA", setup)
