// libespeak-ng in-process. The library keeps one global engine; every call here holds engine_mutex.
#include "symp/data/espeak_tts.h"

#include <espeak-ng/speak_lib.h>
#include <fmt/format.h>

#include <mutex>

#include "symp/core/error.h"

namespace symp::data {
namespace {

std::mutex engine_mutex;
int engine_rate = 0;                 // 0 until espeak_Initialize succeeded in this process
std::vector<short>* sink = nullptr;  // where the callback appends samples (set under the mutex)

int on_samples(short* wav, int count, espeak_EVENT* /*events*/) {
  if (wav != nullptr && count > 0 && sink != nullptr) sink->insert(sink->end(), wav, wav + count);
  return 0;  // 0 = continue synthesis
}

void check(espeak_ERROR err, const std::string& what) {
  if (err != EE_OK)
    throw RuntimeError(fmt::format("espeak-ng: {} failed (error {})", what, static_cast<int>(err)));
}

}  // namespace

EspeakBackend::EspeakBackend(const TtsStyleTable& table) : table_(table) {
  std::lock_guard<std::mutex> lock(engine_mutex);
  if (engine_rate == 0) {
    // Synchronous mode: espeak_Synth returns when the whole text went through the callback.
    const int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, 0);
    if (rate <= 0) throw RuntimeError("espeak-ng: initialisation failed (is espeak-ng-data installed?)");
    espeak_SetSynthCallback(on_samples);
    engine_rate = rate;
  }
  sample_rate_ = engine_rate;
  // Every voice of the table must exist: a typo should stop the run before any audio is made.
  for (const auto* voices : {&table_.espeak_query_voices, &table_.espeak_response_voices})
    for (const auto& v : *voices)
      if (espeak_SetVoiceByName(v.c_str()) != EE_OK)
        throw InputError(
            fmt::format("tts_style.json: espeak voice '{}' is not installed (espeak-ng --voices=en "
                        "lists them; variants are written en-us+f3)",
                        v));
}

io::Audio EspeakBackend::synthesize(const std::string& text, const SpeechStyle& style) {
  std::vector<short> samples;
  {
    std::lock_guard<std::mutex> lock(engine_mutex);
    check(espeak_SetVoiceByName(style.voice.c_str()), "voice '" + style.voice + "'");
    check(espeak_SetParameter(espeakRATE, table_.rate.at(style.delivery), 0), "rate");
    check(espeak_SetParameter(espeakPITCH, table_.pitch.at(style.delivery), 0), "pitch");
    check(espeak_SetParameter(espeakRANGE, table_.range.at(style.delivery), 0), "range");
    check(espeak_SetParameter(espeakVOLUME, table_.volume.at(style.delivery), 0), "volume");
    sink = &samples;
    const espeak_ERROR err =
        espeak_Synth(text.c_str(), text.size() + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, nullptr, nullptr);
    const espeak_ERROR sync = espeak_Synchronize();
    sink = nullptr;
    check(err, "synthesis");
    check(sync, "synchronize");
  }
  if (samples.empty())
    throw RuntimeError(fmt::format("espeak-ng: no audio for text '{}'", text.substr(0, 60)));
  io::Audio audio;
  audio.sample_rate = sample_rate_;
  audio.samples.resize(samples.size());
  for (size_t i = 0; i < samples.size(); ++i) audio.samples[i] = static_cast<float>(samples[i]) / 32768.0f;
  return audio;
}

std::string EspeakBackend::describe() const {
  return fmt::format("espeak-ng {} in-process, {} Hz, VA-mapped rate/pitch/range/volume",
                     espeak_Info(nullptr), sample_rate_);
}

}  // namespace symp::data
