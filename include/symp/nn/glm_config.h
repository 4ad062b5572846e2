#pragma once
// The sizes of a GLM-4 decoder, read from a checkpoint's config.json (no torch here). Two layouts hold the
// same model: the ChatGLM layout that glm-4-voice-9b ships (fused query_key_value, `transformer.*` names)
// and transformers' GlmForCausalLM (separate q/k/v, `model.*` names). Every size comes from the file.
#include <cstdint>
#include <string>

#include "symp/io/jsonl.h"

namespace symp::nn {

enum class GlmLayout {
  ChatGlm,  // transformer.encoder.layers.N.self_attention.query_key_value ... (glm-4-voice-9b)
  HfGlm,    // model.layers.N.self_attn.q_proj ... (transformers GlmForCausalLM)
};

struct GlmConfig {
  GlmLayout layout = GlmLayout::ChatGlm;  // the checkpoint's tensor names (the model is the same)
  int64_t vocab_size = 0;                 // rows of the embedding and the output layer
  int64_t hidden_size = 0;                // model width
  int64_t num_layers = 0;                 // decoder blocks
  int64_t num_heads = 0;                  // query heads
  int64_t num_kv_heads = 0;               // key/value groups (grouped-query attention)
  int64_t head_dim = 0;                   // dims per head (ChatGLM kv_channels)
  int64_t ffn_hidden_size = 0;            // SwiGLU inner width (dense_h_to_4h outputs twice this)
  int64_t rotary_dim = 0;                 // leading dims of each head that RoPE rotates, in interleaved pairs
  double rope_base = 10000.0;             // RoPE base (ChatGLM: 10000 x rope_ratio)
  double norm_eps = 1e-5;                 // RMSNorm epsilon
  bool qkv_bias = true;                   // bias on the q/k/v projection (no other biases)
  bool tie_embeddings = false;            // output layer shares the embedding matrix
  int64_t max_positions = 0;              // context length the checkpoint was trained for (informational)

  // UsageError naming the field and value that make no model.
  void validate() const;
  // Rows of the fused q,k,v projection: q heads, then k groups, then v groups.
  int64_t qkv_size() const { return (num_heads + 2 * num_kv_heads) * head_dim; }
  // Parameter count of the model these sizes describe.
  int64_t num_parameters() const;
  std::string summary() const;  // "2 layers, hidden 64, 4 heads / 2 kv, ffn 128, vocab 256, 0.1 M params"

  // Reads either layout's config.json (InputError naming the file and field; unsupported options such as
  // biases on every linear or LayerNorm instead of RMSNorm are rejected, not ignored).
  static GlmConfig from_json(const io::Json& json, const std::string& context);
  static GlmConfig load(const std::string& model_dir);
  // The ChatGLM-layout config.json for these sizes (what save_glm writes).
  io::Json to_chatglm_json() const;

  // A few million parameters: the embedded pipeline's model, trainable from scratch on 2 CPU cores.
  static GlmConfig tiny(int64_t vocab_size);
  // glm-4-voice-9b's language model (PAPER.md section 4), for benchmarks with random weights.
  static GlmConfig glm4_voice_9b();
};

}  // namespace symp::nn
