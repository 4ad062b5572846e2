#pragma once
// GLM-4-Voice's flow-matching decoder (cosyvoice MaskedDiffWithXvec): speech tokens -> 80-bin mel at
// 22,050 Hz / 256. Token embedding, a block-conformer encoder (relative positions, 10-token block-causal
// attention), an interpolating length regulator, and a conditional U-Net estimator (Matcha-TTS) run for
// 10 Euler steps on a cosine schedule with classifier-free guidance. Includes torch.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace symp::speech {

struct FlowConfig {
  // flow (MaskedDiffWithXvec)
  int input_size = 512;  // token embedding size
  int output_size = 80;  // mel bins
  int spk_embed_dim = 192;
  int vocab_size = 16384;
  double input_frame_rate = 12.5;  // tokens per second
  // encoder (BlockConformerEncoder; only the layout GLM-4-Voice ships: linear input, rel_pos_espnet,
  // block_rel_selfattn, pre-norm, no convolution module, no macaron feed-forward, swish)
  int encoder_output_size = 512;
  int attention_heads = 8;
  int linear_units = 2048;
  int num_blocks = 6;
  int block_size = 10;  // tokens per attention block
  bool key_bias = true;
  // length regulator (InterpolateRegulator)
  int regulator_channels = 80;
  int regulator_stages = 4;  // len(sampling_ratios)
  // decoder (ConditionalCFM) and its estimator (ConditionalDecoder)
  double inference_cfg_rate = 0.7;
  std::string t_scheduler = "cosine";
  int n_timesteps = 10;
  int estimator_in_channels = 320;
  int estimator_out_channels = 80;
  std::vector<int> channels = {256, 256};
  int attention_head_dim = 64;
  int n_blocks = 4;
  int num_mid_blocks = 12;
  int num_heads = 8;
  int mel_sample_rate = 22050;  // the reference computes frames as tokens / 12.5 x 22050 / 256
  int mel_hop = 256;

  // From the `flow:` mapping of config.yaml (as JSON), or a flat {"flow", "encoder", "length_regulator",
  // "decoder", "estimator"} mapping; InputError naming `source` and the field.
  static FlowConfig from_json(const nlohmann::json& j, const std::string& source);
  // Mel frames for `tokens` tokens: int(tokens / input_frame_rate x 22050 / 256).
  int64_t mel_frames(int64_t tokens) const;
};

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
