// Flow-matching decoder of GLM-4-Voice (see symp/speech/flow.h). Module and parameter names follow the
// checkpoint (flow.pt), so loading is a strict name match.
#include "symp/speech/flow.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "symp/core/error.h"
#include "symp/io/jsonl.h"
#include "symp/nn/attention.h"
#include "symp/speech/glm4voice_checkpoint.h"

namespace symp::speech {
namespace {

namespace tnn = torch::nn;
namespace F = torch::nn::functional;

tnn::LayerNorm layer_norm(int dim) {
  return tnn::LayerNorm(tnn::LayerNormOptions({dim}).eps(1e-5));
}
tnn::Conv1d conv(int in, int out, int k, int stride = 1, int padding = 0) {
  return tnn::Conv1d(tnn::Conv1dOptions(in, out, k).stride(stride).padding(padding));
}
tnn::Linear linear(int in, int out, bool bias = true) {
  return tnn::Linear(tnn::LinearOptions(in, out).bias(bias));
}
tnn::Functional mish() {
  return tnn::Functional(static_cast<torch::Tensor (*)(const torch::Tensor&)>(torch::mish));
}

// ---- encoder: BlockConformerEncoder as GLM-4-Voice configures it ----

// Relative-position self-attention (Transformer-XL terms a+c and b+d) with espnet's position order.
struct RelAttentionImpl : tnn::Module {
  RelAttentionImpl(int dim, int heads, bool key_bias) : h(heads), dk(dim / heads) {
    linear_q = register_module("linear_q", linear(dim, dim));
    linear_k = register_module("linear_k", linear(dim, dim, key_bias));
    linear_v = register_module("linear_v", linear(dim, dim));
    linear_out = register_module("linear_out", linear(dim, dim));
    linear_pos = register_module("linear_pos", linear(dim, dim, false));
    pos_bias_u = register_parameter("pos_bias_u", torch::zeros({heads, dk}), false);
    pos_bias_v = register_parameter("pos_bias_v", torch::zeros({heads, dk}), false);
  }
  // The reference's pad-and-reshape trick: out[i][j] = x[i][T - 1 - i + j].
  static torch::Tensor rel_shift(const torch::Tensor& x) {
    auto zero = torch::zeros({x.size(0), x.size(1), x.size(2), 1}, x.options());
    auto padded = torch::cat({zero, x}, -1).view({x.size(0), x.size(1), x.size(3) + 1, x.size(2)});
    return padded.slice(2, 1).reshape(x.sizes()).slice(3, 0, x.size(-1) / 2 + 1);
  }
  // x [B, T, D], mask [B, T, T] bool (true = visible), pos [1, 2T - 1, D]
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask, const torch::Tensor& pos) {
    const auto b = x.size(0), t = x.size(1);
    auto q = linear_q(x).view({b, t, h, dk});
    auto k = linear_k(x).view({b, t, h, dk}).transpose(1, 2);
    auto v = linear_v(x).view({b, t, h, dk}).transpose(1, 2);
    auto p = linear_pos(pos).view({pos.size(0), -1, h, dk}).transpose(1, 2);
    auto ac = torch::matmul((q + pos_bias_u).transpose(1, 2), k.transpose(-2, -1));
    auto bd = torch::matmul((q + pos_bias_v).transpose(1, 2), p.transpose(-2, -1));
    if (ac.sizes() != bd.sizes()) bd = rel_shift(bd);
    auto hidden = mask.unsqueeze(1).logical_not();
    auto scores = ((ac + bd) / std::sqrt(double(dk))).masked_fill(hidden, -INFINITY);
    auto attn = torch::softmax(scores, -1).masked_fill(hidden, 0.0);
    return linear_out(torch::matmul(attn, v).transpose(1, 2).reshape({b, t, h * dk}));
  }
  int64_t h, dk;
  tnn::Linear linear_q{nullptr}, linear_k{nullptr}, linear_v{nullptr}, linear_out{nullptr},
      linear_pos{nullptr};
  torch::Tensor pos_bias_u, pos_bias_v;
};
TORCH_MODULE(RelAttention);

struct FeedForwardImpl : tnn::Module {
  FeedForwardImpl(int dim, int hidden) {
    w_1 = register_module("w_1", linear(dim, hidden));
    w_2 = register_module("w_2", linear(hidden, dim));
  }
  torch::Tensor forward(const torch::Tensor& x) { return w_2(torch::silu(w_1(x))); }
  tnn::Linear w_1{nullptr}, w_2{nullptr};
};
TORCH_MODULE(FeedForward);

struct ConformerLayerImpl : tnn::Module {
  explicit ConformerLayerImpl(const FlowConfig& c) {
    self_attn =
        register_module("self_attn", RelAttention(c.encoder_output_size, c.attention_heads, c.key_bias));
    feed_forward = register_module("feed_forward", FeedForward(c.encoder_output_size, c.linear_units));
    norm_mha = register_module("norm_mha", layer_norm(c.encoder_output_size));
    norm_ff = register_module("norm_ff", layer_norm(c.encoder_output_size));
  }
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& mask, const torch::Tensor& pos) {
    x = x + self_attn(norm_mha(x), mask, pos);
    return x + feed_forward(norm_ff(x));
  }
  RelAttention self_attn{nullptr};
  FeedForward feed_forward{nullptr};
  tnn::LayerNorm norm_mha{nullptr}, norm_ff{nullptr};
};
TORCH_MODULE(ConformerLayer);

struct EmbedImpl : tnn::Module {
  EmbedImpl(int in, int out) {
    this->out = register_module("out", tnn::Sequential(linear(in, out), layer_norm(out)));
  }
  tnn::Sequential out{nullptr};
};
TORCH_MODULE(Embed);

struct EncoderImpl : tnn::Module {
  explicit EncoderImpl(const FlowConfig& c) : c(c) {
    embed = register_module("embed", Embed(c.input_size, c.encoder_output_size));
    encoders = register_module("encoders", tnn::ModuleList());
    for (int i = 0; i < c.num_blocks; ++i) encoders->push_back(ConformerLayer(c));
    after_norm = register_module("after_norm", layer_norm(c.encoder_output_size));
  }
  // espnet's relative positions T-1 .. -(T-1): [1, 2T - 1, D], sin on even and cos on odd channels.
  torch::Tensor positions(int64_t t, const torch::Device& device) const {
    const int d = c.encoder_output_size;
    auto div = torch::exp(torch::arange(0, d, 2, torch::kFloat32) * -(std::log(10000.0) / d));
    auto rel = torch::arange(t - 1, -t, -1, torch::kFloat32).unsqueeze(1);
    auto pe = torch::zeros({2 * t - 1, d});
    pe.slice(1, 0, d, 2).copy_(torch::sin(rel * div));
    pe.slice(1, 1, d, 2).copy_(torch::cos(rel * div));
    return pe.unsqueeze(0).to(device);
  }
  // x [B, T, input_size], valid [B, T] bool
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& valid) {
    const auto t = x.size(1);
    auto h = embed->out->forward(x) * std::sqrt(double(c.encoder_output_size));
    auto pos = positions(t, x.device());
    // Key j is visible to query i when it is a real token and not after i or in i's block.
    auto idx = torch::arange(t, torch::TensorOptions().dtype(torch::kLong).device(x.device()));
    auto block = torch::div(idx, c.block_size, "floor");
    auto grid = (idx.unsqueeze(0) <= idx.unsqueeze(1)) | (block.unsqueeze(0) == block.unsqueeze(1));
    auto mask = valid.unsqueeze(1) & grid.unsqueeze(0);
    for (const auto& layer : *encoders) h = layer->as<ConformerLayer>()->forward(h, mask, pos);
    return after_norm(h);
  }
  FlowConfig c;
  Embed embed{nullptr};
  tnn::ModuleList encoders{nullptr};
  tnn::LayerNorm after_norm{nullptr};
};
TORCH_MODULE(Encoder);

// ---- estimator: Matcha-TTS ConditionalDecoder (1-D U-Net with transformer blocks) ----

struct Block1DImpl : tnn::Module {
  Block1DImpl(int dim, int out) {
    block =
        register_module("block", tnn::Sequential(conv(dim, out, 3, 1, 1), tnn::GroupNorm(8, out), mish()));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask) {
    return block->forward(x * mask) * mask;
  }
  tnn::Sequential block{nullptr};
};
TORCH_MODULE(Block1D);

struct ResnetBlockImpl : tnn::Module {
  ResnetBlockImpl(int dim, int out, int time_dim) {
    mlp = register_module("mlp", tnn::Sequential(mish(), linear(time_dim, out)));
    block1 = register_module("block1", Block1D(dim, out));
    block2 = register_module("block2", Block1D(out, out));
    res_conv = register_module("res_conv", conv(dim, out, 1));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask, const torch::Tensor& t) {
    auto h = block1(x, mask) + mlp->forward(t).unsqueeze(-1);
    return block2(h, mask) + res_conv(x * mask);
  }
  tnn::Sequential mlp{nullptr};
  Block1D block1{nullptr}, block2{nullptr};
  tnn::Conv1d res_conv{nullptr};
};
TORCH_MODULE(ResnetBlock);

// diffusers' Attention as the block uses it: no q/k/v bias, and the 0/1 mask matrix *added* to the
// scores (what diffusers does with the mask the U-Net passes; a constant for unpadded input).
struct AttentionImpl : tnn::Module {
  AttentionImpl(int dim, int heads, int head_dim) : heads(heads), head_dim(head_dim) {
    const int inner = heads * head_dim;
    to_q = register_module("to_q", linear(dim, inner, false));
    to_k = register_module("to_k", linear(dim, inner, false));
    to_v = register_module("to_v", linear(dim, inner, false));
    to_out = register_module("to_out", tnn::ModuleList(linear(inner, dim), tnn::Dropout(0.0)));
  }
  // x [B, T, dim], bias [B, T, T].
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& bias) {
    const auto b = x.size(0), t = x.size(1);
    auto split = [&](const torch::Tensor& y) { return y.view({b, t, heads, head_dim}).transpose(1, 2); };
    auto out = symp::nn::blocked_attention(split(to_q(x)), split(to_k(x)), split(to_v(x)), bias.unsqueeze(1),
                                           1.0 / std::sqrt(double(head_dim)));
    return to_out[0]->as<tnn::Linear>()->forward(out.transpose(1, 2).reshape({b, t, heads * head_dim}));
  }
  int64_t heads, head_dim;
  tnn::Linear to_q{nullptr}, to_k{nullptr}, to_v{nullptr};
  tnn::ModuleList to_out{nullptr};
};
TORCH_MODULE(Attention);

struct GeluProjImpl : tnn::Module {
  GeluProjImpl(int in, int out) { proj = register_module("proj", linear(in, out)); }
  torch::Tensor forward(const torch::Tensor& x) { return torch::gelu(proj(x)); }
  tnn::Linear proj{nullptr};
};
TORCH_MODULE(GeluProj);

struct TransformerBlockImpl : tnn::Module {
  TransformerBlockImpl(int dim, int heads, int head_dim) {
    norm1 = register_module("norm1", layer_norm(dim));
    attn1 = register_module("attn1", Attention(dim, heads, head_dim));
    norm3 = register_module("norm3", layer_norm(dim));
    auto net = tnn::ModuleList(GeluProj(dim, dim * 4), tnn::Dropout(0.0), linear(dim * 4, dim));
    ff = register_module("ff", std::make_shared<tnn::Module>());
    ff->register_module("net", net);
    ff_in = net[0]->as<GeluProj>();
    ff_out = net[2]->as<tnn::Linear>();
  }
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& bias) {
    x = x + attn1(norm1(x), bias);
    return x + ff_out->forward(ff_in->forward(norm3(x)));
  }
  tnn::LayerNorm norm1{nullptr}, norm3{nullptr};
  Attention attn1{nullptr};
  std::shared_ptr<tnn::Module> ff;
  GeluProjImpl* ff_in = nullptr;
  tnn::LinearImpl* ff_out = nullptr;
};
TORCH_MODULE(TransformerBlock);

// A module holding one layer under the name "conv" (Matcha's Downsample1D / Upsample1D).
struct ConvHolderImpl : tnn::Module {
  explicit ConvHolderImpl(tnn::AnyModule layer) : layer(std::move(layer)) {
    register_module("conv", this->layer.ptr());
  }
  torch::Tensor forward(const torch::Tensor& x) { return layer.forward(x); }
  tnn::AnyModule layer;
};
TORCH_MODULE(ConvHolder);

struct UNetImpl : tnn::Module {
  // One stage: [resnet, transformer blocks, (down/up)sampler or nothing].
  struct Stage {
    ResnetBlock resnet{nullptr};
    std::vector<TransformerBlock> blocks;
    tnn::AnyModule sampler;
  };

  explicit UNetImpl(const FlowConfig& c) : c(c) {
    const int time_dim = c.channels[0] * 4;
    auto time_mlp = register_module("time_mlp", std::make_shared<tnn::Module>());
    linear_1 = time_mlp->register_module("linear_1", linear(c.estimator_in_channels, time_dim));
    linear_2 = time_mlp->register_module("linear_2", linear(time_dim, time_dim));
    auto down_blocks = register_module("down_blocks", tnn::ModuleList());
    auto mid_blocks = register_module("mid_blocks", tnn::ModuleList());
    auto up_blocks = register_module("up_blocks", tnn::ModuleList());
    int out = c.estimator_in_channels;
    for (size_t i = 0; i < c.channels.size(); ++i) {
      const int in = out;
      out = c.channels[i];
      const bool last = i + 1 == c.channels.size();
      tnn::AnyModule sampler = last ? tnn::AnyModule(conv(out, out, 3, 1, 1))
                                    : tnn::AnyModule(ConvHolder(tnn::AnyModule(conv(out, out, 3, 2, 1))));
      down.push_back(stage(down_blocks, in, out, time_dim, std::move(sampler)));
    }
    for (int i = 0; i < c.num_mid_blocks; ++i)
      mid.push_back(stage(mid_blocks, c.channels.back(), out, time_dim, tnn::AnyModule()));
    std::vector<int> ch(c.channels.rbegin(), c.channels.rend());
    ch.push_back(c.channels[0]);
    for (size_t i = 0; i + 1 < ch.size(); ++i) {
      const bool last = i + 2 == ch.size();
      const int o = ch[i + 1];
      tnn::AnyModule sampler = last ? tnn::AnyModule(conv(o, o, 3, 1, 1))
                                    : tnn::AnyModule(ConvHolder(tnn::AnyModule(tnn::ConvTranspose1d(
                                          tnn::ConvTranspose1dOptions(o, o, 4).stride(2).padding(1)))));
      up.push_back(stage(up_blocks, ch[i] * 2, o, time_dim, std::move(sampler)));
    }
    final_block = register_module("final_block", Block1D(ch.back(), ch.back()));
    final_proj = register_module("final_proj", conv(ch.back(), c.estimator_out_channels, 1));
  }

  Stage stage(tnn::ModuleList list, int in, int out, int time_dim, tnn::AnyModule sampler) {
    Stage s;
    s.resnet = ResnetBlock(in, out, time_dim);
    auto blocks = tnn::ModuleList();
    for (int b = 0; b < c.n_blocks; ++b) {
      s.blocks.push_back(TransformerBlock(out, c.num_heads, c.attention_head_dim));
      blocks->push_back(s.blocks.back());
    }
    auto entry = tnn::ModuleList(s.resnet, blocks);
    if (!sampler.is_empty()) entry->push_back(sampler.ptr());
    s.sampler = std::move(sampler);
    list->push_back(entry);
    return s;
  }

  // Matcha's SinusoidalPosEmb (scale 1000) followed by the time MLP.
  torch::Tensor time_embedding(const torch::Tensor& t) {
    const int half = c.estimator_in_channels / 2;
    auto freqs = torch::exp(torch::arange(half, t.options()) * -(std::log(10000.0) / (half - 1)));
    auto emb = 1000.0 * t.reshape({-1, 1}) * freqs.unsqueeze(0);
    return linear_2(torch::silu(linear_1(torch::cat({emb.sin(), emb.cos()}, -1))));
  }

  torch::Tensor run(Stage& s, torch::Tensor x, const torch::Tensor& mask, const torch::Tensor& t) {
    x = s.resnet(x, mask, t).transpose(1, 2);
    auto bias = torch::matmul(mask.transpose(1, 2), mask);  // [B, T, T] of 0/1
    for (auto& block : s.blocks) x = block(x, bias);
    return x.transpose(1, 2);
  }

  torch::Tensor forward(const torch::Tensor& x_in, const torch::Tensor& mask, const torch::Tensor& mu,
                        const torch::Tensor& t_in, const torch::Tensor& spks, const torch::Tensor& cond) {
    auto t = time_embedding(t_in);
    auto x = torch::cat({x_in, mu, spks.unsqueeze(-1).expand({-1, -1, x_in.size(-1)}), cond}, 1);
    std::vector<torch::Tensor> hiddens, masks{mask};
    for (auto& s : down) {
      auto m = masks.back();
      x = run(s, x, m, t);
      hiddens.push_back(x);
      x = s.sampler.forward(x * m);
      masks.push_back(m.slice(2, 0, m.size(2), 2));
    }
    masks.pop_back();
    auto mask_mid = masks.back();
    for (auto& s : mid) x = run(s, x, mask_mid, t);
    torch::Tensor mask_up;
    for (auto& s : up) {
      mask_up = masks.back();
      masks.pop_back();
      auto skip = hiddens.back();
      hiddens.pop_back();
      x = run(s, torch::cat({x.slice(2, 0, skip.size(-1)), skip}, 1), mask_up, t);
      x = s.sampler.forward(x * mask_up);
    }
    x = final_block(x, mask_up);
    return final_proj(x * mask_up) * mask;
  }

  FlowConfig c;
  tnn::Linear linear_1{nullptr}, linear_2{nullptr};
  std::vector<Stage> down, mid, up;
  Block1D final_block{nullptr};
  tnn::Conv1d final_proj{nullptr};
};
TORCH_MODULE(UNet);

struct DecoderImpl : tnn::Module {
  explicit DecoderImpl(const FlowConfig& c) { estimator = register_module("estimator", UNet(c)); }
  UNet estimator{nullptr};
};
TORCH_MODULE(Decoder);

struct ModelImpl : tnn::Module {
  explicit ModelImpl(const FlowConfig& c) {
    input_embedding = register_module("input_embedding", tnn::Embedding(c.vocab_size, c.input_size));
    spk_embed_affine_layer =
        register_module("spk_embed_affine_layer", linear(c.spk_embed_dim, c.output_size));
    encoder = register_module("encoder", Encoder(c));
    encoder_proj = register_module("encoder_proj", linear(c.encoder_output_size, c.output_size));
    auto regulator = tnn::Sequential();
    for (int i = 0; i < c.regulator_stages; ++i) {
      regulator->push_back(conv(c.regulator_channels, c.regulator_channels, 3, 1, 1));
      regulator->push_back(tnn::GroupNorm(1, c.regulator_channels));
      regulator->push_back(mish());
    }
    regulator->push_back(conv(c.regulator_channels, c.output_size, 1));
    auto length_regulator = register_module("length_regulator", std::make_shared<tnn::Module>());
    regulator_model = length_regulator->register_module("model", regulator);
    decoder = register_module("decoder", Decoder(c));
  }
  tnn::Embedding input_embedding{nullptr};
  tnn::Linear spk_embed_affine_layer{nullptr}, encoder_proj{nullptr};
  Encoder encoder{nullptr};
  tnn::Sequential regulator_model{nullptr};
  Decoder decoder{nullptr};
};
TORCH_MODULE(Model);

}  // namespace

struct Flow::Impl {
  FlowConfig config;
  Model model{nullptr};
  torch::Device device{torch::kCPU};
};

Flow::Flow() : impl_(std::make_unique<Impl>()) {}
Flow::~Flow() = default;
const FlowConfig& Flow::config() const {
  return impl_->config;
}
const torch::Device& Flow::device() const {
  return impl_->device;
}

std::unique_ptr<Flow> Flow::random(const FlowConfig& config, const torch::Device& device) {
  std::unique_ptr<Flow> flow(new Flow());
  auto& m = *flow->impl_;
  m.config = config;
  m.device = device;
  m.model = Model(config);
  m.model->eval();
  m.model->to(device);
  return flow;
}

std::unique_ptr<Flow> Flow::open(const FlowConfig& config, const std::string& weights,
                                 const torch::Device& device) {
  auto flow = random(config, torch::kCPU);  // then every parameter is overwritten from the file
  auto& m = *flow->impl_;
  load_strict(*m.model, read_checkpoint(weights), weights);
  m.device = device;
  m.model->to(device);
  return flow;
}

torch::Tensor Flow::encode(const torch::Tensor& tokens) {
  torch::InferenceMode guard;
  auto& m = *impl_->model;
  auto ids = tokens.to(impl_->device, torch::kLong);
  const auto vocab = impl_->config.vocab_size;
  if (ids.numel() > 0 && (ids.min().item<int64_t>() < 0 || ids.max().item<int64_t>() >= vocab))
    throw InputError("flow: token id outside [0, " + std::to_string(vocab) + ")");
  auto valid = torch::ones(ids.sizes(), ids.options().dtype(torch::kBool));
  auto h = m.encoder->forward(m.input_embedding(ids), valid);
  return m.encoder_proj(h);
}

torch::Tensor Flow::mu(const torch::Tensor& tokens, int64_t frames) {
  torch::InferenceMode guard;
  auto h = encode(tokens).transpose(1, 2);  // [1, 80, T]
  h = F::interpolate(h, F::InterpolateFuncOptions().size(std::vector<int64_t>{frames}).mode(torch::kNearest));
  return impl_->model->regulator_model->forward(h);
}

torch::Tensor Flow::estimator(const torch::Tensor& x, const torch::Tensor& mask, const torch::Tensor& mu,
                              const torch::Tensor& t, const torch::Tensor& spks, const torch::Tensor& cond) {
  torch::InferenceMode guard;
  auto dev = impl_->device;
  return impl_->model->decoder->estimator->forward(x.to(dev), mask.to(dev), mu.to(dev), t.to(dev),
                                                   spks.to(dev), cond.to(dev));
}

torch::Tensor Flow::inference(const Request& r) {
  torch::InferenceMode guard;
  const auto& c = impl_->config;
  const auto dev = impl_->device;
  auto opts = torch::TensorOptions().dtype(torch::kFloat32).device(dev);
  auto tokens = r.tokens.to(dev, torch::kLong);
  if (r.prompt_tokens.defined() && r.prompt_tokens.numel() > 0)
    tokens = torch::cat({r.prompt_tokens.to(dev, torch::kLong), tokens}, 1);
  const int64_t frames = c.mel_frames(tokens.size(1));
  auto mu = this->mu(tokens, frames);
  // Speaker: normalise then project; GLM-4-Voice passes zeros, which leaves the projection's bias.
  auto embedding =
      r.embedding.defined() ? r.embedding.to(dev, torch::kFloat32) : torch::zeros({1, c.spk_embed_dim}, opts);
  auto spks = impl_->model->spk_embed_affine_layer(F::normalize(embedding, F::NormalizeFuncOptions().dim(1)));
  auto cond = torch::zeros({1, c.output_size, frames}, opts);
  int64_t prompt_frames = 0;
  if (r.prompt_mel.defined() && r.prompt_mel.size(1) > 0) {
    prompt_frames = std::min<int64_t>(r.prompt_mel.size(1), frames);
    cond.narrow(2, 0, prompt_frames)
        .copy_(r.prompt_mel.to(dev).narrow(1, 0, prompt_frames).transpose(1, 2)[0]);
  }
  auto mask = torch::ones({1, 1, frames}, opts);
  torch::Tensor x;
  if (r.noise.defined()) {
    if (r.noise.size(2) < frames) throw UsageError("flow: the given noise is shorter than the mel");
    x = r.noise.to(dev, torch::kFloat32).narrow(2, 0, frames).clone();
  } else {
    // The reference seeds 42 before every call.
    auto gen = at::make_generator<at::CPUGeneratorImpl>(42);
    x = torch::randn({1, c.output_size, frames}, gen, torch::TensorOptions().dtype(torch::kFloat32)).to(dev);
  }
  auto t_span = torch::linspace(0, 1, c.n_timesteps + 1, opts);
  if (c.t_scheduler == "cosine") t_span = 1 - torch::cos(t_span * 0.5 * M_PI);
  // Euler steps; the conditional and the unconditional (CFG) estimates run as one batch of two.
  auto mask2 = torch::cat({mask, mask}), mu2 = torch::cat({mu, torch::zeros_like(mu)});
  auto spks2 = torch::cat({spks, torch::zeros_like(spks)}),
       cond2 = torch::cat({cond, torch::zeros_like(cond)});
  auto t = t_span[0];
  auto dt = t_span[1] - t_span[0];
  auto& unet = impl_->model->decoder->estimator;
  const double w = c.inference_cfg_rate;
  for (int step = 1; step <= c.n_timesteps; ++step) {
    auto out = unet->forward(torch::cat({x, x}), mask2, mu2, t.reshape({1}).expand({2}), spks2, cond2);
    auto dphi = w > 0 ? (1.0 + w) * out[0] - w * out[1] : out[0];
    x = x + dt * dphi.unsqueeze(0);
    t = t + dt;
    if (step < c.n_timesteps) dt = t_span[step + 1] - t;
  }
  return x.narrow(2, prompt_frames, frames - prompt_frames);
}

}  // namespace symp::speech
