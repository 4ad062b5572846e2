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
#include "symp/speech/whisper_vq_config.h"

namespace symp::speech {

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
