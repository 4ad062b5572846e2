// The TTS style table (data/gen/tts_style.json).
#include "symp/data/speech_backend.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "symp/core/error.h"
#include "symp/io/jsonl.h"

namespace symp::data {
namespace {

using io::Json;

LinearParam load_param(const Json& j, const std::string& key, const std::string& context) {
  const Json& p = io::require_field(j, key, context);
  const std::string ctx = context + ": " + key;
  LinearParam out{io::require_number(p, "base", ctx), io::require_number(p, "per_valence", ctx),
                  io::require_number(p, "per_arousal", ctx), io::require_number(p, "min", ctx),
                  io::require_number(p, "max", ctx)};
  if (out.min > out.max) throw InputError(fmt::format("{}: min {} above max {}", ctx, out.min, out.max));
  return out;
}

std::vector<std::string> voices(const Json& j, const std::string& key, const std::string& context) {
  const Json& list = io::require_field(j, key, context);
  std::vector<std::string> out;
  for (const auto& v : list) out.push_back(v.get<std::string>());
  if (out.empty()) throw InputError(fmt::format("{}: field '{}': no voices", context, key));
  return out;
}

std::string replace_emotion(std::string text, const std::string& emotion) {
  const std::string key = "{emotion}";
  const auto pos = text.find(key);
  if (pos != std::string::npos) text.replace(pos, key.size(), emotion);
  return text;
}

}  // namespace

int LinearParam::at(const affect::VA& va) const {
  const double x = base + per_valence * va.valence + per_arousal * va.arousal;
  return static_cast<int>(std::lround(std::clamp(x, min, max)));
}

TtsStyleTable TtsStyleTable::load(const std::string& path) {
  const Json root = io::read_json(path);
  TtsStyleTable t;
  const Json& es = io::require_field(root, "espeak", path);
  const std::string ectx = path + ": espeak";
  t.rate = load_param(es, "rate", ectx);
  t.pitch = load_param(es, "pitch", ectx);
  t.range = load_param(es, "range", ectx);
  t.volume = load_param(es, "volume", ectx);
  t.espeak_query_voices = voices(es, "query_voices", ectx);
  t.espeak_response_voices = voices(es, "response_voices", ectx);
  const Json& oa = io::require_field(root, "openai", path);
  const std::string octx = path + ": openai";
  t.openai_query_voice = io::require_string(oa, "query_voice", octx);
  t.openai_response_voice = io::require_string(oa, "response_voice", octx);
  t.query_instructions = io::require_string(oa, "query_instructions", octx);
  t.query_instructions_neutral = io::require_string(oa, "query_instructions_neutral", octx);
  const Json& resp = io::require_field(root, "response", path);
  for (auto it = resp.begin(); it != resp.end(); ++it) {
    const std::string ctx = path + ": response." + it.key();
    Delivery d;
    d.va = affect::make_va(io::require_number(it.value(), "valence", ctx),
                           io::require_number(it.value(), "arousal", ctx), ctx);
    d.instructions = io::require_string(it.value(), "instructions", ctx);
    t.response[it.key()] = d;
  }
  return t;
}

SpeechStyle TtsStyleTable::query_style(const std::string& emotion, const affect::VA& va,
                                       const std::string& voice) const {
  // The reference capitalises the style: "Very happy."; neutral queries get "Neutral.".
  std::string instructions =
      emotion == "neutral" ? query_instructions_neutral : replace_emotion(query_instructions, emotion);
  return {va, voice, instructions};
}

SpeechStyle TtsStyleTable::response_style(const std::string& emotion, const std::string& voice) const {
  const auto it = response.find(emotion);
  if (it == response.end())
    throw InputError(fmt::format("tts_style.json: no response delivery for emotion '{}'", emotion));
  return {it->second.va, voice, it->second.instructions};
}

}  // namespace symp::data
