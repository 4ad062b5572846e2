#include "symp/speech/flow_config.h"

#include <fmt/format.h>

#include <cmath>
#include <utility>

#include "symp/core/error.h"
#include "symp/io/json_lists.h"
#include "symp/io/jsonl.h"

namespace symp::speech {

namespace {
constexpr int kMaxSize = 1 << 20;
}  // namespace

FlowConfig FlowConfig::from_json(const nlohmann::json& j_in, const std::string& source) {
  // Accept config.yaml's nesting (flow: {encoder, length_regulator, decoder: {cfm_params, estimator}})
  // and the flat form of the fixture's config.json.
  nlohmann::json j = j_in.contains("flow") && j_in["flow"].is_object() ? j_in["flow"] : j_in;
  for (const char* part : {"encoder", "length_regulator", "decoder"})
    if (!j.contains(part) && j_in.contains(part)) j[part] = j_in[part];
  if (j.contains("decoder") && j["decoder"].is_object() && !j["decoder"].contains("estimator") &&
      j_in.contains("estimator"))
    j["decoder"]["estimator"] = j_in["estimator"];
  for (const char* part : {"encoder", "length_regulator", "decoder"})
    if (!j.contains(part) || !j[part].is_object())
      throw InputError(source + ": flow block '" + part + "' missing");
  FlowConfig c;
  const std::string where = source + ": flow";  // "config.yaml: flow: field 'x': ..."
  io::read_optional(j, "input_size", c.input_size, where);
  io::read_optional(j, "output_size", c.output_size, where);
  io::read_optional(j, "spk_embed_dim", c.spk_embed_dim, where);
  io::read_optional(j, "vocab_size", c.vocab_size, where);
  io::read_optional(j, "input_frame_rate", c.input_frame_rate, where);
  const auto& e = j["encoder"];
  io::read_optional(e, "output_size", c.encoder_output_size, where);
  io::read_optional(e, "attention_heads", c.attention_heads, where);
  io::read_optional(e, "linear_units", c.linear_units, where);
  io::read_optional(e, "num_blocks", c.num_blocks, where);
  io::read_optional(e, "block_size", c.block_size, where);
  io::read_optional(e, "key_bias", c.key_bias, where);
  // Only the layout GLM-4-Voice ships is implemented; anything else is refused, not approximated.
  auto expect = [&](const char* key, const nlohmann::json& want) {
    if (e.contains(key) && e[key] != want)
      throw InputError(source + ": flow encoder '" + key + "' is " + e[key].dump() + ", only " + want.dump() +
                       " is supported");
  };
  expect("input_layer", "linear");
  expect("pos_enc_layer_type", "rel_pos_espnet");
  expect("selfattention_layer_type", "block_rel_selfattn");
  expect("normalize_before", true);
  expect("use_cnn_module", false);
  expect("macaron_style", false);
  expect("activation_type", "swish");
  const auto& r = j["length_regulator"];
  io::read_optional(r, "channels", c.regulator_channels, where);
  if (r.contains("sampling_ratios")) c.regulator_stages = int(r["sampling_ratios"].size());
  const auto& d = j["decoder"];
  io::read_optional(d, "n_timesteps", c.n_timesteps, where);
  if (d.contains("cfm_params")) {
    auto cfm = d["cfm_params"].contains("content") ? d["cfm_params"]["content"] : d["cfm_params"];
    io::read_optional(cfm, "inference_cfg_rate", c.inference_cfg_rate, where);
    io::read_optional(cfm, "t_scheduler", c.t_scheduler, where);
  }
  if (!d.contains("estimator")) throw InputError(source + ": flow decoder 'estimator' missing");
  const auto& s = d["estimator"];
  io::read_optional(s, "in_channels", c.estimator_in_channels, where);
  io::read_optional(s, "out_channels", c.estimator_out_channels, where);
  io::read_optional_list(s, "channels", c.channels, where);
  io::read_optional(s, "attention_head_dim", c.attention_head_dim, where);
  io::read_optional(s, "n_blocks", c.n_blocks, where);
  io::read_optional(s, "num_mid_blocks", c.num_mid_blocks, where);
  io::read_optional(s, "num_heads", c.num_heads, where);
  std::string act = "gelu";
  io::read_optional(s, "act_fn", act, where);
  if (act != "gelu")
    throw InputError(source + ": flow estimator act_fn '" + act + "': only gelu is supported");
  if (c.channels.empty()) throw InputError(source + ": flow estimator 'channels' is empty");
  if (c.t_scheduler != "cosine" && c.t_scheduler != "linear")
    throw InputError(source + ": flow t_scheduler '" + c.t_scheduler + "' (cosine or linear)");
  if (c.estimator_in_channels != 4 * c.output_size)
    throw InputError(source + ": flow estimator in_channels " + std::to_string(c.estimator_in_channels) +
                     " is not 4 x output_size (x, mu, speaker, prompt)");
  // Sizes a model could have: 1 .. 2^20 each (products of a few stay inside 64 bits).
  for (const auto& [name, value] : {std::pair<const char*, int>{"input_size", c.input_size},
                                    {"output_size", c.output_size},
                                    {"spk_embed_dim", c.spk_embed_dim},
                                    {"vocab_size", c.vocab_size},
                                    {"encoder output_size", c.encoder_output_size},
                                    {"attention_heads", c.attention_heads},
                                    {"linear_units", c.linear_units},
                                    {"num_blocks", c.num_blocks},
                                    {"block_size", c.block_size},
                                    {"length_regulator channels", c.regulator_channels},
                                    {"n_timesteps", c.n_timesteps},
                                    {"estimator out_channels", c.estimator_out_channels},
                                    {"attention_head_dim", c.attention_head_dim},
                                    {"n_blocks", c.n_blocks},
                                    {"num_mid_blocks", c.num_mid_blocks},
                                    {"num_heads", c.num_heads}}) {
    if (value <= 0 || value > kMaxSize)
      throw InputError(fmt::format("{}: flow '{}' = {} outside 1..{}", source, name, value, kMaxSize));
  }
  if (c.channels.size() > 64)
    throw InputError(
        fmt::format("{}: flow estimator 'channels' has {} entries (at most 64)", source, c.channels.size()));
  for (int ch : c.channels)
    if (ch <= 0 || ch > kMaxSize)
      throw InputError(
          fmt::format("{}: flow estimator 'channels' entry {} outside 1..{}", source, ch, kMaxSize));
  if (!(c.input_frame_rate > 0 && c.input_frame_rate <= 1000))
    throw InputError(
        fmt::format("{}: flow 'input_frame_rate' = {} outside (0, 1000]", source, c.input_frame_rate));
  if (!std::isfinite(c.inference_cfg_rate))
    throw InputError(
        fmt::format("{}: flow 'inference_cfg_rate' = {} is not a number", source, c.inference_cfg_rate));
  if (c.encoder_output_size % c.attention_heads != 0 || c.block_size <= 0 || c.n_timesteps <= 0)
    throw InputError(source +
                     ": flow encoder sizes do not divide (output_size, heads, block_size, n_timesteps)");
  return c;
}

int64_t FlowConfig::mel_frames(int64_t tokens) const {
  // float32 steps, as the reference's (token_len / input_frame_rate * 22050 / 256).int()
  float f = float(tokens) / float(input_frame_rate);
  f = f * float(mel_sample_rate);
  f = f / float(mel_hop);
  return int64_t(f);
}

}  // namespace symp::speech
