// symp probe: the teacher-forced condition probe (does a model's reply depend on the VA condition?).
#include <iostream>

#include "command.h"
#include "symp/infer/probe.h"

namespace {

symp::cli::Runner setup(CLI::App& app) {
  auto o = std::make_shared<symp::infer::ProbeOptions>();
  app.add_option("--model", o->model_dir, "Base model folder (config.json + safetensors)")->required();
  app.add_option("--adapter", o->adapters,
                 "PEFT adapter folder, DIR or NAME=DIR; repeat for several systems");
  app.add_flag("--include-base", o->include_base, "Also probe the base model alone");
  app.add_option("--base-name", o->base_name, "System name of the base model")->capture_default_str();
  app.add_option("--tokenizer", o->tokenizer_dir, "The tokenizer folder the records were encoded with")
      ->required();
  app.add_option("--encoded", o->encoded,
                 "tokenize encode's encoded_eval.jsonl: each record's reply is scored under the 12 anchors")
      ->required();
  app.add_option("--split", o->split, "Only records of this split (the neutral split: one query, 12 targets)")
      ->capture_default_str();
  app.add_option("--limit", o->limit, "At most this many records (0 = all)")->capture_default_str();
  app.add_option("--device", o->device, "cpu or cuda[:N]")->capture_default_str();
  app.add_option("--dtype", o->dtype, "f32 or bf16")->capture_default_str();
  app.add_option("--out", o->out_dir, "Output folder: probe_items.jsonl, probe_summary.json")->required();
  return [o, &app](const symp::cli::GlobalOptions& g) {
    o->seed = g.seed;
    o->validate();
    symp::cli::save_effective_config(app, o->out_dir);
    std::cout << symp::infer::run_probe(*o) << "\n";
    return 0;
  };
}

}  // namespace

SYMP_COMMAND(probe, "probe", 62,
             "Teacher-forced condition probe: is each reference reply most likely under its own anchor?",
             setup)
