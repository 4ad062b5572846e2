#pragma once
// Speech synthesis for gen-data: the speaking style of each utterance (data/gen/tts_style.json) and the
// backend interface the espeak and openai engines implement.
#include <map>
#include <string>
#include <vector>

#include "symp/affect/affect.h"
#include "symp/io/audio.h"

namespace symp::data {

// One espeak parameter as a linear function of the delivery point, clamped.
struct LinearParam {
  double base = 0, per_valence = 0, per_arousal = 0, min = 0, max = 0;
  int at(const affect::VA& va) const;
};

// What an utterance should sound like; the backend picks what it understands.
struct SpeechStyle {
  affect::VA delivery;       // the point the delivery expresses (espeak maps it to parameters)
  std::string voice;         // backend voice name: "en-us+f3" for espeak, "Ryan" for openai
  std::string instructions;  // free-text style for instruction-following TTS: "Calm, patient, steady."
};

// data/gen/tts_style.json: the VA -> espeak parameter mapping, voices, response delivery points and
// instruction strings.
struct TtsStyleTable {
  LinearParam rate, pitch, range, volume;  // espeak: words/min, 0-100, 0-100, 0-200
  std::vector<std::string> espeak_query_voices, espeak_response_voices;
  std::string openai_query_voice, openai_response_voice;
  std::string query_instructions, query_instructions_neutral;  // "Very {emotion}.", "Neutral."
  struct Delivery {
    affect::VA va;
    std::string instructions;
  };
  std::map<std::string, Delivery> response;  // target emotion -> delivery of the reply

  static TtsStyleTable load(const std::string& path);
  // Style of a query spoken by a user feeling `emotion` (anchor point `va`), in voice `voice`.
  SpeechStyle query_style(const std::string& emotion, const affect::VA& va, const std::string& voice) const;
  // Style of a reply to a user in `emotion`; InputError when the table has no delivery for it.
  SpeechStyle response_style(const std::string& emotion, const std::string& voice) const;
};

class SpeechBackend {
 public:
  virtual ~SpeechBackend() = default;
  virtual io::Audio synthesize(const std::string& text, const SpeechStyle& style) = 0;
  virtual std::string describe() const = 0;
};

}  // namespace symp::data
