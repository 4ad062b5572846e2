#pragma once
// Whisper's log-mel spectrogram, computed as transformers' WhisperFeatureExtractor does it on torch:
// periodic Hann window, centred STFT with reflect padding, |X|^2, Slaney-scale Slaney-normalised mel
// filters, log10 floored at 1e-10, the last frame dropped, clamp to (max - 8) per example, (x + 4) / 4.
// Includes torch: for lib/speech and its tests.
#include <torch/torch.h>

namespace symp::speech {

struct WhisperMelOptions {
  int sample_rate = 16000;  // Hz of the input
  int n_fft = 400;          // 25 ms window at 16 kHz
  int hop_length = 160;     // 10 ms hop at 16 kHz
  int n_mels = 128;         // whisper-large-v3 and GLM-4-Voice use 128 bins
  double f_min = 0.0;       // Hz
  double f_max = 8000.0;    // Hz (Nyquist at 16 kHz)
  void validate() const;    // UsageError naming the field
};

// Triangular filters on the Slaney mel scale with Slaney area normalisation (librosa's and
// transformers' `norm="slaney", mel_scale="slaney"`): [n_fft / 2 + 1, n_mels], float64.
torch::Tensor slaney_mel_filters(int n_fft, int n_mels, double f_min, double f_max, int sample_rate);

// wavs: [B, L] float32 (already padded to a common length) -> [B, n_mels, L / hop_length] log-mel.
// The max-8 clamp is per example, over all its frames (padding included), as the extractor does.
torch::Tensor whisper_log_mel(const torch::Tensor& wavs, const WhisperMelOptions& options = {});

}  // namespace symp::speech
