#include "symp/speech/mel_options.h"

#include <string>

#include "symp/core/error.h"

namespace symp::speech {

void WhisperMelOptions::validate() const {
  if (sample_rate <= 0) throw UsageError("mel: sample_rate must be > 0, got " + std::to_string(sample_rate));
  if (n_fft < 2) throw UsageError("mel: n_fft must be >= 2, got " + std::to_string(n_fft));
  if (hop_length <= 0) throw UsageError("mel: hop_length must be > 0, got " + std::to_string(hop_length));
  if (n_mels <= 0) throw UsageError("mel: n_mels must be > 0, got " + std::to_string(n_mels));
  if (!(f_min >= 0 && f_max > f_min && f_max <= sample_rate / 2.0))
    throw UsageError("mel: need 0 <= f_min < f_max <= sample_rate / 2, got f_min " + std::to_string(f_min) +
                     ", f_max " + std::to_string(f_max));
}

}  // namespace symp::speech
