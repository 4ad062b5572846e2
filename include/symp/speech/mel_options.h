#pragma once
// The sizes of Whisper's log-mel features (symp/speech/mel.h computes them). No torch here, so config
// readers (WhisperVQ's preprocessor_config.json) can be used and fuzzed without it.

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

}  // namespace symp::speech
