#include "symp/nn/glm.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <set>

#include "symp/core/error.h"
#include "symp/core/fs.h"
#include "symp/core/log.h"
#include "symp/io/safetensors.h"
#include "symp/nn/tensor_io.h"
#include "symp/nn/torch_compat.h"

namespace symp::nn {
namespace {

// A named container module (ChatGLM nests its modules: transformer.encoder.layers.N.mlp...).
std::shared_ptr<torch::nn::Module> container(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

// Rotates x [B, T, H, D] in interleaved pairs (x0, x1) -> (x0 c - x1 s, x1 c + x0 s) on the first
// rotary_dim dims, as ChatGLM's apply_rotary_pos_emb and transformers' Glm do. cos/sin are full-width
// tables [T, D] (see GlmModelImpl::rope): each pair's angle twice, sin signed (-s, +s), and cos 1 / sin 0
// on the dims that are not rotated, so the whole rotation is x * cos + swap_pairs(x) * sin.
torch::Tensor apply_rope(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin) {
  const int64_t d = x.size(-1);
  auto swapped = x.reshape({x.size(0), x.size(1), x.size(2), d / 2, 2}).flip(-1).view(x.sizes());
  auto c = cos.view({1, cos.size(0), 1, d}), s = sin.view({1, sin.size(0), 1, d});
  return x * c + swapped * s;
}

// RMSNorm with its gradient written out (autograd's chain through pow, mean, rsqrt and two broadcasts
// costs about twice the operations): n = x r with r = 1 / sqrt(mean(x^2) + eps), y = w n in x's dtype;
// dx = r (g w - n mean(g w n)), dw = sum over rows of g n. Normalises in fp32 as ChatGLM does.
struct RmsNormFunction : public torch::autograd::Function<RmsNormFunction> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x, torch::Tensor weight,
                               double eps) {
    auto h = x.to(torch::kFloat32);
    auto r = torch::rsqrt(h.pow(2).mean(-1, true) + eps);
    auto n = h * r;
    ctx->save_for_backward({n, r, weight});
    ctx->saved_data["dtype"] = static_cast<int64_t>(x.scalar_type());
    return (weight * n).to(x.scalar_type());
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    const auto saved = ctx->get_saved_variables();
    const auto& n = saved[0];
    const auto& r = saved[1];
    const auto& weight = saved[2];
    auto g = grads[0].to(torch::kFloat32);
    auto gw = g * weight;  // weight promotes to fp32 here
    auto dx = (r * (gw - n * (gw * n).mean(-1, true)))
                  .to(static_cast<torch::ScalarType>(ctx->saved_data["dtype"].toInt()));
    torch::Tensor dweight;
    if (weight.requires_grad()) dweight = (g * n).reshape({-1, n.size(-1)}).sum(0).to(weight.scalar_type());
    return {dx, dweight, torch::Tensor()};
  }
};

// Reentrant activation checkpointing of one block (as torch.utils.checkpoint with use_reentrant): forward
// runs without building a graph; backward restores the RNG, recomputes the block with a graph and
// backpropagates through it, which accumulates the block's parameter gradients and yields the input's.
struct CheckpointedBlock : public torch::autograd::Function<CheckpointedBlock> {
  static torch::Tensor forward(torch::autograd::AutogradContext* ctx, torch::Tensor x, torch::Tensor cos,
                               torch::Tensor sin, int64_t block_address) {
    auto* block = reinterpret_cast<GlmBlockImpl*>(block_address);
    ctx->saved_data["block"] = block_address;
    ctx->saved_data["rng"] = at::globalContext().defaultGenerator(x.device()).get_state();
    ctx->save_for_backward({x, cos, sin});
    return block->forward(x, cos, sin);
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grads) {
    auto* block = reinterpret_cast<GlmBlockImpl*>(ctx->saved_data["block"].toInt());
    const auto saved = ctx->get_saved_variables();
    auto x = saved[0].detach().requires_grad_(true);
    auto generator = at::globalContext().defaultGenerator(x.device());
    const auto now = generator.get_state();
    generator.set_state(ctx->saved_data["rng"].toTensor());
    torch::Tensor out;
    {
      torch::AutoGradMode enable(true);
      out = block->forward(x, saved[1], saved[2]);
    }
    generator.set_state(now);
    torch::autograd::backward({out}, {grads[0]});
    return {x.grad(), torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

RmsNormImpl::RmsNormImpl(int64_t size, double eps, const torch::TensorOptions& options) : eps_(eps) {
  weight_ = register_parameter("weight", torch::ones({size}, options));
}

torch::Tensor RmsNormImpl::forward(const torch::Tensor& x) {
  if (torch::GradMode::is_enabled() && (x.requires_grad() || weight_.requires_grad())) {
    return RmsNormFunction::apply(x, weight_, eps_);
  }
  auto h = x.to(torch::kFloat32);
  h = h * torch::rsqrt(h.pow(2).mean(-1, true) + eps_);
  return (weight_ * h).to(x.scalar_type());
}

GlmBlockImpl::GlmBlockImpl(const GlmConfig& config, const torch::TensorOptions& options) : config_(config) {
  input_layernorm_ =
      register_module("input_layernorm", RmsNorm(config.hidden_size, config.norm_eps, options));
  auto attention = container(*this, "self_attention");
  query_key_value_ = attention->register_module(
      "query_key_value", LoraLinear(config.hidden_size, config.qkv_size(), config.qkv_bias, options));
  dense_ = attention->register_module(
      "dense", LoraLinear(config.num_heads * config.head_dim, config.hidden_size, false, options));
  post_attention_layernorm_ =
      register_module("post_attention_layernorm", RmsNorm(config.hidden_size, config.norm_eps, options));
  auto mlp = container(*this, "mlp");
  dense_h_to_4h_ = mlp->register_module(
      "dense_h_to_4h", LoraLinear(config.hidden_size, 2 * config.ffn_hidden_size, false, options));
  dense_4h_to_h_ = mlp->register_module(
      "dense_4h_to_h", LoraLinear(config.ffn_hidden_size, config.hidden_size, false, options));
}

namespace {

// Writes k or v [B, kv_heads, T, d] at positions [start, start + T) of a layer's cache buffer (growing it
// geometrically when full) and returns the valid prefix [B, kv_heads, start + T, d], a view of the buffer.
torch::Tensor append_to_cache(torch::Tensor& buffer, const torch::Tensor& fresh, int64_t start,
                              int64_t reserved) {
  const int64_t need = start + fresh.size(2);
  if (buffer.defined() && (buffer.size(0) != fresh.size(0) || buffer.device() != fresh.device() ||
                           buffer.scalar_type() != fresh.scalar_type()))
    throw UsageError("glm forward: the KV cache holds another batch size, device or dtype: clear() it first");
  if (!buffer.defined() || buffer.size(2) < need) {
    const int64_t old = buffer.defined() ? buffer.size(2) : 0;
    const int64_t capacity = std::max({need, 2 * old, reserved});
    auto grown = torch::empty({fresh.size(0), fresh.size(1), capacity, fresh.size(3)}, fresh.options());
    if (start > 0) grown.narrow(2, 0, start).copy_(buffer.narrow(2, 0, start));
    buffer = grown;
  }
  buffer.narrow(2, start, fresh.size(2)).copy_(fresh);
  return buffer.narrow(2, 0, need);
}

}  // namespace

torch::Tensor GlmBlockImpl::attention(const torch::Tensor& x, const torch::Tensor& cos,
                                      const torch::Tensor& sin, KvCache* cache, size_t layer) {
  const int64_t batch = x.size(0), length = x.size(1), d = config_.head_dim;
  const int64_t heads = config_.num_heads, groups = config_.num_kv_heads;
  auto qkv = query_key_value_->forward(x);
  // Queries and keys lie side by side in qkv: rotate them in one pass.
  auto qk =
      apply_rope(qkv.narrow(-1, 0, (heads + groups) * d).view({batch, length, heads + groups, d}), cos, sin);
  auto q = qk.narrow(2, 0, heads).transpose(1, 2);
  auto k = qk.narrow(2, heads, groups).transpose(1, 2);
  auto v = qkv.narrow(-1, (heads + groups) * d, groups * d).view({batch, length, groups, d}).transpose(1, 2);
  if (cache != nullptr) {
    if (torch::GradMode::is_enabled() && k.requires_grad())
      throw UsageError("glm forward: the KV cache is for inference; run it under torch::NoGradGuard");
    k = append_to_cache(cache->keys[layer], k, cache->length, cache->reserved);
    v = append_to_cache(cache->values[layer], v, cache->length, cache->reserved);
  }
  const int64_t total = k.size(2);
  torch::Tensor out;
  if (length < total) {
    // New queries at positions total-length .. total-1 of a longer cached sequence. The query heads of a
    // KV group attend together ([B, groups, heads/groups x length, d] against the group's keys), so the
    // cache is read in place rather than repeated per head.
    const int64_t per_group = heads / groups;
    auto grouped = q.reshape({batch, groups, per_group * length, d});
    torch::Tensor mask;
    if (length > 1)  // causal, bottom-right; rows are (head in group, position)
      mask = compat::causal_bias(length, total, q.options()).repeat({per_group, 1});
    out = compat::attention(grouped, k, v, mask, false).reshape({batch, heads, length, d});
  } else {
    if (groups != heads) {  // each KV group serves heads / groups query heads (a broadcast, not a gather)
      k = k.unsqueeze(2).expand({batch, groups, heads / groups, total, d}).reshape({batch, heads, total, d});
      v = v.unsqueeze(2).expand({batch, groups, heads / groups, total, d}).reshape({batch, heads, total, d});
    }
    out = compat::attention(q, k, v, {}, true);
  }
  out = out.transpose(1, 2).reshape({batch, length, heads * d});
  return dense_->forward(out);
}

torch::Tensor GlmBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& cos,
                                    const torch::Tensor& sin, KvCache* cache, size_t layer) {
  auto h = x + attention(input_layernorm_->forward(x), cos, sin, cache, layer);
  auto gate_up = dense_h_to_4h_->forward(post_attention_layernorm_->forward(h));
  auto halves = gate_up.chunk(2, -1);  // gate first, then up (SwiGLU)
  return h + dense_4h_to_h_->forward(torch::silu(halves[0]) * halves[1]);
}

GlmModelImpl::GlmModelImpl(const GlmConfig& config, const torch::TensorOptions& options) : config_(config) {
  config_.validate();
  auto transformer = container(*this, "transformer");
  auto embedding = container(*transformer, "embedding");
  auto word_embeddings = container(*embedding, "word_embeddings");
  embedding_weight_ = word_embeddings->register_parameter(
      "weight", torch::empty({config.vocab_size, config.hidden_size}, options));
  auto encoder = container(*transformer, "encoder");
  layers_ = encoder->register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < config.num_layers; ++i) layers_->push_back(GlmBlock(config, options));
  final_layernorm_ =
      encoder->register_module("final_layernorm", RmsNorm(config.hidden_size, config.norm_eps, options));
  if (!config.tie_embeddings) {
    output_layer_ = transformer->register_module(
        "output_layer", LoraLinear(config.hidden_size, config.vocab_size, false, options));
  }
  // ChatGLM: theta_i = 1 / base^(2i / rot) for the rot / 2 pairs, computed in fp32.
  const int64_t rot = config.rotary_dim;
  auto float_options = torch::TensorOptions().dtype(torch::kFloat32);  // CPU; moved on first use
  inv_freq_ = 1.0 / torch::pow(torch::full({}, config.rope_base, float_options),
                               torch::arange(0, rot, 2, float_options) / static_cast<double>(rot));
}

std::pair<torch::Tensor, torch::Tensor> GlmModelImpl::rope(int64_t start, int64_t length,
                                                           const torch::Device& device) {
  if (inv_freq_.device() != device) inv_freq_ = inv_freq_.to(device);
  auto positions = torch::arange(start, start + length, inv_freq_.options());
  auto angles = torch::outer(positions, inv_freq_);  // [T, rot / 2]
  // Full-width tables for apply_rope: (c, c) and (-s, +s) per pair, then 1 and 0 past rotary_dim.
  auto cos = angles.cos().repeat_interleave(2, -1);
  auto sin = torch::stack({-angles.sin(), angles.sin()}, -1).flatten(1);
  const int64_t rest = config_.head_dim - config_.rotary_dim;
  if (rest > 0) {
    cos = torch::cat({cos, torch::ones({length, rest}, cos.options())}, -1);
    sin = torch::cat({sin, torch::zeros({length, rest}, sin.options())}, -1);
  }
  return {cos, sin};
}

torch::Tensor GlmModelImpl::hidden_states(const torch::Tensor& ids, KvCache* cache) {
  if (ids.dim() != 2)
    throw UsageError(fmt::format("glm forward: ids must be [batch, time], got {} dims", ids.dim()));
  auto x = torch::embedding(embedding_weight_, ids);
  const int64_t start = cache != nullptr ? cache->length : 0;
  auto [cos, sin] = rope(start, ids.size(1), x.device());
  cos = cos.to(x.scalar_type());
  sin = sin.to(x.scalar_type());
  if (cache != nullptr) {
    cache->keys.resize(layers_->size());
    cache->values.resize(layers_->size());
  }
  const bool checkpoint =
      checkpointing_ && is_training() && torch::GradMode::is_enabled() && cache == nullptr;
  // A frozen embedding gives an input without grad, and then backward would never reach the blocks.
  if (checkpoint && !x.requires_grad()) x = x.detach().requires_grad_(true);
  for (size_t i = 0; i < layers_->size(); ++i) {
    auto* block = layers_->ptr<GlmBlockImpl>(i).get();
    if (checkpoint) {
      x = CheckpointedBlock::apply(x, cos, sin, reinterpret_cast<int64_t>(block));
      continue;
    }
    x = block->forward(x, cos, sin, cache, i);
  }
  if (cache != nullptr) cache->length += ids.size(1);
  return final_layernorm_->forward(x);
}

torch::Tensor GlmModelImpl::output_logits(const torch::Tensor& hidden) {
  if (output_layer_) return output_layer_->forward(hidden);
  return torch::linear(hidden, embedding_weight_);
}

torch::Tensor GlmModelImpl::forward(const torch::Tensor& ids, KvCache* cache) {
  return output_logits(hidden_states(ids, cache));
}

void GlmModelImpl::init_weights(uint64_t seed, double std) {
  torch::NoGradGuard no_grad;
  auto generator = at::detail::createCPUGenerator(seed);
  for (auto& item : named_parameters()) {
    auto& p = item.value();
    const auto& name = item.key();
    if (name.find("lora_") != std::string::npos) continue;
    auto cpu = torch::empty(p.sizes(), torch::kFloat32);
    if (name.find("layernorm") != std::string::npos) {
      cpu.fill_(1.0);
    } else if (p.dim() == 1) {
      cpu.zero_();
    } else {
      cpu.normal_(0.0, std, generator);
    }
    p.copy_(cpu);
  }
}

void GlmModelImpl::init_product_rows(int64_t first, const std::vector<int64_t>& radices, uint64_t seed,
                                     double std) {
  int64_t count = 1;
  for (const int64_t r : radices) {
    if (r < 1) throw UsageError(fmt::format("product rows: every radix must be >= 1, got {}", r));
    count *= r;
  }
  if (radices.empty() || first < 0 || first + count > config_.vocab_size)
    throw InputError(fmt::format("product rows: ids {}..{} are outside the vocabulary of {}", first,
                                 first + count - 1, config_.vocab_size));
  torch::NoGradGuard no_grad;
  auto generator = at::detail::createCPUGenerator(seed);
  const double factor_std = std / std::sqrt(static_cast<double>(radices.size()));
  auto fill = [&](torch::Tensor& weight) {
    auto rows = torch::zeros({count, weight.size(1)}, torch::kFloat32);
    int64_t stride = count;
    for (const int64_t r : radices) {
      stride /= r;
      auto values = torch::empty({r, weight.size(1)}, torch::kFloat32);
      values.normal_(0.0, factor_std, generator);
      std::vector<int64_t> index(static_cast<size_t>(count));
      for (int64_t id = 0; id < count; ++id) index[static_cast<size_t>(id)] = (id / stride) % r;
      rows += values.index_select(0, torch::tensor(index, torch::kInt64));
    }
    weight.narrow(0, first, count).copy_(rows.to(weight.options()));
  };
  fill(embedding_weight_);
  if (output_layer_) fill(output_layer_->weight());
}

void GlmModelImpl::project_product_rows(int64_t first, const std::vector<int64_t>& radices) {
  int64_t count = 1;
  for (const int64_t r : radices) count *= r;
  if (radices.empty() || first < 0 || count < 1 || first + count > config_.vocab_size)
    throw InputError(fmt::format("product rows: ids {}..{} are outside the vocabulary of {}", first,
                                 first + count - 1, config_.vocab_size));
  torch::NoGradGuard no_grad;
  const auto factors = static_cast<int64_t>(radices.size());
  auto project = [&](torch::Tensor& weight) {
    auto rows = weight.narrow(0, first, count);
    std::vector<int64_t> shape(radices.begin(), radices.end());
    shape.push_back(weight.size(1));
    const auto w = rows.to(torch::kFloat32).reshape(shape);
    std::vector<int64_t> all(static_cast<size_t>(factors));
    for (int64_t i = 0; i < factors; ++i) all[static_cast<size_t>(i)] = i;
    const auto mean = w.mean(all, /*keepdim=*/true);
    auto sum = mean.clone();
    for (int64_t i = 0; i < factors; ++i) {
      std::vector<int64_t> others;
      for (int64_t j = 0; j < factors; ++j)
        if (j != i) others.push_back(j);
      sum = sum + ((others.empty() ? w : w.mean(others, /*keepdim=*/true)) - mean);
    }
    rows.copy_(sum.expand_as(w).reshape({count, weight.size(1)}).to(weight.dtype()));
  };
  project(embedding_weight_);
  if (output_layer_) project(output_layer_->weight());
}

std::vector<std::pair<std::string, LoraLinear>> GlmModelImpl::linears() const {
  std::vector<std::pair<std::string, LoraLinear>> out;
  for (const auto& item : named_modules("", false)) {
    if (auto linear = std::dynamic_pointer_cast<LoraLinearImpl>(item.value())) {
      out.emplace_back(item.key(), LoraLinear(linear));
    }
  }
  return out;
}

void GlmModelImpl::merge_adapters() {
  for (auto& [name, linear] : linears()) linear->merge();
}
void GlmModelImpl::unmerge_adapters() {
  for (auto& [name, linear] : linears()) linear->unmerge();
}
void GlmModelImpl::remove_adapters() {
  for (auto& [name, linear] : linears()) linear->remove_adapter();
}

std::vector<std::pair<std::string, torch::Tensor>> GlmModelImpl::base_parameters() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& item : named_parameters()) {
    if (item.key().find(".lora_") == std::string::npos) out.emplace_back(item.key(), item.value());
  }
  return out;
}

namespace {

// The checkpoint tensors (concatenated along dim 0) that hold one ChatGLM-named parameter.
std::vector<std::string> checkpoint_sources(const std::string& name, GlmLayout layout) {
  if (layout == GlmLayout::ChatGlm) return {name};
  static const std::string layer_prefix = "transformer.encoder.layers.";
  if (name == "transformer.embedding.word_embeddings.weight") return {"model.embed_tokens.weight"};
  if (name == "transformer.encoder.final_layernorm.weight") return {"model.norm.weight"};
  if (name == "transformer.output_layer.weight") return {"lm_head.weight"};
  if (name.rfind(layer_prefix, 0) != 0) return {name};
  const auto dot = name.find('.', layer_prefix.size());
  const std::string hf_layer =
      "model.layers." + name.substr(layer_prefix.size(), dot - layer_prefix.size()) + ".";
  const std::string rest = name.substr(dot + 1);
  if (rest == "self_attention.query_key_value.weight" || rest == "self_attention.query_key_value.bias") {
    const std::string kind = rest.substr(rest.rfind('.') + 1);
    return {hf_layer + "self_attn.q_proj." + kind, hf_layer + "self_attn.k_proj." + kind,
            hf_layer + "self_attn.v_proj." + kind};
  }
  if (rest == "self_attention.dense.weight") return {hf_layer + "self_attn.o_proj.weight"};
  if (rest == "mlp.dense_h_to_4h.weight") return {hf_layer + "mlp.gate_up_proj.weight"};
  if (rest == "mlp.dense_4h_to_h.weight") return {hf_layer + "mlp.down_proj.weight"};
  return {hf_layer + rest};  // input_layernorm.weight, post_attention_layernorm.weight
}

std::string shape_string(torch::IntArrayRef shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

GlmModel load_glm(const std::string& dir, torch::ScalarType dtype, const torch::Device& device) {
  return with_context("loading GLM model " + dir, [&] {
    const auto config = GlmConfig::load(dir);
    auto checkpoint = io::SafetensorsModel::open(dir);
    GlmModel model(config, torch::TensorOptions().dtype(dtype).device(device));
    std::set<std::string> used;
    torch::NoGradGuard no_grad;
    for (auto& [name, param] : model->base_parameters()) {
      std::vector<torch::Tensor> parts;
      for (const auto& source : checkpoint_sources(name, config.layout)) {
        if (!checkpoint.contains(source)) {
          throw InputError(
              fmt::format("missing tensor '{}' (for {} {})", source, name, shape_string(param.sizes())));
        }
        const auto& view = checkpoint.get(source);
        if (view.shape.empty() || static_cast<int64_t>(view.shape.size()) != param.dim()) {
          throw InputError(fmt::format("{}: tensor '{}' has shape {}, expected {} dims", view.file, source,
                                       view.shape_string(), param.dim()));
        }
        parts.push_back(to_tensor(view, dtype));
        used.insert(source);
      }
      auto value = parts.size() == 1 ? parts[0] : torch::cat(parts, 0);
      if (value.sizes() != param.sizes()) {
        throw InputError(fmt::format("tensor '{}' has shape {}, the config asks for {}",
                                     fmt::join(checkpoint_sources(name, config.layout), "+"),
                                     shape_string(value.sizes()), shape_string(param.sizes())));
      }
      param.copy_(value);
    }
    for (const auto& name : checkpoint.names()) {
      // ChatGLM checkpoints carry the RoPE frequencies as a buffer; they are recomputed from the config.
      if (used.count(name) || name == "transformer.rotary_pos_emb.inv_freq") continue;
      throw InputError(
          fmt::format("unexpected tensor '{}' ({}) not used by the {} model", name, checkpoint.get(name).file,
                      config.layout == GlmLayout::ChatGlm ? "ChatGLM-layout" : "GlmForCausalLM"));
    }
    log_info("glm", "loaded {}: {}", dir, config.summary());
    return model;
  });
}

void save_glm(GlmModelImpl& model, const std::string& dir) {
  ensure_dir(dir);
  std::map<std::string, torch::Tensor> tensors;
  for (auto& [name, param] : model.base_parameters()) tensors[name] = param.detach();
  save_tensors((fs::path(dir) / "model.safetensors").string(), tensors, {{"format", "pt"}});
  io::write_json_atomic((fs::path(dir) / "config.json").string(), model.config().to_chatglm_json());
}

namespace {

// Position t predicts ids[t + 1]: the targets are the ids shifted left, and the last position (which predicts
// nothing) is masked out. Both flattened to [B * T].
std::pair<torch::Tensor, torch::Tensor> shifted_targets(const torch::Tensor& ids,
                                                        const torch::Tensor& target_mask) {
  auto mask = torch::roll(target_mask, -1, 1);
  mask.select(1, ids.size(1) - 1).fill_(false);
  return {torch::roll(ids, -1, 1).reshape({-1}), mask.reshape({-1})};
}

}  // namespace

std::pair<torch::Tensor, int64_t> next_token_loss(const torch::Tensor& logits, const torch::Tensor& ids,
                                                  const torch::Tensor& target_mask) {
  // The logits stay whole, so neither pass copies a [B, T - 1, V] slice.
  const auto [targets, mask] = shifted_targets(ids, target_mask);
  auto losses = torch::nn::functional::cross_entropy(
      logits.reshape({-1, logits.size(-1)}).to(torch::kFloat32), targets,
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kNone));
  const int64_t count = mask.sum().item<int64_t>();
  return {(losses * mask.to(losses.scalar_type())).sum(), count};
}

std::pair<torch::Tensor, int64_t> masked_next_token_loss(GlmModelImpl& model, const torch::Tensor& ids,
                                                         const torch::Tensor& target_mask) {
  const auto [targets, mask] = shifted_targets(ids, target_mask);
  auto rows = mask.nonzero().squeeze(1);
  auto hidden = model.hidden_states(ids);
  auto picked = hidden.reshape({-1, hidden.size(-1)}).index_select(0, rows);
  auto loss = torch::nn::functional::cross_entropy(
      model.output_logits(picked).to(torch::kFloat32), targets.index_select(0, rows),
      torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
  return {loss, rows.size(0)};
}

}  // namespace symp::nn
