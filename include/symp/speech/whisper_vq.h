#pragma once
// GLM-4-Voice's speech tokenizer (WhisperVQ): a Whisper encoder cut at the quantize position, with causal
// convolutions, block-causal attention, average pooling and a nearest-neighbour codebook. Loads the
// tokenizer folder as it ships (config.json, preprocessor_config.json, model.safetensors with
// `model.encoder.*` names) and tokenizes the way GLM-4-Voice's extract_speech_token does: 16 kHz audio cut
// into 30 s windows, windows batched and padded to the longest and to a multiple of one token's samples,
// ids kept at the valid positions. Includes torch: code outside lib/speech uses the glm4voice codec.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "symp/speech/mel.h"

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

// One batch through the model, every tensor on the CPU: what the parity test compares.
struct WhisperVQBatch {
  torch::Tensor features;      // [B, n_mels, T] log-mel (T = padded samples / hop)
  torch::Tensor feature_mask;  // [B, T] int64, 1 at frames of real audio
  torch::Tensor pre_vq;        // [B, T / 8, d_model] states the codebook is searched with
  torch::Tensor token_ids;     // [B, T / 8] int64
  torch::Tensor token_mask;    // [B, T / 8] int64, 1 at valid positions
};

class WhisperVQ {
 public:
  // Loads `dir`; InputError naming the missing file or the tensor that disagrees with the config.
  static std::unique_ptr<WhisperVQ> open(const std::string& dir, const torch::Device& device = torch::kCPU);
  // The encoder of `config` with the modules' default random initialisation: for speed benchmarks at full
  // size without the published weights (its tokens are meaningless).
  static std::unique_ptr<WhisperVQ> random(const WhisperVQConfig& config,
                                           const torch::Device& device = torch::kCPU);
  ~WhisperVQ();

  const WhisperVQConfig& config() const;
  int sample_rate() const { return config().mel.sample_rate; }

  // Runs windows of at most chunk_length seconds (16 kHz samples) as one padded batch.
  WhisperVQBatch run_batch(const std::vector<std::vector<float>>& windows);
  // Tokens of whole utterances of any length (16 kHz), cut into windows, `batch_size` windows per batch.
  std::vector<std::vector<int64_t>> tokenize(const std::vector<std::vector<float>>& wavs,
                                             int batch_size = 128);

 private:
  WhisperVQ();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace symp::speech
