#pragma once
// The sizes of the flow-matching decoder (symp/speech/flow.h), read from GLM-4-Voice's decoder config.yaml
// (as JSON) or a flat config.json. No torch here, so the reader can be used and fuzzed without it.
#include <cstdint>
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

}  // namespace symp::speech
