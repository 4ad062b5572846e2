#pragma once
// LoRA hyper-parameters (no torch here, so the trainer's options can hold them). PAPER.md section 5.
#include <cstdint>
#include <string>
#include <vector>

namespace symp::nn {

struct LoraConfig {
  int64_t rank = 32;        // r (PAPER.md section 5)
  double alpha = 32.0;      // lora_alpha; the update is scaled by alpha / r
  double dropout = 0.1;     // dropout on the adapter's input while training
  bool use_rslora = false;  // scale alpha / sqrt(r) instead (PEFT's use_rslora)
  // Module-name suffixes matched as PEFT does (the whole name or after a '.'), in ChatGLM names; for a
  // transformers-layout model they are translated (query_key_value -> q_proj, k_proj, v_proj, ...).
  std::vector<std::string> targets = {"query_key_value", "dense", "dense_h_to_4h", "dense_4h_to_h"};
  // PEFT's modules_to_save: modules trained in full and saved whole in the adapter. Only the input
  // embedding is supported ("word_embeddings", or "embed_tokens" as transformers names it): it lets an
  // adapter learn ids the base never saw in its input (the VA condition's pieces). Empty = none.
  std::vector<std::string> modules_to_save;

  void validate() const;  // UsageError naming the field and value
  double scale() const;
};

// Reads a PEFT adapter_config.json: InputError naming the file and the field for a value of the wrong type
// or an option PEFT has that symp does not implement (DoRA, rank/alpha patterns, bias training,
// modules_to_save other than the input embedding).
LoraConfig read_lora_config(const std::string& adapter_config_path);

}  // namespace symp::nn
