#include "symp/nn/lora_config.h"

#include <fmt/format.h>

#include <cmath>

#include "symp/core/error.h"
#include "symp/io/jsonl.h"

namespace symp::nn {

void LoraConfig::validate() const {
  if (rank <= 0) throw UsageError(fmt::format("lora: rank = {} must be positive", rank));
  if (!(alpha > 0) || !std::isfinite(alpha))
    throw UsageError(fmt::format("lora: alpha = {} must be positive", alpha));
  if (!(dropout >= 0 && dropout < 1))
    throw UsageError(fmt::format("lora: dropout = {} must be in [0, 1)", dropout));
  if (targets.empty()) throw UsageError("lora: targets is empty");
  for (const auto& m : modules_to_save) {
    if (m != "word_embeddings" && m != "embed_tokens")
      throw UsageError("lora: modules_to_save '" + m +
                       "': only the input embedding (word_embeddings or embed_tokens) is supported");
  }
}

double LoraConfig::scale() const {
  return use_rslora ? alpha / std::sqrt(static_cast<double>(rank)) : alpha / static_cast<double>(rank);
}

LoraConfig read_lora_config(const std::string& path) {
  const auto json = io::read_json(path);
  if (!json.is_object()) throw InputError(path + ": expected a JSON object");
  LoraConfig config;
  auto refuse = [&](const std::string& field) {
    const auto it = json.find(field);  // never operator[] on a const object: a missing key is undefined
    throw InputError(fmt::format("{}: field '{}' = {} is not supported by symp's LoRA", path, field,
                                 it == json.end() ? "(absent)" : it->dump()));
  };
  // A switch PEFT has that symp does not implement: absent, null or false only.
  auto require_off = [&](const char* field) {
    bool on = false;
    io::read_optional(json, field, on, path);
    if (on) refuse(field);
  };
  if (!json.contains("peft_type") || json["peft_type"] != "LORA") refuse("peft_type");
  io::read_optional(json, "r", config.rank, path);
  if (!json.contains("r") || json["r"].is_null()) throw InputError(path + ": field 'r' is missing");
  config.alpha = io::require_number(json, "lora_alpha", path);
  config.dropout = json.contains("lora_dropout") ? io::require_number(json, "lora_dropout", path) : 0.0;
  io::read_optional(json, "use_rslora", config.use_rslora, path);
  const auto& targets = io::require_field(json, "target_modules", path);
  if (!targets.is_array()) refuse("target_modules");  // a regex string: not supported
  config.targets.clear();
  for (const auto& t : targets) {
    if (!t.is_string()) refuse("target_modules");
    config.targets.push_back(t.get<std::string>());
  }
  require_off("use_dora");
  require_off("fan_in_fan_out");
  require_off("lora_bias");
  if (json.contains("bias") && json["bias"] != "none") refuse("bias");
  for (const char* field : {"rank_pattern", "alpha_pattern", "layers_to_transform", "target_parameters"}) {
    if (json.contains(field) && !json[field].is_null() && !json[field].empty()) refuse(field);
  }
  if (json.contains("modules_to_save") && !json["modules_to_save"].is_null()) {
    if (!json["modules_to_save"].is_array()) refuse("modules_to_save");
    for (const auto& m : json["modules_to_save"]) {
      if (!m.is_string() || (m != "word_embeddings" && m != "embed_tokens")) refuse("modules_to_save");
      config.modules_to_save.push_back(m.get<std::string>());
    }
  }
  try {
    config.validate();
  } catch (const UsageError& e) {
    throw InputError(path + ": " + e.what());
  }
  return config;
}

}  // namespace symp::nn
