// Whisper log-mel features (see symp/speech/mel.h for the recipe and its source).
#include "symp/speech/mel.h"

#include <cmath>

#include "symp/core/error.h"

namespace symp::speech {
namespace {

// Slaney's mel scale: linear below 1 kHz (3 mel per 200 Hz), logarithmic above (27 mel per ln 6.4).
constexpr double kMinLogHz = 1000.0, kMinLogMel = 15.0;
const double kLogStep = 27.0 / std::log(6.4);

double hz_to_mel(double hz) {
  return hz >= kMinLogHz ? kMinLogMel + std::log(hz / kMinLogHz) * kLogStep : 3.0 * hz / 200.0;
}
double mel_to_hz(double mel) {
  return mel >= kMinLogMel ? kMinLogHz * std::exp((mel - kMinLogMel) / kLogStep) : 200.0 * mel / 3.0;
}

}  // namespace

torch::Tensor slaney_mel_filters(int n_fft, int n_mels, double f_min, double f_max, int sample_rate) {
  const int n_freqs = n_fft / 2 + 1;
  // n_mels + 2 band edges equally spaced in mel.
  std::vector<double> edges(n_mels + 2);
  const double mel_lo = hz_to_mel(f_min), mel_hi = hz_to_mel(f_max);
  for (int i = 0; i < n_mels + 2; ++i) edges[i] = mel_to_hz(mel_lo + (mel_hi - mel_lo) * i / (n_mels + 1));
  auto filters = torch::zeros({n_freqs, n_mels}, torch::kFloat64);
  auto f = filters.accessor<double, 2>();
  // FFT bin centres span 0 .. sample_rate // 2 (integer division, as the reference linspace does).
  const double top = double(sample_rate / 2);
  for (int k = 0; k < n_freqs; ++k) {
    const double hz = n_freqs > 1 ? top * k / (n_freqs - 1) : 0.0;
    for (int m = 0; m < n_mels; ++m) {
      const double down = (hz - edges[m]) / (edges[m + 1] - edges[m]);
      const double up = (edges[m + 2] - hz) / (edges[m + 2] - edges[m + 1]);
      // Slaney normalisation: each triangle has unit area in Hz.
      f[k][m] = std::max(0.0, std::min(down, up)) * 2.0 / (edges[m + 2] - edges[m]);
    }
  }
  return filters;
}

torch::Tensor whisper_log_mel(const torch::Tensor& wavs, const WhisperMelOptions& options) {
  options.validate();
  if (wavs.dim() != 2) throw UsageError("whisper_log_mel: expected [batch, samples]");
  auto x = wavs.to(torch::kFloat32);
  auto window =
      torch::hann_window(options.n_fft, torch::TensorOptions().dtype(torch::kFloat32).device(x.device()));
  auto spec = torch::stft(x, options.n_fft, options.hop_length, options.n_fft, window, /*center=*/true,
                          "reflect", /*normalized=*/false, /*onesided=*/true, /*return_complex=*/true);
  // The extractor drops the last frame: L / hop frames for a length L.
  auto power = spec.narrow(-1, 0, spec.size(-1) - 1).abs().pow(2);
  auto filters =
      slaney_mel_filters(options.n_fft, options.n_mels, options.f_min, options.f_max, options.sample_rate)
          .to(torch::TensorOptions().dtype(torch::kFloat32).device(x.device()));
  auto mel = torch::matmul(filters.t(), power);  // [B, n_mels, T]
  auto log_spec = mel.clamp_min(1e-10).log10();
  auto max = log_spec.amax({1, 2}, /*keepdim=*/true);  // [B, 1, 1]
  log_spec = torch::maximum(log_spec, max - 8.0);
  return (log_spec + 4.0) / 4.0;
}

}  // namespace symp::speech
