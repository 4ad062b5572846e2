#pragma once
// GLM-4-Voice's vocoder: HiFT (HiFi-GAN generator with a neural source filter and an inverse STFT), as
// cosyvoice's HiFTGenerator with the ConvRNNF0Predictor. Mel [B, 80, T] at 22,050 Hz / 256 -> waveform
// [B, T x 256]. Weight normalisation is folded into plain weights at load time. Includes torch.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace symp::speech {

// The constructor arguments of HiFTGenerator (names as in config.yaml's `hift:` block).
struct HiftConfig {
  int in_channels = 80;
  int base_channels = 512;
  int nb_harmonics = 8;
  int sampling_rate = 22050;
  double nsf_alpha = 0.1;            // sine amplitude
  double nsf_sigma = 0.003;          // noise std in voiced frames
  double nsf_voiced_threshold = 10;  // Hz: F0 above it counts as voiced
  std::vector<int> upsample_rates = {8, 8};
  std::vector<int> upsample_kernel_sizes = {16, 16};
  int istft_n_fft = 16;
  int istft_hop = 4;
  std::vector<int> resblock_kernel_sizes = {3, 7, 11};
  std::vector<std::vector<int>> resblock_dilation_sizes = {{1, 3, 5}, {1, 3, 5}, {1, 3, 5}};
  std::vector<int> source_resblock_kernel_sizes = {7, 11};
  std::vector<std::vector<int>> source_resblock_dilation_sizes = {{1, 3, 5}, {1, 3, 5}};
  double lrelu_slope = 0.1;
  double audio_limit = 0.99;
  int f0_num_class = 1;        // f0_predictor.num_class
  int f0_in_channels = 80;     // f0_predictor.in_channels
  int f0_cond_channels = 512;  // f0_predictor.cond_channels

  // From the argument mapping (hift/config.json, or config.yaml's hift block as JSON); missing keys keep
  // the defaults above; InputError naming `source` and the field on a wrong type.
  static HiftConfig from_json(const nlohmann::json& j, const std::string& source);
  void validate() const;  // InputError naming the field
  // Output samples per mel frame: prod(upsample_rates) x istft hop (256).
  int samples_per_frame() const;
};

class Hift {
 public:
  // Loads weights from `weights` (hift.pt as the decoder ships it, or a .safetensors copy); strict: every
  // parameter present with the configured shape, no tensor left over.
  static std::unique_ptr<Hift> open(const HiftConfig& config, const std::string& weights,
                                    const torch::Device& device = torch::kCPU);
  // The same vocoder with the modules' default random initialisation, for speed benchmarks.
  static std::unique_ptr<Hift> random(const HiftConfig& config, const torch::Device& device = torch::kCPU);
  ~Hift();
  const HiftConfig& config() const;
  const torch::Device& device() const;

  // mel [B, in_channels, T] -> F0 in Hz [B, T].
  torch::Tensor predict_f0(const torch::Tensor& mel);
  // F0 [B, T] -> the harmonic excitation [B, 1, T x samples_per_frame()], with random initial phases and
  // noise drawn from `generator` (a CPU generator; see make_generator).
  torch::Tensor make_source(const torch::Tensor& f0, at::Generator& generator);

  struct Output {
    torch::Tensor speech;  // [B, T x samples_per_frame()] in [-audio_limit, audio_limit]
    torch::Tensor source;  // [B, 1, same] the excitation used (to cache for streaming)
  };
  // The vocoder. `source`, when defined, replaces the excitation (parity tests feed the recorded one);
  // otherwise it is made from the predicted F0 and then its first cache_source.size(2) samples are
  // overwritten with `cache_source` (streaming, to avoid glitches at chunk joins).
  Output forward(const torch::Tensor& mel, at::Generator& generator, const torch::Tensor& cache_source = {},
                 const torch::Tensor& source = {});

 private:
  Hift();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// A CPU random generator seeded with `seed`, for the vocoder's phases and noise.
at::Generator make_generator(uint64_t seed);

}  // namespace symp::speech
