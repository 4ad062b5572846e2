#pragma once
// The embedded speech backend: libespeak-ng in-process, 16-bit audio at the engine's rate (22,050 Hz).
// libespeak-ng is a process-wide singleton and not thread-safe: calls are serialised with a mutex, and
// gen-data gets parallel speed from worker processes, each with its own engine.
#include <string>

#include "symp/data/speech_backend.h"

namespace symp::data {

class EspeakBackend : public SpeechBackend {
 public:
  // Initialises the engine on first use in this process; RuntimeError when espeak-ng's data is missing.
  EspeakBackend(const TtsStyleTable& table);
  // Rate, pitch, range and volume come from the table's mapping of style.delivery; the voice is an
  // espeak-ng voice name with an optional variant ("en-gb-x-rp+f2").
  io::Audio synthesize(const std::string& text, const SpeechStyle& style) override;
  std::string describe() const override;
  int sample_rate() const { return sample_rate_; }

 private:
  TtsStyleTable table_;
  int sample_rate_ = 0;
};

}  // namespace symp::data
