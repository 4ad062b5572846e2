#pragma once
// The GLM-4 decoder (glm-4-voice-9b's language model) in libtorch: RMSNorm pre-norm blocks, grouped-query
// attention with RoPE on the first rotary_dim dims of each head (interleaved pairs), SwiGLU MLP.
// Modules are registered under the ChatGLM checkpoint's names, so loading is a name match; the
// transformers GlmForCausalLM layout is translated on load (q/k/v fused, renamed). Includes torch.
//
//   auto model = symp::nn::load_glm("glm-4-voice-9b", torch::kBFloat16, device);
//   symp::nn::KvCache cache;
//   auto logits = model->forward(prompt_ids, &cache);       // [1, T, vocab]
//   logits = model->forward(next_id.view({1, 1}), &cache);  // continues at position T
#include <torch/torch.h>

#include <algorithm>
#include <string>
#include <vector>

#include "symp/nn/glm_config.h"
#include "symp/nn/lora.h"

namespace symp::nn {

// Keys and values of every layer seen so far, for decoding (no gradients flow through it). Each layer owns a
// buffer [B, kv_heads, capacity, head_dim] written in place; positions [0, length) are valid. The buffers
// grow geometrically when a forward needs more room, so decoding token by token copies the cache
// O(log T) times instead of at every step; reserve() sizes them once so it never grows at all.
struct KvCache {
  std::vector<torch::Tensor> keys, values;
  int64_t length = 0;    // positions already cached; the next forward starts at this position
  int64_t reserved = 0;  // capacity the buffers are first allocated with (0: what the first forward needs)
  void reserve(int64_t positions) { reserved = std::max(reserved, positions); }
  void clear() {
    keys.clear();
    values.clear();
    length = 0;
  }
};

class RmsNormImpl : public torch::nn::Module {
 public:
  RmsNormImpl(int64_t size, double eps, const torch::TensorOptions& options);
  // Normalises in fp32 and returns the input's dtype (as ChatGLM does).
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::Tensor weight_;
  double eps_;
};
TORCH_MODULE(RmsNorm);

class GlmBlockImpl : public torch::nn::Module {
 public:
  GlmBlockImpl(const GlmConfig& config, const torch::TensorOptions& options);
  // x [B, T, hidden]; cos/sin: GlmModelImpl's rotary tables [T, head_dim]; with a cache, this block is
  // layer `layer` of it and x continues at cache->length (which the model advances after the last layer).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        KvCache* cache = nullptr, size_t layer = 0);

 private:
  torch::Tensor attention(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                          KvCache* cache, size_t layer);
  GlmConfig config_;
  RmsNorm input_layernorm_{nullptr}, post_attention_layernorm_{nullptr};
  LoraLinear query_key_value_{nullptr}, dense_{nullptr}, dense_h_to_4h_{nullptr}, dense_4h_to_h_{nullptr};
};
TORCH_MODULE(GlmBlock);

class GlmModelImpl : public torch::nn::Module {
 public:
  // Parameters are allocated with `options` (dtype, device; torch::kMeta builds the 9B shape for free)
  // and left uninitialised: call init_weights() or load into them.
  explicit GlmModelImpl(const GlmConfig& config, const torch::TensorOptions& options = {});

  // ids [B, T] int64 -> logits [B, T, vocab] in the model's dtype. With a cache, positions continue at
  // cache->length and the cache grows by T. Right padding needs no mask (attention is causal).
  torch::Tensor forward(const torch::Tensor& ids, KvCache* cache = nullptr);
  // The final-norm hidden states [B, T, hidden], before the output layer.
  torch::Tensor hidden_states(const torch::Tensor& ids, KvCache* cache = nullptr);
  torch::Tensor output_logits(const torch::Tensor& hidden);

  const GlmConfig& config() const { return config_; }
  // The input embedding [vocab, hidden] (LoRA's modules_to_save trains and replaces it).
  torch::Tensor& embedding_weight() { return embedding_weight_; }
  // Random weights as GLM is initialised: normal(0, std) matrices, unit norms, zero biases.
  void init_weights(uint64_t seed, double std = 0.02);
  // The `prod(radices)` ids from `first` are a product code (the embedded codec's id = (envelope x 16 +
  // pitch) x 8 + energy: radices {32, 16, 8}, the last fastest). Their rows of the input embedding and the
  // output layer are set to the sum of one normal(0, std / sqrt(factors)) vector per factor value, so ids
  // that share a pitch level share a component from the first step. Call after init_weights().
  void init_product_rows(int64_t first, const std::vector<int64_t>& radices, uint64_t seed,
                         double std = 0.02);
  // The same ids' rows (input embedding and output layer) replaced by their least-squares projection onto
  // sums of one vector per factor value: the mean row plus, per factor, the mean over the ids that share
  // each value minus the mean row (the main effects of an additive model). Rows already of that form are
  // unchanged; called after each optimiser step it keeps them tied.
  void project_product_rows(int64_t first, const std::vector<int64_t>& radices);
  // Every linear layer with its ChatGLM name ("transformer.encoder.layers.0.self_attention.dense").
  std::vector<std::pair<std::string, LoraLinear>> linears() const;
  void merge_adapters();
  void unmerge_adapters();
  void remove_adapters();
  // Base parameters (requires_grad as set) without the adapters, by ChatGLM name.
  std::vector<std::pair<std::string, torch::Tensor>> base_parameters() const;
  // Activation checkpointing: in training with gradients on, each block keeps only its input and is
  // recomputed (with the same dropout draws) in backward. Same gradients, much less activation memory.
  void set_gradient_checkpointing(bool on) { checkpointing_ = on; }
  bool gradient_checkpointing() const { return checkpointing_; }

 private:
  std::pair<torch::Tensor, torch::Tensor> rope(int64_t start, int64_t length, const torch::Device& device);
  GlmConfig config_;
  torch::Tensor embedding_weight_;  // transformer.embedding.word_embeddings.weight
  torch::nn::ModuleList layers_;
  RmsNorm final_layernorm_{nullptr};
  LoraLinear output_layer_{nullptr};
  torch::Tensor inv_freq_;  // [rotary_dim / 2] fp32, not a parameter
  bool checkpointing_ = false;
};
TORCH_MODULE(GlmModel);

// Loads config.json and the weights of a model folder (model.safetensors or a sharded index) in either
// layout. Strict: a missing, unexpected or mis-shaped tensor is an InputError naming it and the file.
GlmModel load_glm(const std::string& dir, torch::ScalarType dtype = torch::kFloat32,
                  const torch::Device& device = torch::kCPU);
// Writes config.json (ChatGLM layout) and model.safetensors with the base weights (adapters merged or
// not are not written: save them with save_adapter).
void save_glm(GlmModelImpl& model, const std::string& dir);

// Mean next-token cross-entropy of logits [B, T, V] against ids [B, T], over positions where
// mask [B, T] (bool, for the predicted token) is true; returns (sum of losses, number of tokens).
std::pair<torch::Tensor, int64_t> next_token_loss(const torch::Tensor& logits, const torch::Tensor& ids,
                                                  const torch::Tensor& target_mask);
// The same loss from the model itself, with the output layer applied only at the positions whose next token
// is a target: with a reply-only mask (--assistant-only) most of the [B, T, V] logits are never needed.
// Equal to next_token_loss(model.forward(ids), ids, target_mask) up to float summation order.
std::pair<torch::Tensor, int64_t> masked_next_token_loss(GlmModelImpl& model, const torch::Tensor& ids,
                                                         const torch::Tensor& target_mask);

}  // namespace symp::nn
