#pragma once
// GLM-4-Voice's vocoder: HiFT (HiFi-GAN generator with a neural source filter and an inverse STFT), as
// cosyvoice's HiFTGenerator with the ConvRNNF0Predictor. Mel [B, 80, T] at 22,050 Hz / 256 -> waveform
// [B, T x 256]. Weight normalisation is folded into plain weights at load time. Includes torch.
#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "symp/speech/hift_config.h"

namespace symp::speech {

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
