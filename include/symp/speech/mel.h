#pragma once
// Whisper's log-mel spectrogram, computed as transformers' WhisperFeatureExtractor does it on torch:
// periodic Hann window, centred STFT with reflect padding, |X|^2, Slaney-scale Slaney-normalised mel
// filters, log10 floored at 1e-10, the last frame dropped, clamp to (max - 8) per example, (x + 4) / 4.
// Includes torch: for lib/speech and its tests.
#include <torch/torch.h>

#include "symp/speech/mel_options.h"

namespace symp::speech {

// Triangular filters on the Slaney mel scale with Slaney area normalisation (librosa's and
// transformers' `norm="slaney", mel_scale="slaney"`): [n_fft / 2 + 1, n_mels], float64.
torch::Tensor slaney_mel_filters(int n_fft, int n_mels, double f_min, double f_max, int sample_rate);

// wavs: [B, L] float32 (already padded to a common length) -> [B, n_mels, L / hop_length] log-mel.
// The max-8 clamp is per example, over all its frames (padding included), as the extractor does.
torch::Tensor whisper_log_mel(const torch::Tensor& wavs, const WhisperMelOptions& options = {});

}  // namespace symp::speech
