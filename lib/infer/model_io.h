#pragma once
// What infer and probe share to open their inputs (internal to lib/infer): the chat tokenizer of a folder,
// the device named on the command line, and the systems (the base, each adapter) with their models.
#include <memory>
#include <string>
#include <vector>

#include "symp/nn/glm.h"
#include "symp/text/sequence_tokenizer.h"

namespace symp::infer {

// tokenize fit's folder (tokenizer.json: SentencePiece + the embedded codec) or a GLM-4 tokenizer folder
// (tokenizer_config.json); InputError naming the folder otherwise.
std::unique_ptr<text::ChatTokenizer> open_tokenizer(const std::string& dir);

// "cpu", "cuda", "cuda:N"; UsageError for an unknown name or CUDA where there is none.
torch::Device parse_device(const std::string& name);

// One model to answer with: the base alone (adapter_dir empty) or the base with a LoRA adapter.
struct SystemSpec {
  std::string name;
  std::string adapter_dir;
};

// The base (when `include_base` or there is no adapter) named `base_name`, then one system per `--adapter`
// spec, "DIR" (named after the folder) or "NAME=DIR"; UsageError for two systems of one name.
std::vector<SystemSpec> parse_systems(bool include_base, const std::string& base_name,
                                      const std::vector<std::string>& adapters);

// The base model with the system's adapter loaded and merged, in eval mode.
nn::GlmModel load_system(const std::string& model_dir, const SystemSpec& system, torch::ScalarType dtype,
                         const torch::Device& device);

}  // namespace symp::infer
