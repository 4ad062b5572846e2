#pragma once
// The sizes of GLM-4-Voice's speech tokenizer (WhisperVQ, symp/speech/whisper_vq.h), read from the folder's
// config.json and preprocessor_config.json. No torch here, so the reader can be used and fuzzed without it.
#include <string>

#include "symp/speech/mel_options.h"

namespace symp::speech {

// Every size read from the two JSON files; names as in the files.
struct WhisperVQConfig {
  int d_model = 1280;
  int encoder_attention_heads = 20;
  int encoder_ffn_dim = 5120;
  int encoder_layers = 32;
  int num_mel_bins = 128;
  int max_source_positions = 1500;  // 30 s at 50 Hz after the stride-2 convolution
  std::string activation_function = "gelu";
  bool scale_embedding = false;
  bool encoder_causal_convolution = true;
  bool encoder_causal_attention = false;
  int pooling_kernel_size = 4;       // 0: no pooling
  std::string pooling_type = "avg";  // "avg" or "max"
  int pooling_position = 16;         // pool after this many layers
  int quantize_vocab_size = 16384;
  int quantize_position = 16;            // quantize after this many layers; later layers are not built
  int quantize_causal_block_size = 200;  // frames per attention block at 50 Hz; 0: full attention
  WhisperMelOptions mel;                 // from preprocessor_config.json
  int chunk_length = 30;                 // seconds per window
  float padding_value = 0.0f;

  // Reads `dir`/config.json and `dir`/preprocessor_config.json; InputError naming the file and field.
  static WhisperVQConfig load(const std::string& dir);
  int conv_stride() const { return 2; }  // conv1 stride 1, conv2 stride 2
  // Samples per token (1,280 = 160 hop x 2 x 4 pooling) and tokens per second (12.5).
  int samples_per_token() const;
  double frame_rate() const { return double(mel.sample_rate) / samples_per_token(); }
};

}  // namespace symp::speech
