#pragma once
// LoRA (Hu et al. 2021) on the GLM decoder's linear layers, in PEFT's format both ways:
// `adapter_config.json` + `adapter_model.safetensors` with keys
// `base_model.model.<module>.lora_A.weight` [r, in] and `.lora_B.weight` [out, r], scale alpha / r.
// Includes torch: use from symp_torch sources only (tools use nn/logits.h and train/train_lora.h).
//
//   auto model = symp::nn::load_glm(dir);
//   symp::nn::load_adapter(*model, adapter_dir);   // strict: every key, shape and target checked
//   model->merge_adapters();                       // fold B A into the base weights for fast inference
#include <torch/torch.h>

#include <string>
#include <vector>

#include "symp/nn/lora_config.h"

namespace symp::nn {

class GlmModelImpl;

// A linear layer y = x W^T + b with an optional low-rank update  + scale * B A dropout(x).
// Parameters are named as PEFT names them (`weight`, `bias`, `lora_A.weight`, `lora_B.weight`) so the
// adapter's keys are the module names. The base weight may be bf16 while A and B stay fp32.
class LoraLinearImpl : public torch::nn::Module {
 public:
  LoraLinearImpl(int64_t in_features, int64_t out_features, bool bias, const torch::TensorOptions& options);
  torch::Tensor forward(const torch::Tensor& x);

  // Adds A [rank, in] (PEFT's init: uniform +-1/sqrt(in)) and B [out, rank] (zeros) in fp32.
  void add_adapter(int64_t rank, double scale, double dropout);
  void remove_adapter();
  bool has_adapter() const { return lora_a_.defined(); }
  // Adds scale * B A into the weight (and back out); forward skips the adapter path while merged.
  void merge();
  void unmerge();
  bool merged() const { return merged_; }

  int64_t in_features() const { return weight_.size(1); }
  int64_t out_features() const { return weight_.size(0); }
  double scale() const { return scale_; }
  torch::Tensor& weight() { return weight_; }
  torch::Tensor& bias() { return bias_; }
  torch::Tensor& lora_a() { return lora_a_; }
  torch::Tensor& lora_b() { return lora_b_; }
  // Row blocks of a fused projection that came from separate PEFT adapters (q, k, v): the adapter is
  // then block-diagonal and is written back as separate adapters. Empty for an ordinary adapter.
  std::vector<int64_t> block_rows;

 private:
  torch::Tensor delta() const;  // scale * B A in the weight's dtype
  torch::Tensor weight_, bias_, lora_a_, lora_b_;
  double scale_ = 0.0, dropout_ = 0.0;
  bool merged_ = false;
};
TORCH_MODULE(LoraLinear);

// Adds fresh adapters to every linear layer whose name matches config.targets (ChatGLM names), freezes
// the base (requires_grad off) and returns how many layers got one. UsageError when none matches.
int attach_lora(GlmModelImpl& model, const LoraConfig& config);

// Reads a PEFT adapter written for either layout and attaches it. InputError naming the file and key for
// a missing, unexpected or mis-shaped tensor, a target that matches no module, or an option PEFT has
// that symp does not implement (DoRA, rank/alpha patterns, bias training, modules_to_save other than the
// input embedding). An adapter with modules_to_save replaces the model's embedding with its own: load it
// into a freshly loaded model (remove_adapters() does not restore the base's embedding).
LoraConfig load_adapter(GlmModelImpl& model, const std::string& dir);
// Writes the attached adapters in PEFT's format, under the layout the base model was loaded from.
void save_adapter(GlmModelImpl& model, const LoraConfig& config, const std::string& dir,
                  const std::string& base_model_name = "");

}  // namespace symp::nn
