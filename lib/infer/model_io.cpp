#include "model_io.h"

#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/nn/lora.h"
#include "symp/text/glm_tokenizer.h"
#include "symp/text/sentencepiece.h"

namespace symp::infer {

std::unique_ptr<text::ChatTokenizer> open_tokenizer(const std::string& dir) {
  if (fs::exists(fs::path(dir) / text::SpmTokenizer::kConfigFile)) {
    return std::make_unique<text::SpmTokenizer>(text::SpmTokenizer::load(dir));
  }
  if (fs::exists(fs::path(dir) / "tokenizer_config.json")) {
    return std::make_unique<text::GlmTokenizer>(text::GlmTokenizer::load(dir));
  }
  throw InputError(
      dir + ": neither a symp tokenizer (tokenizer.json) nor a GLM-4 tokenizer (tokenizer_config.json)");
}

torch::Device parse_device(const std::string& name) {
  try {
    torch::Device d(name);
    if (d.is_cuda() && !torch::cuda::is_available())
      throw UsageError("--device " + name + ": CUDA is not available");
    return d;
  } catch (const c10::Error&) {
    throw UsageError("--device: unknown device '" + name + "'");
  }
}

std::vector<SystemSpec> parse_systems(bool include_base, const std::string& base_name,
                                      const std::vector<std::string>& adapters) {
  std::vector<SystemSpec> systems;
  if (include_base || adapters.empty()) systems.push_back({base_name, ""});
  for (const auto& a : adapters) {
    const auto eq = a.find('=');
    SystemSpec s;
    s.adapter_dir = eq == std::string::npos ? a : a.substr(eq + 1);
    s.name = eq == std::string::npos ? fs::path(s.adapter_dir).lexically_normal().filename().string()
                                     : a.substr(0, eq);
    if (s.name.empty()) s.name = "adapter";
    for (const auto& other : systems) {
      if (other.name == s.name)
        throw UsageError("--adapter: two systems named '" + s.name + "' (use NAME=DIR)");
    }
    systems.push_back(s);
  }
  return systems;
}

nn::GlmModel load_system(const std::string& model_dir, const SystemSpec& system, torch::ScalarType dtype,
                         const torch::Device& device) {
  auto model = nn::load_glm(model_dir, dtype, device);
  if (!system.adapter_dir.empty()) {
    with_context("adapter " + system.adapter_dir,
                 [&] { return nn::load_adapter(*model, system.adapter_dir); });
    model->merge_adapters();
  }
  model->eval();
  return model;
}

}  // namespace symp::infer
