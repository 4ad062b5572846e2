// HiFT vocoder (see symp/speech/hift.h).
#include "symp/speech/hift.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <numeric>

#include "symp/core/error.h"
#include "symp/io/jsonl.h"
#include "symp/speech/glm4voice_checkpoint.h"

namespace symp::speech {
namespace {

namespace tnn = torch::nn;

// x + sin^2(alpha x) / alpha, alpha per channel (BigVGAN's Snake, linear-scale alpha).
struct SnakeImpl : tnn::Module {
  explicit SnakeImpl(int channels) { alpha = register_parameter("alpha", torch::ones({channels}), false); }
  // One buffer, updated in place: at audio rate x is tens of MB, and each temporary of the plain
  // expression was a fresh allocation (the vocoder runs under InferenceMode, so nothing is saved for
  // backward).
  torch::Tensor forward(const torch::Tensor& x) {
    auto a = alpha.view({1, -1, 1});
    auto t = x * a;
    t.sin_();
    t.mul_(t);
    return t.mul_(1.0 / (a + 1e-9)).add_(x);
  }
  torch::Tensor alpha;
};
TORCH_MODULE(Snake);

tnn::Conv1d conv(int in, int out, int k, int stride = 1, int padding = 0, int dilation = 1) {
  return tnn::Conv1d(tnn::Conv1dOptions(in, out, k).stride(stride).padding(padding).dilation(dilation));
}

struct ResBlockImpl : tnn::Module {
  ResBlockImpl(int channels, int k, const std::vector<int>& dilations) {
    convs1 = register_module("convs1", tnn::ModuleList());
    convs2 = register_module("convs2", tnn::ModuleList());
    activations1 = register_module("activations1", tnn::ModuleList());
    activations2 = register_module("activations2", tnn::ModuleList());
    for (int d : dilations) {
      convs1->push_back(conv(channels, channels, k, 1, (k * d - d) / 2, d));
      convs2->push_back(conv(channels, channels, k, 1, (k - 1) / 2, 1));
      activations1->push_back(Snake(channels));
      activations2->push_back(Snake(channels));
    }
  }
  torch::Tensor forward(torch::Tensor x) {
    for (size_t i = 0; i < convs1->size(); ++i) {
      auto y = activations1[i]->as<Snake>()->forward(x);
      y = convs1[i]->as<tnn::Conv1d>()->forward(y);
      y = activations2[i]->as<Snake>()->forward(y);
      x = x + convs2[i]->as<tnn::Conv1d>()->forward(y);
    }
    return x;
  }
  tnn::ModuleList convs1{nullptr}, convs2{nullptr}, activations1{nullptr}, activations2{nullptr};
};
TORCH_MODULE(ResBlock);

// Five conv+ELU layers and a linear layer: |F0| per frame.
struct F0PredictorImpl : tnn::Module {
  explicit F0PredictorImpl(const HiftConfig& c) {
    condnet = register_module("condnet", tnn::Sequential());
    for (int i = 0; i < 5; ++i) {
      condnet->push_back(conv(i == 0 ? c.f0_in_channels : c.f0_cond_channels, c.f0_cond_channels, 3, 1, 1));
      condnet->push_back(tnn::ELU());
    }
    classifier = register_module("classifier", tnn::Linear(c.f0_cond_channels, c.f0_num_class));
  }
  torch::Tensor forward(const torch::Tensor& mel) {
    return classifier(condnet->forward(mel).transpose(1, 2)).squeeze(-1).abs();
  }
  tnn::Sequential condnet{nullptr};
  tnn::Linear classifier{nullptr};
};
TORCH_MODULE(F0Predictor);

struct SourceImpl : tnn::Module {
  explicit SourceImpl(int harmonics) {
    l_linear = register_module("l_linear", tnn::Linear(harmonics + 1, 1));
  }
  tnn::Linear l_linear{nullptr};
};
TORCH_MODULE(Source);

struct GeneratorImpl : tnn::Module {
  explicit GeneratorImpl(const HiftConfig& c) : c(c) {
    m_source = register_module("m_source", Source(c.nb_harmonics));
    conv_pre = register_module("conv_pre", conv(c.in_channels, c.base_channels, 7, 1, 3));
    ups = register_module("ups", tnn::ModuleList());
    for (size_t i = 0; i < c.upsample_rates.size(); ++i) {
      const int u = c.upsample_rates[i], k = c.upsample_kernel_sizes[i];
      ups->push_back(tnn::ConvTranspose1d(
          tnn::ConvTranspose1dOptions(c.base_channels >> i, c.base_channels >> (i + 1), k)
              .stride(u)
              .padding((k - u) / 2)));
    }
    // The source STFT is brought down to each stage's rate: cumulative products of the reversed rates.
    source_downs = register_module("source_downs", tnn::ModuleList());
    source_resblocks = register_module("source_resblocks", tnn::ModuleList());
    const int stft_channels = c.istft_n_fft + 2;
    const size_t stages = c.upsample_rates.size();
    std::vector<int> down(stages, 1);
    for (size_t i = 1; i < stages; ++i) down[i] = down[i - 1] * c.upsample_rates[stages - i];
    std::reverse(down.begin(), down.end());
    for (size_t i = 0; i < stages; ++i) {
      const int ch = c.base_channels >> (i + 1), u = down[i];
      source_downs->push_back(u == 1 ? conv(stft_channels, ch, 1) : conv(stft_channels, ch, u * 2, u, u / 2));
      source_resblocks->push_back(
          ResBlock(ch, c.source_resblock_kernel_sizes[i], c.source_resblock_dilation_sizes[i]));
    }
    resblocks = register_module("resblocks", tnn::ModuleList());
    for (size_t i = 0; i < stages; ++i)
      for (size_t j = 0; j < c.resblock_kernel_sizes.size(); ++j)
        resblocks->push_back(
            ResBlock(c.base_channels >> (i + 1), c.resblock_kernel_sizes[j], c.resblock_dilation_sizes[j]));
    conv_post = register_module("conv_post", conv(c.base_channels >> stages, stft_channels, 7, 1, 3));
    f0_predictor = register_module("f0_predictor", F0Predictor(c));
    window = torch::hann_window(c.istft_n_fft);  // periodic, as scipy's get_window("hann", fftbins=True)
  }

  // SineGen + the source module's merge: harmonics k x F0 with random start phases (the fundamental's
  // is 0), voiced/unvoiced noise, a linear mix and tanh.
  torch::Tensor source(const torch::Tensor& f0_frames, at::Generator& gen) {
    const int up = c.samples_per_frame();
    auto f0 = f0_frames.unsqueeze(1).repeat_interleave(up, 2);  // [B, 1, L], nearest upsampling
    const int h = c.nb_harmonics + 1;
    auto mult = torch::arange(1, h + 1, f0.options()).view({1, h, 1});
    auto f = f0 * mult / double(c.sampling_rate);  // [B, H, L] cycles per sample
    auto theta = 2 * M_PI * torch::remainder(torch::cumsum(f, -1), 1.0);
    auto cpu = torch::TensorOptions().dtype(torch::kFloat32);
    auto phase = (torch::rand({f0.size(0), h, 1}, gen, cpu) * (2 * M_PI) - M_PI).to(f0.device());
    phase.select(1, 0).zero_();
    auto sine = c.nsf_alpha * torch::sin(theta + phase);
    auto uv = (f0 > c.nsf_voiced_threshold).to(f0.scalar_type());
    auto noise_amp = uv * c.nsf_sigma + (1 - uv) * (c.nsf_alpha / 3);
    auto noise = noise_amp * torch::randn(sine.sizes(), gen, cpu).to(f0.device());
    sine = sine * uv + noise;                                                      // [B, H, L]
    return torch::tanh(m_source->l_linear(sine.transpose(1, 2))).transpose(1, 2);  // [B, 1, L]
  }

  torch::Tensor decode(const torch::Tensor& mel, const torch::Tensor& s) {
    const int n_fft = c.istft_n_fft, hop = c.istft_hop;
    auto win = window.to(mel.device());
    auto spec = torch::view_as_real(
        torch::stft(s.squeeze(1), n_fft, hop, n_fft, win, true, "reflect", false, true, true));
    auto s_stft = torch::cat({spec.select(-1, 0), spec.select(-1, 1)}, 1);
    auto x = conv_pre(mel);
    const size_t stages = ups->size(), kernels = c.resblock_kernel_sizes.size();
    for (size_t i = 0; i < stages; ++i) {
      x = ups[i]->as<tnn::ConvTranspose1d>()->forward(torch::leaky_relu(x, c.lrelu_slope));
      if (i + 1 == stages) x = torch::reflection_pad1d(x, {1, 0});
      auto si =
          source_resblocks[i]->as<ResBlock>()->forward(source_downs[i]->as<tnn::Conv1d>()->forward(s_stft));
      x = x + si;
      torch::Tensor xs;
      for (size_t j = 0; j < kernels; ++j) {
        auto y = resblocks[i * kernels + j]->as<ResBlock>()->forward(x);
        xs = xs.defined() ? xs + y : y;
      }
      x = xs / double(kernels);
    }
    x = conv_post(torch::leaky_relu(x));  // default slope 0.01 here, as the reference
    const int bins = n_fft / 2 + 1;
    auto magnitude = torch::exp(x.narrow(1, 0, bins)).clamp_max(1e2);
    auto phase = torch::sin(x.narrow(1, bins, x.size(1) - bins));
    auto complex = torch::complex(magnitude * torch::cos(phase), magnitude * torch::sin(phase));
    auto audio =
        torch::istft(complex, n_fft, hop, n_fft, win, true, false, c10::nullopt, c10::nullopt, false);
    return audio.clamp(-c.audio_limit, c.audio_limit);
  }

  HiftConfig c;
  Source m_source{nullptr};
  tnn::Conv1d conv_pre{nullptr}, conv_post{nullptr};
  tnn::ModuleList ups{nullptr}, source_downs{nullptr}, source_resblocks{nullptr}, resblocks{nullptr};
  F0Predictor f0_predictor{nullptr};
  torch::Tensor window;
};
TORCH_MODULE(Generator);

}  // namespace

at::Generator make_generator(uint64_t seed) {
  return at::make_generator<at::CPUGeneratorImpl>(seed);
}

struct Hift::Impl {
  HiftConfig config;
  Generator model{nullptr};
  torch::Device device{torch::kCPU};
};

Hift::Hift() : impl_(std::make_unique<Impl>()) {}
Hift::~Hift() = default;
const HiftConfig& Hift::config() const {
  return impl_->config;
}
const torch::Device& Hift::device() const {
  return impl_->device;
}

std::unique_ptr<Hift> Hift::random(const HiftConfig& config, const torch::Device& device) {
  config.validate();
  std::unique_ptr<Hift> hift(new Hift());
  auto& m = *hift->impl_;
  m.config = config;
  m.device = device;
  m.model = Generator(config);
  m.model->eval();
  m.model->to(device);
  m.model->window = m.model->window.to(device);
  return hift;
}

std::unique_ptr<Hift> Hift::open(const HiftConfig& config, const std::string& weights,
                                 const torch::Device& device) {
  auto hift = random(config, torch::kCPU);  // then every parameter is overwritten from the file
  auto& m = *hift->impl_;
  auto tensors = read_checkpoint(weights);
  fold_weight_norm(tensors);
  load_strict(*m.model, tensors, weights);
  m.device = device;
  m.model->to(device);
  m.model->window = m.model->window.to(device);
  return hift;
}

torch::Tensor Hift::predict_f0(const torch::Tensor& mel) {
  torch::InferenceMode guard;
  return impl_->model->f0_predictor(mel.to(impl_->device, torch::kFloat32));
}

torch::Tensor Hift::make_source(const torch::Tensor& f0, at::Generator& generator) {
  torch::InferenceMode guard;
  return impl_->model->source(f0.to(impl_->device), generator);
}

Hift::Output Hift::forward(const torch::Tensor& mel, at::Generator& generator,
                           const torch::Tensor& cache_source, const torch::Tensor& source) {
  torch::InferenceMode guard;
  auto x = mel.to(impl_->device, torch::kFloat32);
  if (x.dim() != 3 || x.size(1) != impl_->config.in_channels)
    throw InputError("hift: mel must be [batch, " + std::to_string(impl_->config.in_channels) + ", frames]");
  Output out;
  if (source.defined()) {
    out.source = source.to(impl_->device, torch::kFloat32);
  } else {
    out.source = impl_->model->source(impl_->model->f0_predictor(x), generator);
    if (cache_source.defined() && cache_source.size(2) > 0) {
      const auto n = std::min(cache_source.size(2), out.source.size(2));
      out.source.narrow(2, 0, n).copy_(cache_source.narrow(2, 0, n));
    }
  }
  out.speech = impl_->model->decode(x, out.source);
  return out;
}

}  // namespace symp::speech
