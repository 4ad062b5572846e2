#include "symp/nn/logits.h"

#include <fmt/format.h>

#include "symp/core/error.h"
#include "symp/core/log.h"
#include "symp/nn/glm.h"
#include "symp/nn/tensor_io.h"

namespace symp::nn {

void LogitsOptions::validate() const {
  if (model_dir.empty()) throw UsageError("logits: --model is required");
  if (out.empty()) throw UsageError("logits: --out is required");
  if (ids.empty()) throw UsageError("logits: --ids is empty");
  for (auto id : ids) {
    if (id < 0) throw UsageError(fmt::format("logits: --ids has a negative id {}", id));
  }
  if (dtype != "float32" && dtype != "bfloat16") {
    throw UsageError(fmt::format("logits: --dtype = '{}': expected float32 or bfloat16", dtype));
  }
}

std::vector<int64_t> parse_ids(const std::string& text) {
  std::vector<int64_t> ids;
  size_t start = 0;
  while (start <= text.size()) {
    auto end = text.find(',', start);
    if (end == std::string::npos) end = text.size();
    std::string item = text.substr(start, end - start);
    item.erase(0, item.find_first_not_of(" \t"));
    item.erase(item.find_last_not_of(" \t") + 1);
    if (!item.empty()) {
      size_t used = 0;
      int64_t value = 0;
      try {
        value = std::stoll(item, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != item.size()) throw UsageError(fmt::format("--ids: '{}' is not an integer", item));
      ids.push_back(value);
    }
    start = end + 1;
  }
  return ids;
}

void write_logits(const LogitsOptions& options) {
  options.validate();
  c10::InferenceMode inference;
  const auto dtype = options.dtype == "bfloat16" ? torch::kBFloat16 : torch::kFloat32;
  auto model = load_glm(options.model_dir, dtype);
  model->eval();
  if (!options.adapter_dir.empty()) {
    load_adapter(*model, options.adapter_dir);
    if (options.merge) model->merge_adapters();
  }
  for (auto id : options.ids) {
    if (id >= model->config().vocab_size) {
      throw UsageError(fmt::format("logits: id {} is outside the vocabulary ({} entries)", id,
                                   model->config().vocab_size));
    }
  }
  auto ids = torch::tensor(options.ids, torch::kInt64).unsqueeze(0);
  auto logits = model->forward(ids).squeeze(0).to(torch::kFloat32);
  save_tensors(options.out, {{"logits", logits}});
  log_info("logits", "wrote {} [{}, {}]", options.out, logits.size(0), logits.size(1));
}

}  // namespace symp::nn
