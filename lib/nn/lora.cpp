#include "symp/nn/lora.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/io/jsonl.h"
#include "symp/io/safetensors.h"
#include "symp/nn/glm.h"
#include "symp/nn/tensor_io.h"

namespace symp::nn {

LoraLinearImpl::LoraLinearImpl(int64_t in_features, int64_t out_features, bool bias,
                               const torch::TensorOptions& options) {
  weight_ = register_parameter("weight", torch::empty({out_features, in_features}, options));
  if (bias) bias_ = register_parameter("bias", torch::zeros({out_features}, options));
}

torch::Tensor LoraLinearImpl::forward(const torch::Tensor& x) {
  auto y = torch::linear(x, weight_, bias_);
  if (!lora_a_.defined() || merged_) return y;
  // PEFT: result + lora_B(lora_A(dropout(x))) * scaling, the adapter in its own (fp32) dtype.
  auto h = x.to(lora_a_.scalar_type());
  if (is_training() && dropout_ > 0) h = torch::dropout(h, dropout_, true);
  return y + (torch::linear(torch::linear(h, lora_a_), lora_b_) * scale_).to(y.scalar_type());
}

void LoraLinearImpl::add_adapter(int64_t rank, double scale, double dropout) {
  if (has_adapter()) remove_adapter();
  torch::NoGradGuard no_grad;
  auto options = weight_.options().dtype(torch::kFloat32);
  auto a = register_module("lora_A", std::make_shared<torch::nn::Module>());
  auto b = register_module("lora_B", std::make_shared<torch::nn::Module>());
  lora_a_ = a->register_parameter("weight", torch::empty({rank, in_features()}, options));
  lora_b_ = b->register_parameter("weight", torch::zeros({out_features(), rank}, options));
  // PEFT's init: kaiming_uniform_(a = sqrt(5)) = uniform(-1/sqrt(in), 1/sqrt(in)); B = 0, so the
  // adapted model starts equal to the base.
  const double bound = 1.0 / std::sqrt(static_cast<double>(in_features()));
  lora_a_.uniform_(-bound, bound);
  scale_ = scale;
  dropout_ = dropout;
  merged_ = false;
  block_rows.clear();
}

void LoraLinearImpl::remove_adapter() {
  if (!has_adapter()) return;
  unmerge();
  unregister_module("lora_A");
  unregister_module("lora_B");
  lora_a_ = torch::Tensor();
  lora_b_ = torch::Tensor();
  block_rows.clear();
}

torch::Tensor LoraLinearImpl::delta() const {
  return (torch::matmul(lora_b_, lora_a_) * scale_).to(weight_.scalar_type());
}

void LoraLinearImpl::merge() {
  if (!has_adapter() || merged_) return;
  torch::NoGradGuard no_grad;
  weight_.add_(delta());
  merged_ = true;
}

void LoraLinearImpl::unmerge() {
  if (!has_adapter() || !merged_) return;
  torch::NoGradGuard no_grad;
  weight_.sub_(delta());
  merged_ = false;
}

namespace {

const std::string kPrefix = "base_model.model.";

// The input embedding's module name in the checkpoint's layout (the adapter's key is kPrefix + it +
// ".weight").
std::string embedding_module(GlmLayout layout) {
  return layout == GlmLayout::ChatGlm ? "transformer.embedding.word_embeddings" : "model.embed_tokens";
}

// One PEFT module that holds a row block of a symp linear layer: the fused query_key_value of the ChatGLM
// layout is q_proj, k_proj and v_proj in transformers' layout.
struct Part {
  std::string module;  // PEFT module name in the checkpoint's layout
  int64_t row_offset = 0, rows = 0;
};

std::vector<Part> parts_of(const std::string& name, const LoraLinearImpl& linear, const GlmConfig& config) {
  const int64_t out = linear.out_features();
  if (config.layout == GlmLayout::ChatGlm) return {{name, 0, out}};
  if (name == "transformer.output_layer") return {{"lm_head", 0, out}};
  static const std::string layer_prefix = "transformer.encoder.layers.";
  const auto dot = name.find('.', layer_prefix.size());
  const std::string layer =
      "model.layers." + name.substr(layer_prefix.size(), dot - layer_prefix.size()) + ".";
  const std::string rest = name.substr(dot + 1);
  if (rest == "self_attention.query_key_value") {
    const int64_t q = config.num_heads * config.head_dim, kv = config.num_kv_heads * config.head_dim;
    return {{layer + "self_attn.q_proj", 0, q},
            {layer + "self_attn.k_proj", q, kv},
            {layer + "self_attn.v_proj", q + kv, kv}};
  }
  if (rest == "self_attention.dense") return {{layer + "self_attn.o_proj", 0, out}};
  if (rest == "mlp.dense_h_to_4h") return {{layer + "mlp.gate_up_proj", 0, out}};
  return {{layer + "mlp.down_proj", 0, out}};
}

// PEFT's rule: a target matches a module named exactly so or ending in "." + target.
bool matches(const std::string& module, const std::vector<std::string>& targets) {
  for (const auto& t : targets) {
    if (module == t ||
        (module.size() > t.size() && module.compare(module.size() - t.size(), t.size(), t) == 0 &&
         module[module.size() - t.size() - 1] == '.')) {
      return true;
    }
  }
  return false;
}

// Targets given in ChatGLM names (the defaults) translated for a transformers-layout model.
std::vector<std::string> layout_targets(const std::vector<std::string>& targets, GlmLayout layout) {
  if (layout == GlmLayout::ChatGlm) return targets;
  std::vector<std::string> out;
  for (const auto& t : targets) {
    if (t == "query_key_value") {
      out.insert(out.end(), {"q_proj", "k_proj", "v_proj"});
    } else if (t == "dense") {
      out.push_back("o_proj");
    } else if (t == "dense_h_to_4h") {
      out.push_back("gate_up_proj");
    } else if (t == "dense_4h_to_h") {
      out.push_back("down_proj");
    } else {
      out.push_back(t);
    }
  }
  return out;
}

std::string shape_string(torch::IntArrayRef shape) {
  return fmt::format("[{}]", fmt::join(shape.begin(), shape.end(), ", "));
}

}  // namespace

int attach_lora(GlmModelImpl& model, const LoraConfig& config) {
  config.validate();
  const auto targets = layout_targets(config.targets, model.config().layout);
  for (auto& p : model.parameters()) p.set_requires_grad(false);
  int attached = 0;
  for (auto& [name, linear] : model.linears()) {
    const auto parts = parts_of(name, *linear, model.config());
    size_t targeted = 0;
    for (const auto& part : parts) targeted += matches(part.module, targets);
    if (targeted == 0) continue;
    if (targeted != parts.size()) {
      throw UsageError(
          fmt::format("lora: targets {} select only some of the projections fused in '{}'; train "
                      "q, k and v together",
                      fmt::join(config.targets, ","), name));
    }
    linear->add_adapter(config.rank, config.scale(), config.dropout);
    ++attached;
  }
  if (attached == 0) {
    throw UsageError(
        fmt::format("lora: targets {} match no linear layer of the model", fmt::join(config.targets, ",")));
  }
  if (!config.modules_to_save.empty()) {
    if (model.embedding_weight().scalar_type() != torch::kFloat32)
      throw UsageError("lora: modules_to_save trains the embedding in full; use --dtype float32");
    model.embedding_weight().set_requires_grad(true);
  }
  return attached;
}

LoraConfig load_adapter(GlmModelImpl& model, const std::string& dir) {
  return with_context("loading adapter " + dir, [&] {
    const auto config = read_lora_config((fs::path(dir) / "adapter_config.json").string());
    const std::string file = (fs::path(dir) / "adapter_model.safetensors").string();
    auto tensors = io::SafetensorsModel::open(file);
    std::set<std::string> used, matched_targets;
    torch::NoGradGuard no_grad;
    model.remove_adapters();
    for (auto& [name, linear] : model.linears()) {
      const auto parts = parts_of(name, *linear, model.config());
      std::vector<std::pair<const Part*, std::pair<torch::Tensor, torch::Tensor>>> found;
      for (const auto& part : parts) {
        if (!matches(part.module, config.targets)) continue;
        for (const auto& t : config.targets) {
          if (matches(part.module, {t})) matched_targets.insert(t);
        }
        const std::string key_a = kPrefix + part.module + ".lora_A.weight";
        const std::string key_b = kPrefix + part.module + ".lora_B.weight";
        for (const auto& key : {key_a, key_b}) {
          if (!tensors.contains(key)) throw InputError(fmt::format("{}: missing tensor '{}'", file, key));
          used.insert(key);
        }
        auto a = to_tensor(tensors.get(key_a), torch::kFloat32);
        auto b = to_tensor(tensors.get(key_b), torch::kFloat32);
        const std::vector<int64_t> want_a{config.rank, linear->in_features()}, want_b{part.rows, config.rank};
        if (a.sizes() != torch::IntArrayRef(want_a) || b.sizes() != torch::IntArrayRef(want_b)) {
          throw InputError(fmt::format("{}: '{}' {} / '{}' {} do not fit module '{}' (expected {} and {})",
                                       file, key_a, shape_string(a.sizes()), key_b, shape_string(b.sizes()),
                                       part.module, shape_string(want_a), shape_string(want_b)));
        }
        found.push_back({&part, {a, b}});
      }
      if (found.empty()) continue;
      const int64_t rank = config.rank * static_cast<int64_t>(found.size());
      linear->add_adapter(rank, config.scale(), config.dropout);
      if (parts.size() == 1) {
        linear->lora_a().copy_(found[0].second.first);
        linear->lora_b().copy_(found[0].second.second);
        continue;
      }
      // Separate adapters on the parts of a fused projection: stacked A, block-diagonal B.
      linear->lora_b().zero_();
      for (size_t i = 0; i < found.size(); ++i) {
        const auto& [part, ab] = found[i];
        const int64_t r0 = static_cast<int64_t>(i) * config.rank;
        linear->lora_a().narrow(0, r0, config.rank).copy_(ab.first);
        linear->lora_b().narrow(0, part->row_offset, part->rows).narrow(1, r0, config.rank).copy_(ab.second);
      }
      for (const auto& part : parts) linear->block_rows.push_back(part.rows);
    }
    if (!config.modules_to_save.empty()) {  // the embedding trained in full replaces the base's
      const std::string key = kPrefix + embedding_module(model.config().layout) + ".weight";
      if (!tensors.contains(key))
        throw InputError(fmt::format("{}: missing tensor '{}' (modules_to_save)", file, key));
      auto e = to_tensor(tensors.get(key), model.embedding_weight().scalar_type());
      if (e.sizes() != model.embedding_weight().sizes())
        throw InputError(fmt::format("{}: '{}' {} does not fit the model's embedding {}", file, key,
                                     shape_string(e.sizes()),
                                     shape_string(model.embedding_weight().sizes())));
      model.embedding_weight().copy_(e);
      used.insert(key);
    }
    for (const auto& t : config.targets) {
      if (!matched_targets.count(t)) {
        throw InputError(
            fmt::format("target module '{}' matches no layer of this {} model (an adapter for "
                        "another architecture?)",
                        t, model.config().layout == GlmLayout::ChatGlm ? "ChatGLM-layout" : "Glm"));
      }
    }
    for (const auto& key : tensors.names()) {
      if (!used.count(key)) throw InputError(fmt::format("{}: unexpected tensor '{}'", file, key));
    }
    return config;
  });
}

void save_adapter(GlmModelImpl& model, const LoraConfig& config, const std::string& dir,
                  const std::string& base_model_name) {
  const auto targets = layout_targets(config.targets, model.config().layout);
  std::map<std::string, torch::Tensor> tensors;
  for (auto& [name, linear] : model.linears()) {
    if (!linear->has_adapter()) continue;
    if (linear->merged()) throw UsageError(fmt::format("lora: '{}' is merged; unmerge before saving", name));
    auto a = linear->lora_a().detach(), b = linear->lora_b().detach();
    const auto parts = parts_of(name, *linear, model.config());
    int64_t block = 0;
    for (const auto& part : parts) {
      if (!matches(part.module, targets)) continue;
      auto rows = b.narrow(0, part.row_offset, part.rows);
      torch::Tensor part_a = a, part_b = rows;
      if (!linear->block_rows.empty()) {
        // Block-diagonal (read from separate adapters): each part owns its own rank block.
        part_a = a.narrow(0, block * config.rank, config.rank);
        part_b = rows.narrow(1, block * config.rank, config.rank);
        ++block;
      } else if (a.size(0) != config.rank) {
        throw UsageError(
            fmt::format("lora: '{}' has rank {}, the config says {}", name, a.size(0), config.rank));
      }
      tensors[kPrefix + part.module + ".lora_A.weight"] = part_a.contiguous();
      tensors[kPrefix + part.module + ".lora_B.weight"] = part_b.contiguous();
    }
  }
  if (tensors.empty()) throw UsageError("lora: the model has no adapters to save");
  std::vector<std::string> modules_to_save;
  if (!config.modules_to_save.empty()) {
    const std::string module = embedding_module(model.config().layout);
    tensors[kPrefix + module + ".weight"] = model.embedding_weight().detach().contiguous();
    modules_to_save.push_back(module.substr(module.rfind('.') + 1));
  }
  ensure_dir(dir);
  save_tensors((fs::path(dir) / "adapter_model.safetensors").string(), tensors, {{"format", "pt"}});
  io::Json json;
  json["peft_type"] = "LORA";
  json["task_type"] = "CAUSAL_LM";
  json["r"] = config.rank;
  json["lora_alpha"] = config.alpha;
  json["lora_dropout"] = config.dropout;
  json["target_modules"] = targets;
  json["bias"] = "none";
  json["fan_in_fan_out"] = false;
  json["use_rslora"] = config.use_rslora;
  json["use_dora"] = false;
  json["inference_mode"] = true;
  json["init_lora_weights"] = true;
  json["modules_to_save"] = modules_to_save.empty() ? io::Json(nullptr) : io::Json(modules_to_save);
  json["layers_to_transform"] = nullptr;
  json["rank_pattern"] = io::Json::object();
  json["alpha_pattern"] = io::Json::object();
  json["base_model_name_or_path"] = base_model_name.empty() ? io::Json(nullptr) : io::Json(base_model_name);
  json["revision"] = nullptr;
  io::write_json_atomic((fs::path(dir) / "adapter_config.json").string(), json);
}

}  // namespace symp::nn
