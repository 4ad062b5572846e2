#include "symp/nn/glm_config.h"

#include <fmt/format.h>

#include <filesystem>

#include "symp/core/error.h"

namespace symp::nn {
namespace {

// Upper bounds on a size read from a file, far above any real model's (GLM-4-Voice-9B: 40 layers, 32 heads of
// 128, hidden 4,096, vocab 168,960) and low enough that the parameter count cannot overflow 64 bits.
constexpr int64_t kMaxSize = int64_t(1) << 24, kMaxLayers = 1024, kMaxHeads = 4096;

int64_t max_for(const std::string& key) {
  if (key == "num_layers" || key == "num_hidden_layers") return kMaxLayers;
  if (key.find("head") != std::string::npos || key == "kv_channels" || key == "multi_query_group_num")
    return kMaxHeads;
  return kMaxSize;
}

// A required integer field in 1..its bound; InputError "context: field 'name': ..." otherwise.
int64_t require_size(const io::Json& json, const std::string& key, const std::string& context) {
  const auto& value = io::require_field(json, key, context);
  const int64_t bound = max_for(key);
  const bool fits = value.is_number_unsigned()  ? value.get<uint64_t>() <= uint64_t(bound)
                    : value.is_number_integer() ? value.get<int64_t>() >= 1 && value.get<int64_t>() <= bound
                                                : false;
  if (!fits || value.get<int64_t>() <= 0) {
    throw InputError(fmt::format("{}: field '{}': expected an integer in 1..{}, got {}", context, key, bound,
                                 value.dump()));
  }
  return value.get<int64_t>();
}

int64_t optional_size(const io::Json& json, const std::string& key, int64_t fallback,
                      const std::string& context) {
  if (!json.contains(key) || json[key].is_null()) return fallback;
  return require_size(json, key, context);
}

double optional_number(const io::Json& json, const std::string& key, double fallback,
                       const std::string& context) {
  if (!json.contains(key) || json[key].is_null()) return fallback;
  return io::require_number(json, key, context);
}

bool optional_bool(const io::Json& json, const std::string& key, bool fallback, const std::string& context) {
  if (!json.contains(key) || json[key].is_null()) return fallback;
  if (!json[key].is_boolean()) {
    throw InputError(
        fmt::format("{}: field '{}': expected true or false, got {}", context, key, json[key].dump()));
  }
  return json[key].get<bool>();
}

// The model supports one variant of each ChatGLM switch; a file asking for another is refused by name.
void require_flag(const io::Json& json, const std::string& key, bool supported, const std::string& context) {
  if (json.contains(key) && !json[key].is_null() &&
      optional_bool(json, key, supported, context) != supported) {
    throw InputError(fmt::format("{}: field '{}' = {} is not supported (GLM-4 uses {})", context, key,
                                 json[key].dump(), supported));
  }
}

GlmConfig chatglm_from_json(const io::Json& json, const std::string& context) {
  GlmConfig c;
  c.layout = GlmLayout::ChatGlm;
  c.num_layers = require_size(json, "num_layers", context);
  c.hidden_size = require_size(json, "hidden_size", context);
  c.num_heads = require_size(json, "num_attention_heads", context);
  c.num_kv_heads = optional_bool(json, "multi_query_attention", false, context)
                       ? require_size(json, "multi_query_group_num", context)
                       : c.num_heads;
  c.head_dim = optional_size(json, "kv_channels", c.hidden_size / c.num_heads, context);
  c.ffn_hidden_size = require_size(json, "ffn_hidden_size", context);
  c.vocab_size = require_size(json, "padded_vocab_size", context);
  c.norm_eps = optional_number(json, "layernorm_epsilon", 1e-5, context);
  // ChatGLM's RotaryEmbedding(kv_channels // 2): the first half of each head, base 10000 x rope_ratio.
  c.rotary_dim = c.head_dim / 2;
  c.rope_base = 10000.0 * optional_number(json, "rope_ratio", 1.0, context);
  c.qkv_bias = optional_bool(json, "add_qkv_bias", false, context);
  c.tie_embeddings = optional_bool(json, "tie_word_embeddings", false, context);
  c.max_positions = optional_size(json, "seq_length", 0, context);
  require_flag(json, "add_bias_linear", false, context);
  require_flag(json, "rmsnorm", true, context);
  require_flag(json, "post_layer_norm", true, context);
  require_flag(json, "apply_residual_connection_post_layernorm", false, context);
  require_flag(json, "original_rope", true, context);
  return c;
}

GlmConfig hf_from_json(const io::Json& json, const std::string& context) {
  GlmConfig c;
  c.layout = GlmLayout::HfGlm;
  c.num_layers = require_size(json, "num_hidden_layers", context);
  c.hidden_size = require_size(json, "hidden_size", context);
  c.num_heads = require_size(json, "num_attention_heads", context);
  c.num_kv_heads = optional_size(json, "num_key_value_heads", c.num_heads, context);
  c.head_dim = optional_size(json, "head_dim", c.hidden_size / c.num_heads, context);
  c.ffn_hidden_size = require_size(json, "intermediate_size", context);
  c.vocab_size = require_size(json, "vocab_size", context);
  c.norm_eps = optional_number(json, "rms_norm_eps", 1e-5, context);
  // transformers 4.x keeps rope_theta / partial_rotary_factor at the top, 5.x inside rope_parameters.
  const io::Json rope = json.contains("rope_parameters") && json["rope_parameters"].is_object()
                            ? json["rope_parameters"]
                            : io::Json::object();
  double factor = optional_number(rope, "partial_rotary_factor",
                                  optional_number(json, "partial_rotary_factor", 0.5, context), context);
  c.rope_base =
      optional_number(rope, "rope_theta", optional_number(json, "rope_theta", 10000.0, context), context);
  if (rope.contains("rope_type") && rope["rope_type"] != "default") {
    throw InputError(
        fmt::format("{}: field 'rope_parameters.rope_type' = {} is not supported (only \"default\")", context,
                    rope["rope_type"].dump()));
  }
  if (!(factor >= 0 && factor <= 1)) {
    throw InputError(
        fmt::format("{}: field 'partial_rotary_factor' = {}: expected a number in [0, 1]", context, factor));
  }
  c.rotary_dim = static_cast<int64_t>(static_cast<double>(c.head_dim) * factor);
  c.qkv_bias = optional_bool(json, "attention_bias", true, context);
  c.tie_embeddings = optional_bool(json, "tie_word_embeddings", false, context);
  c.max_positions = optional_size(json, "max_position_embeddings", 0, context);
  if (json.contains("hidden_act") && json["hidden_act"] != "silu") {
    throw InputError(fmt::format("{}: field 'hidden_act' = {} is not supported (GLM uses \"silu\")", context,
                                 json["hidden_act"].dump()));
  }
  return c;
}

}  // namespace

void GlmConfig::validate() const {
  auto positive = [](const char* field, int64_t value) {
    if (value <= 0) throw UsageError(fmt::format("glm config: {} = {} must be positive", field, value));
  };
  positive("vocab_size", vocab_size);
  positive("hidden_size", hidden_size);
  positive("num_layers", num_layers);
  positive("num_heads", num_heads);
  positive("num_kv_heads", num_kv_heads);
  positive("head_dim", head_dim);
  positive("ffn_hidden_size", ffn_hidden_size);
  if (num_heads % num_kv_heads != 0) {
    throw UsageError(fmt::format("glm config: num_heads = {} is not a multiple of num_kv_heads = {}",
                                 num_heads, num_kv_heads));
  }
  if (rotary_dim < 0 || rotary_dim > head_dim || rotary_dim % 2 != 0) {
    throw UsageError(fmt::format("glm config: rotary_dim = {} must be even and within head_dim = {}",
                                 rotary_dim, head_dim));
  }
  if (!(rope_base > 0))
    throw UsageError(fmt::format("glm config: rope_base = {} must be positive", rope_base));
  if (!(norm_eps > 0)) throw UsageError(fmt::format("glm config: norm_eps = {} must be positive", norm_eps));
}

int64_t GlmConfig::num_parameters() const {
  const int64_t q = num_heads * head_dim;
  const int64_t attention = hidden_size * qkv_size() + (qkv_bias ? qkv_size() : 0) + q * hidden_size;
  const int64_t mlp = hidden_size * 2 * ffn_hidden_size + ffn_hidden_size * hidden_size;
  const int64_t layer = attention + mlp + 2 * hidden_size;
  return num_layers * layer + hidden_size + vocab_size * hidden_size * (tie_embeddings ? 1 : 2);
}

std::string GlmConfig::summary() const {
  return fmt::format("{} layers, hidden {}, {} heads / {} kv, head dim {}, ffn {}, vocab {}, {:.2f} M params",
                     num_layers, hidden_size, num_heads, num_kv_heads, head_dim, ffn_hidden_size, vocab_size,
                     static_cast<double>(num_parameters()) / 1e6);
}

GlmConfig GlmConfig::from_json(const io::Json& json, const std::string& context) {
  if (!json.is_object()) throw InputError(context + ": expected a JSON object");
  const std::string type = json.contains("model_type") && json["model_type"].is_string()
                               ? json["model_type"].get<std::string>()
                               : std::string();
  GlmConfig config;
  if (type == "chatglm") {
    config = chatglm_from_json(json, context);
  } else if (type == "glm") {
    config = hf_from_json(json, context);
  } else {
    throw InputError(fmt::format("{}: field 'model_type' = {}: expected \"chatglm\" or \"glm\"", context,
                                 json.contains("model_type") ? json["model_type"].dump() : "(absent)"));
  }
  try {
    config.validate();
  } catch (const UsageError& e) {
    throw InputError(context + ": " + e.what());
  }
  return config;
}

GlmConfig GlmConfig::load(const std::string& model_dir) {
  const std::string path = (std::filesystem::path(model_dir) / "config.json").string();
  return from_json(io::read_json(path), path);
}

io::Json GlmConfig::to_chatglm_json() const {
  if (rotary_dim * 2 != head_dim) {
    throw UsageError(
        fmt::format("glm config: rotary_dim = {} cannot be written in the ChatGLM layout, which "
                    "rotates half of head_dim = {}",
                    rotary_dim, head_dim));
  }
  io::Json j;
  j["architectures"] = {"ChatGLMModel"};
  j["model_type"] = "chatglm";
  j["num_layers"] = num_layers;
  j["hidden_size"] = hidden_size;
  j["num_attention_heads"] = num_heads;
  j["multi_query_attention"] = num_kv_heads != num_heads;
  j["multi_query_group_num"] = num_kv_heads;
  j["kv_channels"] = head_dim;
  j["ffn_hidden_size"] = ffn_hidden_size;
  j["padded_vocab_size"] = vocab_size;
  j["layernorm_epsilon"] = norm_eps;
  j["rope_ratio"] = rope_base / 10000.0;
  j["add_qkv_bias"] = qkv_bias;
  j["add_bias_linear"] = false;
  j["post_layer_norm"] = true;
  j["rmsnorm"] = true;
  j["apply_residual_connection_post_layernorm"] = false;
  j["original_rope"] = true;
  j["tie_word_embeddings"] = tie_embeddings;
  if (max_positions > 0) j["seq_length"] = max_positions;
  return j;
}

GlmConfig GlmConfig::tiny(int64_t vocab_size) {
  GlmConfig c;
  c.vocab_size = vocab_size;
  c.hidden_size = 256;
  c.num_layers = 4;
  c.num_heads = 4;
  c.num_kv_heads = 2;  // grouped-query attention as in the 9B model (32 heads / 2 groups)
  c.head_dim = 64;
  c.ffn_hidden_size = 688;  // ~2.7 x hidden, the 9B model's ratio (13696 / 4096 = 3.3) rounded down for speed
  c.rotary_dim = 32;
  c.rope_base = 10000.0;
  c.norm_eps = 1e-5;
  c.qkv_bias = true;
  c.max_positions = 2048;
  c.validate();
  return c;
}

GlmConfig GlmConfig::glm4_voice_9b() {
  // glm-4-voice-9b's config.json: 40 layers, hidden 4096, 32 heads, 2 groups, kv_channels 128,
  // ffn 13696, padded vocab 168960, layernorm_epsilon 1.5625e-07, seq_length 8192, rope_ratio 1.
  GlmConfig c;
  c.vocab_size = 168960;
  c.hidden_size = 4096;
  c.num_layers = 40;
  c.num_heads = 32;
  c.num_kv_heads = 2;
  c.head_dim = 128;
  c.ffn_hidden_size = 13696;
  c.rotary_dim = 64;
  c.rope_base = 10000.0;
  c.norm_eps = 1.5625e-07;
  c.qkv_bias = true;
  c.max_positions = 8192;
  c.validate();
  return c;
}

}  // namespace symp::nn
