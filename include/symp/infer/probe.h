#pragma once
// `symp probe`: does a model's reply depend on the VA condition? A teacher-forced test that needs no
// sampling. For each encoded neutral-split record (one query's reference reply for one target emotion), the
// record is scored under each of the 12 anchors' system prompts: the mean negative log-likelihood (nats per
// token) of the reply (everything after "<|assistant|>\n"). A model that uses the condition gives the
// reply its lowest loss under its own anchor: 12-way accuracy (chance 1/12) and the margin, the loss under
// the best other anchor minus the loss under the true one (nats; positive when right). A model that never
// saw the condition scores near chance with margins near 0. No torch in this header.
//
// Writes to out_dir: probe_items.jsonl (per system and record: the 12 losses, the prediction, the margin)
// and probe_summary.json (per system: n, accuracy, margin_nats mean and 95 % bootstrap interval, the
// confusion matrix).
#include <string>
#include <vector>

namespace symp::infer {

struct ProbeOptions {
  std::string model_dir;              // base model folder
  std::vector<std::string> adapters;  // PEFT adapters, "DIR" or "NAME=DIR": one system each
  bool include_base = false;          // also probe the base model alone (system `base_name`)
  std::string base_name = "base";     // its system name
  std::string tokenizer_dir;          // the tokenizer the records were encoded with
  std::string encoded;                // tokenize encode's encoded_eval.jsonl (records with `text`)
  std::string split = "neutral";      // records of this split only ("" = all with an anchor emotion)
  int limit = 0;                      // at most this many records (0 = all)
  std::string device = "cpu";         // cpu or cuda[:N]
  std::string dtype = "f32";          // f32 or bf16
  std::string out_dir;                // where the results go
  uint64_t seed = 42;                 // the bootstrap's draws
  void validate() const;              // UsageError naming the field
};

// Runs the probe; returns the summary (also written to probe_summary.json).
std::string run_probe(const ProbeOptions& options);

}  // namespace symp::infer
