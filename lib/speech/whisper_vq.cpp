// WhisperVQ speech tokenizer (see symp/speech/whisper_vq.h).
#include "symp/speech/whisper_vq.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <numeric>

#include "symp/core/error.h"
#include "symp/core/log.h"
#include "symp/io/jsonl.h"
#include "symp/nn/attention.h"
#include "symp/speech/glm4voice_checkpoint.h"

namespace symp::speech {
namespace fs = std::filesystem;

namespace {

// Whisper's attention: q scaled by 1/sqrt(d), k without bias, additive mask.
struct AttentionImpl : torch::nn::Module {
  AttentionImpl(int dim, int heads) : heads(heads) {
    q_proj = register_module("q_proj", torch::nn::Linear(dim, dim));
    k_proj = register_module("k_proj", torch::nn::Linear(torch::nn::LinearOptions(dim, dim).bias(false)));
    v_proj = register_module("v_proj", torch::nn::Linear(dim, dim));
    out_proj = register_module("out_proj", torch::nn::Linear(dim, dim));
  }
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& mask) {
    const auto b = x.size(0), t = x.size(1), d = x.size(2) / heads;
    auto split = [&](const torch::Tensor& y) { return y.view({b, t, heads, d}).transpose(1, 2); };
    auto q = split(q_proj(x) * std::pow(double(d), -0.5)), k = split(k_proj(x)), v = split(v_proj(x));
    auto out = symp::nn::blocked_attention(q, k, v, mask, 1.0);
    return out_proj(out.transpose(1, 2).reshape({b, t, heads * d}));
  }
  int heads;
  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, out_proj{nullptr};
};
TORCH_MODULE(Attention);

struct LayerImpl : torch::nn::Module {
  explicit LayerImpl(const WhisperVQConfig& c) {
    self_attn = register_module("self_attn", Attention(c.d_model, c.encoder_attention_heads));
    self_attn_layer_norm = register_module("self_attn_layer_norm",
                                           torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.d_model})));
    fc1 = register_module("fc1", torch::nn::Linear(c.d_model, c.encoder_ffn_dim));
    fc2 = register_module("fc2", torch::nn::Linear(c.encoder_ffn_dim, c.d_model));
    final_layer_norm =
        register_module("final_layer_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.d_model})));
  }
  torch::Tensor forward(torch::Tensor x, const torch::Tensor& mask) {
    x = x + self_attn(self_attn_layer_norm(x), mask);
    return x + fc2(torch::gelu(fc1(final_layer_norm(x))));
  }
  Attention self_attn{nullptr};
  torch::nn::LayerNorm self_attn_layer_norm{nullptr}, final_layer_norm{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(Layer);

// The encoder up to the quantize position; parameter names are the checkpoint's minus `model.encoder.`.
struct EncoderImpl : torch::nn::Module {
  explicit EncoderImpl(const WhisperVQConfig& c) : c(c) {
    conv1 =
        register_module("conv1", torch::nn::Conv1d(torch::nn::Conv1dOptions(c.num_mel_bins, c.d_model, 3)));
    conv2 = register_module("conv2",
                            torch::nn::Conv1d(torch::nn::Conv1dOptions(c.d_model, c.d_model, 3).stride(2)));
    embed_positions =
        register_module("embed_positions", torch::nn::Embedding(c.max_source_positions, c.d_model));
    layers = register_module("layers", torch::nn::ModuleList());
    for (int i = 0; i < c.quantize_position; ++i) layers->push_back(Layer(c));
    codebook = register_module("codebook", torch::nn::Embedding(c.quantize_vocab_size, c.d_model));
  }

  // Causal convolution pads 2 frames on the left; Whisper's own pads 1 on each side.
  torch::Tensor conv(torch::nn::Conv1d& layer, const torch::Tensor& x) const {
    auto padded =
        c.encoder_causal_convolution ? torch::constant_pad_nd(x, {2, 0}) : torch::constant_pad_nd(x, {1, 1});
    return torch::gelu(layer(padded));
  }

  // Additive mask [B, 1, T, T]: key j is visible to query i when it is real audio and either not after
  // i or in i's block (GLM-4-Voice's block-causal attention); block 0 means full attention.
  torch::Tensor attention_mask(const torch::Tensor& valid, int block) const {
    const auto t = valid.size(1);
    auto opts = torch::TensorOptions().device(valid.device());
    torch::Tensor allowed;
    if (c.encoder_causal_attention) {
      // The reference drops the padding mask when attention is causal (SDPA is_causal).
      allowed =
          torch::ones({t, t}, opts.dtype(torch::kBool)).tril().unsqueeze(0).expand({valid.size(0), t, t});
    } else if (block > 0) {
      auto idx = torch::arange(t, opts.dtype(torch::kLong));
      auto causal = idx.unsqueeze(1) >= idx.unsqueeze(0);
      auto block_of = torch::div(idx, block, "floor");
      auto same_block = block_of.unsqueeze(1) == block_of.unsqueeze(0);
      allowed = (causal | same_block).unsqueeze(0) & valid.to(torch::kBool).unsqueeze(1);
    } else {
      allowed = valid.to(torch::kBool).unsqueeze(1).expand({valid.size(0), t, t});
    }
    auto mask = torch::zeros(allowed.sizes(), opts.dtype(torch::kFloat32));
    return mask.masked_fill(allowed.logical_not(), std::numeric_limits<float>::lowest()).unsqueeze(1);
  }

  torch::Tensor pool(const torch::Tensor& x) const {
    const int k = c.pooling_kernel_size;
    auto y = x.permute({0, 2, 1});
    if (y.size(-1) % k != 0) y = torch::constant_pad_nd(y, {0, k - y.size(-1) % k});
    y = c.pooling_type == "max" ? torch::max_pool1d(y, k) : torch::avg_pool1d(y, k);
    return y.permute({0, 2, 1});
  }

  // features [B, n_mels, T], mask [B, T] -> (pre-VQ states, ids, token mask).
  std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> forward(const torch::Tensor& features,
                                                                  const torch::Tensor& feature_mask) {
    auto x = conv(conv2, conv(conv1, features)).permute({0, 2, 1});
    const auto t = x.size(1);
    if (t > c.max_source_positions)
      throw InputError("WhisperVQ: " + std::to_string(t) + " frames exceed max_source_positions " +
                       std::to_string(c.max_source_positions));
    x = x * (c.scale_embedding ? std::sqrt(double(c.d_model)) : 1.0) +
        embed_positions->weight.narrow(0, 0, t);
    auto valid = feature_mask.slice(1, 0, feature_mask.size(1), c.conv_stride());
    int block = c.quantize_causal_block_size;
    auto mask = attention_mask(valid, block);
    for (int i = 0; i < c.quantize_position; ++i) {
      x = layers[i]->as<Layer>()->forward(x, mask);
      if (i + 1 == c.pooling_position && c.pooling_kernel_size > 0) {
        x = pool(x);
        valid = valid.slice(1, 0, valid.size(1), c.pooling_kernel_size);
        block = block > 0 ? block / c.pooling_kernel_size : 0;
        mask = attention_mask(valid, block);
      }
    }
    // Nearest code by Euclidean distance, |c|^2 + |x|^2 - 2 x.c as the reference computes it.
    auto flat = x.reshape({-1, x.size(-1)});
    auto book = codebook->weight;
    auto dist = torch::addmm(book.pow(2).sum(1) + flat.pow(2).sum(1, true), flat, book.t(), 1.0, -2.0);
    auto ids = dist.argmin(1).reshape({x.size(0), x.size(1)});
    return {x, ids, valid};
  }

  WhisperVQConfig c;
  torch::nn::Conv1d conv1{nullptr}, conv2{nullptr};
  torch::nn::Embedding embed_positions{nullptr}, codebook{nullptr};
  torch::nn::ModuleList layers{nullptr};
};
TORCH_MODULE(Encoder);

}  // namespace

struct WhisperVQ::Impl {
  WhisperVQConfig config;
  Encoder encoder{nullptr};
  torch::Device device{torch::kCPU};
};

WhisperVQ::WhisperVQ() : impl_(std::make_unique<Impl>()) {}
WhisperVQ::~WhisperVQ() = default;
const WhisperVQConfig& WhisperVQ::config() const {
  return impl_->config;
}

std::unique_ptr<WhisperVQ> WhisperVQ::random(const WhisperVQConfig& config, const torch::Device& device) {
  std::unique_ptr<WhisperVQ> vq(new WhisperVQ());
  auto& m = *vq->impl_;
  m.config = config;
  m.device = device;
  m.encoder = Encoder(m.config);
  m.encoder->eval();
  m.encoder->to(device);
  return vq;
}

std::unique_ptr<WhisperVQ> WhisperVQ::open(const std::string& dir, const torch::Device& device) {
  std::unique_ptr<WhisperVQ> vq(new WhisperVQ());
  auto& m = *vq->impl_;
  m.config = WhisperVQConfig::load(dir);
  m.device = device;
  const auto weights = (fs::path(dir) / "model.safetensors").string();
  if (!fs::exists(weights) && !fs::exists(fs::path(dir) / "model.safetensors.index.json"))
    throw InputError(weights + ": missing (the tokenizer folder needs model.safetensors)");
  m.encoder = Encoder(m.config);
  const int qpos = m.config.quantize_position;
  // As the official loader: no final layer norm, no layers from the quantize position on, no positions
  // of the post-quantizer layers, no EMA statistics; the decoder lies outside the prefix.
  auto skip = [qpos](const std::string& name) {
    if (name.rfind("layer_norm.", 0) == 0 || name.rfind("embed_positions2.", 0) == 0 ||
        name.rfind("ema_", 0) == 0)
      return true;
    if (name.rfind("layers.", 0) == 0) return std::stoi(name.substr(7)) >= qpos;
    return false;
  };
  load_strict(*m.encoder, read_checkpoint(fs::exists(weights) ? weights : dir), weights, "model.encoder.",
              skip);
  m.encoder->eval();
  m.encoder->to(device);
  log_info("whisper-vq", "loaded {} ({} layers to the quantizer, d {}, {} codes, {} Hz tokens)", dir, qpos,
           m.config.d_model, m.config.quantize_vocab_size, m.config.frame_rate());
  return vq;
}

WhisperVQBatch WhisperVQ::run_batch(const std::vector<std::vector<float>>& windows) {
  const auto& c = impl_->config;
  if (windows.empty()) throw UsageError("WhisperVQ::run_batch: no windows");
  const size_t max_window = size_t(c.chunk_length) * c.mel.sample_rate;
  size_t longest = 0;
  for (const auto& w : windows) {
    if (w.size() > max_window)
      throw UsageError("WhisperVQ::run_batch: a window of " + std::to_string(w.size()) + " samples exceeds " +
                       std::to_string(c.chunk_length) + " s");
    longest = std::max(longest, w.size());
  }
  // Padded to the longest, then to a multiple of one token's samples (1,280), as extract_speech_token does.
  const size_t step = size_t(c.samples_per_token());
  const size_t length = std::max<size_t>(step, (longest + step - 1) / step * step);
  const auto batch = int64_t(windows.size());
  auto wav = torch::full({batch, int64_t(length)}, c.padding_value, torch::kFloat32);
  auto sample_mask = torch::zeros({batch, int64_t(length)}, torch::kLong);
  for (int64_t b = 0; b < batch; ++b) {
    const auto& w = windows[size_t(b)];
    for (float s : w)
      if (!std::isfinite(s)) throw InputError("WhisperVQ: non-finite sample in window " + std::to_string(b));
    if (!w.empty()) std::memcpy(wav[b].data_ptr<float>(), w.data(), w.size() * sizeof(float));
    sample_mask[b].narrow(0, 0, int64_t(w.size())).fill_(1);
  }
  torch::InferenceMode guard;
  WhisperVQBatch out;
  out.features = whisper_log_mel(wav.to(impl_->device), c.mel);
  out.feature_mask = sample_mask.slice(1, 0, int64_t(length), c.mel.hop_length);
  auto [pre_vq, ids, valid] = impl_->encoder->forward(out.features, out.feature_mask.to(impl_->device));
  out.features = out.features.cpu();
  out.pre_vq = pre_vq.cpu();
  out.token_ids = ids.cpu();
  out.token_mask = valid.cpu().to(torch::kLong);
  return out;
}

std::vector<std::vector<int64_t>> WhisperVQ::tokenize(const std::vector<std::vector<float>>& wavs,
                                                      int batch_size) {
  if (batch_size <= 0)
    throw UsageError("WhisperVQ::tokenize: batch_size must be > 0, got " + std::to_string(batch_size));
  const auto& c = impl_->config;
  const size_t window = size_t(c.chunk_length) * c.mel.sample_rate;
  // (utterance, window) pairs in order; an empty utterance has no window and no tokens.
  std::vector<std::pair<size_t, std::vector<float>>> windows;
  for (size_t i = 0; i < wavs.size(); ++i)
    for (size_t start = 0; start < wavs[i].size(); start += window)
      windows.emplace_back(
          i, std::vector<float>(wavs[i].begin() + long(start),
                                wavs[i].begin() + long(std::min(wavs[i].size(), start + window))));
  // A batch is padded to its longest window, so windows of similar length go together: sorted by length,
  // a batch closes at batch_size windows or when the next is over 10 % longer than its shortest. A corpus's
  // short queries and long replies in one batch otherwise double the work (2 cores: 1.69x real time batched
  // in file order, 3.55x one file per call). Padding does not change the ids of the valid frames.
  std::vector<size_t> order(windows.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return windows[a].second.size() < windows[b].second.size(); });
  std::vector<std::vector<int64_t>> window_tokens(windows.size());
  for (size_t start = 0; start < order.size();) {
    size_t end = start + 1;
    while (end < order.size() && end - start < size_t(batch_size) &&
           double(windows[order[end]].second.size()) <= 1.1 * double(windows[order[start]].second.size()))
      ++end;
    std::vector<std::vector<float>> batch;
    for (size_t k = start; k < end; ++k) batch.push_back(std::move(windows[order[k]].second));
    auto out = run_batch(batch);
    for (size_t k = start; k < end; ++k) {
      const auto ids = out.token_ids[int64_t(k - start)].contiguous();
      const auto mask = out.token_mask[int64_t(k - start)].contiguous();
      auto& dst = window_tokens[order[k]];
      for (int64_t t = 0; t < ids.size(0); ++t)
        if (mask.data_ptr<int64_t>()[t]) dst.push_back(ids.data_ptr<int64_t>()[t]);
    }
    start = end;
  }
  std::vector<std::vector<int64_t>> tokens(wavs.size());
  for (size_t k = 0; k < windows.size(); ++k)  // windows of one utterance, in order
    tokens[windows[k].first].insert(tokens[windows[k].first].end(), window_tokens[k].begin(),
                                    window_tokens[k].end());
  return tokens;
}

}  // namespace symp::speech
