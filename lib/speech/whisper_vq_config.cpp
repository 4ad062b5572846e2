#include "symp/speech/whisper_vq_config.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <utility>

#include "symp/core/error.h"
#include "symp/io/jsonl.h"

namespace symp::speech {
namespace fs = std::filesystem;

constexpr int kMaxSize = 1 << 20;

WhisperVQConfig WhisperVQConfig::load(const std::string& dir) {
  WhisperVQConfig c;
  const fs::path config_path = fs::path(dir) / "config.json";
  const fs::path pre_path = fs::path(dir) / "preprocessor_config.json";
  auto j = io::read_json(config_path.string());
  io::read_optional(j, "d_model", c.d_model, config_path.string());
  io::read_optional(j, "encoder_attention_heads", c.encoder_attention_heads, config_path.string());
  io::read_optional(j, "encoder_ffn_dim", c.encoder_ffn_dim, config_path.string());
  io::read_optional(j, "encoder_layers", c.encoder_layers, config_path.string());
  io::read_optional(j, "num_mel_bins", c.num_mel_bins, config_path.string());
  io::read_optional(j, "max_source_positions", c.max_source_positions, config_path.string());
  io::read_optional(j, "activation_function", c.activation_function, config_path.string());
  io::read_optional(j, "scale_embedding", c.scale_embedding, config_path.string());
  io::read_optional(j, "encoder_causal_convolution", c.encoder_causal_convolution, config_path.string());
  io::read_optional(j, "encoder_causal_attention", c.encoder_causal_attention, config_path.string());
  bool quantize_causal_encoder = false;
  io::read_optional(j, "quantize_causal_encoder", quantize_causal_encoder, config_path.string());
  c.encoder_causal_attention = c.encoder_causal_attention || quantize_causal_encoder;
  c.pooling_kernel_size = 0;
  io::read_optional(j, "pooling_kernel_size", c.pooling_kernel_size, config_path.string());
  io::read_optional(j, "pooling_type", c.pooling_type, config_path.string());
  io::read_optional(j, "pooling_position", c.pooling_position, config_path.string());
  c.quantize_vocab_size = 0;
  io::read_optional(j, "quantize_vocab_size", c.quantize_vocab_size, config_path.string());
  io::read_optional(j, "quantize_position", c.quantize_position, config_path.string());
  c.quantize_causal_block_size = 0;
  io::read_optional(j, "quantize_causal_block_size", c.quantize_causal_block_size, config_path.string());

  auto bad = [&](const std::string& what) { throw InputError(config_path.string() + ": " + what); };
  if (c.quantize_vocab_size <= 0) bad("no 'quantize_vocab_size': not a WhisperVQ tokenizer");
  if (c.quantize_position <= 0 || c.quantize_position > c.encoder_layers)
    bad("'quantize_position' " + std::to_string(c.quantize_position) + " outside 1.." +
        std::to_string(c.encoder_layers));
  if (c.pooling_kernel_size > 0 && c.pooling_position > c.quantize_position)
    bad("'pooling_position' after 'quantize_position'");
  if (c.pooling_type != "avg" && c.pooling_type != "max")
    bad("'pooling_type' must be avg or max, got " + c.pooling_type);
  if (c.activation_function != "gelu") bad("'activation_function' " + c.activation_function + " (only gelu)");
  if (c.d_model <= 0 || c.encoder_attention_heads <= 0 || c.d_model % c.encoder_attention_heads != 0)
    bad("'d_model' must be a positive multiple of 'encoder_attention_heads'");
  // Sizes a model could have (products of them stay far inside int): 1 .. 2^20 each.
  for (const auto& [name, value] : {std::pair<const char*, int>{"d_model", c.d_model},
                                    {"encoder_attention_heads", c.encoder_attention_heads},
                                    {"encoder_ffn_dim", c.encoder_ffn_dim},
                                    {"encoder_layers", c.encoder_layers},
                                    {"num_mel_bins", c.num_mel_bins},
                                    {"max_source_positions", c.max_source_positions},
                                    {"quantize_vocab_size", c.quantize_vocab_size}}) {
    if (value <= 0 || value > kMaxSize) bad(fmt::format("'{}' = {} outside 1..{}", name, value, kMaxSize));
  }
  for (const auto& [name, value] : {std::pair<const char*, int>{"pooling_kernel_size", c.pooling_kernel_size},
                                    {"pooling_position", c.pooling_position},
                                    {"quantize_causal_block_size", c.quantize_causal_block_size}}) {
    if (value < 0 || value > kMaxSize) bad(fmt::format("'{}' = {} outside 0..{}", name, value, kMaxSize));
  }

  auto p = io::read_json(pre_path.string());
  io::read_optional(p, "feature_size", c.mel.n_mels, pre_path.string());
  io::read_optional(p, "sampling_rate", c.mel.sample_rate, pre_path.string());
  io::read_optional(p, "hop_length", c.mel.hop_length, pre_path.string());
  io::read_optional(p, "n_fft", c.mel.n_fft, pre_path.string());
  io::read_optional(p, "chunk_length", c.chunk_length, pre_path.string());
  io::read_optional(p, "padding_value", c.padding_value, pre_path.string());
  double dither = 0.0;
  io::read_optional(p, "dither", dither, pre_path.string());
  if (dither != 0.0)
    throw InputError(pre_path.string() + ": field 'dither' " + std::to_string(dither) +
                     ": only 0 is supported");
  for (const auto& [name, value] : {std::pair<const char*, int>{"feature_size", c.mel.n_mels},
                                    {"sampling_rate", c.mel.sample_rate},
                                    {"hop_length", c.mel.hop_length},
                                    {"n_fft", c.mel.n_fft},
                                    {"chunk_length", c.chunk_length}}) {
    if (value <= 0 || value > kMaxSize)
      throw InputError(fmt::format("{}: '{}' = {} outside 1..{}", pre_path.string(), name, value, kMaxSize));
  }
  if (int64_t(c.mel.hop_length) * c.conv_stride() * std::max(1, c.pooling_kernel_size) > kMaxSize)
    throw InputError(
        fmt::format("{}: 'hop_length' {} x 2 x 'pooling_kernel_size' {} is over {} samples per token",
                    pre_path.string(), c.mel.hop_length, c.pooling_kernel_size, kMaxSize));
  c.mel.f_max = c.mel.sample_rate / 2.0;
  if (c.mel.n_mels != c.num_mel_bins)
    throw InputError(pre_path.string() + ": 'feature_size' " + std::to_string(c.mel.n_mels) +
                     " differs from config.json's num_mel_bins " + std::to_string(c.num_mel_bins));
  try {
    c.mel.validate();
  } catch (const Error& e) {
    throw InputError(pre_path.string() + ": " + e.what());
  }
  return c;
}

int WhisperVQConfig::samples_per_token() const {
  return mel.hop_length * conv_stride() * std::max(1, pooling_kernel_size);
}

}  // namespace symp::speech
