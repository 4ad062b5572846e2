#pragma once
// `symp logits`: the parity contract. Runs a GLM model (optionally with a PEFT adapter) over given ids
// and writes float32 `logits` [T, vocab] to a safetensors file. No torch in this header.
#include <cstdint>
#include <string>
#include <vector>

namespace symp::nn {

struct LogitsOptions {
  std::string model_dir;          // config.json + safetensors, ChatGLM or transformers Glm layout
  std::string adapter_dir;        // PEFT adapter folder; empty for the base model
  std::vector<int64_t> ids;       // input token ids, one sequence
  std::string out;                // output .safetensors path
  std::string dtype = "float32";  // model dtype: float32 or bfloat16
  bool merge = false;             // merge the adapter into the base weights before running

  void validate() const;  // UsageError naming the field and value
};

// Parses "1,2,3" (spaces allowed); UsageError naming the bad item.
std::vector<int64_t> parse_ids(const std::string& text);

void write_logits(const LogitsOptions& options);

}  // namespace symp::nn
