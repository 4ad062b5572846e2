#pragma once
// GLM-4-Voice's flow-matching decoder (cosyvoice MaskedDiffWithXvec): speech tokens -> 80-bin mel at
// 22,050 Hz / 256. Token embedding, a block-conformer encoder (relative positions, 10-token block-causal
// attention), an interpolating length regulator, and a conditional U-Net estimator (Matcha-TTS) run for
// 10 Euler steps on a cosine schedule with classifier-free guidance. Includes torch.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "symp/speech/flow_config.h"

namespace symp::speech {

class Flow {
 public:
  static std::unique_ptr<Flow> open(const FlowConfig& config, const std::string& weights,
                                    const torch::Device& device = torch::kCPU);
  // The same model with the modules' default random initialisation: for speed benchmarks at full size
  // without the published weights (its mels are noise).
  static std::unique_ptr<Flow> random(const FlowConfig& config, const torch::Device& device = torch::kCPU);
  ~Flow();
  const FlowConfig& config() const;
  const torch::Device& device() const;

  // Tokens [1, T] int64 -> encoder output projected to mel size [1, T, output_size].
  torch::Tensor encode(const torch::Tensor& tokens);
  // The regulated conditioning mu [1, output_size, frames] for (prompt tokens + tokens).
  torch::Tensor mu(const torch::Tensor& tokens, int64_t frames);
  // One estimator call: x, mu, cond [B, 80, T], mask [B, 1, T], t [B] or [], spks [B, 80] -> [B, 80, T].
  torch::Tensor estimator(const torch::Tensor& x, const torch::Tensor& mask, const torch::Tensor& mu,
                          const torch::Tensor& t, const torch::Tensor& spks, const torch::Tensor& cond);

  struct Request {
    torch::Tensor tokens;         // [1, T] int64
    torch::Tensor prompt_tokens;  // [1, P] int64 or undefined
    torch::Tensor prompt_mel;     // [1, F, 80] or undefined: mel of the prompt (cut from the output)
    torch::Tensor embedding;      // [1, spk_embed_dim] or undefined (zeros: GLM-4-Voice passes none)
    torch::Tensor noise;  // [1, 80, frames] or undefined: drawn from a generator seeded 42, as the reference
  };
  // The mel of `tokens`, prompt frames cut: [1, 80, frames - F]. InputError for ids outside the vocabulary.
  torch::Tensor inference(const Request& request);

 private:
  Flow();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace symp::speech
